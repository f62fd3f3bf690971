package pipeline

import (
	"errors"
	"hash/fnv"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// replayTrace is everything a Rebuild's callbacks saw, in order, folded
// into a hash, with counts.
type replayTrace struct {
	h                             fnvHash
	events, reports, items, progs int
	lastSeq                       uint64
}

type fnvHash struct{ sum uint64 }

func (f *fnvHash) add(vals ...uint64) {
	h := fnv.New64a()
	var b [8]byte
	for _, v := range vals {
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	f.sum = f.sum*1099511628211 ^ h.Sum64()
}

// rebuildTraced runs Rebuild with every callback set, serially or split.
func rebuildTraced(t *testing.T, cfg *config.Config, dir string, serial bool, until uint64) (*State, RebuildStats, *replayTrace, error) {
	t.Helper()
	defer func(old bool) { forceSerialReplay = old }(forceSerialReplay)
	forceSerialReplay = serial
	tr := &replayTrace{}
	st, rs, err := Rebuild(cfg.Registry, RebuildOptions{
		Dir: dir, IgnoreSnapshots: true, UntilSeq: until, Log: zerolog.Nop(),
		OnEvents: func(cmd *matching.Command, evs []matching.Event) {
			tr.h.add(1, cmd.Seq, uint64(cmd.Kind), uint64(len(evs)))
			for i := range evs {
				tr.h.add(uint64(evs[i].Kind), evs[i].OutSeq, uint64(evs[i].OrderID), uint64(evs[i].Qty))
			}
			tr.events += len(evs)
			tr.lastSeq = cmd.Seq
		},
		OnReports: func(reps []ordermanager.Report) {
			for i := range reps {
				tr.h.add(2, uint64(reps[i].OrderID), uint64(reps[i].CumQty), uint64(reps[i].Leaves))
			}
			tr.reports += len(reps)
		},
		OnItem: func(it *sequencer.Item) {
			tr.h.add(3, it.Cmd.Seq, uint64(it.MetaLen))
			tr.items++
		},
		Progress:      func(seq uint64) { tr.h.add(4, seq); tr.progs++ },
		ProgressEvery: 97,
	})
	return st, rs, tr, err
}

// A replay at full speed (the engine on a goroutine of its own ahead of the
// order manager) must rebuild exactly what the serial replay does, and
// call the callbacks with the same arguments in the same order.
func TestRebuildSplitEqualsSerial(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	x := open(t, dir, cfg, newCollector(), sequencer.DurabilityNone, 0)
	n := 6000
	reqs := randomRequests(cfg, 11, n)
	for i := range reqs {
		for !x.Submit(&reqs[i]) {
			time.Sleep(50 * time.Microsecond)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	live := x.State()
	for _, until := range []uint64{0, live.Seq / 3} {
		s1, rs1, tr1, err := rebuildTraced(t, cfg, dir, true, until)
		if err != nil {
			t.Fatal(err)
		}
		s2, rs2, tr2, err := rebuildTraced(t, cfg, dir, false, until)
		if err != nil {
			t.Fatal(err)
		}
		if s1.Engine.StateHash() != s2.Engine.StateHash() || s1.Manager.StateHash() != s2.Manager.StateHash() ||
			s1.Hasher.Sum() != s2.Hasher.Sum() || s1.Seq != s2.Seq {
			t.Fatalf("until %d: split replay state differs from serial: seq %d vs %d", until, s2.Seq, s1.Seq)
		}
		if until == 0 && (s2.Manager.StateHash() != live.Manager.StateHash() || s2.Engine.StateHash() != live.Engine.StateHash()) {
			t.Fatal("split replay differs from the live run")
		}
		if *tr1 != *tr2 {
			t.Fatalf("until %d: callbacks differ: serial %+v, split %+v", until, *tr1, *tr2)
		}
		if tr2.reports == 0 || tr2.events == 0 || tr2.progs == 0 {
			t.Fatalf("until %d: trace too thin to compare: %+v", until, *tr2)
		}
		rs1.Elapsed, rs2.Elapsed = 0, 0
		if rs1.Commands != rs2.Commands || rs1.Checkpoints != rs2.Checkpoints || rs1.Verified != rs2.Verified ||
			rs1.EventsReplayed != rs2.EventsReplayed || rs1.LastSeq != rs2.LastSeq || rs1.Unverifiable != rs2.Unverifiable {
			t.Fatalf("until %d: stats differ: serial %+v, split %+v", until, rs1, rs2)
		}
		if until == 0 && rs2.Verified == 0 {
			t.Fatal("no checkpoint verified")
		}
	}
}

// A command the order manager refuses ends the replay with the same error
// either way, and no callback sees a command after it, although the split
// replay's engine has run ahead of it.
func TestRebuildSplitStopsAtRefusedCommand(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	x := open(t, dir, cfg, newCollector(), sequencer.DurabilityNone, 0)
	reqs := randomRequests(cfg, 5, 3000)
	for i := range reqs {
		for !x.Submit(&reqs[i]) {
			time.Sleep(50 * time.Microsecond)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	good := x.State().Seq
	// Append commands whose meta the order manager refuses, then more
	// good-looking ones after them.
	s, _, err := sequencer.Open(sequencer.Config{Dir: dir, Durability: sequencer.DurabilityNone, RingItems: 1 << 12, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(s.Take(256)) > 0 {
		}
	}()
	bad := []byte{99, 1, 0, 0, 0, 0} // meta version 99
	for i := range 2000 {
		cmd := matching.Command{Kind: matching.CmdNew, Symbol: 1, Account: 1, OrderID: matching.OrderID(1_000_000 + i), Side: matching.Buy, Type: matching.Limit, Price: 100, Qty: 1}
		for !s.TrySubmit(&cmd, bad) {
			time.Sleep(50 * time.Microsecond)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	_, _, tr1, err1 := rebuildTraced(t, cfg, dir, true, 0)
	_, _, tr2, err2 := rebuildTraced(t, cfg, dir, false, 0)
	if err1 == nil || err2 == nil {
		t.Fatalf("replay accepted refused commands: serial %v, split %v", err1, err2)
	}
	if err1.Error() != err2.Error() || !errors.Is(err2, ordermanager.ErrMeta) {
		t.Fatalf("errors differ: serial %q, split %q", err1, err2)
	}
	if !strings.Contains(err2.Error(), "order manager") {
		t.Fatalf("error %q does not name the order manager", err2)
	}
	if *tr1 != *tr2 || tr2.lastSeq != good {
		t.Fatalf("callbacks differ or ran past seq %d: serial %+v, split %+v", good, *tr1, *tr2)
	}
}

// A replay at full speed holds the collector off while it runs, unless
// OnEvents is set (its consumers make garbage), and gives it back after.
func TestRebuildHoldsGCWithoutOnEvents(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	x := open(t, dir, cfg, newCollector(), sequencer.DurabilityNone, 0)
	reqs := randomRequests(cfg, 3, 500)
	for i := range reqs {
		for !x.Submit(&reqs[i]) {
			time.Sleep(50 * time.Microsecond)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	prev := debug.SetGCPercent(120)
	defer debug.SetGCPercent(prev)
	percent := func() int { p := debug.SetGCPercent(-1); debug.SetGCPercent(p); return p }
	for _, withEvents := range []bool{false, true} {
		seen := map[int]bool{}
		opts := RebuildOptions{Dir: dir, IgnoreSnapshots: true, Log: zerolog.Nop(),
			OnItem: func(*sequencer.Item) { seen[percent()] = true }}
		if withEvents {
			opts.OnEvents = func(*matching.Command, []matching.Event) {}
		}
		if _, _, err := Rebuild(cfg.Registry, opts); err != nil {
			t.Fatal(err)
		}
		want := -1
		if withEvents {
			want = 120
		}
		if len(seen) != 1 || !seen[want] {
			t.Fatalf("OnEvents set %v: GC percent during the replay %v, want only %d", withEvents, seen, want)
		}
		if p := percent(); p != 120 {
			t.Fatalf("GC percent %d after the replay, want 120", p)
		}
	}
}
