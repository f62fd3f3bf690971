package pipeline

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/ordermanager"
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
	x, _, err := Open(Options{Config: cfg, Dir: dir, Durability: "none", Log: zerolog.Nop(), Reports: col.add,
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
	st, err := RestoreState(cfg, snap.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Manager.OpenOrders(); got != int(snap.Seq) {
		t.Fatalf("snapshot at seq %d holds %d open orders: it includes a command that was never journaled", snap.Seq, got)
	}
}
