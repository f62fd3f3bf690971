package pipeline

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// failingLog accepts okBatches batches, then fails every Append, as a
// cluster's log does for a leader that lost its majority. While gate is set,
// each Append first says so on entered and waits for release.
type failingLog struct {
	app       *sequencer.Appender
	okBatches atomic.Int64
	gate      atomic.Bool
	entered   chan struct{}
	release   chan struct{}
}

func (l *failingLog) Append(frames []byte, first, last uint64) error {
	if l.gate.Load() {
		l.entered <- struct{}{}
		<-l.release
	}
	if l.okBatches.Add(-1) < 0 {
		return errors.New("not the leader")
	}
	return l.app.Append(frames, first, last)
}

// A venue whose log fails holds commands the journal never got: it must not
// write a snapshot of that state, periodic or final, or a node rebuilt from it
// would diverge.
func TestFailedLogWritesNoSnapshot(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	app, _, err := sequencer.OpenAppender(dir, sequencer.DurabilityNone, 0, 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	lg := &failingLog{app: app, entered: make(chan struct{}, 1), release: make(chan struct{})}
	lg.okBatches.Store(1 << 30)
	col := newCollector()
	x, _, err := Open(Options{Ref: cfg.Registry, Dir: dir, Durability: "none", Log: zerolog.Nop(), Reports: col.add,
		ClusterLog: lg, NextSeq: 1, SnapshotEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	order := func(cl string) {
		r := newOrder(cfg, "ALPHA", clID(t, cl), 1, matching.Buy, 19000, 1)
		if !x.Submit(&r) {
			t.Fatal("Submit refused")
		}
	}
	order("b1")
	col.waitFor(t, "the ack of b1", func(reps []ordermanager.Report) bool { return len(reps) > 0 })
	// c1's batch is held in Append while c2 reaches the ring, then c1
	// commits and c2 fails: c1's events trigger a snapshot whose quiesce
	// finds c2 never coming back.
	lg.okBatches.Store(1)
	lg.gate.Store(true)
	order("c1")
	<-lg.entered
	order("c2")
	deadline := time.Now().Add(5 * time.Second)
	for x.Stats().Commands < 3 {
		if time.Now().After(deadline) {
			t.Fatal("c2 did not reach the sequencer")
		}
		time.Sleep(time.Millisecond)
	}
	lg.gate.Store(false)
	close(lg.release)
	// Once c1's events are in, the order manager goes on to its snapshot
	// check before it looks at Close.
	for x.Stats().Processed < 2 {
		if time.Now().After(deadline) {
			t.Fatal("c1 was not processed")
		}
		time.Sleep(time.Millisecond)
	}
	x.Close()
	snap, _, err := sequencer.LatestSnapshot(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if snap == nil {
		t.Fatal("no snapshot at all (b1's should be there)")
	}
	if snap.Seq > app.LastSeq() {
		t.Fatalf("snapshot at seq %d, the journal ends at %d", snap.Seq, app.LastSeq())
	}
	st, err := RestoreState(cfg.Registry, snap.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Manager.OpenOrders(); got != int(snap.Seq) {
		t.Fatalf("snapshot at seq %d holds %d open orders: it includes a command that was never journaled", snap.Seq, got)
	}
}

// recordingLog journals batches like a cluster's log and keeps their frames.
type recordingLog struct {
	app    *sequencer.Appender
	mu     sync.Mutex
	frames [][]byte
}

func (l *recordingLog) Append(frames []byte, first, last uint64) error {
	l.mu.Lock()
	l.frames = append(l.frames, append([]byte(nil), frames...))
	l.mu.Unlock()
	return l.app.Append(frames, first, last)
}

// A standby fed the leader's batches reaches the leader's state and checks
// its checkpoints; one whose output differs from a checkpoint stops loudly.
func TestStandbyFollowsAndDetectsDivergence(t *testing.T) {
	cfg := config.Default()
	open := func(lg sequencer.Log, follow bool, onDiverge func(error)) (*Exchange, *collector) {
		dir := t.TempDir()
		app, _, err := sequencer.OpenAppender(dir, sequencer.DurabilityNone, 0, 0, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		if rl, ok := lg.(*recordingLog); ok {
			rl.app = app
		}
		col := newCollector()
		x, _, err := Open(Options{Ref: cfg.Registry, Dir: dir, Durability: "none", Log: zerolog.Nop(), Reports: col.add,
			ClusterLog: lg, NextSeq: 1, Follow: follow, OnDiverge: onDiverge, CheckpointEvery: 2})
		if err != nil {
			t.Fatal(err)
		}
		return x, col
	}
	leaderLog := &recordingLog{}
	leader, col := open(leaderLog, false, nil)
	for i := range 10 {
		side, px := matching.Buy, int64(19000)
		if i%2 == 1 {
			side = matching.Sell
		}
		r := newOrder(cfg, "ALPHA", clID(t, "o"+string(rune('a'+i))), 1, side, px, 1)
		if i%2 == 1 {
			r = newOrder(cfg, "BRAVO", clID(t, "o"+string(rune('a'+i))), 1, side, px, 1)
		}
		if !leader.Submit(&r) {
			t.Fatal("Submit refused")
		}
	}
	col.waitFor(t, "10 acks", func(reps []ordermanager.Report) bool {
		n := 0
		for _, r := range reps {
			if r.ExecType == ordermanager.ExecNew {
				n++
			}
		}
		return n == 10
	})
	leader.Close()
	want := leader.State()

	feed := func(x *Exchange, corrupt bool) int {
		cps := 0
		leaderLog.mu.Lock()
		defer leaderLog.mu.Unlock()
		for _, f := range leaderLog.frames {
			var items []sequencer.Item
			var cp []sequencer.Checkpoint
			if err := sequencer.DecodeFrames(f, func(rec *sequencer.Record) error {
				if rec.Kind == sequencer.RecordCommand {
					items = append(items, rec.Item)
				} else {
					c := rec.Checkpoint
					if corrupt {
						c.EventHash ^= 1
					}
					cp = append(cp, c)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			cps += len(cp)
			if err := x.Follow(items, cp); err != nil {
				t.Fatal(err)
			}
		}
		return cps
	}

	good, _ := open(&recordingLog{}, true, func(err error) { t.Errorf("diverged: %v", err) })
	if feed(good, false) == 0 {
		t.Fatal("the leader journaled no checkpoint: the test proves nothing")
	}
	deadline := time.Now().Add(5 * time.Second)
	for good.Stats().Processed < 10 {
		if time.Now().After(deadline) {
			t.Fatal("the standby did not apply the batches")
		}
		time.Sleep(time.Millisecond)
	}
	good.Close()
	got := good.State()
	if got.Seq != want.Seq || got.Hasher.Sum() != want.Hasher.Sum() || got.Manager.StateHash() != want.Manager.StateHash() {
		t.Fatalf("standby at seq %d hash %x/%x, leader at seq %d hash %x/%x", got.Seq, got.Hasher.Sum(), got.Manager.StateHash(),
			want.Seq, want.Hasher.Sum(), want.Manager.StateHash())
	}

	diverged := make(chan error, 1)
	bad, _ := open(&recordingLog{}, true, func(err error) { diverged <- err })
	feed(bad, true)
	select {
	case err := <-diverged:
		if !errors.Is(err, ErrDiverged) {
			t.Errorf("divergence error %v does not wrap ErrDiverged", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a standby whose hash differs from the leader's checkpoint did not stop")
	}
	if !bad.Diverged() || !bad.Closed() {
		t.Error("the diverged standby still takes requests")
	}
	bad.Close()

	// A quiet leader's last checkpoints come in a batch with no commands,
	// after the standby's engine has applied everything: they are checked
	// all the same.
	lateDiverged := make(chan error, 1)
	late, _ := open(&recordingLog{}, true, func(err error) { lateDiverged <- err })
	var items []sequencer.Item
	var cps []sequencer.Checkpoint
	leaderLog.mu.Lock()
	for _, f := range leaderLog.frames {
		if err := sequencer.DecodeFrames(f, func(rec *sequencer.Record) error {
			if rec.Kind == sequencer.RecordCommand {
				items = append(items, rec.Item)
			} else {
				c := rec.Checkpoint
				c.EventHash ^= 1
				cps = append(cps, c)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	leaderLog.mu.Unlock()
	if err := late.Follow(items, nil); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for late.Stats().Processed < uint64(len(items)) {
		if time.Now().After(deadline) {
			t.Fatal("the standby did not apply the commands")
		}
		time.Sleep(time.Millisecond)
	}
	if err := late.Follow(nil, cps); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-lateDiverged:
		if !errors.Is(err, ErrDiverged) {
			t.Errorf("divergence error %v does not wrap ErrDiverged", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("checkpoints that arrived after the engine applied their commands were never checked")
	}
	late.Close()
}
