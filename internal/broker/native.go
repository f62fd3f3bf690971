package broker

import (
	"context"
	"fmt"

	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/quickfixgo/tag"
	"github.com/rs/zerolog"
)

// nativeTransport is the default engine: one internal/fixsession initiator
// per session. Its writer writes whatever accumulated with one system call
// and never spins, so the sender hands it a whole batch at once (no relay,
// no gate), and answers are read in place from the receive buffer.
type nativeTransport struct {
	// inis holds each session's initiator; a failover replaces it
	// (failover.go).
	inis []atomic.Pointer[fixsession.Initiator]
	tr   *tracker
	log  zerolog.Logger
	down []bool // sender goroutine only: a send failed since the last success

	// For failover.go: each session's settings and App, the addresses to
	// follow the leader over (nil: none), and the run's end.
	settings []fixsession.Settings
	apps     []*nativeApp
	slog     zerolog.Logger
	fo       *failover
}

func (n *nativeTransport) ini(i int) *fixsession.Initiator { return n.inis[i].Load() }

// startNative starts one initiator per session and waits until every
// session is logged on.
func startNative(ctx context.Context, o *Options, tr *tracker, log zerolog.Logger) (_ transport, err error) {
	n := &nativeTransport{tr: tr, log: log, down: make([]bool, len(o.Sessions)),
		inis: make([]atomic.Pointer[fixsession.Initiator], len(o.Sessions))}
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	l := newLogons(o.Sessions)
	addr := net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	level := zerolog.InfoLevel
	if o.FIXLogging {
		level = zerolog.DebugLevel
	}
	for i, s := range o.Sessions {
		st := fixsession.Settings{
			Header:          fixsession.Header{BeginString: beginString, SenderCompID: s.SenderCompID, TargetCompID: s.TargetCompID},
			HeartBtInt:      time.Duration(o.HeartBtInt) * time.Second,
			StoreDir:        o.StoreDir,
			ResetOnLogon:    o.ResetOnLogon,
			ResetSeqNumFlag: o.ResetOnLogon,
			// Resends are gap-filled: keeping every message of a long run
			// in memory is not worth it for a load generator.
			NoResendStore: o.StoreDir == "",
			WriteEach:     o.WriteEach,
		}
		if s.Username != "" || s.Password != "" {
			st.LogonFields = fixsession.AppendString(st.LogonFields, int(tag.Username), s.Username)
			st.LogonFields = fixsession.AppendString(st.LogonFields, int(tag.Password), s.Password)
		}
		n.slog = log.With().Str("component", "fixsession").Logger().Level(level)
		app := newNativeApp(i, tr, l)
		if len(o.Failover) > 0 {
			app.seen = newExecSeen()
		}
		ini, err := fixsession.NewInitiator(addr, st, app, n.slog)
		if err != nil {
			return nil, fmt.Errorf("broker: session %s: %w", s.SenderCompID, err)
		}
		n.settings = append(n.settings, st)
		n.apps = append(n.apps, app)
		n.inis[i].Store(ini)
		ini.Start()
	}
	if err := l.waitLogon(o.LogonTimeout, ctx.Done()); err != nil {
		return nil, err
	}
	if len(o.Failover) > 0 {
		n.fo = startFailover(n, o, addr)
	}
	return n, nil
}

// send writes the batch with one lock and one wake-up of the session's
// writer, and notes the requests' MsgSeqNums for rejections that name only
// that.
//
// A session that is not logged on (the exchange dropped it; the initiator
// reconnects) does not end the run: its requests stay unanswered.
func (n *nativeTransport) send(i int, b *batch) error {
	s := n.ini(i).Session
	err := n.tr.sendNoted(i, b.reqs, func() (uint64, error) { return s.SendBodies(b.len(), b.msg) })
	if err != nil {
		if !n.down[i] {
			n.down[i] = true
			n.log.Warn().Str("session", s.ID().String()).Err(err).Msg("requests not sent while the session is down: they count as unanswered")
		}
		n.tr.notSent(b.reqs)
		return nil
	}
	n.down[i] = false
	return nil
}

// close logs every session out at once and waits for them.
func (n *nativeTransport) close() {
	if n.fo != nil {
		n.fo.stop()
	}
	var wg sync.WaitGroup
	for i := range n.inis {
		ini := n.ini(i)
		if ini == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ini.Stop()
		}()
	}
	wg.Wait()
}

// nativeApp is the fixsession App of session i (of each initiator the
// session has, when it follows a cluster's leader).
type nativeApp struct {
	i  int
	tr *tracker
	l  *logons
	// Signals for failover.go, each buffered and sent without blocking:
	// the session logged on, its connection ended, a logon was refused
	// (the Text), the last answer to a mass status request arrived (its
	// MassStatusReqID).
	loggedOn, dropped chan struct{}
	refused, massLast chan string
	// seen drops the reports a new leader resends after a failover that
	// the session already had (resend.go); nil without Options.Failover.
	seen *execSeen
}

func newNativeApp(i int, tr *tracker, l *logons) *nativeApp {
	return &nativeApp{i: i, tr: tr, l: l, loggedOn: make(chan struct{}, 1), dropped: make(chan struct{}, 1),
		refused: make(chan string, 1), massLast: make(chan string, 1)}
}

func signal[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

func (a *nativeApp) Logon(fixsession.SessionID, *fixsession.Session, *fixsession.Message) string {
	return ""
}

func (a *nativeApp) OnLogon(*fixsession.Session) {
	a.l.setLoggedOn(a.i, true)
	signal(a.loggedOn, struct{}{})
}

func (a *nativeApp) OnLogout(*fixsession.Session) {
	a.l.setLoggedOn(a.i, false)
	signal(a.dropped, struct{}{})
}

// FromApp reads the answer's fields in place (no parse into QuickFIX/Go's
// message type, no copies) and times it by when its bytes were read. It
// never rejects: a malformed or unexpected answer is counted, not fought
// over.
func (a *nativeApp) FromApp(_ *fixsession.Session, m *fixsession.Message) *fixsession.RejectError {
	if a.seen != nil && string(m.MsgType) == "8" && a.seen.dup(m) {
		return nil
	}
	if v, ok := m.Get(fieldLastRptRequested); ok && string(v) == "Y" {
		id, _ := m.Get(fieldMassStatusReqID)
		signal(a.massLast, string(id))
	}
	if !answer(a.tr, m.ReceiveTime, a.i, string(m.MsgType), func(t int) []byte { v, _ := m.Get(t); return v }) {
		a.tr.unmatched()
	}
	return nil
}

// FromAdmin counts a session-level Reject against the request it names
// by MsgSeqNum.
func (a *nativeApp) FromAdmin(_ *fixsession.Session, m *fixsession.Message) {
	if !sessionReject(a.tr, m.ReceiveTime, a.i, func(t int) []byte { v, _ := m.Get(t); return v }) {
		a.tr.unmatched()
	}
}

// OnLogonRefused makes Run fail at once with the exchange's reason instead
// of after LogonTimeout.
func (a *nativeApp) OnLogonRefused(_ *fixsession.Session, text string) {
	a.l.logonRefused(a.i, text)
	signal(a.refused, text)
}
