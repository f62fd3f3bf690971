package pipeline

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
)

// TestAcceleratedDay runs a two-second trading day through the real
// pipeline: orders in the pre-open call, the opening uncross at the price
// computed by hand, DAY expiry at the end, and a replay of the journal that
// reproduces the live state.
func TestAcceleratedDay(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	col := newCollector()
	x := open(t, dir, cfg, col, "batch", 0)
	var issued atomic.Int32
	s := StartScheduler(SchedulerOptions{
		Plan:    AcceleratedDay(time.Now().Add(50*time.Millisecond), 2*time.Second),
		Symbols: []matching.SymbolID{1},
		Submit: func(r *ordermanager.Request) bool {
			issued.Add(1)
			return x.Submit(r)
		},
	})
	defer s.Stop()
	for deadline := time.Now().Add(5 * time.Second); issued.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the scheduler issued nothing")
		}
	}
	// 189.90: D10 S4; 190.00: D10 S4; 191.00: D0. Volume 4 at both lower
	// prices, the same buy surplus: buy pressure takes the higher, 190.00.
	reqs := []ordermanager.Request{
		newOrder(cfg, "ALPHA", clID(t, "b1"), 1, matching.Buy, 19000, 10),
		newOrder(cfg, "BRAVO", clID(t, "s1"), 1, matching.Sell, 18990, 4),
		newOrder(cfg, "BRAVO", clID(t, "s2"), 1, matching.Sell, 19100, 7),
	}
	for i := range reqs {
		reqs[i].TIF = matching.Day
		if !x.Submit(&reqs[i]) {
			t.Fatal("Submit refused")
		}
	}
	col.waitFor(t, "the opening auction fill", func(reps []ordermanager.Report) bool {
		for _, r := range reps {
			if r.ClOrdID.String() == "s1" && r.ExecType == ordermanager.ExecTrade {
				if !r.Auction || r.LastPx != 19000 || r.LastQty != 4 {
					t.Fatalf("auction fill %+v, want 4 at 19000 flagged", r)
				}
				return true
			}
		}
		return false
	})
	col.waitFor(t, "DAY expiry of b1 and s2", func(reps []ordermanager.Report) bool {
		n := 0
		for _, r := range reps {
			if r.ExecType == ordermanager.ExecExpired && (r.ClOrdID.String() == "b1" || r.ClOrdID.String() == "s2") {
				n++
			}
		}
		return n == 2
	})
	s.Stop()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	live := x.State()
	if p := live.Engine.Phase(1); p != matching.PhaseClosed && p != matching.PhasePostClose {
		t.Fatalf("phase at the end %d", p)
	}
	st, _, err := Rebuild(cfg.Registry, RebuildOptions{Dir: dir, IgnoreSnapshots: true, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if st.Engine.StateHash() != live.Engine.StateHash() || st.Hasher.Sum() != live.Hasher.Sum() || st.Seq != live.Seq {
		t.Fatal("replay of the day differs from the live run")
	}
}
