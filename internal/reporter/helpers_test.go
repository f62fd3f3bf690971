package reporter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/bench"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/pipeline"
)

func writeJournal(dir string, n, accounts int, seed int64) (*config.Config, error) {
	return bench.WriteJournal(dir, n, accounts, seed)
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
	// REPORTER_BENCH_JOURNAL keeps a (large) benchmark journal between
	// runs, of REPORTER_BENCH_ACCOUNTS accounts (default 50).
	if keep := os.Getenv("REPORTER_BENCH_JOURNAL"); keep != "" {
		accounts, err := strconv.Atoi(os.Getenv("REPORTER_BENCH_ACCOUNTS"))
		if err != nil || accounts <= 0 {
			accounts = 50
		}
		keep = filepath.Join(keep, strconv.Itoa(n)+"x"+strconv.Itoa(accounts))
		if _, err := os.Stat(filepath.Join(keep, "done")); err == nil {
			cfg, err := bench.BenchConfig(accounts)
			if err != nil {
				t.Fatal(err)
			}
			return keep, cfg
		}
		if err := os.MkdirAll(keep, 0o755); err != nil {
			t.Fatal(err)
		}
		cfg, err := writeJournal(keep, n, accounts, 7)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(keep, "done"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return keep, cfg
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
	return pipeline.NewFollower(cfg.Registry, dir, 0, zerolog.Nop())
}

// checkIndexes fails unless a SQLite database has its secondary indexes
// (dropped for a bulk catch-up, built when it ends or at the next start).
func checkIndexes(t testing.TB, db *DB) {
	t.Helper()
	if db.d != dialectSQLite {
		return
	}
	for _, ix := range secondaryIndexes {
		var n int
		if err := db.sql.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, ix.name).Scan(&n); err != nil || n != 1 {
			t.Errorf("index %s: %d found (%v)", ix.name, n, err)
		}
	}
}
