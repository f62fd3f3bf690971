package bench

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/exchange-sim/exchange/matching"
)

// stream is a pre-generated benchmark input, made once per process.
type stream struct {
	once         sync.Once
	symbols      int
	warmup, cmds []matching.Command
	generate     func() (warmup, cmds []matching.Command)
}

func (s *stream) get() *stream {
	s.once.Do(func() { s.warmup, s.cmds = s.generate() })
	return s
}

var (
	mixStream = &stream{symbols: 1, generate: func() ([]matching.Command, []matching.Command) {
		return GenerateMix(1, 3_000_000, 1000)
	}}
	deepStream = &stream{symbols: 1, generate: func() ([]matching.Command, []matching.Command) {
		return generateDeep(1, 1_000_000, 1000)
	}}
	wideStream = &stream{symbols: 1000, generate: func() ([]matching.Command, []matching.Command) {
		return generateWide(1, 1_000_000, 1000, 1000)
	}}
)

// fresh returns an engine with s's warmup applied (see warmEngine).
func (s *stream) fresh() *matching.Engine { return warmEngine(s.symbols, s.warmup) }

// runThroughput applies the whole stream once per iteration on a fresh,
// warmed engine and reports commands per second, ns and allocations per
// command. Engine setup is outside the timer.
func runThroughput(b *testing.B, s *stream) {
	s.get()
	defer lockThread()()
	b.ReportAllocs() // per op, which is one pass over the whole stream
	out := make([]matching.Event, 0, 4096)
	var elapsed, cpu time.Duration
	var mallocs uint64
	var ms0, ms1 runtime.MemStats
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		e := s.fresh()
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		b.StartTimer()
		start, cpu0 := time.Now(), threadCPU()
		for j := range s.cmds {
			out = e.Apply(&s.cmds[j], out[:0])
		}
		elapsed += time.Since(start)
		cpu += threadCPU() - cpu0
		b.StopTimer()
		runtime.ReadMemStats(&ms1)
		mallocs += ms1.Mallocs - ms0.Mallocs
	}
	n := float64(len(s.cmds)) * float64(b.N)
	b.ReportMetric(n/elapsed.Seconds(), "cmds/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/n, "ns/cmd")
	b.ReportMetric(float64(mallocs)/n, "allocs/cmd")
	if cpu > 0 {
		// Commands per second of CPU time on the engine's thread: what one
		// core does when it is not shared.
		b.ReportMetric(n/cpu.Seconds(), "cpu-cmds/s")
	}
}

// BenchmarkEngineMix is the exchange-core mix: 3,000,000 commands on one
// symbol with about 1,000 resting orders over about 750 levels.
func BenchmarkEngineMix(b *testing.B) { runThroughput(b, mixStream) }

// BenchmarkEngineDeep is the same mix on a book of 100,000 orders over about
// 10,000 levels (1,000,000 commands).
func BenchmarkEngineDeep(b *testing.B) { runThroughput(b, deepStream) }

// BenchmarkEngineWide is the same mix over 1,000 symbols of about 100 orders
// each (1,000,000 commands).
func BenchmarkEngineWide(b *testing.B) { runThroughput(b, wideStream) }

// BenchmarkEngineLatency times every Apply of the exchange-core mix on its
// own and reports the distribution. Each sample includes one clock read
// (about 20-40 ns), so the figures overstate the engine's own cost a little.
func BenchmarkEngineLatency(b *testing.B) {
	s := mixStream.get()
	h := hdrhistogram.New(1, int64(time.Second), 3)
	out := make([]matching.Event, 0, 4096)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		e := s.fresh()
		runtime.GC()
		b.StartTimer()
		last := time.Now()
		for j := range s.cmds {
			out = e.Apply(&s.cmds[j], out[:0])
			now := time.Now()
			h.RecordValue(int64(now.Sub(last)))
			last = now
		}
	}
	for _, q := range []struct {
		name string
		q    float64
	}{{"p50-ns", 50}, {"p99-ns", 99}, {"p99.9-ns", 99.9}, {"p99.99-ns", 99.99}} {
		b.ReportMetric(float64(h.ValueAtQuantile(q.q)), q.name)
	}
	b.ReportMetric(float64(h.Max()), "max-ns")
}
