package reporter

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/pgtest"
)

// benchJournalCommands is the size of the catch-up benchmark's journal
// (REPORTER_BENCH_COMMANDS overrides it).
func benchJournalCommands() int {
	if v, err := strconv.Atoi(os.Getenv("REPORTER_BENCH_COMMANDS")); err == nil && v > 0 {
		return v
	}
	return 200_000
}

// BenchmarkCatchUp measures catching up on a journal of the exchange-core
// mix: journal records (commands) per second from replay to committed rows.
func BenchmarkCatchUpSQLite(b *testing.B) {
	benchCatchUp(b, func(b *testing.B) OpenOptions {
		return OpenOptions{Path: filepath.Join(b.TempDir(), "r.db")}
	})
}

func BenchmarkCatchUpPostgres(b *testing.B) {
	benchCatchUp(b, func(b *testing.B) OpenOptions {
		return OpenOptions{DSN: pgtest.DSN(b)}
	})
}

// BenchmarkReplayOnly is the replay alone (no database), for comparison.
func BenchmarkReplayOnly(b *testing.B) {
	n := benchJournalCommands()
	dir, vcfg := fixtureJournal(b, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		r := &Reporter{}
		_ = r
		fol, err := newFollowerForBench(vcfg, dir)
		if err != nil {
			b.Fatal(err)
		}
		recs := 0
		for {
			_, _, _, err := fol.Next()
			if err != nil {
				break
			}
			recs++
		}
		fol.Close()
		b.ReportMetric(float64(recs)/time.Since(start).Seconds(), "records/s")
	}
}

func benchCatchUp(b *testing.B, opts func(*testing.B) OpenOptions) {
	n := benchJournalCommands()
	dir, vcfg := fixtureJournal(b, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		o := opts(b)
		b.StartTimer()
		start, cpu0 := time.Now(), processCPU()
		r, err := Open(context.Background(), Config{Venue: vcfg.Registry, DataDir: dir, DB: o, BatchDelay: benchBatchDelay(), Log: zerolog.Nop()})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.CatchUp(context.Background()); err != nil {
			b.Fatal(err)
		}
		el, cpu := time.Since(start), processCPU()-cpu0
		st := r.Stats()
		r.Close()
		b.ReportMetric(float64(st.Records)/el.Seconds(), "records/s")
		b.ReportMetric(float64(st.Commits), "commits")
		// The machine is shared: records per second of this process's CPU
		// time says what the code costs when the wall clock cannot.
		b.ReportMetric(float64(st.Records)/cpu.Seconds(), "records/cpu-s")
	}
}

// processCPU is the CPU time (user + system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBatchDelay is REPORTER_BENCH_BATCH_DELAY, or the default.
func benchBatchDelay() time.Duration {
	d, _ := time.ParseDuration(os.Getenv("REPORTER_BENCH_BATCH_DELAY"))
	return d
}
