package main

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/exchange-sim/exchange/internal/broker"
)

// sessionList is a repeatable --session COMP:USER:PASSWORD[:ACCOUNT] flag.
type sessionList []broker.Session

func (s *sessionList) String() string { return fmt.Sprint(len(*s), " sessions") }

func (s *sessionList) Set(v string) error {
	p := strings.Split(v, ":")
	if len(p) < 3 || len(p) > 4 || p[0] == "" || p[1] == "" {
		return fmt.Errorf("%q: want SENDERCOMPID:USERNAME:PASSWORD[:ACCOUNT]", v)
	}
	ses := broker.Session{SenderCompID: p[0], Username: p[1], Password: p[2]}
	if len(p) == 4 {
		ses.Account = p[3]
	}
	*s = append(*s, ses)
	return nil
}

func cmdBroker(args []string, stdout, stderr io.Writer) error {
	def := broker.DefaultOptions()
	fs := newFlagSet("broker", stderr)
	var sessions sessionList
	fs.Var(&sessions, "session", "FIX session SENDERCOMPID:USERNAME:PASSWORD[:ACCOUNT]; repeat for several (default: the demo firms ALPHA, BRAVO, CHARLIE)")
	target := fs.String("target", def.Sessions[0].TargetCompID, "TargetCompID of the exchange")
	fixAddr := fs.String("fix", net.JoinHostPort(def.Host, strconv.Itoa(def.Port)), "exchange FIX address host:port, or a cluster's nodes' as a comma-separated list (the leader is found from a standby's logon refusal)")
	seed := fs.Int64("seed", def.Seed, "seed of the order-flow model (same seed, same orders)")
	duration := fs.Duration("duration", def.Duration, "how long to send (0: no limit, then --orders must be set)")
	orders := fs.Int("orders", def.OrdersMax, "stop after this many requests (0: no limit)")
	mode := fs.String("mode", def.Mode.String(), "load model: open (fixed schedule at --rate, latency from the scheduled time) or closed (--window in flight)")
	rate := fs.Float64("rate", def.Rate, "open loop: requests per second")
	window := fs.Int("window", def.Window, "closed loop: requests in flight")
	mix := fs.String("mix", "", "order-flow mix, e.g. limit=0.55,market=0.05,ioc=0.1,fok=0.05,cancel=0.15,replace=0.1,size=1-100,aggr=0.2")
	replay := fs.String("replay", "", "re-send the orders of a CSV/JSON-lines file instead of the model")
	journal := fs.String("journal", "", "re-send the inbound orders of an exchange data folder's journal instead of the model")
	configPath := fs.String("config", "", "with --journal: the configuration the journal was written with (default: the embedded default)")
	pace := fs.String("pace", def.Pace.String(), "replay pace: recorded, max, or a factor like 2x")
	hgrm := fs.String("hgrm", "", "write the ack-latency percentile distribution (.hgrm) to this file")
	plot := fs.String("plot", "", "write a latency-by-percentile plot (SVG) to this file")
	engine := fs.String("fix-engine", def.Engine, "FIX engine: native (internal/fixsession) or quickfix (QuickFIX/Go, the reference engine, for interop; a few thousand orders/s at most)")
	writeEach := fs.Bool("write-each", false, "native engine: write every message with its own system call, like most FIX engines, instead of one write per batch")
	store := fs.String("store", "", "folder for FIX sequence numbers (default: in memory, with ResetOnLogon)")
	verbose := fs.Bool("v", false, "log session events")
	logonTimeout := fs.Duration("logon-timeout", def.LogonTimeout, "how long to wait for every session to be logged on before giving up")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the broker to this file (go tool pprof)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	o := def
	if len(sessions) > 0 {
		o.Sessions = sessions
	}
	for i := range o.Sessions {
		o.Sessions[i].TargetCompID = *target
	}
	fixAddrs, err := parseFIXAddrs(*fixAddr)
	if err != nil {
		return err
	}
	o.Seed, o.Duration, o.OrdersMax, o.Rate, o.Window = *seed, *duration, *orders, *rate, *window
	if o.Mode, err = broker.ParseMode(*mode); err != nil {
		return fmt.Errorf("--mode: %w", err)
	}
	if *mix != "" {
		if o.Mix, err = broker.ParseMix(*mix, broker.DefaultMix()); err != nil {
			return fmt.Errorf("--mix: %w", err)
		}
	}
	if o.Pace, err = broker.ParsePace(*pace); err != nil {
		return fmt.Errorf("--pace: %w", err)
	}
	closeSource, err := openBrokerSource(&o, *replay, *journal, *configPath, *target, len(sessions) > 0)
	if err != nil {
		return err
	}
	defer closeSource()
	o.HgrmPath, o.PlotPath, o.StoreDir, o.Engine = *hgrm, *plot, *store, *engine
	o.LogonTimeout = *logonTimeout
	o.ResetOnLogon = *store == ""
	o.WriteEach = *writeEach
	o.Progress = stderr
	if *verbose {
		l := newLogger(stderr)
		o.Logger = &l
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	ctx, cancel := interruptible("")
	defer cancel()
	res, err := runFollowingLeader(ctx, o, fixAddrs)
	if res != nil {
		_ = res.WriteTable(stdout)
		if js, ok := o.Source.(*broker.JournalSource); ok && js.Skipped > 0 {
			fmt.Fprintf(stdout, "%-12s %d journal commands skipped (mass cancels, halts and operator commands are not order flow)\n", "skipped", js.Skipped)
		}
	}
	if err != nil {
		return err
	}
	if res.Unanswered > 0 {
		return exitError{code: 1, err: fmt.Errorf("%d requests went unanswered", res.Unanswered)}
	}
	return nil
}

// openBrokerSource sets o's order source from --replay (an order file) or
// --journal (a data folder's journal, read with the configuration at
// configPath), at most one of them; with neither, the model stays. A journal
// names firms: unless sessions were given, o logs on as every session of that
// configuration with the demo passwords. The returned func closes the source.
func openBrokerSource(o *broker.Options, replay, journal, configPath, target string, sessionsGiven bool) (func(), error) {
	switch {
	case replay != "" && journal != "":
		return nil, fmt.Errorf("--replay and --journal: choose one")
	case replay != "":
		f, err := broker.OpenOrderFile(replay)
		if err != nil {
			return nil, err
		}
		o.Source, o.Duration = f, 0
		return func() { f.Close() }, nil
	case journal != "":
		cfg, err := loadConfig(configPath)
		if err != nil {
			return nil, err
		}
		j, err := broker.OpenJournal(journal, cfg.Registry)
		if err != nil {
			return nil, err
		}
		o.Source, o.Duration = j, 0
		if !sessionsGiven {
			o.Sessions = nil
			for _, s := range cfg.Sessions {
				o.Sessions = append(o.Sessions, broker.Session{SenderCompID: s.SenderCompID, TargetCompID: target,
					Username: s.Username, Password: "demo-" + s.Username})
			}
		}
		return func() { j.Close() }, nil
	}
	return func() {}, nil
}
