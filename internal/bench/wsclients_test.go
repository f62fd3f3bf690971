package bench

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/internal/marketdata"
	"github.com/exchange-sim/exchange/matching"
)

// TestWSClients runs the WebSocket crowd of the "ws" bench scenario at a
// small scale against a publisher fed by the engine: every client gets
// trades, measures their delay, and sees sequence numbers only go up.
func TestWSClients(t *testing.T) {
	p, err := marketdata.New(marketdata.Config{Symbols: []marketdata.SymbolInfo{{ID: 1, Name: "BENCH",
		TickSize: decimal.RequireFromString("0.01"), LotSize: decimal.RequireFromString("1")}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() { p.Run(ctx); close(runDone) }()
	defer func() { cancel(); <-runDone }()
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()

	ws, err := DialWSClients(strings.TrimPrefix(srv.URL, "http://"), 20, []string{"BENCH"})
	if err != nil {
		t.Fatal(err)
	}
	ws.Measure()
	warm, cmds := GenerateMix(1, 5000, 200)
	e := matching.New(matching.Config{Symbols: 1, OrdersHint: 4096})
	out := make([]matching.Event, 0, 64)
	for i, c := range append(warm, cmds...) {
		c.TimeNs = time.Now().UnixNano()
		out = e.Apply(&c, out[:0])
		p.Publish(out)
		if i%100 == 0 {
			time.Sleep(time.Millisecond) // a paced feed, not a burst the ring drops
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Counters().EventsApplied+p.Counters().EventsOverflowed < p.Counters().EventsPublished && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the last frames reach the clients
	r := ws.Stop()
	if r.Messages == 0 || r.Delay.TotalCount() == 0 {
		t.Fatalf("clients got %d messages, %d trade delays", r.Messages, r.Delay.TotalCount())
	}
	if r.OutOfOrder != 0 || r.Closed != 0 {
		t.Fatalf("%d out-of-order, %d closed early", r.OutOfOrder, r.Closed)
	}
	t.Logf("%d messages, delay p50 %v p99 %v", r.Messages, time.Duration(r.Delay.ValueAtQuantile(50)), time.Duration(r.Delay.ValueAtQuantile(99)))
}
