package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/gateway"
	"github.com/exchange-sim/exchange/internal/marketdata"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// Options configure a Server.
type Options struct {
	// Ref is the venue's reference data (required): names of symbols,
	// firms, sessions and accounts; listings are checked against it.
	Ref *refdata.Registry
	// Tokens are the operators' bearer tokens.
	Tokens []refdata.AdminToken
	// Durability is the journal's policy, as the status shows it.
	Durability sequencer.Durability
	// Exchange is the venue the actions go to; Current, when set, gives the
	// one to use now instead (a cluster node replaces its venue when it
	// loses the leadership).
	Exchange *pipeline.Exchange
	Current  func() *pipeline.Exchange
	// Gateway may be nil (no FIX sessions to show or disconnect).
	Gateway *gateway.Gateway
	// MarketData may be nil; when set it is told the reasons of halts.
	MarketData *marketdata.Publisher
	Log        zerolog.Logger
	// Addr is the address Start listens on.
	Addr string
	// Timeout bounds one request's wait for the order manager (default 10s).
	Timeout time.Duration
}

// Server is the admin HTTP API.
type Server struct {
	ref     *refdata.Registry
	dur     sequencer.Durability
	tokens  int
	x       *pipeline.Exchange
	current func() *pipeline.Exchange
	gw      *gateway.Gateway
	md      *marketdata.Publisher
	log     zerolog.Logger
	auth    *authenticator
	addr    string
	timeout time.Duration
	started time.Time
	mux     *http.ServeMux
	methods map[string]string // fixed path -> its method, for 405 answers

	mu  sync.Mutex
	ln  net.Listener
	srv *http.Server
}

// New builds the server; nothing listens until Start.
func New(opts Options) (*Server, error) {
	if opts.Ref == nil || opts.Exchange == nil {
		return nil, errors.New("admin: Options.Ref and Options.Exchange are required")
	}
	a, err := newAuthenticator(opts.Tokens)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	s := &Server{
		ref: opts.Ref, dur: opts.Durability, tokens: len(opts.Tokens), x: opts.Exchange, current: opts.Current, gw: opts.Gateway, md: opts.MarketData, auth: a,
		log: opts.Log.With().Str("component", "admin").Logger(), addr: opts.Addr, timeout: opts.Timeout,
		started: time.Now(), mux: http.NewServeMux(),
	}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	s.routes()
	return s, nil
}

// Handler is the API's handler (Start serves it on its own listener).
func (s *Server) Handler() http.Handler { return s.mux }

// Start re-applies what the replayed state says of blocked firms and halt
// reasons to the gateway and market data, then listens.
func (s *Server) Start() error {
	if err := s.restore(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("admin listener %s: %w", s.addr, err)
	}
	srv := &http.Server{Handler: s.mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second}
	s.mu.Lock()
	s.ln, s.srv = ln, srv
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Msg("admin server stopped")
		}
	}()
	s.log.Info().Str("addr", ln.Addr().String()).Int("tokens", s.tokens).Msg("admin API listening")
	return nil
}

// Addr is the address the server listens on (the configured one before
// Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.addr
}

// Close stops the listener, letting requests in progress finish for up to
// two seconds.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// restore pushes the replayed operator state to the gateway and market data.
func (s *Server) restore() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	reasons := map[matching.SymbolID]string{}
	var blocked []refdata.FirmID
	read := func(om *ordermanager.Manager) {
		clear(reasons)
		blocked = blocked[:0]
		for _, cs := range s.ref.AllSymbols() {
			id := cs.ID
			if r := om.HaltReason(id); r != "" && om.Halted(id) {
				reasons[id] = r
			}
		}
		for i := range s.ref.Firms {
			if om.FirmBlocked(s.ref.Firms[i].ID) {
				blocked = append(blocked, s.ref.Firms[i].ID)
			}
		}
	}
	// A cluster node may replace its venue while this runs (it lost the
	// leadership just after it won it): read the one it has then.
	var err error
	for try := 0; try < 5; try++ {
		if err = s.venue().Inspect(ctx, read); !errors.Is(err, pipeline.ErrClosed) || s.current == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("admin: reading the replayed state: %w", err)
	}
	for sym, r := range reasons {
		s.setHaltReason(sym, r)
	}
	for _, f := range blocked {
		if s.gw != nil {
			s.gw.BlockFirm(f, true)
		}
	}
	return nil
}

func (s *Server) setHaltReason(sym matching.SymbolID, r string) {
	if s.gw != nil {
		s.gw.SetHaltReason(sym, r)
	}
	if s.md != nil {
		s.md.SetHaltReason(sym, r)
	}
}

// handlerFunc answers one authorized request with a value to encode as JSON
// or an error.
type handlerFunc func(r *http.Request, body []byte, who refdata.AdminToken) (any, *apiError)

func (s *Server) handle(pattern string, role refdata.AdminRole, h handlerFunc) {
	if method, path, ok := strings.Cut(pattern, " "); ok && !strings.Contains(path, "{") {
		if s.methods == nil {
			s.methods = map[string]string{}
		}
		s.methods[path] = method
	}
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		tok, ok := authorize(s.auth, s.log, w, r, role)
		if !ok {
			return
		}
		var body []byte
		if r.Method == http.MethodPost {
			var err error
			body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, bodyMax))
			if err != nil {
				writeJSON(w, http.StatusRequestEntityTooLarge, errf(413, "", "request body over %d bytes", bodyMax))
				return
			}
		}
		v, aerr := h(r, body, tok)
		if aerr != nil {
			if aerr.Status == 0 {
				aerr.Status = http.StatusBadRequest
			}
			s.log.Info().Str("who", tok.Name).Str("path", r.URL.Path).Int("status", aerr.Status).Str("error", aerr.Error()).Msg("admin request failed")
			writeJSON(w, aerr.Status, aerr)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// ctx bounds a request's wait for the order manager.
func (s *Server) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.timeout)
}

// venueErr maps an error of Operate or Inspect to an answer.
func venueErr(err error) *apiError {
	switch {
	case errors.Is(err, ordermanager.ErrUnknownSymbol):
		return errf(404, "symbol", "%v", err)
	case errors.Is(err, ordermanager.ErrUnknownAccount):
		return errf(404, "account", "%v", err)
	case errors.Is(err, ordermanager.ErrUnknownFirm):
		return errf(404, "firm", "%v", err)
	case errors.Is(err, ordermanager.ErrUnknownSession):
		return errf(404, "session", "%v", err)
	case errors.Is(err, ordermanager.ErrOperation):
		return errf(400, "", "%v", err)
	case errors.Is(err, refdata.ErrDuplicateSymbol):
		return errf(409, "name", "%v", err)
	case errors.Is(err, ordermanager.ErrRefused):
		return errf(409, "", "%v", err)
	case errors.Is(err, pipeline.ErrClosed):
		return errf(503, "", "the venue is shutting down")
	case errors.Is(err, pipeline.ErrStandby):
		return errf(421, "", "this cluster node is a standby: send actions to the leader's admin API")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return errf(503, "", "the order manager did not answer in time")
	}
	return errf(500, "", "%v", err)
}

// queryInt reads an optional positive integer query parameter.
func queryInt(r *http.Request, name string, def, maxV int) (int, *apiError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, errf(400, name, "%q is not a positive integer", v)
	}
	return min(n, maxV), nil
}

// venue is the venue to act on now.
func (s *Server) venue() *pipeline.Exchange {
	if s.current != nil {
		if x := s.current(); x != nil {
			return x
		}
	}
	return s.x
}
