package bench

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
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

// TestWSClientScan: the clients' frame scanner finds every message of an
// array frame, counts one whose sequence number is not above the last on its
// channel and symbol, records one delay per trade, counts snapshots,
// and allocates nothing for streams it already knows (a measuring tool that
// allocates per message competes with the venue for the cores).
func TestWSClientScan(t *testing.T) {
	cl := &wsClient{delay: hdrhistogram.New(1, int64(time.Minute), 2), last: map[string]*uint64{}}
	snap := []byte(`[{"type":"book","symbol":"A","seq":5,"snapshot":true,"bids":[]},{"type":"trades","symbol":"A","seq":5,"snapshot":true,"trades":[]}]`)
	if got := cl.scan(snap, 0, true); got != 2 {
		t.Fatalf("snapshots: got %d, want 2", got)
	}
	now := int64(2_000_000)
	frame := []byte(`[{"type":"book","symbol":"A","seq":7,"bids":[{"price":"1.00","qty":3}]},` +
		`{"type":"trades","symbol":"A","seq":7,"trades":[{"time_ns":1000000,"price":"1.00"},{"time_ns":1500000}]},` +
		`{"type":"trades","symbol":"B","seq":3,"trades":[{"time_ns":1900000}]},` +
		`{"type":"book","symbol":"A","seq":7,"asks":[]}]`)
	if got := cl.scan(frame, now, true); got != 0 {
		t.Fatalf("snapshots in an update frame: %d", got)
	}
	if cl.msgs != 4 || cl.outOfOrder != 1 {
		t.Fatalf("msgs %d out-of-order %d, want 4 and 1", cl.msgs, cl.outOfOrder)
	}
	if cl.delay.TotalCount() != 3 || cl.delay.Max() < 900_000 || cl.delay.Min() > 110_000 {
		t.Fatalf("delays: %d recorded, min %d max %d", cl.delay.TotalCount(), cl.delay.Min(), cl.delay.Max())
	}
	// The server's own format, where the scanner skips over the arrays.
	frame = []byte(`[{"type":"book","symbol":"A","seq":9,"bids":[{"price":"1.00","qty":"3","orders":1}],"asks":[{"price":"1.01","qty":"2","orders":1}]},` +
		`{"type":"trades","symbol":"A","seq":9,"trades":[{"id":1,"time_ns":1000000,"price":"1.00","qty":"1","side":"buy"},{"id":2,"time_ns":1200000,"price":"1.00","qty":"1","side":"buy"}],"stats":{"symbol":"A","open":"1.00","trades":2,"halted":false}},` +
		`{"type":"book","symbol":"B","seq":4,"bids":[],"asks":[]},{"type":"trades","symbol":"B","seq":2,"trades":[],"stats":{"symbol":"B"}}]`)
	cl.scan(frame, now, true)
	if cl.msgs != 8 || cl.outOfOrder != 2 || cl.delay.TotalCount() != 5 {
		t.Fatalf("server-format frame: msgs %d out-of-order %d delays %d, want 8, 2, 5", cl.msgs, cl.outOfOrder, cl.delay.TotalCount())
	}
	seq := 8
	frame2 := []byte(`{"type":"book","symbol":"A","seq":00008,"bids":[]}`)
	if a := testing.AllocsPerRun(100, func() {
		frame2[len(`{"type":"book","symbol":"A","seq":`)+4] = byte('0' + seq%10)
		cl.scan(frame2, now, true)
		seq++
	}); a != 0 {
		t.Fatalf("scan allocates %.1f times per frame", a)
	}
}

// FuzzWSClientScan: the clients' scanner takes any frame without panicking
// and never counts more snapshots than messages it found.
func FuzzWSClientScan(f *testing.F) {
	for _, seed := range []string{
		`{"type":"book","symbol":"A","seq":1,"snapshot":true,"bids":[],"asks":[]}`,
		`[{"type":"trades","symbol":"A","seq":2,"trades":[{"id":1,"time_ns":5,"price":"1"}],"stats":{"symbol":"A"}},{"type":"book","symbol":"A","seq":2,"bids":[{"price":"1"}],"asks":[]}]`,
		`{"type":"book","symbol":"A","seq":3,"bids":[`,
		`{"type":"trades"]]]`,
		`{"type":"candles","symbol":"A","seq":4,"interval":"1s","candles":[]}`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cl := &wsClient{delay: hdrhistogram.New(1, int64(time.Minute), 2), last: map[string]*uint64{}}
		snaps := cl.scan(data, time.Now().UnixNano(), true)
		if found := bytes.Count(data, wsTypeKey); snaps > found || cl.msgs > int64(found) {
			t.Fatalf("%d snapshots and %d messages from %d headers", snaps, cl.msgs, found)
		}
	})
}
