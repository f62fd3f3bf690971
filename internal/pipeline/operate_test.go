package pipeline

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// TestOperateJournaledAndReplayed: operator actions interleaved with orders
// are journaled, take effect, survive a restart from the snapshot, and a
// replay of the journal alone gives the same state, notes and limits.
func TestOperateJournaledAndReplayed(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	col := newCollector()
	x := open(t, dir, cfg, col, "batch", 0)
	ctx := context.Background()
	alpha := cfg.AccountByName("ALPHA-1")

	buy := newOrder(cfg, "ALPHA", clID(t, "b1"), 1, matching.Buy, 19000, 10)
	if !x.Submit(&buy) {
		t.Fatal("submit refused")
	}
	col.waitFor(t, "the order's ack", func(r []ordermanager.Report) bool { return len(r) >= 1 })

	res, err := x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActHalt, Symbol: 1, Who: "ops", Why: "news pending"})
	if err != nil || res.Seq == 0 || res.Commands != 2 {
		t.Fatalf("halt: %+v %v", res, err)
	}
	lim, _ := cfg.Account(alpha)
	newLim := lim.Limits
	newLim.MaxOrderLots = 5
	if _, err := x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActSetLimits, Account: alpha, Limits: newLim, Who: "ops", Why: "tighter"}); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActKillOn, Account: alpha, Who: "ops", Why: "runaway algo"}); err != nil {
		t.Fatal(err)
	}
	// Refusals change nothing.
	if _, err := x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActHalt, Symbol: 99, Who: "ops"}); !errors.Is(err, ordermanager.ErrUnknownSymbol) {
		t.Fatalf("unknown symbol: %v", err)
	}
	var halted bool
	var reason string
	var acct ordermanager.AccountView
	var notes []ordermanager.OperatorNote
	if err := x.Inspect(ctx, func(om *ordermanager.Manager) {
		halted, reason = om.Halted(1), om.HaltReason(1)
		acct, _ = om.Account(alpha)
		notes = om.OperatorNotes(10)
	}); err != nil {
		t.Fatal(err)
	}
	if !halted || reason != "news pending" || !acct.KillSwitch || acct.OpenOrders != 0 || acct.Limits.MaxOrderLots != 5 {
		t.Fatalf("after the actions: halted %v %q, account %+v", halted, reason, acct)
	}
	if len(notes) != 3 || notes[0].Seq != res.Seq || notes[0].Who != "ops" || notes[2].Action != ordermanager.ActKillOn {
		t.Fatalf("notes %+v", notes)
	}
	// Every configured session heard of the halt; the order's cancel was reported.
	col.waitFor(t, "security status and cancel", func(r []ordermanager.Report) bool {
		n, cancelled := 0, false
		for _, p := range r {
			if p.Kind == ordermanager.RepSecurityStatus && p.ExecType == ordermanager.SecurityHalted {
				n++
			}
			cancelled = cancelled || (p.Kind == ordermanager.RepExec && p.ExecType == ordermanager.ExecCanceled)
		}
		return n == len(cfg.Sessions) && cancelled
	})
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActResume, Who: "ops"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	live := x.State()
	liveNotes := live.Manager.OperatorNotes(10)
	var listed []ordermanager.OperatorNote
	for _, ignore := range []bool{true, false} {
		listed = listed[:0]
		st, _, err := Rebuild(cfg.Registry, RebuildOptions{Dir: dir, IgnoreSnapshots: ignore, Log: zerolog.Nop(), OnItem: func(it *sequencer.Item) {
			if n, ok := ordermanager.DecodeOperatorNote(&it.Cmd, it.MetaBytes()); ok {
				listed = append(listed, n)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		if st.Manager.StateHash() != live.Manager.StateHash() || st.Engine.StateHash() != live.Engine.StateHash() || st.Hasher.Sum() != live.Hasher.Sum() {
			t.Fatalf("replay (ignore snapshots %v) differs", ignore)
		}
		if ignore && (len(listed) != 3 || listed[0].Why != "news pending" || listed[0].Seq != res.Seq) {
			t.Fatalf("replay listed %+v", listed)
		}
		a, _ := st.Manager.Account(alpha)
		if a.Limits.MaxOrderLots != 5 || st.Manager.HaltReason(1) != "news pending" {
			t.Fatalf("replay (ignore snapshots %v): limits %+v reason %q", ignore, a.Limits, st.Manager.HaltReason(1))
		}
		got := st.Manager.OperatorNotes(10)
		for i := range got {
			got[i].TimeNs, liveNotes[i].TimeNs = 0, 0 // live notes carry the pipeline's clock
		}
		if !reflect.DeepEqual(got, liveNotes) {
			t.Fatalf("notes (ignore snapshots %v):\n%+v\n%+v", ignore, got, liveNotes)
		}
	}
	if len(listed) != 0 {
		// The last rebuild used the final snapshot: nothing after it.
		t.Fatalf("listed %d notes after the snapshot", len(listed))
	}
}
