package broker_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/exchange-sim/exchange/internal/broker"
)

// The shape of `exchange broker`: defaults, a few flags, Run, the table,
// a non-zero exit when anything went unanswered.
func Example() {
	opts := broker.DefaultOptions()
	opts.Port = 9878
	opts.Mode, opts.Rate, opts.Duration = broker.ModeOpen, 5000, 30*time.Second
	opts.HgrmPath, opts.PlotPath = "ack.hgrm", "ack.svg"
	opts.Progress = os.Stderr

	res, err := broker.Run(context.Background(), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	res.WriteTable(os.Stdout)
	if res.Unanswered > 0 {
		os.Exit(1)
	}
}

// Replaying a recorded order file twice as fast as it was recorded.
func ExampleOpenOrderFile() {
	src, err := broker.OpenOrderFile("orders.csv")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer src.Close()
	opts := broker.DefaultOptions()
	opts.Source = src
	opts.Pace, _ = broker.ParsePace("2x")
	opts.Duration = 0 // until the file ends
	if _, err := broker.Run(context.Background(), opts); err != nil {
		fmt.Fprintln(os.Stderr, err) // a bad row: "orders.csv:12: field price: ..."
	}
}
