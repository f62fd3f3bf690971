package marketdata

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/matching"
)

// checkAgainstEngine compares the publisher's L2 and L3 with the engine's own.
func checkAgainstEngine(t *testing.T, p *Publisher, eng *matching.Engine, symbols int, when string) {
	t.Helper()
	for sym := matching.SymbolID(1); int(sym) <= symbols; sym++ {
		for _, side := range []matching.Side{matching.Buy, matching.Sell} {
			var want []Level
			eng.Levels(sym, side, func(price, qty int64, orders int) bool {
				want = append(want, Level{price, qty, orders})
				return true
			})
			got := p.Depth(sym, side, 0, nil)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: symbol %d side %d L2:\n got %v\nwant %v", when, sym, side, got, want)
			}
			var wantQ []Order
			eng.Orders(sym, side, func(o matching.OrderInfo) bool {
				wantQ = append(wantQ, Order{o.ID, o.Price, o.Leaves})
				return true
			})
			gotQ := p.Queue(sym, side, 0, nil)
			if !slices.Equal(gotQ, wantQ) {
				t.Fatalf("%s: symbol %d side %d L3:\n got %v\nwant %v", when, sym, side, gotQ, wantQ)
			}
			if len(want) > 0 {
				bid, ask := p.BBO(sym)
				best := bid
				if side == matching.Sell {
					best = ask
				}
				if best != want[0] {
					t.Fatalf("%s: symbol %d side %d L1 %v, want %v", when, sym, side, best, want[0])
				}
			}
		}
	}
}

// TestBooksMatchEngine is the differential test: random sessions through the
// real engine, the publisher fed event by event, its L1/L2/L3 compared with
// the engine's books at random points.
func TestBooksMatchEngine(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			s := newSession(seed, 3)
			p := newTestPublisher(t, Config{})
			trades := 0
			for i := 0; i < 5000; i++ {
				for _, ev := range s.next() {
					if ev.Kind == matching.EvTrade {
						trades++
					}
					p.Apply(&ev)
				}
				if s.rng.IntN(50) == 0 {
					checkAgainstEngine(t, p, s.eng, 3, fmt.Sprintf("command %d", i))
				}
			}
			checkAgainstEngine(t, p, s.eng, 3, "end")
			if trades == 0 || s.eng.OpenOrders() == 0 {
				t.Fatalf("session too dull: %d trades, %d open orders", trades, s.eng.OpenOrders())
			}
			if p.NeedsResync() {
				t.Fatal("resync flagged on a gap-free stream")
			}
		})
	}
}

// TestRunMatchesEngine drives the asynchronous path (Publish on this
// goroutine, Run on its own) and checks the books once the ring is drained.
func TestRunMatchesEngine(t *testing.T) {
	s := newSession(42, 3)
	p := newTestPublisher(t, Config{RingEvents: 1 << 16})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for round := 0; round < 5; round++ {
		for i := 0; i < 2000; i++ {
			p.Publish(s.next())
		}
		waitApplied(t, p, s.eng.OutSeq())
		checkAgainstEngine(t, p, s.eng, 3, fmt.Sprint("round ", round))
	}
	if p.overflows.Load() != 0 {
		t.Fatalf("overflowed %d events with a large ring", p.overflows.Load())
	}
}

func waitApplied(t *testing.T, p *Publisher, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Seq() < seq {
		if time.Now().After(deadline) {
			t.Fatalf("publisher stuck at seq %d, want %d", p.Seq(), seq)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestOverflowAndReset fills a tiny ring with no consumer, checks the
// overflow is counted and flagged, then recovers with Reset from the engine's
// own orders and carries on in step.
func TestOverflowAndReset(t *testing.T) {
	s := newSession(7, 2)
	p := newTestPublisher(t, Config{RingEvents: 64})
	for i := 0; i < 500; i++ {
		p.Publish(s.next())
	}
	if p.overflows.Load() == 0 || !p.NeedsResync() {
		t.Fatalf("overflows %d, needs resync %v; want both", p.overflows.Load(), p.NeedsResync())
	}
	var orders []matching.OrderInfo
	for sym := matching.SymbolID(1); sym <= 2; sym++ {
		for _, side := range []matching.Side{matching.Buy, matching.Sell} {
			s.eng.Orders(sym, side, func(o matching.OrderInfo) bool { orders = append(orders, o); return true })
		}
	}
	p.Reset(s.eng.OutSeq(), orders)
	if p.NeedsResync() {
		t.Fatal("still flagged after Reset")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitRingEmpty(t, p) // the stale events in the ring are skipped
	checkAgainstEngine(t, p, s.eng, 2, "after reset")
	for i := 0; i < 300; i++ {
		p.Publish(s.next())
		waitRingEmpty(t, p)
	}
	checkAgainstEngine(t, p, s.eng, 2, "after reset and more trading")
	if p.NeedsResync() {
		t.Fatal("resync flagged after a clean restart")
	}
}

func waitRingEmpty(t *testing.T, p *Publisher) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.tail.Load() != p.head.Load() {
		if time.Now().After(deadline) {
			t.Fatal("ring not drained")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// TestGapFlagsResync: an OutSeq that skips ahead means lost events.
func TestGapFlagsResync(t *testing.T) {
	p := newTestPublisher(t, Config{})
	p.Apply(&matching.Event{Kind: matching.EvAdded, OutSeq: 1, Symbol: 1, Side: matching.Buy, OrderID: 1, Price: 100, Leaves: 5})
	p.Apply(&matching.Event{Kind: matching.EvAdded, OutSeq: 3, Symbol: 1, Side: matching.Buy, OrderID: 2, Price: 100, Leaves: 5})
	if !p.NeedsResync() {
		t.Fatal("gap not flagged")
	}
	p.Reset(3, []matching.OrderInfo{{ID: 9, Symbol: 1, Side: matching.Sell, Price: 101, Leaves: 2}})
	_, ask := p.BBO(1)
	if bid, _ := p.BBO(1); bid != (Level{}) || ask != (Level{101, 2, 1}) {
		t.Fatalf("after reset bid %v ask %v", bid, ask)
	}
}

// TestPublishAllocFree: the engine's side allocates nothing, with room in the
// ring or without.
func TestPublishAllocFree(t *testing.T) {
	p := newTestPublisher(t, Config{RingEvents: 1024})
	evs := make([]matching.Event, 8)
	if a := testing.AllocsPerRun(1000, func() {
		p.Publish(evs)
		p.tail.Store(p.head.Load()) // an instant consumer
	}); a != 0 {
		t.Fatalf("Publish allocates %v times with room", a)
	}
	if a := testing.AllocsPerRun(1000, func() {
		for i := 0; i < 200; i++ {
			p.Publish(evs)
		}
	}); a != 0 {
		t.Fatalf("Publish allocates %v times when full", a)
	}
}

func TestSetHalted(t *testing.T) {
	p := newTestPublisher(t, Config{})
	p.SetHalted(2, true)
	if !p.Stats(2).Halted || p.Stats(1).Halted {
		t.Fatal("halt not recorded")
	}
	p.Apply(&matching.Event{Kind: matching.EvResumed, Symbol: 2})
	if p.Stats(2).Halted {
		t.Fatal("resume not applied")
	}
}
