package reporter

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgDSNEnv names the environment variable with a PostgreSQL DSN whose role
// may create and drop databases (.ci/run sets it).
const pgDSNEnv = "EXCHANGE_TEST_PG_DSN"

var pgSeq atomic.Int64

// pgTestDSN returns the DSN of a fresh, empty database on the test server,
// dropped when the test ends. Outside CI, with no server reachable, it skips
// the test and says why; under CI=true a missing server fails it.
func pgTestDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(pgDSNEnv)
	skipOrFail := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL tests under CI=true: %s", why)
		}
		t.Skipf("skipping the PostgreSQL variant: %s (set %s to a reachable server; .ci/run does)", why, pgDSNEnv)
	}
	if base == "" {
		skipOrFail(pgDSNEnv + " is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		skipOrFail(fmt.Sprintf("no server reachable at %s: %v", base, err))
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("reporter_test_%d_%d", os.Getpid(), pgSeq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Password, cfg.Host, cfg.Port, name)
}
