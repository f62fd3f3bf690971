package ordermanager

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/matching"
)

// cpuTime is the process's user+system CPU time. The benchmarks report it
// per order beside wall time, because on a shared machine wall time also
// counts the time other processes hold the CPU.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration, perIter int) {
	b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(perIter*b.N), "cpu-ns/order")
}

// benchCl makes a distinct ClOrdID from n without allocating.
func benchCl(prefix byte, n uint64) ClOrdID {
	var b [24]byte
	s := strconv.AppendUint(append(b[:0], prefix), n, 10)
	id, _ := MakeClOrdIDBytes(s)
	return id
}

// BenchmarkNewCancel measures the order manager's work for one resting
// order's life: Submit of the new order (risk checks, reservation, meta),
// its EvAccepted and EvAdded (report building), Submit of its cancel and the
// EvCancelled. Engine events are synthesized so only the manager is timed.
func BenchmarkNewCancel(b *testing.B) { benchNewCancel(b, ClOrdIDsRetained) }

// BenchmarkNewCancelSmall is BenchmarkNewCancel with only 256 retired
// ClOrdIDs remembered: the same work on a working set that fits in cache,
// to show how much of the cost is cache misses.
func BenchmarkNewCancelSmall(b *testing.B) { benchNewCancel(b, 256) }

func benchNewCancel(b *testing.B, retain int) {
	m := New(testConfig(b).Registry, Config{ClOrdIDsRetained: retain})
	cmds := make([]Pending, 0, 4)
	reps := make([]Report, 0, 8)
	var out uint64
	newR := newReq(4, "x", matching.Buy, 10000, 1)
	cx := cxlReq(4, "y", "x")
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		n := uint64(i)
		newR.ClOrdID = benchCl('n', n)
		cmds, reps = m.Submit(&newR, cmds[:0], reps[:0])
		if len(cmds) != 1 {
			b.Fatalf("rejected: %+v", reps)
		}
		c := &cmds[0].Cmd
		out++
		ev := matching.Event{Kind: matching.EvAccepted, Cmd: matching.CmdNew, OutSeq: out, Side: c.Side, Symbol: c.Symbol,
			Account: c.Account, OrderID: c.OrderID, Price: c.Price, Qty: c.Qty, Leaves: c.Qty}
		reps = m.OnEvent(&ev, reps)
		out++
		ev.Kind, ev.OutSeq = matching.EvAdded, out
		reps = m.OnEvent(&ev, reps)
		cx.ClOrdID, cx.OrigClOrdID = benchCl('c', n), newR.ClOrdID
		cmds, reps = m.Submit(&cx, cmds[:0], reps)
		if len(cmds) != 1 {
			b.Fatalf("cancel rejected: %+v", reps)
		}
		out++
		ev.Kind, ev.Cmd, ev.OutSeq, ev.Reason, ev.Leaves = matching.EvCancelled, matching.CmdCancel, out, matching.ReasonUser, 0
		reps = m.OnEvent(&ev, reps)
		if len(reps) != 2 {
			b.Fatalf("reports: %d", len(reps))
		}
	}
	reportCPU(b, cpu0, 1)
}

// BenchmarkNewFill measures an incoming order that fills against a resting
// one: two Submits, and EvAccepted, EvAdded, EvAccepted, EvTrade (two
// reports, both wallets settled). Reported per order (two per iteration).
func BenchmarkNewFill(b *testing.B) { benchNewFill(b, ClOrdIDsRetained) }

// BenchmarkNewFillSmall is BenchmarkNewFill with 256 retired ClOrdIDs kept.
func BenchmarkNewFillSmall(b *testing.B) { benchNewFill(b, 256) }

func benchNewFill(b *testing.B, retain int) {
	m := New(testConfig(b).Registry, Config{ClOrdIDsRetained: retain})
	cmds := make([]Pending, 0, 4)
	reps := make([]Report, 0, 8)
	var out uint64
	buy := newReq(4, "x", matching.Buy, 10000, 1)
	sell := newReq(1, "y", matching.Sell, 10000, 1)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		n := uint64(i)
		// Swap the accounts' sides each round so holdings do not run out.
		buy.Account, sell.Account = sell.Account, buy.Account
		buy.Firm, sell.Firm = sell.Firm, buy.Firm
		buy.Session, sell.Session = sell.Session, buy.Session
		buy.ClOrdID = benchCl('b', n)
		cmds, reps = m.Submit(&buy, cmds[:0], reps[:0])
		sell.ClOrdID = benchCl('s', n)
		cmds, reps = m.Submit(&sell, cmds, reps)
		if len(cmds) != 2 {
			b.Fatalf("rejected: %+v", reps)
		}
		mk, tk := &cmds[0].Cmd, &cmds[1].Cmd
		out++
		ev := matching.Event{Kind: matching.EvAccepted, Cmd: matching.CmdNew, OutSeq: out, Side: mk.Side, Symbol: 1,
			Account: mk.Account, OrderID: mk.OrderID, Price: mk.Price, Qty: 1, Leaves: 1}
		reps = m.OnEvent(&ev, reps)
		out++
		ev.Kind, ev.OutSeq = matching.EvAdded, out
		reps = m.OnEvent(&ev, reps)
		out++
		ev = matching.Event{Kind: matching.EvAccepted, Cmd: matching.CmdNew, OutSeq: out, Side: tk.Side, Symbol: 1,
			Account: tk.Account, OrderID: tk.OrderID, Price: tk.Price, Qty: 1, Leaves: 1}
		reps = m.OnEvent(&ev, reps)
		out++
		ev = matching.Event{Kind: matching.EvTrade, Cmd: matching.CmdNew, OutSeq: out, Side: tk.Side, Symbol: 1,
			Account: tk.Account, OrderID: tk.OrderID, Price: mk.Price, Qty: 1, MakerOrderID: mk.OrderID,
			MakerAccount: mk.Account, MatchID: out}
		reps = m.OnEvent(&ev, reps)
		if len(reps) != 4 {
			b.Fatalf("reports: %d", len(reps))
		}
	}
	reportCPU(b, cpu0, 2)
}

// BenchmarkPipeline runs new+cancel through the manager and the real engine
// (engine time included), for comparison.
func BenchmarkPipeline(b *testing.B) {
	h := newHarness(b)
	newR := newReq(4, "x", matching.Buy, 10000, 1)
	cx := cxlReq(4, "y", "x")
	reps := make([]Report, 0, 8)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		n := uint64(i)
		newR.ClOrdID = benchCl('n', n)
		h.cmds, reps = h.m.Submit(&newR, h.cmds[:0], reps[:0])
		p := h.cmds[0]
		h.evs = h.e.Apply(&p.Cmd, h.evs[:0])
		for j := range h.evs {
			reps = h.m.OnEvent(&h.evs[j], reps)
		}
		cx.ClOrdID, cx.OrigClOrdID = benchCl('c', n), newR.ClOrdID
		h.cmds, reps = h.m.Submit(&cx, h.cmds[:0], reps)
		p = h.cmds[0]
		h.evs = h.e.Apply(&p.Cmd, h.evs[:0])
		for j := range h.evs {
			reps = h.m.OnEvent(&h.evs[j], reps)
		}
	}
	reportCPU(b, cpu0, 1)
}

// TestSteadyStateAllocatesNothing: after warm-up, a new order's Submit, its
// events, a cancel and its event allocate nothing.
func TestSteadyStateAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("needs warm-up")
	}
	m := New(testConfig(t).Registry, Config{ClOrdIDsRetained: 1024})
	cmds := make([]Pending, 0, 4)
	reps := make([]Report, 0, 8)
	var out, n uint64
	newR := newReq(4, "x", matching.Buy, 10000, 1)
	cx := cxlReq(4, "y", "x")
	life := func() {
		n++
		newR.ClOrdID = benchCl('n', n)
		cmds, reps = m.Submit(&newR, cmds[:0], reps[:0])
		c := cmds[0].Cmd
		out++
		ev := matching.Event{Kind: matching.EvAccepted, Cmd: matching.CmdNew, OutSeq: out, Side: c.Side, Symbol: c.Symbol,
			Account: c.Account, OrderID: c.OrderID, Price: c.Price, Qty: c.Qty, Leaves: c.Qty}
		reps = m.OnEvent(&ev, reps)
		cx.ClOrdID, cx.OrigClOrdID = benchCl('c', n), newR.ClOrdID
		cmds, reps = m.Submit(&cx, cmds[:0], reps)
		out++
		ev.Kind, ev.Cmd, ev.OutSeq, ev.Reason, ev.Leaves = matching.EvCancelled, matching.CmdCancel, out, matching.ReasonUser, 0
		reps = m.OnEvent(&ev, reps)
	}
	for range 5000 { // past the ClOrdID ring's first lap
		life()
	}
	if a := testing.AllocsPerRun(2000, life); a != 0 {
		t.Fatalf("%.2f allocations per order life", a)
	}
}
