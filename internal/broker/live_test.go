package broker

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLiveExchange drives a running exchange (`exchange serve`) with the
// default firms and symbols; it runs only when EXCHANGE_FIX_ADDR
// (host:port) is set, e.g.
//
//	EXCHANGE_FIX_ADDR=127.0.0.1:9878 go test ./internal/broker -run Live -v
func TestLiveExchange(t *testing.T) {
	addr := os.Getenv("EXCHANGE_FIX_ADDR")
	if addr == "" {
		t.Skip("EXCHANGE_FIX_ADDR not set")
	}
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		t.Fatalf("EXCHANGE_FIX_ADDR %q: want host:port", addr)
	}
	o := DefaultOptions()
	o.Host = host
	var err error
	if o.Port, err = strconv.Atoi(port); err != nil {
		t.Fatal(err)
	}
	o.Duration = 3 * time.Second
	if r, err := strconv.ParseFloat(os.Getenv("EXCHANGE_RATE"), 64); err == nil {
		o.Rate = r
	}
	o.Progress = os.Stderr
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res.WriteTable(&b)
	t.Logf("\n%s", b.String())
	if res.Unanswered > 0 {
		t.Errorf("%d requests unanswered", res.Unanswered)
	}
}
