package reporter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/bench"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/ordermanager"
	"github.com/exchange-sim/exchange/pipeline"
)

// writeJournal runs n commands of the exchange-core mix (after its warmup)
// through a real pipeline into data folder dir, with accounts funded
// accounts, and returns the venue's configuration. Sequencer stamps are the
// wall clock, so a journal written twice differs.
func writeJournal(dir string, n, accounts int, seed int64) (*config.Config, error) {
	cfg, err := bench.BenchConfig(accounts)
	if err != nil {
		return nil, err
	}
	warm, cmds := bench.GenerateMix(seed, n, accounts)
	reqs, err := bench.MixRequests(cfg, append(warm, cmds...))
	if err != nil {
		return nil, err
	}
	var answered atomic.Int64
	x, _, err := pipeline.Open(pipeline.Options{Config: cfg, Dir: dir, Durability: "none", Log: zerolog.Nop(),
		Reports: func(reps []ordermanager.Report) { answered.Add(int64(len(reps))) }, SnapshotEvery: 1 << 62})
	if err != nil {
		return nil, err
	}
	for i := range reqs {
		for !x.Submit(&reqs[i]) {
			runtime.Gosched()
		}
		// Keep the window bounded like a gateway would.
		for st := x.Stats(); st.Commands-st.Processed > 8192; st = x.Stats() {
			runtime.Gosched()
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for st := x.Stats(); st.Requests < uint64(len(reqs)) || st.Processed < st.Commands; st = x.Stats() {
		if time.Now().After(deadline) {
			x.Close()
			return nil, errors.New("pipeline did not drain")
		}
		time.Sleep(time.Millisecond)
	}
	st := x.Stats()
	if st.Commands < uint64(len(reqs))*9/10 {
		x.Close()
		return nil, fmt.Errorf("only %d of %d requests became commands", st.Commands, len(reqs))
	}
	return cfg, x.Close()
}

// journalFixture is a journal written once per test binary, by size.
var journals = map[int]struct {
	dir string
	cfg *config.Config
}{}

func fixtureJournal(t testing.TB, n int) (string, *config.Config) {
	t.Helper()
	if j, ok := journals[n]; ok {
		return j.dir, j.cfg
	}
	dir, err := os.MkdirTemp("", "reporter-journal-")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := writeJournal(dir, n, 50, 7)
	if err != nil {
		t.Fatalf("writing a journal of %d commands: %v", n, err)
	}
	journals[n] = struct {
		dir string
		cfg *config.Config
	}{dir, cfg}
	return dir, cfg
}

func catchUp(t testing.TB, cfg Config) *Reporter {
	t.Helper()
	r, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CatchUp(context.Background()); err != nil {
		r.Close()
		t.Fatal(err)
	}
	return r
}

func count(t testing.TB, db *DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.sql.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s", table)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func newFollowerForBench(cfg *config.Config, dir string) (*pipeline.Follower, error) {
	return pipeline.NewFollower(cfg, dir, 0, zerolog.Nop())
}
