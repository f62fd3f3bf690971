package bench

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/internal/marketdata"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// MemoryResult is what RunMemory measured for one book size.
type MemoryResult struct {
	Orders int
	// Live heap (after a collection) and resident set added per resting
	// order, by stage. The order manager's figure is the engine and the
	// manager together less the engine alone.
	EngineHeap, ManagerHeap, MarketDataHeap float64
	EngineRSS, ManagerRSS, MarketDataRSS    float64
	// Entry rates of new resting orders (order manager Submit, engine Apply,
	// order manager OnEvent) over the first and the last tenth of the build.
	RateFirst, RateLast float64
	// StallMax is the longest single order of the build; StallsOver10ms
	// counts orders that took longer than 10 ms (resizes, collections).
	StallMax       time.Duration
	StallsOver10ms int
	// The longest single call of each stage during the build.
	StallManager, StallEngine time.Duration
	// StallWindowCPU is the most CPU time the building thread spent on any
	// StallWindow consecutive orders (order manager and engine): a bound on
	// the longest call that wall time cannot give on a loaded machine, where
	// a call also waits while other processes run.
	StallWindowCPU time.Duration
	// Snapshot: body size, time to build and write it, time to read and
	// restore it; Replay: time to rebuild the same state from the journal.
	SnapshotBytes                  int64
	SnapshotWrite, SnapshotRecover time.Duration
	Replay                         time.Duration
	ReplayCmdsPerSec               float64
	RecoverSpeedup                 float64 // Replay / SnapshotRecover
	// CPU time of the same phases (the whole process: the collector's
	// work included).
	SnapshotRecoverCPU, ReplayCPU    time.Duration
	HeapAfterRecover, HeapAfterBuild uint64
}

// StallWindow is how many orders of the build each reading of the thread's
// CPU time covers: its system call costs about 30 ns an order.
const StallWindow = 64

// heapLive is the live heap after a full collection.
func heapLive() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// rss is the process's resident set (Linux; 0 elsewhere).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func settle() (heap, res uint64) {
	debug.FreeOSMemory()
	return heapLive(), rss()
}

// touchPages writes to every memory page of s so that they are resident.
func touchPages[T any](s []T) {
	if len(s) == 0 {
		return
	}
	step := max(4096/int(unsafe.Sizeof(s[0])), 1)
	var zero T
	for i := 0; i < len(s); i += step {
		s[i] = zero
	}
}

// restingRequests makes n new limit orders that all rest: buys below
// 100.00 and sells above, spread over 1,000 accounts and 2,000 price
// levels a side.
func restingRequests(n int) []ordermanager.Request {
	out := make([]ordermanager.Request, n)
	for i := range out {
		acct := matching.AccountID(1 + i%benchAccounts)
		side, price := matching.Buy, int64(100_000-1-(i/2)%2000)
		if i%2 == 1 {
			side, price = matching.Sell, int64(100_000+1+(i/2)%2000)
		}
		cl, _ := ordermanager.MakeClOrdID("m" + strconv.Itoa(i))
		out[i] = ordermanager.Request{Kind: ordermanager.ReqNew, Session: 0, Firm: 0, Account: acct, Symbol: 1,
			Side: side, Type: matching.Limit, TIF: matching.GTC, Price: price, Qty: 10, ClOrdID: cl}
	}
	return out
}

// RunMemory builds a book of n resting orders stage by stage and measures
// what each stage keeps per order, the entry rate as the book grows, the
// longest stall, and recovery of the whole state from a snapshot against
// replay of its journal (written to dir).
func RunMemory(dir string, n int) (*MemoryResult, error) {
	cfg, err := BenchConfig(benchAccounts)
	if err != nil {
		return nil, err
	}
	reqs := restingRequests(n)
	for i := range reqs {
		acc, _ := cfg.Account(reqs[i].Account)
		firm, _ := cfg.Firm(acc.Firm)
		reqs[i].Firm, reqs[i].Session = acc.Firm, firm.Sessions[0]
	}
	r := &MemoryResult{Orders: n}
	per := func(d0, d1 uint64) float64 { return (float64(d1) - float64(d0)) / float64(n) }

	// Accepted commands, as the order manager hands them to the sequencer.
	// Its pages are touched now, before the first reading: appending to it
	// later would otherwise make them resident during the build and count
	// this bookkeeping as the order manager's RSS.
	items := make([]sequencer.Item, n)
	touchPages(items)
	items = items[:0]
	h0, r0 := settle()
	st := pipeline.NewState(cfg.Registry)
	cmds := make([]ordermanager.Pending, 0, 4)
	reps := make([]ordermanager.Report, 0, 16)
	evs := make([]matching.Event, 0, 16)
	tenth := max(n/10, 1)
	var tFirst time.Duration
	var lastTenth time.Time
	start := time.Now()
	last := start
	runtime.LockOSThread() // ThreadCPU reads this thread's time
	cpuLast := ThreadCPU()
	for i := range reqs {
		if i%StallWindow == 0 {
			c := ThreadCPU()
			r.StallWindowCPU = max(r.StallWindowCPU, c-cpuLast)
			cpuLast = c
		}
		cmds, reps = st.Manager.Submit(&reqs[i], cmds[:0], reps[:0])
		if len(cmds) != 1 {
			return nil, fmt.Errorf("order %d rejected: %+v", i, reps)
		}
		ta := time.Now()
		p := &cmds[0]
		p.Cmd.Seq = uint64(i + 1)
		evs = st.Engine.Apply(&p.Cmd, evs[:0])
		tb := time.Now()
		for j := range evs {
			st.Hasher.Add(&evs[j])
			reps = st.Manager.OnEvent(&evs[j], reps)
		}
		tc := time.Now()
		r.StallEngine = max(r.StallEngine, tb.Sub(ta))
		r.StallManager = max(r.StallManager, ta.Sub(last), tc.Sub(tb))
		st.Seq = p.Cmd.Seq
		it := sequencer.Item{Cmd: p.Cmd, MetaLen: p.MetaLen}
		copy(it.Meta[:], p.MetaBytes())
		items = append(items, it)
		now := time.Now()
		if d := now.Sub(last); d > r.StallMax {
			r.StallMax = d
		}
		if now.Sub(last) > 10*time.Millisecond {
			r.StallsOver10ms++
		}
		last = now
		switch i + 1 {
		case tenth:
			tFirst = now.Sub(start)
		case n - tenth:
			lastTenth = now
		}
	}
	r.StallWindowCPU = max(r.StallWindowCPU, ThreadCPU()-cpuLast)
	runtime.UnlockOSThread()
	tLast := time.Since(lastTenth)
	r.RateFirst = float64(tenth) / tFirst.Seconds()
	r.RateLast = float64(tenth) / tLast.Seconds()
	if st.Engine.OpenOrders() != n {
		return nil, fmt.Errorf("bench: %d orders rest, want %d", st.Engine.OpenOrders(), n)
	}
	h1, r1 := settle()
	r.HeapAfterBuild = h1

	// The engine alone, from the same commands.
	eng := matching.New(matching.Config{Symbols: len(cfg.Symbols), OrdersHint: 1 << 16})
	for i := range items {
		evs = eng.Apply(&items[i].Cmd, evs[:0])
	}
	h2, r2 := settle()
	runtime.KeepAlive(eng)
	r.EngineHeap, r.EngineRSS = per(h1, h2), per(r1, r2)
	r.ManagerHeap, r.ManagerRSS = per(h0, h1)-r.EngineHeap, per(r0, r1)-r.EngineRSS
	eng = nil
	h2, r2 = settle()

	// Market data's L3 book from the engine's resting orders.
	md, err := marketdata.New(marketdata.Config{Symbols: []marketdata.SymbolInfo{{ID: 1, Name: "BENCH",
		TickSize: decimal.RequireFromString("0.01"), LotSize: decimal.RequireFromString("1")}}})
	if err != nil {
		return nil, err
	}
	for i := range items {
		c := &items[i].Cmd
		md.Apply(&matching.Event{Kind: matching.EvAdded, Symbol: c.Symbol, Side: c.Side, OrderID: c.OrderID, Price: c.Price, Leaves: c.Qty})
	}
	h3, r3 := settle()
	r.MarketDataHeap, r.MarketDataRSS = per(h2, h3), per(r2, r3)
	runtime.KeepAlive(md)
	md = nil

	// Snapshot, then journal: what recovery reads.
	t0 := time.Now()
	body := st.AppendSnapshot(nil)
	path, err := sequencer.WriteSnapshot(dir, st.Seq, body)
	if err != nil {
		return nil, err
	}
	r.SnapshotWrite = time.Since(t0)
	r.SnapshotBytes = int64(len(body))
	body = nil
	wantHash := st.Engine.StateHash()
	st = nil
	if err := writeJournal(dir, items); err != nil {
		return nil, err
	}
	items = nil
	settle()

	t0, c0 := time.Now(), ProcessCPU()
	snap, err := sequencer.OpenSnapshot(path)
	if err != nil {
		return nil, err
	}
	rst, err := pipeline.RestoreState(cfg.Registry, snap.Body)
	snap.Close()
	if err != nil {
		return nil, err
	}
	r.SnapshotRecover, r.SnapshotRecoverCPU = time.Since(t0), ProcessCPU()-c0
	snap = nil
	if rst.Engine.StateHash() != wantHash {
		return nil, fmt.Errorf("bench: the restored engine's hash differs")
	}
	r.HeapAfterRecover = heapLive()
	rst = nil
	settle()

	t0, c0 = time.Now(), ProcessCPU()
	rep, stats, err := pipeline.Rebuild(cfg.Registry, pipeline.RebuildOptions{Dir: dir, IgnoreSnapshots: true})
	if err != nil {
		return nil, err
	}
	r.Replay, r.ReplayCPU = time.Since(t0), ProcessCPU()-c0
	if rep.Engine.StateHash() != wantHash {
		return nil, fmt.Errorf("bench: the replayed engine's hash differs")
	}
	r.ReplayCmdsPerSec = float64(stats.Commands) / r.Replay.Seconds()
	r.RecoverSpeedup = r.Replay.Seconds() / r.SnapshotRecover.Seconds()
	return r, nil
}

// writeJournal journals items as the sequencer would (no fsync).
func writeJournal(dir string, items []sequencer.Item) error {
	s, _, err := sequencer.Open(sequencer.Config{Dir: dir, Create: true, Durability: sequencer.DurabilityNone, RingItems: 1 << 16, Logger: zerolog.Nop()})
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(s.Take(4096)) > 0 {
		}
	}()
	for i := range items {
		for !s.TrySubmit(&items[i].Cmd, items[i].MetaBytes()) {
			runtime.Gosched()
		}
	}
	err = s.Close()
	<-done
	return err
}
