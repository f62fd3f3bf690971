package gateway

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
)

// Submitter is the order manager's inbound queue. Submit must not block; false
// means the queue is full (the exchange is busy) and the request was not taken.
type Submitter interface {
	Submit(req *ordermanager.Request) bool
}

// MarketData handles MarketDataRequest (35=V) for a session and forgets a
// session's subscriptions when it logs out (implemented by package
// marketdata). raw is the whole request as received, valid only during the
// call; a non-nil refusal is answered by the session layer.
type MarketData interface {
	OnMarketDataRequest(raw []byte, sid fixsession.SessionID) *fixsession.RejectError
	OnLogout(sid fixsession.SessionID)
}

// Options configure a Gateway.
type Options struct {
	// Ref is the venue's reference data (required): sessions, firms,
	// accounts and symbols.
	Ref *refdata.Registry
	// Settings are the listener's, the sessions' and the stores'.
	Settings  Settings
	Submitter Submitter
	// MarketData may be nil: a MarketDataRequest then gets a
	// BusinessMessageReject (unsupported message type).
	MarketData MarketData
	Log        zerolog.Logger
	// FloodLogoutGrace is how long a session being logged out for flooding has
	// to answer the Logout before its connection is closed (default 2s).
	FloodLogoutGrace time.Duration
	// LogonGate, when set, is asked before every Logon; a non-empty answer
	// refuses it with a Logout carrying that Text (a cluster standby names
	// the leader's FIX address).
	LogonGate func() string
	// LoseReports is a test hook for the crash tests: a report of the
	// journal (Report.OutSeq set) for which it returns true is neither sent
	// nor stored, as if the process had been killed between the journal
	// write and the FIX store write (redeliver.go). Nil in production.
	LoseReports func(rep *ordermanager.Report) bool
	// Continuity, set on a cluster node, keeps FIX sessions going across a
	// failover (continuity.go); nil on a single venue.
	Continuity *Continuity
}

// Gateway is the FIX acceptor and the translation between FIX and the order
// manager's Requests and Reports.
type Gateway struct {
	cfg        *venueConfig
	submit     Submitter
	md         MarketData
	log        zerolog.Logger
	floodGrace time.Duration
	gate       func() string
	lose       func(rep *ordermanager.Report) bool

	acc *fixsession.Acceptor

	// status is each symbol's trading phase, for TradingSessionStatus.
	status tradingStatus

	// sessions is indexed by refdata.SessionID-1; byFS, the one map of
	// sessions, maps each configured FIX session (one per CompID and
	// BeginString) to its state by the session layer's pointer, which every
	// callback has (Logon included: no hashing of three strings per
	// message). The acceptor finds the FIX session by its SessionID. Both
	// are read-only after New.
	sessions []*sessionState
	byFS     map[*fixsession.Session]*sessionState
	units    []symUnits // fast decimal conversions, by SymbolID-1

	execSeq   atomic.Uint64 // gateway-generated ExecIDs for its own rejects
	startTag  string        // distinguishes this process's gateway ExecIDs
	authKey   [32]byte      // keys the cache of verified passwords
	hashing   hashSlots     // bounds the bcrypt checks running at once
	schedule  fixsession.StoreSchedule
	rollStop  chan struct{} // ends runRollover
	m         *metrics
	dl        deliverScratch // Deliver's goroutine only
	stopOnce  sync.Once
	startedMu sync.Mutex
	started   bool
	listener  net.Listener
	serveDone chan struct{}

	adm adminState // operator console (admin.go)

	co *continuity // nil unless Options.Continuity (continuity.go)
}

// sessionState is what the gateway keeps about one configured session (one
// SenderCompID): the FIX session currently logged on, its rate limiter, its
// flood counter. It holds no order state.
type sessionState struct {
	cfg     *refdata.Session
	limiter *rate.Limiter
	rateTxt string // "rate limit exceeded: N msgs/s"

	fs atomic.Pointer[fixsession.Session] // the logged-on FIX session, nil when none
	// home is the FIX session (of the beginStrings) reports are queued in
	// while none is logged on: the one that logged on last, or after a
	// restart the one whose store was written last (see deliver_offline.go).
	home    atomic.Pointer[fixsession.Session]
	flood   atomic.Int64 // rate-limited messages in a row
	closing atomic.Bool  // a flood or overflow logout is under way

	lastFailNs    atomic.Int64 // when a logon last failed bcrypt
	lastDeliverNs atomic.Int64 // when Deliver last sent to this session
	dlGen         uint64       // the Deliver call that last sent to it (Deliver only)

	routes routes // third-party routing of its orders (route.go)

	mu        sync.Mutex
	authCache [32]byte // HMAC of the last password that passed bcrypt; zero = none

	adm sessionAdmin // operator console (admin.go)
}

// New builds the gateway and its FIX sessions from the configuration;
// nothing listens until Start.
func New(opts Options) (*Gateway, error) {
	if opts.Submitter == nil {
		return nil, errors.New("gateway: Options.Submitter is required")
	}
	if opts.Ref == nil {
		return nil, errors.New("gateway: Options.Ref is required")
	}
	cfg := &venueConfig{Registry: opts.Ref, Settings: opts.Settings}
	g := &Gateway{
		cfg:        cfg,
		submit:     opts.Submitter,
		md:         opts.MarketData,
		log:        opts.Log.With().Str("component", "gateway").Logger(),
		floodGrace: opts.FloodLogoutGrace,
		gate:       opts.LogonGate,
		lose:       opts.LoseReports,
		byFS:       map[*fixsession.Session]*sessionState{},
		startTag:   fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffffff),
		m:          newMetrics(),
		units:      symbolUnits(cfg),
		serveDone:  make(chan struct{}),
	}
	if g.floodGrace <= 0 {
		g.floodGrace = 2 * time.Second
	}
	g.adm.blocked = make([]atomic.Bool, len(cfg.Firms))
	g.hashing = newHashSlots(runtime.NumCPU())
	if err := randomKey(g.authKey[:]); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	for i := range cfg.Sessions {
		cs := &cfg.Sessions[i]
		g.sessions = append(g.sessions, &sessionState{
			cfg:     cs,
			limiter: rate.NewLimiter(rate.Limit(cs.RatePerSecond), max(cs.Burst, 1)),
			rateTxt: "rate limit exceeded: " + strconv.FormatFloat(cs.RatePerSecond, 'f', -1, 64) + " msgs/s",
		})
	}
	if _, _, err := net.SplitHostPort(cfg.ListenFIX); err != nil {
		return nil, fmt.Errorf("gateway: listen address %q: %w", cfg.ListenFIX, err)
	}
	settings, keys, err := buildSettings(cfg, cfg.ListenFIX)
	if err != nil {
		return nil, err
	}
	if g.schedule, err = storeSchedule(cfg); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.rollStop = make(chan struct{})
	g.acc = fixsession.NewAcceptor(fixApp{g}, g.log)
	g.acc.Malformed = func(remote string, err error) {
		g.m.guardClosed.Add(1)
		g.log.Warn().Str("remote", remote).Str("reason", err.Error()).Msg("malformed FIX message: connection closed")
	}
	for sid, k := range keys {
		fsCfg, err := sessionSettings(sid, settings[sid])
		if err != nil {
			return nil, err
		}
		fsCfg.Schedule = g.schedule
		fs, err := g.acc.AddSession(fsCfg)
		if err != nil {
			return nil, fmt.Errorf("gateway: session %s: %w", sid, err)
		}
		g.byFS[fs] = g.sessions[k.cfg-1]
	}
	g.chooseHomes()
	if opts.Continuity != nil {
		g.co = newContinuity(g, *opts.Continuity)
	}
	return g, nil
}

// Start starts listening on the configured address.
func (g *Gateway) Start() error {
	g.startedMu.Lock()
	defer g.startedMu.Unlock()
	if g.started {
		return errors.New("gateway: already started")
	}
	l, err := net.Listen("tcp", g.cfg.ListenFIX)
	if err != nil {
		return fmt.Errorf("gateway: %w", err) // the net error names the address
	}
	g.listener = l
	go func() {
		defer close(g.serveDone)
		g.acc.Serve(l)
	}()
	go g.runRollover(g.rollStop)
	g.started = true
	g.log.Info().Str("addr", g.cfg.ListenFIX).Str("comp_id", g.cfg.TargetCompID).
		Int("sessions", len(g.sessions)).Msg("FIX acceptor listening")
	return nil
}

// Stop logs every session out, closes their connections and stops the
// acceptor. It returns when the sessions have ended. Reports delivered
// before Stop are already in the sessions' buffers and go out before the
// Logouts.
func (g *Gateway) Stop() {
	g.stopOnce.Do(func() {
		g.startedMu.Lock()
		started := g.started
		g.startedMu.Unlock()
		if started {
			_ = g.listener.Close() // no new brokers, even if Serve has not started yet
		}
		close(g.rollStop)
		g.acc.Stop("exchange shutting down", 5*time.Second)
		if started {
			<-g.serveDone
		}
		g.log.Info().Msg("FIX acceptor stopped")
	})
}

// Addr returns the address the gateway listens on (the configured one
// before Start; with port 0 configured, the port the system chose after).
func (g *Gateway) Addr() string {
	g.startedMu.Lock()
	defer g.startedMu.Unlock()
	if g.listener != nil {
		return g.listener.Addr().String()
	}
	return g.cfg.ListenFIX
}

// LiveSession returns the FIX session a configured session is logged on with.
func (g *Gateway) LiveSession(id refdata.SessionID) (fixsession.SessionID, bool) {
	st := g.session(id)
	if st == nil {
		return fixsession.SessionID{}, false
	}
	fs := st.fs.Load()
	if fs == nil {
		return fixsession.SessionID{}, false
	}
	return fs.ID(), true
}

func (g *Gateway) session(id refdata.SessionID) *sessionState {
	if id == 0 || int(id) > len(g.sessions) {
		return nil
	}
	return g.sessions[id-1]
}

// Send sends an application message, MsgType msgType and body the complete
// tag=value␁ fields after the standard header, to the logged-on session sid
// (market data's FIX sender).
func (g *Gateway) Send(sid fixsession.SessionID, msgType string, body []byte) error {
	s := g.acc.Session(sid)
	if s == nil {
		return fmt.Errorf("gateway: unknown session %s", sid)
	}
	return s.SendBody(msgType, body)
}

// fixApp is the gateway as the session layer's App.
type fixApp struct{ g *Gateway }

// Logon authenticates a Logon.
func (a fixApp) Logon(sid fixsession.SessionID, fs *fixsession.Session, m *fixsession.Message) string {
	g := a.g
	if reason := g.logonBlocked(fs); reason != "" {
		g.m.countLogon("blocked")
		g.log.Warn().Str("session", sid.String()).Str("reason", reason).Msg("logon refused")
		return reason
	}
	if g.gate != nil {
		if reason := g.gate(); reason != "" {
			g.m.countLogon("not_leader")
			return reason
		}
	}
	if reason, result := g.authenticate(rawFields{m}, sid, fs); reason != "" {
		g.m.countLogon(result)
		g.log.Warn().Str("session", sid.String()).Str("reason", reason).Msg("logon refused")
		return reason
	}
	if g.co != nil {
		if reason := g.co.logon(g.byFS[fs], fs, m); reason != "" {
			g.log.Warn().Str("session", sid.String()).Str("reason", reason).Msg("logon refused")
			return reason
		}
	}
	return ""
}

// OnLogon marks the session live.
func (a fixApp) OnLogon(s *fixsession.Session) {
	g := a.g
	sid := s.ID()
	st := g.byFS[s]
	if st == nil {
		return
	}
	if !st.fs.CompareAndSwap(nil, s) {
		// Two versions logged on at once slipped past the check in Logon;
		// keep the first and drop this one.
		s.Disconnect()
		return
	}
	st.home.Store(s)
	st.flood.Store(0)
	st.closing.Store(false)
	st.adm.sinceNs.Store(time.Now().UnixNano())
	g.m.countLogon("ok")
	g.log.Info().Str("session", sid.String()).Str("remote", s.RemoteAddr()).Msg("logged on")
	if g.co != nil {
		g.co.onLogon(st, s)
	}
}

// OnLogout tells the order manager of the disconnect (it applies
// cancel-on-disconnect) and market data forgets the session's
// subscriptions.
func (a fixApp) OnLogout(s *fixsession.Session) {
	g := a.g
	sid := s.ID()
	st := g.byFS[s]
	if st == nil || !st.fs.CompareAndSwap(s, nil) {
		return
	}
	g.log.Info().Str("session", sid.String()).Msg("logged out")
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

// FromApp rate limits, validates, normalizes and submits application
// messages.
func (a fixApp) FromApp(s *fixsession.Session, m *fixsession.Message) *fixsession.RejectError {
	g := a.g
	st := g.byFS[s]
	if st == nil || st.fs.Load() != s {
		return fixsession.BusinessReject(bizNotAuthorized, "not logged on")
	}
	st.adm.msgsIn.Add(1)
	return g.handle(m, s, st)
}
