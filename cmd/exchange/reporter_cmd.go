package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/reporter"
)

// cmdReporter runs the reporter as its own process: it follows the journal
// of --data into the history database until interrupted (or, with --once,
// until it has caught up).
func cmdReporter(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reporter", stderr)
	dataDir := fs.String("data", "", "data folder of the venue whose journal to follow (required)")
	configPath := fs.String("config", "", "configuration the journal was written with (default: the embedded default)")
	dsn := fs.String("dsn", "", "PostgreSQL DSN (default: the configuration's reporter.dsn; empty: SQLite at DATA/reports.db)")
	dbPath := fs.String("db", "", "SQLite file (default: DATA/reports.db)")
	once := fs.Bool("once", false, "catch up with the journal as it is now, then exit")
	batch := fs.Int("batch", 0, "most journal commands per transaction (default 50000)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	parentStdin := fs.Bool("parent-stdin", false, "stop when standard input ends (serve runs its reporter child this way, so it ends with serve)")
	nice := fs.Int("nice", 0, "lower this process's CPU priority to this nice value (1..19, Linux), so that beside a venue on the same machine it takes only CPU time the venue leaves")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dataDir == "" {
		fmt.Fprintln(stderr, "exchange reporter: --data DIR is required")
		return errUsage
	}
	if *nice < 0 || *nice > 19 {
		return fmt.Errorf("--nice: %d is not 0..19", *nice)
	}
	if *nice > 0 {
		if err := reporter.LowerPriority(*nice); err != nil {
			return fmt.Errorf("--nice %d: %w", *nice, err)
		}
	}
	lvl, err := zerolog.ParseLevel(*logLevel)
	if err != nil {
		return fmt.Errorf("--log-level: %q is not a level", *logLevel)
	}
	log := newLogger(stderr).Level(lvl).With().Str("process", "reporter").Logger()
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	o := reporter.OpenOptions{DSN: cfg.ReporterDSN, Path: *dbPath}
	if *dsn != "" {
		o.DSN = *dsn
	}
	if os.Getenv("GOGC") == "" {
		// Alone in its process the reporter trades memory for less garbage
		// collection (its rows box many int64s): about a tenth less CPU.
		debug.SetGCPercent(400)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if *parentStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			cancel()
		}()
	}
	start := time.Now()
	rep, err := reporter.Open(ctx, reporter.Config{Venue: cfg.Registry, DataDir: *dataDir, DB: o, BatchCommands: *batch, Log: log})
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while opening
		}
		return err
	}
	defer rep.Close()
	from := rep.Stats().AppliedSeq
	log.Info().Str("database", rep.DB().Where()).Uint64("from_seq", from).Msg("reporter following the journal")
	if *once {
		err = rep.CatchUp(ctx)
	} else {
		err = rep.Run(ctx)
	}
	if err != nil && ctx.Err() != nil {
		// Stopped by a signal or by the end of serve (--parent-stdin): a
		// transaction cut short is rolled back and done again next time.
		err = nil
	}
	st := rep.Stats()
	el := time.Since(start)
	fmt.Fprintf(stdout, "reporter: %s: seq %d..%d, %d commands in %d transactions, %s (%.0f commands/s)\n",
		rep.DB().Where(), from, st.AppliedSeq, st.Records, st.Commits, el.Round(time.Millisecond), float64(st.Records)/el.Seconds())
	return err
}
