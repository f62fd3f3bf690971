package bench

import (
	"os"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// recoveryFixture is a data folder holding a snapshot of n resting orders
// and the journal of the commands that built them.
type recoveryFixture struct {
	dir, snap string
	hash      uint64 // the engine's state hash
	omHash    uint64 // the order manager's state hash
}

// buildRecoveryFixture builds n resting orders as RunMemory does, then
// writes the snapshot and the journal into dir.
func buildRecoveryFixture(tb testing.TB, dir string, n int) *recoveryFixture {
	cfg, err := BenchConfig(benchAccounts)
	if err != nil {
		tb.Fatal(err)
	}
	reqs := restingRequests(n)
	st := pipeline.NewState(cfg.Registry)
	items := make([]sequencer.Item, 0, n)
	var cmds []ordermanager.Pending
	var reps []ordermanager.Report
	var evs []matching.Event
	for i := range reqs {
		acc, _ := cfg.Account(reqs[i].Account)
		firm, _ := cfg.Firm(acc.Firm)
		reqs[i].Firm, reqs[i].Session = acc.Firm, firm.Sessions[0]
		cmds, reps = st.Manager.Submit(&reqs[i], cmds[:0], reps[:0])
		if len(cmds) != 1 {
			tb.Fatalf("order %d rejected: %+v", i, reps)
		}
		p := &cmds[0]
		p.Cmd.Seq = uint64(i + 1)
		evs = st.Engine.Apply(&p.Cmd, evs[:0])
		for j := range evs {
			st.Hasher.Add(&evs[j])
			reps = st.Manager.OnEvent(&evs[j], reps)
		}
		st.Seq = p.Cmd.Seq
		it := sequencer.Item{Cmd: p.Cmd, MetaLen: p.MetaLen}
		copy(it.Meta[:], p.MetaBytes())
		items = append(items, it)
	}
	path, err := sequencer.WriteSnapshot(dir, st.Seq, st.AppendSnapshot(nil))
	if err != nil {
		tb.Fatal(err)
	}
	if err := writeJournal(dir, items); err != nil {
		tb.Fatal(err)
	}
	return &recoveryFixture{dir: dir, snap: path, hash: st.Engine.StateHash(), omHash: st.Manager.StateHash()}
}

// BenchmarkRecovery measures recovery of a venue with resting orders (1 M;
// RECOVERY_BENCH_ORDERS for another count): from its snapshot (read the
// file, check it, restore engine and order manager) and from its journal
// alone. The fixture is built once per size, which takes longer than one
// iteration.
func BenchmarkRecovery(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("RECOVERY_BENCH_ORDERS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("RECOVERY_BENCH_ORDERS: %q is not a count", s)
		}
		n = v
	}
	cfg, err := BenchConfig(benchAccounts)
	if err != nil {
		b.Fatal(err)
	}
	fx := buildRecoveryFixture(b, b.TempDir(), n)
	b.Run("snapshot", func(b *testing.B) {
		b.ReportAllocs()
		cpu := coldRuns(b, func() {
			snap, err := sequencer.OpenSnapshot(fx.snap)
			if err != nil {
				b.Fatal(err)
			}
			st, err := pipeline.RestoreState(cfg.Registry, snap.Body)
			snap.Close()
			if err != nil {
				b.Fatal(err)
			}
			if st.Seq != uint64(n) {
				b.Fatalf("restored seq %d, want %d", st.Seq, n)
			}
		})
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "orders/s")
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	})
	b.Run("read", func(b *testing.B) {
		cpu := coldRuns(b, func() {
			snap, err := sequencer.OpenSnapshot(fx.snap)
			if err != nil {
				b.Fatal(err)
			}
			snap.Close()
		})
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	})
	b.Run("replay", func(b *testing.B) {
		b.ReportAllocs()
		cpu := coldRuns(b, func() {
			if _, _, err := pipeline.Rebuild(cfg.Registry, pipeline.RebuildOptions{Dir: fx.dir, IgnoreSnapshots: true}); err != nil {
				b.Fatal(err)
			}
		})
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	})
}

// coldRuns runs fn b.N times, each from a cold heap (returned to the OS, as
// recovery in a new process starts: restoring faults its memory in again),
// and returns the process CPU time the runs took.
func coldRuns(b *testing.B, fn func()) time.Duration {
	var cpu time.Duration
	for range b.N {
		b.StopTimer()
		debug.FreeOSMemory()
		b.StartTimer()
		c0 := ProcessCPU()
		fn()
		cpu += ProcessCPU() - c0
	}
	return cpu
}

// TestRecoveryFixtureHashes checks that the snapshot and the journal of the
// benchmark's fixture restore the state they were taken from.
func TestRecoveryFixtureHashes(t *testing.T) {
	cfg, err := BenchConfig(benchAccounts)
	if err != nil {
		t.Fatal(err)
	}
	fx := buildRecoveryFixture(t, t.TempDir(), 20_000)
	snap, err := sequencer.OpenSnapshot(fx.snap)
	if err != nil {
		t.Fatal(err)
	}
	st, err := pipeline.RestoreState(cfg.Registry, snap.Body)
	snap.Close()
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := pipeline.Rebuild(cfg.Registry, pipeline.RebuildOptions{Dir: fx.dir, IgnoreSnapshots: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*pipeline.State{"snapshot": st, "replay": rep} {
		if s.Engine.StateHash() != fx.hash || s.Manager.StateHash() != fx.omHash {
			t.Errorf("%s: state hashes differ from the state the fixture was taken from", name)
		}
	}
}
