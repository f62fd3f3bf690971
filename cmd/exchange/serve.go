package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/term"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/sequencer"
)

// commonFlags are the flags serve and demo share.
type commonFlags struct {
	configPath string
	dataDir    string
	fixAddr    string
	httpAddr   string
	adminAddr  string
	debugAddr  string
	durability string
	logLevel   string
}

func (c *commonFlags) register(fs interface {
	StringVar(p *string, name, value, usage string)
}, dataDefault string) {
	fs.StringVar(&c.configPath, "config", "", "configuration file (default: the embedded default, which \"exchange config\" prints)")
	fs.StringVar(&c.dataDir, "data", dataDefault, "data folder for the journal, snapshots and FIX session stores (default: the configuration's data_dir)")
	fs.StringVar(&c.fixAddr, "fix", "", "FIX listen address (default: the configuration's listen.fix)")
	fs.StringVar(&c.httpAddr, "http", "", "HTTP listen address (default: the configuration's listen.http)")
	fs.StringVar(&c.adminAddr, "admin", "", "admin API listen address (default: the configuration's listen.admin)")
	fs.StringVar(&c.debugAddr, "debug", "", "listen address for /debug/pprof/ (default: the configuration's listen.debug; empty: off)")
	fs.StringVar(&c.durability, "durability", "", "journal durability always|batch|none (default: the configuration's)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
}

// load returns the configuration with the flags' overrides applied.
func (c *commonFlags) load() (*config.Config, zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(c.logLevel)
	if err != nil {
		return nil, zerolog.Logger{}, fmt.Errorf("--log-level: %q is not a level (debug, info, warn, error)", c.logLevel)
	}
	log := newLogger(os.Stderr).Level(lvl)
	cfg, err := loadConfig(c.configPath)
	if err != nil {
		return nil, log, err
	}
	if c.dataDir != "" {
		cfg.DataDir = c.dataDir
	}
	if c.fixAddr != "" {
		cfg.ListenFIX = c.fixAddr
	}
	if c.httpAddr != "" {
		cfg.ListenHTTP = c.httpAddr
	}
	if c.adminAddr != "" {
		cfg.ListenAdmin = c.adminAddr
	}
	if c.debugAddr != "" {
		cfg.ListenDebug = c.debugAddr
	}
	if c.durability != "" {
		if cfg.Durability, err = sequencer.ParseDurability(c.durability); err != nil {
			return nil, log, fmt.Errorf("--durability: %q is not one of always, batch, none", c.durability)
		}
	}
	return cfg, log, nil
}

func cmdServe(args []string, stdout, stderr io.Writer, h runHooks) error {
	fs := newFlagSet("serve", stderr)
	var cf commonFlags
	cf.register(fs, "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, log, err := cf.load()
	if err != nil {
		return err
	}
	// Signals are caught before anything listens: a SIGTERM that arrives
	// while start-up finishes still gets a clean shutdown.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	v, err := startVenue(cfg, venueOptions{admin: true, reporter: cfg.ReporterEnabled, configPath: cf.configPath, gatewayHook: h.gateway}, log)
	if err != nil {
		return err
	}
	logRecovery(log, v)
	printConnectInfo(stdout, cfg, v)

	s := <-sig
	log.Info().Str("signal", s.String()).Msg("shutting down: draining, journaling and snapshotting")
	go func() {
		<-sig
		log.Warn().Msg("second signal: exiting without a clean shutdown (the journal still holds every acknowledged order)")
		os.Exit(1)
	}()
	if err := v.stop(); err != nil {
		return err
	}
	log.Info().Msg("stopped cleanly")
	return nil
}

func logRecovery(log zerolog.Logger, v *venue) {
	r := v.recovery
	ev := log.Info().Str("data", v.x.Dir()).Uint64("last_seq", r.Journal.LastSeq).
		Int("segments", r.Journal.Segments).Uint64("replayed", r.Rebuild.Commands).
		Uint64("checkpoints_verified", r.Rebuild.Verified).Stringer("took", (r.Journal.Elapsed + r.Rebuild.Elapsed).Round(time.Microsecond))
	if r.Rebuild.SnapshotFile != "" {
		ev = ev.Str("snapshot", r.Rebuild.SnapshotFile).Uint64("snapshot_seq", r.Rebuild.SnapshotSeq)
	}
	if r.Journal.Torn.Bytes > 0 {
		log.Warn().Str("file", r.Journal.Torn.File).Int64("offset", r.Journal.Torn.Offset).Int64("bytes_dropped", r.Journal.Torn.Bytes).
			Msg("journal had a torn tail (a write cut short by a crash); truncated")
	}
	for _, e := range r.Rebuild.SkippedSnaps {
		log.Warn().Err(e).Msg("skipped a corrupt snapshot")
	}
	ev.Msg("recovered")
}

func printConnectInfo(w io.Writer, cfg *config.Config, v *venue) {
	fmt.Fprintf(w, "\nexchange is up.\n\n")
	fmt.Fprintf(w, "  FIX 4.4   %s   TargetCompID=%s\n", v.gw.Addr(), cfg.TargetCompID)
	fmt.Fprintf(w, "  HTTP      http://%s/   (web page; /healthz, /metrics, /api/..., /ws)\n", v.httpAddr)
	fmt.Fprintf(w, "  data      %s   (journal durability: %s)\n", v.x.Dir(), cfg.Durability)
	printAdminInfo(w, cfg, v)
	if v.debugAddr != "" {
		fmt.Fprintf(w, "  debug     http://%s/debug/pprof/   (profiles; keep it private)\n", v.debugAddr)
	}
	fmt.Fprintf(w, "  cash      %s, %d decimal places\n\n", cfg.CurrencyCode, cfg.MinorUnits)
	fmt.Fprintf(w, "  sessions  SenderCompID  Username (553)  account\n")
	for _, s := range cfg.Sessions {
		acc, _ := cfg.Account(s.DefaultAccount)
		fmt.Fprintf(w, "            %-13s %-15s %s\n", s.SenderCompID, s.Username, acc.Name)
	}
	if cfg.Source == "embedded default" {
		fmt.Fprintf(w, "\n  demo passwords (554): demo-<username>, e.g. ALPHA / alpha / demo-alpha\n")
	}
	fmt.Fprintf(w, "  symbols  ")
	for _, s := range cfg.Symbols {
		fmt.Fprintf(w, " %s (tick %s, lot %s)", s.Name, s.TickSize, s.LotSize)
	}
	fmt.Fprintf(w, "\n\nCtrl-C stops it cleanly (journal flushed, snapshot written).\n")
}

// newLogger is the binary's human-readable log on w: coloured only when w is
// a terminal, so a log redirected to a file holds no escape codes.
func newLogger(w io.Writer) zerolog.Logger {
	color := false
	if f, ok := w.(*os.File); ok {
		color = term.IsTerminal(int(f.Fd()))
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: w, NoColor: !color, TimeFormat: time.TimeOnly}).With().Timestamp().Logger()
}
