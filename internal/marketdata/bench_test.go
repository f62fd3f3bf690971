package marketdata

import (
	"bytes"
	"context"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/exchange-sim/exchange/matching"
)

// recordSession runs commands through the engine and keeps the event batches
// (one per command), so benchmarks measure the publisher, not the engine.
func recordSession(commands, symbols int) (batches [][]matching.Event, events int) {
	s := newSession(99, symbols)
	s.noHalt = true
	for i := 0; i < commands; i++ {
		evs := slices.Clone(s.next())
		batches = append(batches, evs)
		events += len(evs)
	}
	return batches, events
}

var benchBatches [][]matching.Event
var benchEvents int
var benchOnce sync.Once

func benchSession() ([][]matching.Event, int) {
	benchOnce.Do(func() { benchBatches, benchEvents = recordSession(200_000, 4) })
	return benchBatches, benchEvents
}

func benchSymbols() []SymbolInfo {
	syms := testSymbols()
	return append(syms, SymbolInfo{ID: 4, Name: "GOOG", TickSize: mustDec("0.01"), LotSize: mustDec("1")})
}

// BenchmarkPublish is the engine's cost per event of Publish alone: the ring
// is emptied by the benchmark itself (no consumer running), so this is the
// copy and the index bookkeeping.
func BenchmarkPublish(b *testing.B) {
	batches, _ := benchSession()
	p, _ := New(Config{Symbols: benchSymbols()})
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; n < b.N; i++ {
		evs := batches[i%len(batches)]
		p.Publish(evs)
		n += len(evs)
		p.tail.Store(p.head.Load())
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
	if p.overflows.Load() != 0 {
		b.Fatal("overflowed")
	}
}

// BenchmarkPublishContended offers events as fast as Publish takes them while
// Run drains the ring on its own goroutine: ns/event is the engine's cost
// under contention, %overflowed how much of an offered load beyond Run's
// capacity (see BenchmarkPipeline) is dropped rather than waited for.
func BenchmarkPublishContended(b *testing.B) {
	batches, _ := benchSession()
	p, _ := New(Config{Symbols: benchSymbols()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; n < b.N; i++ {
		evs := batches[i%len(batches)]
		p.Publish(evs)
		n += len(evs)
	}
	b.StopTimer()
	cancel()
	<-done
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
	b.ReportMetric(100*float64(p.overflows.Load())/float64(n), "%overflowed")
}

// BenchmarkApply is the publisher goroutine's cost per event with no
// subscribers: books, tape, candles and stats, in batches as Run does them.
func BenchmarkApply(b *testing.B) {
	batches, _ := benchSession()
	var flat []matching.Event
	for _, bt := range batches {
		flat = append(flat, bt...)
	}
	p, _ := New(Config{Symbols: benchSymbols()})
	b.ReportAllocs()
	b.ResetTimer()
	const batch = 256
	for i := 0; i < b.N; i += batch {
		k := i % len(flat)
		if k+batch > len(flat) {
			b.StopTimer()
			p.Reset(0, nil)
			b.StartTimer()
			k = 0
		}
		p.mu.Lock()
		for j := k; j < k+batch; j++ {
			p.apply(&flat[j])
		}
		p.flush()
		p.mu.Unlock()
	}
}

// BenchmarkPipeline: events/s through Publish and Run end to end (the
// producer waits for room, which the engine never does, to measure capacity).
func BenchmarkPipeline(b *testing.B) {
	batches, _ := benchSession()
	p, _ := New(Config{Symbols: benchSymbols()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	b.ResetTimer()
	n := 0
	for i := 0; n < b.N; i++ {
		evs := batches[i%len(batches)]
		if i%len(batches) == 0 && i > 0 {
			for p.tail.Load() != p.head.Load() {
			}
			p.Reset(0, nil)
		}
		for p.head.Load()+uint64(len(evs))-p.tail.Load() > uint64(len(p.ring)) {
		}
		p.Publish(evs)
		n += len(evs)
	}
	for p.tail.Load() != p.head.Load() {
	}
	b.StopTimer()
	cancel()
	<-done
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkFanout100WebSocket: 100 WebSocket clients subscribed to the book
// and trades of the one traded symbol. Events are published as fast as the
// ring takes them ("max") or paced; each trade's TimeNs is stamped at Publish,
// and clients measure the delay to receiving it.
func BenchmarkFanout100WebSocket(b *testing.B) {
	for _, bc := range []struct {
		name         string
		eventsPerSec int
	}{{"max", 0}, {"paced100k", 100_000}, {"paced20k", 20_000}} {
		b.Run(bc.name, func(b *testing.B) { benchFanout(b, 100, bc.eventsPerSec) })
	}
}

func benchFanout(b *testing.B, clients, eventsPerSec int) {
	batches, _ := recordSession(50_000, 1)
	p, _ := New(Config{Symbols: testSymbols()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan struct{})
	go func() { p.Run(ctx); close(runDone) }()
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()

	var received atomic.Int64
	var mu sync.Mutex
	var delays []int64
	var wg sync.WaitGroup
	ready := make(chan struct{}, clients)
	for c := 0; c < clients; c++ {
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
		if err != nil {
			b.Fatal(err)
		}
		conn.SetReadLimit(1 << 24)
		conn.Write(ctx, websocket.MessageText, []byte(`{"op":"subscribe","channels":["book","trades"],"symbols":["AAPL"]}`))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.CloseNow()
			var mine []int64
			defer func() { mu.Lock(); delays = append(delays, mine...); mu.Unlock() }()
			snaps := 0
			key := []byte(`"time_ns":`)
			for {
				_, data, err := conn.Read(ctx)
				if err != nil {
					return
				}
				now := time.Now().UnixNano()
				received.Add(1)
				if snaps < 2 {
					if snaps++; snaps == 2 {
						ready <- struct{}{}
					}
					continue
				}
				if bytes.Contains(data, []byte(`"snapshot":true`)) {
					continue
				}
				if data[0] == '[' { // several updates in one frame
					received.Add(int64(bytes.Count(data, []byte(`{"type":`)) - 1))
				}
				// The first trade of a message is its oldest: its delay is the
				// message's worst.
				if i := bytes.Index(data, key); i >= 0 {
					data = data[i+len(key):]
					end := bytes.IndexAny(data, ",}")
					if t, err := strconv.ParseInt(string(data[:end]), 10, 64); err == nil {
						mine = append(mine, now-t)
					}
				}
			}
		}()
	}
	for c := 0; c < clients; c++ {
		<-ready
	}
	resyncs0 := p.resyncs.Load()
	b.ResetTimer()
	start := time.Now()
	n := publishPaced(b, p, batches, eventsPerSec)
	elapsed := time.Since(start)
	time.Sleep(200 * time.Millisecond) // let clients finish reading
	b.StopTimer()
	cancel()
	srv.CloseClientConnections()
	wg.Wait()
	<-runDone
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(received.Load())/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(p.resyncs.Load()-resyncs0), "resyncs")
	if len(delays) > 0 {
		slices.Sort(delays)
		b.ReportMetric(float64(delays[len(delays)/2])/1e3, "p50-µs")
		b.ReportMetric(float64(delays[len(delays)*99/100])/1e3, "p99-µs")
	}
}

// publishPaced publishes at least b.N events from batches (replayed from
// the start, after a reset, as often as needed), each stamped with the time
// it is published, at eventsPerSec (0: flat out), never overrunning the
// ring, and returns how many it published once the publisher has applied
// them all.
func publishPaced(b *testing.B, p *Publisher, batches [][]matching.Event, eventsPerSec int) int {
	drain := func() {
		for p.tail.Load() != p.head.Load() {
			time.Sleep(time.Microsecond)
		}
	}
	scratch := make([]matching.Event, 0, 64)
	start := time.Now()
	n := 0
	for i := 0; n < b.N; i++ {
		if i%len(batches) == 0 && i > 0 {
			drain()
			p.Reset(0, nil) // replaying the recorded session from the start
		}
		scratch = append(scratch[:0], batches[i%len(batches)]...)
		now := time.Now().UnixNano()
		for j := range scratch {
			scratch[j].TimeNs = now
		}
		for p.head.Load()+uint64(len(scratch))-p.tail.Load() > uint64(len(p.ring)) {
			time.Sleep(10 * time.Microsecond)
		}
		p.Publish(scratch)
		n += len(scratch)
		if eventsPerSec > 0 {
			if ahead := time.Duration(n)*time.Second/time.Duration(eventsPerSec) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	drain()
	return n
}
