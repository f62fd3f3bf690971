package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/cluster"
	"github.com/exchange-sim/exchange/gateway"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/marketdata"
	"github.com/exchange-sim/exchange/ordermanager"
	"github.com/exchange-sim/exchange/pipeline"
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
	cancel   context.CancelFunc
	mdDone   chan struct{}
	recovery pipeline.Recovery
	// node is set when the configuration has a cluster: section
	// (cluster_venue.go); x is then the node's first venue.
	node *cluster.Node
}

type venueOptions struct {
	dataDir    string
	durability string
}

// startVenue recovers the state in the data folder and starts every stage.
// Nothing listens until recovery has finished.
func startVenue(cfg *config.Config, vo venueOptions, log zerolog.Logger) (*venue, error) {
	v := &venue{cfg: cfg, log: log, mdDone: make(chan struct{})}
	md, err := marketdata.New(marketdata.Config{
		Symbols:      mdSymbols(cfg),
		RingEvents:   1 << 20,
		TradesMax:    cfg.TradesKept,
		DepthDefault: cfg.DepthLevels,
	})
	if err != nil {
		return nil, err
	}
	v.md = md
	dir := vo.dataDir
	if dir == "" {
		dir = cfg.DataDir
	}
	var (
		x   *pipeline.Exchange
		rec pipeline.Recovery
	)
	if cfg.Cluster != nil {
		x, err = v.openNode(cfg, dir, vo.durability, md, log)
	} else {
		x, rec, err = pipeline.Open(pipeline.Options{
			Config:     cfg,
			Dir:        dir,
			Durability: vo.durability,
			Log:        log,
			Publisher:  md,
			Reports:    v.deliver,
		})
	}
	v.recovery = rec
	if err != nil {
		return nil, err
	}
	v.x = x
	if v.node == nil {
		// Market data starts from the recovered books.
		eng := x.State().Engine
		orders := x.State().Orders()
		md.Reset(eng.OutSeq(), orders)
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	go func() {
		defer close(v.mdDone)
		_ = md.Run(ctx)
	}()

	gwo := gateway.Options{Config: cfg, Submitter: x, MarketData: md, Log: log}
	if v.node != nil {
		gwo.Submitter, gwo.LogonGate = v.node, v.logonGate
	}
	gw, err := gateway.New(gwo)
	if err != nil {
		v.stop()
		return nil, err
	}
	v.gw = gw
	md.SetFIXSender(gw.Send)
	if err := gw.Start(); err != nil {
		v.gw = nil
		v.stop()
		return nil, fmt.Errorf("FIX listener %s: %w", cfg.ListenFIX, err)
	}

	ln, err := net.Listen("tcp", cfg.ListenHTTP)
	if err != nil {
		v.stop()
		return nil, fmt.Errorf("HTTP listener %s: %w", cfg.ListenHTTP, err)
	}
	v.httpAddr = ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", v.healthz)
	mux.Handle("/metrics", v.metricsHandler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if v.node != nil {
		mux.Handle("/cluster", v.node.AdminHandler())
		mux.Handle("/cluster/", v.node.AdminHandler())
	}
	mux.Handle("/", md.Handler())
	v.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := v.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("HTTP server stopped")
		}
	}()
	return v, nil
}

// mdSymbols is the configuration's symbols as market data describes them.
func mdSymbols(cfg *config.Config) []marketdata.SymbolInfo {
	syms := make([]marketdata.SymbolInfo, len(cfg.Symbols))
	for i, s := range cfg.Symbols {
		syms[i] = marketdata.SymbolInfo{ID: s.ID, Name: s.Name, TickSize: s.TickSize, LotSize: s.LotSize}
	}
	return syms
}

func (v *venue) deliver(reps []ordermanager.Report) {
	if v.gw != nil {
		v.gw.Deliver(reps)
	}
}

func (v *venue) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	st := v.x.Stats()
	fmt.Fprintf(w, `{"status":"ok","durable_seq":%d,"queue_depth":%d}`+"\n", st.Sequencer.DurableSeq, v.x.QueueDepth())
}

// stop shuts down in the order that loses nothing: stop serving HTTP, drain
// and close the pipeline (every accepted order journaled, matched and
// reported; a snapshot written) while FIX sessions are still up to receive the
// last reports, then log the sessions out, then stop market data.
func (v *venue) stop() error {
	if v.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = v.httpSrv.Shutdown(ctx)
		cancel()
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
	if v.cancel != nil {
		v.cancel()
		<-v.mdDone
	}
	return err
}
