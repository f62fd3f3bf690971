package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os/exec"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/admin"
	"github.com/exchange-sim/exchange/internal/cluster"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/gateway"
	"github.com/exchange-sim/exchange/internal/marketdata"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// venue is a running exchange: pipeline, gateway, market data and the HTTP
// listener, wired together.
type venue struct {
	cfg      *config.Config
	log      zerolog.Logger
	x        *pipeline.Exchange
	gw       *gateway.Gateway
	md       *marketdata.Publisher
	httpSrv  *http.Server
	httpAddr string
	// debugSrv serves /debug/pprof/ on cfg.ListenDebug; nil when that is empty.
	debugSrv  *http.Server
	debugAddr string
	cancel    context.CancelFunc
	mdDone    chan struct{}
	recovery  pipeline.Recovery
	adm       *admin.Server // the operator console, when venueOptions.admin
	sched     *pipeline.Scheduler
	rep       *venueReporter // the reporter in this process (reporter.process: inline)
	repChild  *reporterChild // the reporter as a child process (reporter.process: child)
	lock      *dataLock      // held on the data folder while the venue runs
	// node is set when the configuration has a cluster: section
	// (cluster_venue.go); x is then the node's first venue.
	node *cluster.Node
	co   *coRelay // the node's FIX session continuity (cluster_venue.go)
}

type venueOptions struct {
	dataDir    string
	durability sequencer.Durability
	admin      bool // start the operator console on cfg.ListenAdmin
	// plan, when set, drives the trading day instead of cfg.Schedule (the
	// demo's accelerated day).
	plan     pipeline.Plan
	reporter bool // follow the journal into the history database (venue_reporter.go)
	// configPath is the configuration file serve was given ("": the
	// embedded default), handed on to the reporter child; reporterCmd
	// starts that child (nil: this binary, reporterCommand).
	configPath  string
	reporterCmd func(args []string) *exec.Cmd
	// gatewayHook edits the gateway's options (tests only: runHooks).
	gatewayHook func(*gateway.Options)
}

// startVenue recovers the state in the data folder and starts every stage.
// The listeners are bound (the FIX address checked) before the data folder is
// touched, so a busy port costs no journal; nothing is served until recovery
// has finished.
func startVenue(cfg *config.Config, vo venueOptions, log zerolog.Logger) (*venue, error) {
	v := &venue{cfg: cfg, log: log, mdDone: make(chan struct{})}
	lns, err := bindListeners(cfg)
	if err != nil {
		return nil, err
	}
	md, err := marketdata.New(marketdata.Config{
		Symbols:      mdSymbols(cfg),
		Listed:       mdListed(cfg),
		RingEvents:   1 << 20,
		TradesMax:    cfg.TradesKept,
		DepthDefault: cfg.DepthLevels,
		Log:          log.With().Str("component", "marketdata").Logger(),
	})
	if err != nil {
		lns.close()
		return nil, err
	}
	v.md = md
	dir := vo.dataDir
	if dir == "" {
		dir = cfg.DataDir
	}
	if v.lock, err = lockDataDir(dir); err != nil {
		lns.close()
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			v.lock.release()
		}
	}()
	var (
		x   *pipeline.Exchange
		rec pipeline.Recovery
	)
	var rd *redelivery
	if cfg.Cluster != nil {
		x, err = v.openNode(cfg, dir, string(vo.durability), md, log)
	} else if rd, err = newRedelivery(cfg); err == nil {
		o := pipelineOptions(cfg)
		o.Dir = dir
		if vo.durability != "" {
			o.Durability = vo.durability
		}
		o.Log, o.Publisher, o.Reports = log, md, v.deliver
		o.Recovered, o.SyncReports = rd.recovered, v.syncReports
		x, rec, err = pipeline.Open(o)
	}
	v.recovery = rec
	if err != nil {
		lns.close()
		return nil, err
	}
	v.x = x
	if vo.reporter {
		if cfg.ReporterProcess == config.ReporterInline {
			v.startReporter(x.Dir())
		} else {
			v.startReporterChild(x.Dir(), vo)
		}
	}
	if v.node == nil {
		// Market data starts from the recovered books, of the symbols
		// listed at run time too.
		eng := x.State().Engine
		orders := x.State().Orders()
		all := cfg.AllSymbols()
		for _, s := range all[len(cfg.Symbols):] {
			if err := md.AddSymbol(marketdata.SymbolInfo{ID: s.ID, Name: s.Name, TickSize: s.TickSize, LotSize: s.LotSize}); err != nil {
				log.Error().Err(err).Msg("market data: a listed symbol")
			}
		}
		md.Reset(eng.OutSeq(), orders)
		for i := range all {
			id := all[i].ID
			md.SetPhase(id, eng.Phase(id))
			md.SetHalted(id, eng.Halted(id))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	go func() {
		defer close(v.mdDone)
		_ = md.Run(ctx)
	}()

	gwo := gateway.Options{Ref: cfg.Registry, Settings: gatewaySettings(cfg), Submitter: x, MarketData: md, Log: log}
	if vo.gatewayHook != nil {
		vo.gatewayHook(&gwo)
	}
	if v.node != nil {
		gwo.Submitter, gwo.LogonGate, gwo.Continuity = v.node, v.logonGate, v.continuity()
	}
	gw, err := gateway.New(gwo)
	if err != nil {
		lns.close()
		v.stop()
		return nil, err
	}
	v.gw = gw
	if v.co != nil {
		v.co.attach(gw)
	}
	if rd != nil {
		gw.Redeliver(rd.reps)
	}
	md.SetFIXSender(gw.Send)
	for i := range cfg.Symbols {
		gw.SetPhase(cfg.Symbols[i].ID, x.State().Engine.Phase(cfg.Symbols[i].ID))
	}
	md.SetPhaseListener(gw.SetPhase)
	if err := gw.Start(); err != nil {
		v.gw = nil
		lns.close()
		v.stop()
		return nil, fmt.Errorf("FIX listener: %w", err)
	}

	v.httpAddr = lns.http.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", v.healthz)
	mux.Handle("/metrics", v.metricsHandler())
	mux.Handle("/api/history/", v.historyHandler())
	if v.node != nil {
		v.mountCluster(mux)
		go v.logoutOnStepDown(ctx)
	}
	mux.Handle("/", md.Handler())
	v.startScheduler(vo)
	v.httpSrv = v.serve(lns.http, mux, "HTTP")
	if lns.debug != nil {
		// Profiles and traces expose the venue's internals: only on the
		// debug listener, which is off unless configured.
		v.debugAddr = lns.debug.Addr().String()
		dbg := http.NewServeMux()
		dbg.HandleFunc("/debug/pprof/", pprof.Index)
		dbg.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		dbg.HandleFunc("/debug/pprof/profile", pprof.Profile)
		dbg.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		dbg.HandleFunc("/debug/pprof/trace", pprof.Trace)
		v.debugSrv = v.serve(lns.debug, dbg, "debug HTTP")
	}
	if vo.admin {
		if err := v.startAdmin(); err != nil {
			v.stop()
			return nil, err
		}
	}
	started = true
	return v, nil
}

// listeners are the venue's HTTP listeners, bound before recovery.
type listeners struct {
	http, debug net.Listener
}

func (l *listeners) close() {
	for _, ln := range []net.Listener{l.http, l.debug} {
		if ln != nil {
			ln.Close()
		}
	}
}

// bindListeners binds the HTTP and debug listeners and checks that the FIX
// address can be listened on (the gateway binds it itself once recovery is
// done). Errors name the listener once; the address is in the network error.
func bindListeners(cfg *config.Config) (*listeners, error) {
	var l listeners
	fix, err := net.Listen("tcp", cfg.ListenFIX)
	if err != nil {
		return nil, fmt.Errorf("FIX listener: %w", err)
	}
	fix.Close()
	if l.http, err = net.Listen("tcp", cfg.ListenHTTP); err != nil {
		return nil, fmt.Errorf("HTTP listener: %w", err)
	}
	if cfg.ListenDebug != "" {
		if l.debug, err = net.Listen("tcp", cfg.ListenDebug); err != nil {
			l.close()
			return nil, fmt.Errorf("debug listener: %w", err)
		}
	}
	return &l, nil
}

// serve serves h on ln until stop.
func (v *venue) serve(ln net.Listener, h http.Handler, name string) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			v.log.Error().Err(err).Msg(name + " server stopped")
		}
	}()
	return srv
}

// startScheduler starts the trading day's scheduler: the demo's plan, or
// the configured calendar (none configured: continuous trading all day).
func (v *venue) startScheduler(vo venueOptions) {
	so := pipeline.SchedulerOptions{Plan: vo.plan, Submit: v.x.Submit, GTDCheck: time.Second}
	if v.node != nil {
		so.Submit = v.node.Submit // the leader's current venue; a standby refuses
	}
	if so.Plan == nil {
		s := v.cfg.Schedule
		if s == nil {
			return
		}
		so.Plan, so.Symbols, so.GTDCheck, so.CatchUp = pipeline.CalendarPlan(s), s.Symbols, s.GTDCheck, true
	}
	v.sched = pipeline.StartScheduler(so)
}

// mdSymbols is the configuration's symbols as market data describes them.
func mdSymbols(cfg *config.Config) []marketdata.SymbolInfo {
	syms := make([]marketdata.SymbolInfo, len(cfg.Symbols))
	for i, s := range cfg.Symbols {
		syms[i] = marketdata.SymbolInfo{ID: s.ID, Name: s.Name, TickSize: s.TickSize, LotSize: s.LotSize}
	}
	return syms
}

// mdListed describes to market data the symbols listed at run time, from
// the configuration's table (the order manager registers them before their
// EvSymbolAdded reaches market data).
func mdListed(cfg *config.Config) func(matching.SymbolID) (marketdata.SymbolInfo, bool) {
	return func(id matching.SymbolID) (marketdata.SymbolInfo, bool) {
		s, ok := cfg.Symbol(id)
		if !ok {
			return marketdata.SymbolInfo{}, false
		}
		return marketdata.SymbolInfo{ID: s.ID, Name: s.Name, TickSize: s.TickSize, LotSize: s.LotSize}, true
	}
}

func (v *venue) deliver(reps []ordermanager.Report) {
	if v.gw != nil {
		v.gw.Deliver(reps)
	}
}

func (v *venue) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	x := v.exchange()
	st := x.Stats()
	fmt.Fprintf(w, `{"status":"ok","durable_seq":%d,"queue_depth":%d}`+"\n", st.Sequencer.DurableSeq, x.QueueDepth())
}

// stop shuts down in the order that loses nothing: stop serving HTTP, drain
// and close the pipeline (every accepted order journaled, matched and
// reported; a snapshot written) while FIX sessions are still up to receive the
// last reports, then log the sessions out, then stop market data.
func (v *venue) stop() error {
	if v.sched != nil {
		v.sched.Stop()
	}
	if v.adm != nil {
		_ = v.adm.Close()
	}
	for _, srv := range []*http.Server{v.httpSrv, v.debugSrv} {
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = srv.Shutdown(ctx)
			cancel()
		}
	}
	var err error
	if v.node != nil {
		err = v.node.Close()
	} else if v.x != nil {
		err = v.x.Close()
	}
	if v.gw != nil {
		v.gw.Stop()
	}
	v.stopReporter()
	if v.repChild != nil {
		v.repChild.stop()
	}
	if v.cancel != nil {
		v.cancel()
		<-v.mdDone
	}
	v.lock.release()
	return err
}

// exchange is the venue's pipeline now: a cluster node replaces its own when
// it loses the leadership or installs a snapshot.
func (v *venue) exchange() *pipeline.Exchange {
	if v.node != nil {
		if x := v.node.Exchange(); x != nil {
			return x
		}
	}
	return v.x
}
