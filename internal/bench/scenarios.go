package bench

import (
	"fmt"
	"runtime"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// warmEngine returns an engine with symbols books and warm applied, its pools
// sized for four times the warm book so that a measured run that follows is
// steady state.
func warmEngine(symbols int, warm []matching.Command) *matching.Engine {
	e := matching.New(matching.Config{Symbols: symbols, OrdersHint: 4 * len(warm)})
	out := make([]matching.Event, 0, 64)
	for i := range warm {
		out = e.Apply(&warm[i], out[:0])
	}
	return e
}

// EngineResult is what RunEngine measured.
type EngineResult struct {
	Name        string
	Commands    int
	Elapsed     time.Duration // the untimed pass: throughput
	CmdsPerSec  float64
	AllocsPerOp float64
	// Latency times each Apply on its own (one clock read included).
	Latency *hdrhistogram.Histogram
}

// RunEngine applies a generated stream to a warmed engine twice: once
// untimed per command for throughput and allocations, once timing every
// command for the latency distribution. kind is "mix", "deep" or "wide".
func RunEngine(kind string, n int, seed int64) (*EngineResult, error) {
	var warm, cmds []matching.Command
	symbols := 1
	switch kind {
	case "mix":
		warm, cmds = GenerateMix(seed, n, 1000)
	case "deep":
		warm, cmds = generateDeep(seed, n, 1000)
	case "wide":
		symbols = 1000
		warm, cmds = generateWide(seed, n, 1000, symbols)
	default:
		return nil, fmt.Errorf("bench: unknown engine scenario %q (mix, deep, wide)", kind)
	}
	fresh := func() *matching.Engine { return warmEngine(symbols, warm) }
	res := &EngineResult{Name: "engine " + kind, Commands: len(cmds), Latency: hdrhistogram.New(1, int64(time.Second), 3)}
	out := make([]matching.Event, 0, 4096)

	e := fresh()
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	for i := range cmds {
		out = e.Apply(&cmds[i], out[:0])
	}
	res.Elapsed = time.Since(start)
	runtime.ReadMemStats(&ms1)
	res.CmdsPerSec = float64(len(cmds)) / res.Elapsed.Seconds()
	res.AllocsPerOp = float64(ms1.Mallocs-ms0.Mallocs) / float64(len(cmds))

	e = fresh()
	runtime.GC()
	last := time.Now()
	for i := range cmds {
		out = e.Apply(&cmds[i], out[:0])
		now := time.Now()
		_ = res.Latency.RecordValue(max(int64(now.Sub(last)), 1))
		last = now
	}
	return res, nil
}

// JournalResult is what RunJournal measured.
type JournalResult struct {
	Durability string
	Records    int
	Elapsed    time.Duration
	RecsPerSec float64
	MBPerSec   float64
	Fsyncs     uint64
}

// RunJournal pushes n commands with 24 meta bytes each through the
// sequencer stage (stamp, frame, write, fsync per policy, hand-off to a
// consumer that takes them in place) and measures records and bytes per
// second.
func RunJournal(dir, durability string, n int) (*JournalResult, error) {
	dur, err := sequencer.ParseDurability(durability)
	if err != nil {
		return nil, err
	}
	s, _, err := sequencer.Open(sequencer.Config{Dir: dir, Create: true, Durability: dur, RingItems: 1 << 16, Logger: zerolog.Nop()})
	if err != nil {
		return nil, err
	}
	done := make(chan int)
	go func() {
		// The consumer takes items in place, as the venue's engine does.
		got := 0
		for {
			items := s.Take(4096)
			if len(items) == 0 {
				break
			}
			got += len(items)
		}
		done <- got
	}()
	cmd := matching.Command{Kind: matching.CmdNew, Symbol: 1, Account: 7, Side: matching.Buy, Type: matching.Limit,
		TIF: matching.GTC, Price: 100_000, Qty: 10}
	meta := make([]byte, 24)
	start := time.Now()
	for i := 0; i < n; i++ {
		cmd.OrderID = matching.OrderID(i + 1)
		for !s.TrySubmit(&cmd, meta) {
			if err := s.Err(); err != nil {
				return nil, err
			}
			runtime.Gosched()
		}
	}
	if err := s.Close(); err != nil {
		return nil, err
	}
	got := <-done
	el := time.Since(start)
	if got != n {
		return nil, fmt.Errorf("bench: consumer got %d of %d records", got, n)
	}
	st := s.Stats()
	return &JournalResult{Durability: durability, Records: n, Elapsed: el, RecsPerSec: float64(n) / el.Seconds(),
		MBPerSec: float64(st.Bytes) / el.Seconds() / 1e6, Fsyncs: st.Fsyncs}, nil
}

// ReplayResult is what RunReplay measured.
type ReplayResult struct {
	Records    int
	Elapsed    time.Duration
	RecsPerSec float64
}

// RunReplay journals the exchange-core mix (n commands after its warmup)
// and times reading it back through the journal reader into a fresh engine,
// folding every event into the running hash: what replay and recovery do
// per record, order manager aside.
func RunReplay(dir string, n int, seed int64) (*ReplayResult, error) {
	warm, cmds := GenerateMix(seed, n, 1000)
	all := append(warm, cmds...)
	s, _, err := sequencer.Open(sequencer.Config{Dir: dir, Create: true, Durability: sequencer.DurabilityNone, RingItems: 1 << 16, Logger: zerolog.Nop()})
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(s.Take(4096)) > 0 { // not timed: the consumer only drains
		}
	}()
	meta := make([]byte, 24)
	for i := range all {
		for !s.TrySubmit(&all[i], meta) {
			runtime.Gosched()
		}
	}
	if err := s.Close(); err != nil {
		return nil, err
	}
	<-done
	runtime.GC()
	e := matching.New(matching.Config{Symbols: 1, OrdersHint: 2 * len(warm)})
	h := matching.NewHasher()
	out := make([]matching.Event, 0, 256)
	start := time.Now()
	st, err := sequencer.Replay(dir, sequencer.ReplayOptions{}, func(rec *sequencer.Record) error {
		if rec.Kind != sequencer.RecordCommand {
			return nil
		}
		out = e.Apply(&rec.Item.Cmd, out[:0])
		for i := range out {
			h.Add(&out[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	el := time.Since(start)
	return &ReplayResult{Records: int(st.Commands), Elapsed: el, RecsPerSec: float64(st.Commands) / el.Seconds()}, nil
}
