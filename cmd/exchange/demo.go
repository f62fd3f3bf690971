package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/broker"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/pipeline"
)

func cmdDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	var cf commonFlags
	cf.register(fs, "")
	duration := fs.Duration("duration", 20*time.Second, "how long the simulated brokers trade (0: until Ctrl-C)")
	rate := fs.Float64("rate", 1000, "orders per second from the three trading firms together (the market maker adds a third of that)")
	keep := fs.Bool("keep", false, "keep the demo's data folder (default: a temporary folder, removed at the end)")
	seed := fs.Int64("seed", 1, "seed of the simulated order flow")
	day := fs.Duration("day", 0, "run an accelerated trading day of this length (pre-open, opening auction, continuous, closing call and auction, post-close, DAY expiry); 0: continuous trading")
	clusterNodes := fs.Int("cluster", 0, "run N venues as a raft cluster, kill the leader halfway and check the failover (see demo_cluster.go)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cf.logLevel == "info" {
		cf.logLevel = "warn" // the demo prints its own progress; logs only for trouble
	}
	cfg, log, err := cf.load()
	if err != nil {
		return err
	}
	if *clusterNodes > 0 {
		return runClusterDemo(*clusterNodes, *duration, *rate, *seed, cf.durability, log, stdout)
	}
	if cf.configPath != "" {
		return errors.New("--config: the demo's brokers use the embedded default's firms and passwords; run `exchange serve --config` and `exchange broker` for your own")
	}
	kept := true // the data folder outlives the demo
	if cf.dataDir == "" {
		kept = *keep
		dir, err := os.MkdirTemp("", "exchange-demo-")
		if err != nil {
			return err
		}
		cfg.DataDir = dir
		if !*keep {
			defer os.RemoveAll(dir)
		}
	}
	// Take the default ports when they are free, any free loopback port when not.
	if cf.fixAddr == "" {
		cfg.ListenFIX = freeAddr(cfg.ListenFIX)
	}
	if cf.httpAddr == "" {
		cfg.ListenHTTP = freeAddr(cfg.ListenHTTP)
	}
	vo := venueOptions{}
	if *day > 0 {
		vo.plan = acceleratedDemoDay(cfg, *day, stdout)
		if *duration == 20*time.Second || *duration > *day {
			*duration = *day
		}
	}
	v, err := startVenue(cfg, vo, log)
	if err != nil {
		return err
	}
	// The address listened on: a configured port 0 is the one chosen now.
	cfg.ListenFIX = v.gw.Addr()
	_, portStr, _ := net.SplitHostPort(cfg.ListenFIX)
	port, _ := strconv.Atoi(portStr)
	stopped := false
	defer func() {
		if !stopped {
			_ = v.stop()
		}
	}()
	runFor := "until Ctrl-C"
	if *duration > 0 {
		runFor = "for " + duration.String()
	}
	fmt.Fprintf(stdout, "exchange demo: venue on FIX %s, data in %s\n", cfg.ListenFIX, cfg.DataDir)
	fmt.Fprintf(stdout, "watch it live:  http://%s/\n", v.httpAddr)
	fmt.Fprintf(stdout, "three firms and a market maker trade over FIX %s (Ctrl-C stops early)...\n\n", runFor)

	ctx, cancel := interruptible("\nstopping the brokers...")
	defer cancel()

	results, err := runDemoBrokers(ctx, demoBrokers(cfg, port, *seed, *rate, *duration, stdout))
	cancel()
	if err != nil {
		return err
	}
	printDemoSummary(stdout, cfg, v, results, kept)
	stopped = true
	if err := v.stop(); err != nil {
		return err
	}
	var unanswered int64
	for _, r := range results {
		if r != nil {
			unanswered += r.Unanswered
		}
	}
	if unanswered > 0 {
		return exitError{code: 1, err: fmt.Errorf("%d orders went unanswered", unanswered)}
	}
	return nil
}

// acceleratedDemoDay is the plan of a trading day of length day starting
// now, with a dynamic band the simulated flow can reach on every symbol that
// has none, so that the day shows a volatility interruption.
func acceleratedDemoDay(cfg *config.Config, day time.Duration, stdout io.Writer) pipeline.Plan {
	for i := range cfg.Symbols {
		if cfg.Symbols[i].DynamicBandBps == 0 {
			cfg.Symbols[i].DynamicBandBps = 50
		}
	}
	fmt.Fprintf(stdout, "an accelerated trading day of %s: pre-open call, opening auction at %s, closing call at %s, close at %s\n",
		day, day/10, day*3/4, day*85/100)
	return pipeline.AcceleratedDay(time.Now(), day)
}

// demoBrokers are the demo's two simulated brokers: a market maker quoting
// at a third of rate, then the three trading firms together at rate. Only
// the firms print progress.
func demoBrokers(cfg *config.Config, port int, seed int64, rate float64, duration time.Duration, stdout io.Writer) []broker.Options {
	takers := broker.DefaultOptions()
	takers.Port, takers.Symbols, takers.Seed, takers.Rate = port, brokerSymbols(cfg), seed, rate
	takers.Duration = duration
	if duration == 0 {
		takers.Duration = 365 * 24 * time.Hour
	}
	takers.Progress = stdout
	mm := takers
	mm.Progress = nil
	mm.Sessions = []broker.Session{{SenderCompID: "MM", TargetCompID: cfg.TargetCompID, Username: "mm", Password: "demo-mm"}}
	mm.Seed = seed + 1000
	mm.Rate = rate / 3
	mm.Mix = broker.Mix{Limit: 0.6, Cancel: 0.2, Replace: 0.2, SizeMinLots: 10, SizeMaxLots: 200,
		Aggressiveness: 0, DepthTicks: 5, PostOnly: 0.5, LiveOrdersMax: 2000}
	nop := zerolog.Nop()
	takers.Logger, mm.Logger = &nop, &nop
	return []broker.Options{mm, takers}
}

// runDemoBrokers runs the brokers together until they finish or ctx ends,
// the first one (the market maker) given a head start to quote. A broker
// stopped by ctx is not an error.
func runDemoBrokers(ctx context.Context, opts []broker.Options) ([]*broker.Result, error) {
	var wg sync.WaitGroup
	results := make([]*broker.Result, len(opts))
	errs := make([]error, len(opts))
	for i, o := range opts {
		wg.Add(1)
		go func(i int, o broker.Options) {
			defer wg.Done()
			results[i], errs[i] = broker.Run(ctx, o)
		}(i, o)
		if i == 0 {
			time.Sleep(300 * time.Millisecond) // the market maker quotes first
		}
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil && !errors.Is(e, context.Canceled) {
			return nil, fmt.Errorf("simulated broker: %w", e)
		}
	}
	return results, nil
}

// interruptible returns a context cancelled by SIGINT or SIGTERM (printing
// say to stderr first, when set) or by calling cancel.
func interruptible(say string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		defer signal.Stop(sig)
		select {
		case <-sig:
			if say != "" {
				fmt.Fprintln(os.Stderr, say)
			}
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// freeAddr returns addr if it can be listened on (and names a port), else a
// free port on the same host.
func freeAddr(addr string) string {
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		if _, port, _ := net.SplitHostPort(addr); port != "0" {
			return addr
		}
	}
	host, _, _ := net.SplitHostPort(addr)
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return addr
	}
	defer ln.Close()
	return ln.Addr().String()
}

func brokerSymbols(cfg *config.Config) []broker.Symbol {
	out := make([]broker.Symbol, len(cfg.Symbols))
	for i, s := range cfg.Symbols {
		ref := s.TicksToPrice(max(s.RefTicks, 1))
		out[i] = broker.Symbol{Name: s.Name, Tick: s.TickSize, Lot: s.LotSize, Price: ref}
	}
	return out
}

// printDemoSummary prints the demo's figures; kept says whether the data
// folder outlives the demo (only then is there a journal to replay).
func printDemoSummary(w io.Writer, cfg *config.Config, v *venue, results []*broker.Result, kept bool) {
	var sent, acked, filled, rejected, unanswered int64
	reasons := map[string]int64{}
	var merged *broker.Result
	for _, r := range results {
		if r == nil {
			continue
		}
		sent += r.Sent
		acked += r.Acked
		filled += r.Filled
		rejected += r.Rejected
		unanswered += r.Unanswered
		for k, n := range r.RejectedByReason {
			reasons[k] += n
		}
		if merged == nil {
			c := *r
			c.Ack = r.Ack.Clone()
			merged = &c
		} else {
			merged.Ack.Merge(r.Ack)
		}
	}
	fmt.Fprintf(w, "\n== demo summary ==\n")
	fmt.Fprintf(w, "orders      sent %d, acknowledged %d, filled (at least partly) %d, rejected %d, unanswered %d\n", sent, acked, filled, rejected, unanswered)
	var trades int64
	fmt.Fprintf(w, "trades      ")
	for _, s := range cfg.Symbols {
		st := v.md.Stats(s.ID)
		trades += st.Trades
		last := "-"
		if st.Trades > 0 {
			last = s.TicksToPrice(st.Last).String()
		}
		fmt.Fprintf(w, "%s %d (last %s, volume %s)  ", s.Name, st.Trades, last, s.LotsToQty(st.Volume))
	}
	fmt.Fprintf(w, "\n            %d trades in all\n", trades)
	if cfg.Schedule != nil || v.sched != nil {
		// The trading day: what the auctions set, how often the bands
		// stopped trading, where each symbol ended.
		label := "the day"
		for _, s := range cfg.Symbols {
			st := v.md.Stats(s.ID)
			price := func(t int64) string {
				if t == 0 {
					return "-"
				}
				return s.TicksToPrice(t).String()
			}
			fmt.Fprintf(w, "%-11s %-5s official open %-8s official close %-8s volatility interruptions %d, now %s\n",
				label, s.Name, price(st.OfficialOpen), price(st.OfficialEnd), st.Interruptions, st.Phase)
			label = ""
		}
	}
	if len(reasons) > 0 {
		fmt.Fprintf(w, "rejects by reason\n")
		keys := make([]string, 0, len(reasons))
		for k := range reasons {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return reasons[keys[i]] > reasons[keys[j]] })
		for _, k := range keys {
			fmt.Fprintf(w, "  %8d  %s\n", reasons[k], k)
		}
	}
	if merged != nil && merged.Ack.TotalCount() > 0 {
		h := merged.Ack
		q := func(p float64) string { return durStr(h.ValueAtQuantile(p)) }
		fmt.Fprintf(w, "ack latency over FIX (order sent to first answer, scheduled-time based): p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
			q(50), q(90), q(99), q(99.9), durStr(h.Max()))
	}
	st := v.x.Stats()
	fmt.Fprintf(w, "journal     %d commands in %d group commits, %d fsyncs (durability %s)\n", st.Sequencer.Records, st.Sequencer.Batches, st.Sequencer.Fsyncs, cfg.Durability)
	if kept {
		fmt.Fprintf(w, "replay it   go run ./cmd/exchange replay --data %s\n", cfg.DataDir)
	} else {
		fmt.Fprintf(w, "replay it   run the demo with --keep (or --data DIR): its temporary data folder is removed now\n")
	}
}
