package gateway

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/ordermanager"
)

// Submitter is the order manager's inbound queue. Submit must not block; false
// means the queue is full (the exchange is busy) and the request was not taken.
type Submitter interface {
	Submit(req *ordermanager.Request) bool
}

// MarketData handles MarketDataRequest (35=V) for a session and forgets a
// session's subscriptions when it logs out (implemented by package marketdata).
type MarketData interface {
	OnMarketDataRequest(msg *quickfix.Message, sid quickfix.SessionID) quickfix.MessageRejectError
	OnLogout(sid quickfix.SessionID)
}

// Options configure a Gateway.
type Options struct {
	Config    *config.Config
	Submitter Submitter
	// MarketData may be nil: a MarketDataRequest then gets a
	// BusinessMessageReject (unsupported message type).
	MarketData MarketData
	Log        zerolog.Logger
	// FloodLogoutGrace is how long a session being logged out for flooding has
	// to answer the Logout before its connection is closed (default 2s).
	FloodLogoutGrace time.Duration
}

// Gateway is the FIX acceptor and the translation between FIX and the order
// manager's Requests and Reports.
type Gateway struct {
	cfg        *config.Config
	submit     Submitter
	md         MarketData
	log        zerolog.Logger
	floodGrace time.Duration

	settings *quickfix.Settings
	acceptor *quickfix.Acceptor
	stores   *storeFactory
	guard    *guard

	// sessions is indexed by config.SessionID-1; bySID maps each configured
	// FIX session (one per CompID and BeginString) to its state. Both are
	// read-only after New.
	sessions []*sessionState
	bySID    map[quickfix.SessionID]*sessionState
	units    []symUnits // fast decimal conversions, by SymbolID-1

	execSeq   atomic.Uint64 // gateway-generated ExecIDs for its own rejects
	startTag  string        // distinguishes this process's gateway ExecIDs
	authKey   [32]byte      // keys the cache of verified passwords
	m         *metrics
	stopOnce  sync.Once
	startedMu sync.Mutex
	started   bool
}

// sessionState is what the gateway keeps about one configured session (one
// SenderCompID): the FIX session currently logged on, its rate limiter, its
// flood counter, and the connection for a forced logout. It holds no order
// state.
type sessionState struct {
	cfg     *config.Session
	limiter *rate.Limiter
	rateTxt string // "rate limit exceeded: N msgs/s"

	live    atomic.Pointer[quickfix.SessionID] // nil when not logged on
	flood   atomic.Int64                       // rate-limited messages in a row
	closing atomic.Bool                        // a flood logout is under way

	lastFailNs atomic.Int64 // when a logon last failed bcrypt

	out *outbox // reports on their way out

	mu        sync.Mutex
	authCache [32]byte // HMAC of the last password that passed bcrypt; zero = none
	conns     map[quickfix.SessionID]net.Conn
}

// New builds the gateway and its QuickFIX/Go acceptor from the configuration;
// nothing listens until Start.
func New(opts Options) (*Gateway, error) {
	if opts.Config == nil {
		return nil, errors.New("gateway: Options.Config is required")
	}
	if opts.Submitter == nil {
		return nil, errors.New("gateway: Options.Submitter is required")
	}
	cfg := opts.Config
	g := &Gateway{
		cfg:        cfg,
		submit:     opts.Submitter,
		md:         opts.MarketData,
		log:        opts.Log.With().Str("component", "gateway").Logger(),
		floodGrace: opts.FloodLogoutGrace,
		bySID:      map[quickfix.SessionID]*sessionState{},
		startTag:   fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffffff),
		m:          newMetrics(),
		units:      symbolUnits(cfg),
	}
	if g.floodGrace <= 0 {
		g.floodGrace = 2 * time.Second
	}
	if err := randomKey(g.authKey[:]); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	for i := range cfg.Sessions {
		cs := &cfg.Sessions[i]
		st := &sessionState{
			cfg:     cs,
			limiter: rate.NewLimiter(rate.Limit(cs.RatePerSecond), max(cs.Burst, 1)),
			rateTxt: "rate limit exceeded: " + strconv.FormatFloat(cs.RatePerSecond, 'f', -1, 64) + " msgs/s",
			conns:   map[quickfix.SessionID]net.Conn{},
		}
		st.out = newOutbox(g, st)
		g.sessions = append(g.sessions, st)
	}
	if _, _, err := net.SplitHostPort(cfg.ListenFIX); err != nil {
		return nil, fmt.Errorf("gateway: listen address %q: %w", cfg.ListenFIX, err)
	}
	private, err := reservePort()
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.guard = &guard{g: g, inner: private, conns: map[net.Conn]struct{}{}, remote: map[string]string{}, links: map[string]*guardLink{}}
	settings, keys, err := buildSettings(cfg, private)
	if err != nil {
		return nil, err
	}
	for sid, k := range keys {
		g.bySID[sid] = g.sessions[k.cfg-1]
	}
	g.settings = settings
	lf := logFactory{log: g.log, g: g}
	g.stores = newStoreFactory(settings, keys)
	g.acceptor, err = quickfix.NewAcceptor(g, g.stores, settings, lf)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.acceptor.SetConnectionValidator(connTracker{g})
	return g, nil
}

// Start starts the acceptor listening on the configured address.
func (g *Gateway) Start() error {
	g.startedMu.Lock()
	defer g.startedMu.Unlock()
	if g.started {
		return errors.New("gateway: already started")
	}
	l, err := net.Listen("tcp", g.cfg.ListenFIX)
	if err != nil {
		return fmt.Errorf("gateway: listen %s: %w", g.cfg.ListenFIX, err)
	}
	if err := g.acceptor.Start(); err != nil {
		_ = l.Close()
		return fmt.Errorf("gateway: acceptor on %s: %w", g.guard.inner, err)
	}
	g.guard.listener = l
	for _, st := range g.sessions {
		go st.out.run()
	}
	go g.guard.serve()
	g.started = true
	g.log.Info().Str("addr", g.cfg.ListenFIX).Str("comp_id", g.cfg.TargetCompID).
		Int("sessions", len(g.sessions)).Msg("FIX acceptor listening")
	return nil
}

// Stop logs every session out, closes their connections and stops the
// acceptor. It returns when the sessions have ended.
func (g *Gateway) Stop() {
	g.stopOnce.Do(func() {
		g.startedMu.Lock()
		started := g.started
		g.startedMu.Unlock()
		if started {
			// No new brokers; the acceptor logs the sessions out (the
			// Logouts still reach the brokers through the guard), then the
			// guard's last connections are closed.
			_ = g.guard.listener.Close()
			// The reports already delivered go out before the Logouts.
			for _, st := range g.sessions {
				st.out.drain(5 * time.Second)
			}
			g.stores.waitRunning(5 * time.Second)
			g.acceptor.Stop()
			g.guard.close()
			g.stores.closeAll()
		} else {
			// The acceptor registered its sessions in QuickFIX/Go's global
			// registry at New; release them so a new gateway may be built.
			for sid := range g.bySID {
				_ = quickfix.UnregisterSession(sid)
			}
		}
		g.log.Info().Msg("FIX acceptor stopped")
	})
}

// Addr returns the configured listen address.
func (g *Gateway) Addr() string { return g.cfg.ListenFIX }

// LiveSession returns the FIX session a configured session is logged on with.
func (g *Gateway) LiveSession(id config.SessionID) (quickfix.SessionID, bool) {
	st := g.session(id)
	if st == nil {
		return quickfix.SessionID{}, false
	}
	p := st.live.Load()
	if p == nil {
		return quickfix.SessionID{}, false
	}
	return *p, true
}

func (g *Gateway) session(id config.SessionID) *sessionState {
	if id == 0 || int(id) > len(g.sessions) {
		return nil
	}
	return g.sessions[id-1]
}

// connTracker remembers each session's connection, so that a flooding session
// can be disconnected if it does not answer the Logout.
type connTracker struct{ g *Gateway }

func (c connTracker) Validate(conn net.Conn, sid quickfix.SessionID) error {
	// The acceptor's port is private to the guard: a connection made to it
	// directly never reaches a session.
	if !c.g.guard.dialed(conn.RemoteAddr().String()) {
		return errors.New("connection did not come through the gateway's guard")
	}
	if st := c.g.bySID[sid]; st != nil {
		st.mu.Lock()
		st.conns[sid] = conn
		st.mu.Unlock()
		// A connection for a session already logged on will be refused;
		// the outbox keeps counting on the one in use.
		if l := c.g.guard.link(conn.RemoteAddr().String()); l != nil && st.live.Load() == nil {
			st.out.attach(l)
		}
	}
	return nil
}

// OnCreate implements quickfix.Application.
func (g *Gateway) OnCreate(quickfix.SessionID) {}

// OnLogon implements quickfix.Application.
func (g *Gateway) OnLogon(sid quickfix.SessionID) {
	st := g.bySID[sid]
	if st == nil {
		return
	}
	p := sid
	if prev := st.live.Swap(&p); prev != nil && *prev != sid {
		// Two versions logged on at once slipped past the check in FromAdmin;
		// keep the first and drop this one.
		st.live.Store(prev)
		g.closeConn(st, sid)
		return
	}
	st.flood.Store(0)
	st.closing.Store(false)
	st.out.release()
	g.m.countLogon("ok")
	g.log.Info().Str("session", sid.String()).Str("remote", g.remote(sid)).Msg("logged on")
}

// OnLogout implements quickfix.Application: the order manager hears of the
// disconnect (and applies cancel-on-disconnect) and market data forgets the
// session's subscriptions.
func (g *Gateway) OnLogout(sid quickfix.SessionID) {
	st := g.bySID[sid]
	if st == nil {
		return
	}
	p := st.live.Load()
	if p == nil || *p != sid || !st.live.CompareAndSwap(p, nil) {
		return
	}
	g.log.Info().Str("session", sid.String()).Msg("logged out")
	st.out.release()
	req := ordermanager.Request{
		Kind:    ordermanager.ReqDisconnect,
		Session: st.cfg.ID,
		Firm:    st.cfg.Firm,
		Account: st.cfg.DefaultAccount,
		RecvNs:  time.Now().UnixNano(),
	}
	// The session's goroutine waits here, so a reconnect of the same session
	// cannot overtake its own disconnect in the order manager's queue.
	// A venue that is shutting down takes no more requests; its orders stay
	// as they are (they are in its final snapshot) and the broker finds them
	// after the restart, so there is nothing to wait for.
	closed, _ := g.submit.(interface{ Closed() bool })
	delay := time.Millisecond
	for start := time.Now(); !g.submit.Submit(&req); delay = min(2*delay, 100*time.Millisecond) {
		if closed != nil && closed.Closed() {
			g.log.Info().Str("session", sid.String()).Msg("exchange shutting down: disconnect not applied, orders stay for the restart")
			break
		}
		if time.Since(start) > 5*time.Second {
			g.m.disconnectLost.Add(1)
			g.log.Error().Str("session", sid.String()).Msg("order manager queue full: disconnect not delivered, cancel-on-disconnect not applied")
			break
		}
		time.Sleep(delay)
	}
	if g.md != nil {
		g.md.OnLogout(sid)
	}
}

// ToAdmin implements quickfix.Application.
func (g *Gateway) ToAdmin(msg *quickfix.Message, sid quickfix.SessionID) {}

// ToApp implements quickfix.Application.
func (g *Gateway) ToApp(msg *quickfix.Message, sid quickfix.SessionID) error { return nil }

// FromAdmin implements quickfix.Application: a Logon is authenticated here.
func (g *Gateway) FromAdmin(msg *quickfix.Message, sid quickfix.SessionID) quickfix.MessageRejectError {
	if !msg.IsMsgTypeOf("A") {
		return nil
	}
	if reason, result := g.authenticate(msg, sid); reason != "" {
		g.m.countLogon(result)
		g.log.Warn().Str("session", sid.String()).Str("remote", g.remote(sid)).
			Str("reason", reason).Msg("logon refused")
		return quickfix.RejectLogon{Text: reason}
	}
	return nil
}

// FromApp implements quickfix.Application: application messages are rate
// limited, validated, normalized and submitted to the order manager.
func (g *Gateway) FromApp(msg *quickfix.Message, sid quickfix.SessionID) quickfix.MessageRejectError {
	st := g.bySID[sid]
	if st == nil {
		return quickfix.NewBusinessMessageRejectError("not logged on", bizNotAuthorized, nil)
	}
	if p := st.live.Load(); p == nil || *p != sid {
		return quickfix.NewBusinessMessageRejectError("not logged on", bizNotAuthorized, nil)
	}
	return g.handle(msg, sid, st)
}

func (g *Gateway) remote(sid quickfix.SessionID) string {
	if a, ok := g.acceptor.RemoteAddr(sid); ok {
		return g.guard.brokerAddr(a.String())
	}
	return ""
}

// reservePort finds a free loopback port for the acceptor behind the guard.
func reservePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// closeConn closes the connection of sid, ending its session.
func (g *Gateway) closeConn(st *sessionState, sid quickfix.SessionID) {
	st.mu.Lock()
	c := st.conns[sid]
	st.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}
