package pipeline

import (
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/sequencer"
)

// TestRecoveredReports: recovery hands the reports it regenerates from the
// journal to Options.Recovered, and they are the live ones: same ExecIDs,
// same OutSeq (set on every report of an event), same sessions.
func TestRecoveredReports(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	col := newCollector()
	x := open(t, dir, cfg, col, "batch", 0)
	reqs := randomRequests(cfg, 7, 300)
	for i := range reqs {
		for !x.Submit(&reqs[i]) {
			time.Sleep(time.Millisecond)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	var live []ordermanager.Report
	for _, r := range col.snapshot() {
		if r.OutSeq != 0 {
			live = append(live, r)
		} else if r.ExecID != 0 && r.ExecID < 1<<40 {
			t.Fatalf("a report with an event's ExecID %d has no OutSeq: %+v", r.ExecID, r)
		}
	}
	if len(live) == 0 {
		t.Fatal("no report from an engine event")
	}
	// Without the snapshot Close wrote, recovery replays the whole journal.
	if err := os.RemoveAll(filepath.Join(dir, "snapshots")); err != nil {
		t.Fatal(err)
	}
	var got []ordermanager.Report
	y, _, err := Open(Options{Ref: cfg.Registry, Dir: dir, Log: zerolog.Nop(), Recovered: func(reps []ordermanager.Report) {
		got = append(got, reps...)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if len(got) != len(live) {
		t.Fatalf("recovery regenerated %d reports, live there were %d from events", len(got), len(live))
	}
	for i := range got {
		g, l := &got[i], &live[i]
		if g.ExecID != l.ExecID || g.OutSeq != l.OutSeq || g.Session != l.Session || g.ExecType != l.ExecType || g.ClOrdID != l.ClOrdID {
			t.Fatalf("report %d: recovered %+v, live %+v", i, *g, *l)
		}
		if g.ExecID/2 != g.OutSeq {
			t.Fatalf("report %d: ExecID %d is not derived from OutSeq %d", i, g.ExecID, g.OutSeq)
		}
	}
}

// TestSyncReportsBeforeSnapshot: before a snapshot is written, every report
// of the commands it covers has been handed to Reports (the report
// goroutine lags on purpose here) and SyncReports is called, so that what
// the next recovery will not regenerate is durable where it went.
func TestSyncReportsBeforeSnapshot(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	var (
		mu        sync.Mutex
		outSeqs   []uint64 // every event report's OutSeq, delivered
		maxOut    uint64   // the highest delivered
		atSync    []uint64 // maxOut at each SyncReports call
		clock     = int64(1_700_000_000_000_000_000)
		clockStep = func() int64 { return atomic.AddInt64(&clock, 1000) }
	)
	x, _, err := Open(Options{
		Ref: cfg.Registry, Dir: dir, Log: zerolog.Nop(), SnapshotEvery: 8, Clock: clockStep,
		Reports: func(reps []ordermanager.Report) {
			time.Sleep(300 * time.Microsecond)
			mu.Lock()
			for _, r := range reps {
				if r.OutSeq != 0 {
					outSeqs = append(outSeqs, r.OutSeq)
					maxOut = max(maxOut, r.OutSeq)
				}
			}
			mu.Unlock()
		},
		SyncReports: func() {
			mu.Lock()
			atSync = append(atSync, maxOut)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// In chunks, each left to come back from the engine before the next,
	// so that periodic snapshots fall between them while the lagging
	// report goroutine still has their reports queued.
	reqs := randomRequests(cfg, 11, 600)
	for c := 0; c < len(reqs); c += 100 {
		for i := c; i < c+100; i++ {
			for !x.Submit(&reqs[i]) {
				time.Sleep(time.Millisecond)
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for st := x.Stats(); st.Processed < st.Commands || st.Requests < uint64(c+100); st = x.Stats() {
			if time.Now().After(deadline) {
				t.Fatalf("chunk at %d not processed: %+v", c, st)
			}
			time.Sleep(time.Millisecond)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*.bin"))
	sort.Strings(files) // named by seq, zero-padded
	if len(files) < 2 || len(atSync) < len(files) {
		t.Fatalf("%d snapshots, %d SyncReports calls: want at least two snapshots and a call for each", len(files), len(atSync))
	}
	// Calls and snapshots both go up with time; the k-th last call comes
	// no earlier than the k-th last snapshot's own call, and must have
	// seen every report of the events that snapshot covers.
	for k := 1; k <= len(files); k++ {
		snap, err := sequencer.ReadSnapshot(files[len(files)-k])
		if err != nil {
			t.Fatal(err)
		}
		st, err := RestoreState(cfg.Registry, snap.Body)
		if err != nil {
			t.Fatal(err)
		}
		need := uint64(0)
		for _, o := range outSeqs {
			if o <= st.Engine.OutSeq() {
				need = max(need, o)
			}
		}
		if got := atSync[len(atSync)-k]; got < need {
			t.Errorf("snapshot at seq %d (OutSeq %d): SyncReports was called when reports up to OutSeq %d were delivered, want %d", snap.Seq, st.Engine.OutSeq(), got, need)
		}
	}
}

// TestSyncReportsWaits: syncReports calls SyncReports only once the report
// batches up to the one asked for have been delivered (or the report
// goroutine has ended).
func TestSyncReportsWaits(t *testing.T) {
	x := &Exchange{repDone: make(chan struct{})}
	var at atomic.Int64
	x.opts.SyncReports = func() { at.Store(int64(x.repOut.Load())) }
	go func() {
		for range 3 {
			time.Sleep(2 * time.Millisecond) // a slow gateway
			x.delivered()
		}
	}()
	x.syncReports(3)
	if got := at.Load(); got < 3 {
		t.Fatalf("SyncReports called with %d batches delivered, want 3", got)
	}
	// A report goroutine that has ended has delivered everything.
	close(x.repDone)
	x.syncReports(10)
	if got := at.Load(); got != 3 {
		t.Fatalf("after the report goroutine ended: %d", got)
	}
}
