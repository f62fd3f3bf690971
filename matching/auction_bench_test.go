package matching

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

// callBook returns an engine whose symbol 1 is in the pre-open call with
// orders bids and asks over levels price levels each side, crossing by cross
// levels, spread evenly.
func callBook(tb testing.TB, orders, levels int, cross int64) (*Engine, OrderID) {
	e := New(Config{Symbols: 1, OrdersHint: orders + 1024})
	var out []Event
	c := Command{Kind: CmdPhase, Symbol: 1, Phase: PhasePreOpen}
	out = e.Apply(&c, out)
	id := OrderID(1)
	for i := 0; i < orders; i++ {
		lv := int64(i % levels)
		c := Command{Kind: CmdNew, OrderID: id, Account: AccountID(1 + i%100), Symbol: 1, Side: Buy, Type: Limit, TIF: GTC,
			Price: 10_000 - lv, Qty: 1 + int64(i%7)}
		if i%2 == 1 {
			c.Side, c.Price = Sell, 10_000-cross+1+lv
		}
		out = e.Apply(&c, out[:0])
		id++
	}
	if e.OpenOrders() != orders {
		tb.Fatalf("%d open orders, want %d", e.OpenOrders(), orders)
	}
	return e, id
}

// BenchmarkIndicative times single commands (new orders and cancels near
// the touch) in a call with 1,000 price levels each side, each of which
// brings the indicative uncross up to date, and reports the distribution.
func BenchmarkIndicative(b *testing.B) {
	e, id := callBook(b, 4000, 1000, 5)
	r := rand.New(rand.NewPCG(7, 7))
	var live []OrderID
	out := make([]Event, 0, 64)
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var c Command
		if len(live) > 50 && r.IntN(2) == 0 {
			k := r.IntN(len(live))
			c = Command{Kind: CmdCancel, OrderID: live[k], Symbol: 1}
			live[k] = live[len(live)-1]
			live = live[:len(live)-1]
		} else {
			side := Side(1 + r.IntN(2))
			c = Command{Kind: CmdNew, OrderID: id, Account: 1, Symbol: 1, Side: side, Type: Limit, TIF: GTC,
				Price: 9_990 + r.Int64N(20), Qty: 1 + r.Int64N(20)}
			live = append(live, id)
			id++
		}
		t0 := time.Now()
		out = e.Apply(&c, out[:0])
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Nanoseconds()) }
	b.ReportMetric(q(0.5), "p50-ns")
	b.ReportMetric(q(0.99), "p99-ns")
	b.ReportMetric(q(0.999), "p99.9-ns")
}

// BenchmarkUncross times the opening uncross of 100,000 resting orders over
// 2,000 price levels (1,000 each side, 500 of them crossing).
func BenchmarkUncross(b *testing.B) {
	var total time.Duration
	var traded int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e, _ := callBook(b, 100_000, 1000, 500)
		out := make([]Event, 0, 200_000)
		c := Command{Kind: CmdPhase, Symbol: 1, Phase: PhaseContinuous}
		runtime.GC()
		b.StartTimer()
		t0 := time.Now()
		out = e.Apply(&c, out)
		total += time.Since(t0)
		traded = len(out)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/uncross")
	b.ReportMetric(float64(traded), "events")
}
