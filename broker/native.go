package broker

import (
	"context"
	"encoding/json"
	"fmt"

	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"
	"github.com/rs/zerolog"
)

// nativeTransport is the default engine: one internal/fixsession initiator
// per session. Its writer writes whatever accumulated with one system call
// and never spins, so the sender hands it a whole batch at once (no relay,
// no gate), and answers are read in place from the receive buffer.
type nativeTransport struct {
	inis []*fixsession.Initiator
	tr   *tracker
	log  zerolog.Logger
	down []bool // sender goroutine only: a send failed since the last success
}

// startNative starts one initiator per session and waits until every
// session is logged on.
func startNative(ctx context.Context, o *Options, tr *tracker, log zerolog.Logger) (_ transport, err error) {
	n := &nativeTransport{tr: tr, log: log, down: make([]bool, len(o.Sessions))}
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
		}
		if s.Username != "" || s.Password != "" {
			st.LogonFields = fixsession.AppendString(st.LogonFields, int(tag.Username), s.Username)
			st.LogonFields = fixsession.AppendString(st.LogonFields, int(tag.Password), s.Password)
		}
		slog := zerolog.New(&sessionLog{i: i, l: l, tr: tr, out: log}).Level(level)
		ini, err := fixsession.NewInitiator(addr, st, &nativeApp{i: i, tr: tr, l: l}, slog)
		if err != nil {
			return nil, fmt.Errorf("broker: session %s: %w", s.SenderCompID, err)
		}
		n.inis = append(n.inis, ini)
		ini.Start()
	}
	if err := l.waitLogon(o.LogonTimeout, ctx.Done()); err != nil {
		return nil, err
	}
	return n, nil
}

// send writes the batch with one lock and one wake-up of the session's
// writer, and notes the requests' MsgSeqNums for rejections that name only
// that. fixsession does not say which numbers a batch got, so they are
// inferred from the next outbound number before and after: when a
// heartbeat slipped in between they are not known, and a rejection by
// sequence number of that batch will count as unmatched.
//
// A session that is not logged on (the exchange dropped it; the initiator
// reconnects) does not end the run: its requests stay unanswered.
func (n *nativeTransport) send(i int, b *batch) error {
	s := n.inis[i].Session
	before, _ := s.NextSeqNums()
	err := s.SendBodies(b.len(), b.msg)
	after, _ := s.NextSeqNums()
	if err != nil {
		if !n.down[i] {
			n.down[i] = true
			n.log.Warn().Str("session", s.ID().String()).Err(err).Msg("requests not sent: they count as unanswered")
		}
		return nil
	}
	n.down[i] = false
	if after-before == uint64(b.len()) {
		n.tr.noteSeqs(i, int(before), b.reqs)
	}
	return nil
}

// close logs every session out at once and waits for them.
func (n *nativeTransport) close() {
	var wg sync.WaitGroup
	for _, ini := range n.inis {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ini.Stop()
		}()
	}
	wg.Wait()
}

// nativeApp is the fixsession App of session i.
type nativeApp struct {
	i  int
	tr *tracker
	l  *logons
}

func (a *nativeApp) Logon(quickfix.SessionID, *fixsession.Session, *fixsession.Message) string {
	return ""
}

func (a *nativeApp) OnLogon(*fixsession.Session)  { a.l.setLoggedOn(a.i, true) }
func (a *nativeApp) OnLogout(*fixsession.Session) { a.l.setLoggedOn(a.i, false) }

// FromApp reads the answer's fields in place (no parse into QuickFIX/Go's
// message type, no copies) and times it by when its bytes were read. It
// never rejects: a malformed or unexpected answer is counted, not fought
// over.
func (a *nativeApp) FromApp(_ *fixsession.Session, m *fixsession.Message) quickfix.MessageRejectError {
	if !answer(a.tr, m.ReceiveTime, a.i, string(m.MsgType), func(t int) []byte { v, _ := m.Get(t); return v }) {
		a.tr.unmatched()
	}
	return nil
}

// sessionLog receives the log of one fixsession session (JSON lines),
// passes it on to the run's logger, and picks out the two events that
// fixsession reports only by logging them:
//
//   - a Logout in answer to our Logon ("FIX connection ended", reason
//     "logon refused: <Text>"), so that Run fails at once with the
//     exchange's reason instead of after LogonTimeout;
//   - a session-level Reject ("session-level Reject received"), which
//     fixsession does not hand to the App and whose RefSeqNum it does not
//     log: it is counted as unmatched so that it is at least seen.
//
// Both events are rare, so decoding each line is cheap enough.
type sessionLog struct {
	i   int
	l   *logons
	tr  *tracker
	out zerolog.Logger
}

const logonRefusedPrefix = "logon refused: "

func (w *sessionLog) Write(p []byte) (int, error) {
	var e map[string]any
	if err := json.Unmarshal(p, &e); err != nil {
		return len(p), nil
	}
	msg, _ := e[zerolog.MessageFieldName].(string)
	switch msg {
	case "FIX connection ended":
		if r, _ := e["reason"].(string); strings.HasPrefix(r, logonRefusedPrefix) {
			w.l.logonRefused(w.i, strings.TrimPrefix(r, logonRefusedPrefix))
		}
	case "session-level Reject received":
		w.tr.unmatched()
	}
	lv, _ := e[zerolog.LevelFieldName].(string)
	level, err := zerolog.ParseLevel(lv)
	if err != nil {
		level = zerolog.InfoLevel
	}
	ev := w.out.WithLevel(level)
	if ev == nil {
		return len(p), nil
	}
	for k, v := range e {
		if k != zerolog.MessageFieldName && k != zerolog.LevelFieldName {
			ev = ev.Interface(k, v)
		}
	}
	ev.Str("component", "fixsession").Msg(msg)
	return len(p), nil
}
