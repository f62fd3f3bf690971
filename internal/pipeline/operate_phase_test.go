package pipeline

import (
	"context"
	"errors"
	"testing"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
)

// TestOperatePhaseReplayed: phase changes forced by an operator are
// journaled with the phase, uncross like the scheduler's, and a replay from
// the journal alone and from the final snapshot gives the same hashes and
// the same phases in the engine and the order manager.
func TestOperatePhaseReplayed(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	col := newCollector()
	x := open(t, dir, cfg, col, "batch", 0)
	ctx := context.Background()
	force := func(sym matching.SymbolID, p matching.Phase) error {
		_, err := x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActPhase, Symbol: sym, Phase: p, Who: "ops", Why: "forced"})
		return err
	}
	if err := force(1, matching.PhasePreOpen); err != nil {
		t.Fatal(err)
	}
	buy := newOrder(cfg, "ALPHA", clID(t, "b1"), 1, matching.Buy, 19000, 10)
	sell := newOrder(cfg, "BRAVO", clID(t, "s1"), 1, matching.Sell, 18900, 4)
	for _, r := range []*ordermanager.Request{&buy, &sell} {
		if !x.Submit(r) {
			t.Fatal("submit refused")
		}
	}
	col.waitFor(t, "both acks", func(r []ordermanager.Report) bool { return len(r) >= 2 })
	if err := force(1, matching.PhaseContinuous); err != nil {
		t.Fatal(err)
	}
	col.waitFor(t, "the uncross fills", func(r []ordermanager.Report) bool {
		n := 0
		for _, p := range r {
			if p.Kind == ordermanager.RepExec && p.ExecType == ordermanager.ExecTrade {
				n++
			}
		}
		return n == 2
	})
	if err := force(0, matching.PhaseClosingCall); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActHalt, Symbol: 2, Who: "ops", Why: "news"}); err != nil {
		t.Fatal(err)
	}
	if err := force(2, matching.PhasePostClose); !errors.Is(err, ordermanager.ErrRefused) {
		t.Fatalf("phase of a halted symbol: %v", err)
	}
	if err := force(1, matching.PhaseHalted); !errors.Is(err, ordermanager.ErrOperation) {
		t.Fatalf("phase halted: %v", err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	live := x.State()
	if live.Manager.Phase(1) != matching.PhaseClosingCall || live.Manager.Phase(2) != matching.PhaseHalted || live.Manager.PhaseUnderHalt(2) != matching.PhaseClosingCall {
		t.Fatalf("live phases: %s %s", live.Manager.Phase(1), live.Manager.PhaseUnderHalt(2))
	}
	for _, ignore := range []bool{true, false} {
		st, _, err := Rebuild(cfg.Registry, RebuildOptions{Dir: dir, IgnoreSnapshots: ignore, Log: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		if st.Manager.StateHash() != live.Manager.StateHash() || st.Engine.StateHash() != live.Engine.StateHash() || st.Hasher.Sum() != live.Hasher.Sum() {
			t.Fatalf("replay (ignore snapshots %v) differs", ignore)
		}
		for s := matching.SymbolID(1); int(s) <= len(cfg.Symbols); s++ {
			if st.Manager.Phase(s) != live.Engine.Phase(s) || st.Manager.PhaseUnderHalt(s) != live.Engine.PhaseUnderHalt(s) || st.Engine.Phase(s) != live.Engine.Phase(s) {
				t.Fatalf("replay (ignore snapshots %v): symbol %d phase %s/%s, live %s", ignore, s, st.Manager.Phase(s), st.Engine.Phase(s), live.Engine.Phase(s))
			}
		}
		notes := st.Manager.OperatorNotes(10)
		if len(notes) != 4 || notes[0].Phase != matching.PhasePreOpen || notes[2].Phase != matching.PhaseClosingCall || notes[2].Symbol != 0 {
			t.Fatalf("replayed notes: %+v", notes)
		}
	}
}
