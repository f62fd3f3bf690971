package reporter

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/bench"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pgtest"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/matching"
)

// TestMain doubles as the reporter child process of the kill -9 test.
func TestMain(m *testing.M) {
	switch os.Getenv("REPORTER_CHILD") {
	case "1":
		os.Exit(runChild())
	case "follow":
		os.Exit(runFollowChild())
	case "nice":
		os.Exit(runNiceChild())
	}
	code := m.Run()
	for _, j := range journals {
		os.RemoveAll(j.dir)
	}
	os.Exit(code)
}

// runChild catches up REPORTER_DATA into REPORTER_DB / REPORTER_DSN in
// small batches, as a separate process the test kills.
func runChild() int {
	cfg, err := bench.BenchConfig(50)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	r, err := Open(context.Background(), Config{Venue: cfg.Registry, DataDir: os.Getenv("REPORTER_DATA"),
		DB: OpenOptions{Path: os.Getenv("REPORTER_DB"), DSN: os.Getenv("REPORTER_DSN")}, BatchCommands: 1500, Log: zerolog.Nop()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer r.Close()
	if err := r.CatchUp(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// backend is one database the suite runs against.
type backend struct {
	name string
	open func(t testing.TB) OpenOptions
}

var backends = []backend{
	{"sqlite", func(t testing.TB) OpenOptions { return OpenOptions{Path: filepath.Join(t.TempDir(), "reports.db")} }},
	{"postgres", func(t testing.TB) OpenOptions { return OpenOptions{DSN: pgtest.DSN(t)} }},
}

func forEachBackend(t *testing.T, fn func(t *testing.T, o func(testing.TB) OpenOptions)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open) })
	}
}

// replayCounts replays dir independently of the reporter and counts trades
// and execution reports.
func replayCounts(t testing.TB, dir string, cfg *config.Config) (trades, execs int64, lastSeq uint64) {
	f, err := pipeline.NewFollower(cfg.Registry, dir, 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for {
		cmd, evs, reps, err := f.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		lastSeq = cmd.Seq
		for i := range evs {
			if evs[i].Kind == matching.EvTrade {
				trades++
			}
		}
		for i := range reps {
			if reps[i].Kind == ordermanager.RepExec {
				execs++
			}
		}
	}
}

func TestCatchUp(t *testing.T) {
	dir, vcfg := fixtureJournal(t, 20_000)
	wantTrades, wantExecs, lastSeq := replayCounts(t, dir, vcfg)
	if wantTrades == 0 {
		t.Fatal("the fixture journal has no trades")
	}
	forEachBackend(t, func(t *testing.T, o func(testing.TB) OpenOptions) {
		opts := o(t)
		r := catchUp(t, Config{Venue: vcfg.Registry, DataDir: dir, DB: opts, BatchCommands: 4000, Log: zerolog.Nop()})
		defer r.Close()
		if st := r.Stats(); st.AppliedSeq != lastSeq || st.Commits < 5 {
			t.Fatalf("stats %+v, want applied seq %d over at least 5 commits", st, lastSeq)
		}
		if n := count(t, r.db, "trades"); n != wantTrades {
			t.Errorf("trades: %d rows, replay has %d", n, wantTrades)
		}
		if n := count(t, r.db, "executions"); n != wantExecs {
			t.Errorf("executions: %d rows, replay has %d", n, wantExecs)
		}
		checkIndexes(t, r.db)
		// Every order's final row agrees with its last execution report.
		var bad int64
		if _, err := r.db.sql.Exec(`CREATE INDEX IF NOT EXISTS test_executions_by_order ON executions (order_id)`); err != nil {
			t.Fatal(err)
		}
		if err := r.db.sql.QueryRow(`SELECT COUNT(*) FROM orders o WHERE o.status <> (SELECT e.ord_status FROM executions e WHERE e.order_id = o.order_id ORDER BY e.seq DESC, e.exec_id DESC LIMIT 1)`).Scan(&bad); err != nil {
			t.Fatal(err)
		}
		if bad != 0 {
			t.Errorf("%d orders whose status differs from their last execution report", bad)
		}
		// Daily bars add up to the trades.
		var vol, barVol, nt int64
		r.db.sql.QueryRow(`SELECT COALESCE(SUM(qty), 0) FROM trades`).Scan(&vol)
		r.db.sql.QueryRow(`SELECT COALESCE(SUM(volume), 0), COALESCE(SUM(trades), 0) FROM daily_bars`).Scan(&barVol, &nt)
		if vol != barVol || nt != wantTrades {
			t.Errorf("daily bars: volume %d over %d trades, the trades table has %d over %d", barVol, nt, vol, wantTrades)
		}
		// A second catch-up has nothing to add and adds nothing.
		r.Close()
		r2 := catchUp(t, Config{Venue: vcfg.Registry, DataDir: dir, DB: opts, Log: zerolog.Nop()})
		defer r2.Close()
		if st := r2.Stats(); st.Records != 0 {
			t.Errorf("second catch-up ingested %d commands", st.Records)
		}
	})
}

// TestFollowsGrowingJournal runs the reporter beside a live pipeline: it
// must follow the journal as it grows, segment rolls included.
func TestFollowsGrowingJournal(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o func(testing.TB) OpenOptions) {
		dir := t.TempDir()
		cfg, err := bench.BenchConfig(20)
		if err != nil {
			t.Fatal(err)
		}
		warm, cmds := bench.GenerateMix(3, 6000, 20)
		reqs, err := bench.MixRequests(cfg.Registry, append(warm, cmds...))
		if err != nil {
			t.Fatal(err)
		}
		x, _, err := pipeline.Open(pipeline.Options{Ref: cfg.Registry, Dir: dir, Durability: "none", Log: zerolog.Nop(), Reports: func([]ordermanager.Report) {}, SnapshotEvery: 1 << 62,
			SegmentBytes: 64 << 10}) // several segments
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		submit := func(rs []ordermanager.Request) {
			for i := range rs {
				for !x.Submit(&rs[i]) {
					time.Sleep(time.Millisecond)
				}
			}
		}
		submit(reqs[:1000])
		ctx, cancel := context.WithCancel(context.Background())
		r, err := Open(ctx, Config{Venue: cfg.Registry, DataDir: dir, DB: o(t), Poll: 5 * time.Millisecond, BatchDelay: 10 * time.Millisecond, Log: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		for lo := 1000; lo < len(reqs); lo += 500 {
			submit(reqs[lo:min(lo+500, len(reqs))])
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			st := x.Stats()
			if st.Requests == uint64(len(reqs)) && st.Processed == st.Commands && r.Stats().AppliedSeq == st.Sequencer.DurableSeq && st.Commands > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("reporter at seq %d, journal durable at %d", r.Stats().AppliedSeq, x.Stats().Sequencer.DurableSeq)
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		segs, _ := filepath.Glob(filepath.Join(dir, "journal", "*.seg"))
		if len(segs) < 2 {
			t.Errorf("the journal has %d segments; the test wants it to roll", len(segs))
		}
		wantTrades, wantExecs, _ := replayCounts(t, dir, cfg)
		if n := count(t, r.db, "trades"); n != wantTrades {
			t.Errorf("trades: %d rows, replay has %d", n, wantTrades)
		}
		if n := count(t, r.db, "executions"); n != wantExecs {
			t.Errorf("executions: %d rows, replay has %d", n, wantExecs)
		}
		r.Close()
	})
}

// dumpTables is a digest of every history table in a fixed order, for
// comparing two databases.
func dumpTables(t testing.TB, db *DB) map[string]string {
	t.Helper()
	qs := map[string]string{
		"executions":          `SELECT * FROM executions ORDER BY seq, exec_id`,
		"trades":              `SELECT * FROM trades ORDER BY seq, out_seq`,
		"orders":              `SELECT * FROM orders ORDER BY order_id`,
		"daily_bars":          `SELECT * FROM daily_bars ORDER BY symbol_id, day`,
		"statements":          `SELECT * FROM statements ORDER BY day, account_id`,
		"statement_positions": `SELECT * FROM statement_positions ORDER BY day, account_id, symbol_id`,
		"reporter_state":      `SELECT * FROM reporter_state`,
		"operator_actions":    `SELECT * FROM operator_actions ORDER BY seq`,
		"cost_basis":          `SELECT * FROM cost_basis ORDER BY account_id, symbol_id`,
	}
	out := map[string]string{}
	for name, q := range qs {
		rs, err := db.sql.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rs.Columns()
		h := sha256.New()
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rs.Next() {
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				s := string(v)
				if s == "true" || s == "t" {
					s = "1"
				} else if s == "false" || s == "f" {
					s = "0"
				}
				h.Write([]byte(s))
				h.Write([]byte{0})
			}
			n++
		}
		rs.Close()
		out[name] = strconv.Itoa(n) + " rows " + hex.EncodeToString(h.Sum(nil))[:16]
	}
	return out
}

// TestKill9 kills the reporter, a real child process, with SIGKILL at
// random points of its ingestion, many times, then lets it finish: the
// tables must be identical to an uninterrupted run's.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 loop: not in -short")
	}
	dir, vcfg := fixtureJournal(t, 40_000)
	forEachBackend(t, func(t *testing.T, o func(testing.TB) OpenOptions) {
		ref := catchUp(t, Config{Venue: vcfg.Registry, DataDir: dir, DB: o(t), BatchCommands: 1500, Log: zerolog.Nop()})
		want := dumpTables(t, ref.db)
		last := ref.Stats().AppliedSeq
		ref.Close()

		opts := o(t)
		seed := time.Now().UnixNano()
		t.Logf("kill points from seed %d", seed)
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		mid := 0 // kills that left a position strictly inside the journal
		for i := 0; i < 15; i++ {
			// A target past the current position: a kill during the
			// child's start-up replay proves nothing new.
			pos := position(t, opts)
			if pos+1 >= last {
				break
			}
			cmd := exec.Command(os.Args[0], "-test.run", "^$")
			cmd.Env = append(os.Environ(), "REPORTER_CHILD=1", "REPORTER_DATA="+dir, "REPORTER_DB="+opts.Path, "REPORTER_DSN="+opts.DSN)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Kill once the committed position passes a random point (a
			// deadline-poll on the database), plus a random few
			// milliseconds so the kill lands inside a transaction too.
			target := pos + 1 + uint64(rng.Int64N(int64(min(last-pos-1, last/12))))
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			deadline := time.Now().Add(60 * time.Second)
			finished := false
		poll:
			for {
				select {
				case err := <-exited:
					if err != nil {
						t.Fatalf("child %d: %v: %s", i, err, stderr.String())
					}
					finished = true
					break poll
				default:
				}
				if p := position(t, opts); p >= target {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("child %d made no progress to seq %d: %s", i, target, stderr.String())
				}
				time.Sleep(2 * time.Millisecond)
			}
			if !finished {
				time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
				cmd.Process.Kill() // SIGKILL
				<-exited
			}
			p := position(t, opts)
			if p > 0 && p < last {
				mid++
			}
			t.Logf("kill %d: target seq %d, position after kill %d of %d", i, target, p, last)
		}
		if mid < 4 {
			t.Errorf("only %d kills landed mid-ingestion; the test proves little", mid)
		}
		r := catchUp(t, Config{Venue: vcfg.Registry, DataDir: dir, DB: opts, Log: zerolog.Nop()})
		got := dumpTables(t, r.db)
		checkIndexes(t, r.db)
		r.Close()
		for name, w := range want {
			if got[name] != w {
				t.Errorf("%s: after kills %s, uninterrupted %s", name, got[name], w)
			}
		}
	})
}

// position reads the committed position with a fresh connection (the
// child holds the writer).
func position(t testing.TB, o OpenOptions) uint64 {
	o.ReadOnly = true
	db, err := OpenDB(context.Background(), o)
	if err != nil {
		return 0 // not created yet
	}
	defer db.Close()
	p, err := db.Position(context.Background())
	if err != nil {
		return 0
	}
	return p.Seq
}

func TestBadDSN(t *testing.T) {
	_, err := OpenDB(context.Background(), OpenOptions{DSN: "postgres://nobody:pw@127.0.0.1:1/nowhere?sslmode=disable", ConnectTimeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "cannot connect") || !strings.Contains(err.Error(), "127.0.0.1:1/nowhere") || strings.Contains(err.Error(), "pw@") {
		t.Fatalf("err = %v, want a connect error naming the server and database, without the password", err)
	}
	_, err = OpenDB(context.Background(), OpenOptions{DSN: "postgres://a b c:::"})
	if err == nil || !strings.Contains(err.Error(), "DSN") {
		t.Fatalf("err = %v, want one naming the DSN", err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o func(testing.TB) OpenOptions) {
		opts := o(t)
		db, err := OpenDB(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.sql.Exec(db.d.rebind(`INSERT INTO schema_migrations (version, applied_ns) VALUES (?, 0)`), SchemaVersion()+1); err != nil {
			t.Fatal(err)
		}
		db.Close()
		_, err = OpenDB(context.Background(), opts)
		var se *SchemaError
		if !errors.As(err, &se) || se.Found != SchemaVersion()+1 || !strings.Contains(err.Error(), "newer than this build") {
			t.Fatalf("err = %v, want a SchemaError for version %d", err, SchemaVersion()+1)
		}
	})
}

func TestOtherVenueRefused(t *testing.T) {
	dirA, vcfg := fixtureJournal(t, 20_000)
	dirB := t.TempDir()
	if _, err := writeJournal(dirB, 25_000, 50, 99); err != nil {
		t.Fatal(err)
	}
	dirShort := t.TempDir()
	if _, err := writeJournal(dirShort, 2_000, 50, 7); err != nil {
		t.Fatal(err)
	}
	forEachBackend(t, func(t *testing.T, o func(testing.TB) OpenOptions) {
		opts := o(t)
		catchUp(t, Config{Venue: vcfg.Registry, DataDir: dirA, DB: opts, Log: zerolog.Nop()}).Close()
		for _, dir := range []string{dirB, dirShort} {
			_, err := Open(context.Background(), Config{Venue: vcfg.Registry, DataDir: dir, DB: opts, Log: zerolog.Nop()})
			var ve *VenueError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), "another venue") || !strings.Contains(err.Error(), dir) {
				t.Fatalf("journal %s: err = %v, want a VenueError naming it", dir, err)
			}
		}
		// Another configuration (other symbols) is refused as well.
		other := *vcfg.Registry // the same venue with other symbols
		other.Symbols = append(other.Symbols[:0:0], other.Symbols...)
		other.Symbols[0].Name = "OTHER"
		_, err := Open(context.Background(), Config{Venue: &other, DataDir: dirA, DB: opts, Log: zerolog.Nop()})
		if err == nil || !strings.Contains(err.Error(), "symbol 1 is BENCH") {
			t.Fatalf("other symbols: err = %v", err)
		}
	})
}
