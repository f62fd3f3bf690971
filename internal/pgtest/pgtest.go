// Package pgtest gives tests a fresh PostgreSQL database on the server that
// .ci/run installs and starts (EXCHANGE_TEST_PG_DSN names it), so one test
// suite runs against SQLite and PostgreSQL. Outside CI, with no server
// reachable, the PostgreSQL variants skip and say why; under CI=true they
// fail instead.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// dsnEnv names the environment variable with a PostgreSQL DSN whose role
// may create and drop databases.
const dsnEnv = "EXCHANGE_TEST_PG_DSN"

var seq atomic.Int64

// DSN returns the DSN of a fresh, empty database on the test server,
// dropped when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(dsnEnv)
	skipOrFail := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL tests under CI=true: %s", why)
		}
		t.Skipf("skipping the PostgreSQL variant: %s (set %s to a reachable server; .ci/run does)", why, dsnEnv)
	}
	if base == "" {
		skipOrFail(dsnEnv + " is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		skipOrFail(fmt.Sprintf("no server reachable at %s: %v", redact(base), err))
	}
	defer conn.Close(context.Background())
	name := fmt.Sprintf("exchange_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, seq.Add(1))
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

func redact(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
