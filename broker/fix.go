package broker

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/quickfix/config"
	"github.com/quickfixgo/quickfix/store/file"
	"github.com/quickfixgo/tag"
	"github.com/rs/zerolog"
)

const beginString = "FIX.4.4"

// fixSettings builds the QuickFIX/Go initiator settings for o's sessions;
// relayPorts, when not nil, has the loopback port of each session's relay,
// which the session connects to instead of the exchange.
func fixSettings(o *Options, relayPorts []int) (*quickfix.Settings, []quickfix.SessionID, error) {
	st := quickfix.NewSettings()
	g := st.GlobalSettings()
	g.Set(config.SocketConnectHost, o.Host)
	g.Set(config.SocketConnectPort, strconv.Itoa(o.Port))
	g.Set(config.HeartBtInt, strconv.Itoa(o.HeartBtInt))
	g.Set(config.ReconnectInterval, "1")
	g.Set(config.LogoutTimeout, "1")
	g.Set(config.ResetOnLogon, yn(o.ResetOnLogon))
	if o.StoreDir != "" {
		g.Set(config.FileStorePath, o.StoreDir)
	} else {
		// Resends would be gap-filled; keeping every message of a long
		// run in memory is not worth it for a load generator.
		g.Set(config.PersistMessages, "N")
	}
	ids := make([]quickfix.SessionID, len(o.Sessions))
	for i, s := range o.Sessions {
		ss := quickfix.NewSessionSettings()
		ss.Set(config.BeginString, beginString)
		ss.Set(config.SenderCompID, s.SenderCompID)
		ss.Set(config.TargetCompID, s.TargetCompID)
		if relayPorts != nil {
			ss.Set(config.SocketConnectHost, "127.0.0.1")
			ss.Set(config.SocketConnectPort, strconv.Itoa(relayPorts[i]))
		}
		id, err := st.AddSession(ss)
		if err != nil {
			return nil, nil, fmt.Errorf("broker: session %s: %w", s.SenderCompID, err)
		}
		ids[i] = id
	}
	return st, ids, nil
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

func storeFactory(o *Options, st *quickfix.Settings) quickfix.MessageStoreFactory {
	if o.StoreDir != "" {
		return file.NewStoreFactory(st)
	}
	return quickfix.NewMemoryStoreFactory()
}

// app is the QuickFIX/Go Application of the simulator: it adds credentials
// to Logon, notes sequence numbers of outgoing requests (for session-level
// Rejects, which name only RefSeqNum) and hands every answer to the tracker.
type app struct {
	sessions map[quickfix.SessionID]int
	creds    []Session
	tr       *tracker
	log      zerolog.Logger

	mu        sync.Mutex
	loggedOn  []bool
	logonErr  []string // Text of a Logout received before logon
	logonCond chan struct{}
}

func newApp(o *Options, ids []quickfix.SessionID, tr *tracker, log zerolog.Logger) *app {
	a := &app{sessions: make(map[quickfix.SessionID]int, len(ids)), creds: o.Sessions, tr: tr, log: log,
		loggedOn: make([]bool, len(ids)), logonErr: make([]string, len(ids)), logonCond: make(chan struct{}, 1)}
	for i, id := range ids {
		a.sessions[id] = i
	}
	return a
}

func (a *app) index(id quickfix.SessionID) int {
	if i, ok := a.sessions[id]; ok {
		return i
	}
	return -1
}

func (a *app) signal() {
	select {
	case a.logonCond <- struct{}{}:
	default:
	}
}

func (a *app) OnCreate(quickfix.SessionID) {}

func (a *app) OnLogon(id quickfix.SessionID) {
	a.log.Info().Str("session", id.String()).Msg("logged on")
	a.setLoggedOn(id, true)
}

func (a *app) OnLogout(id quickfix.SessionID) {
	a.log.Info().Str("session", id.String()).Msg("logged out")
	a.setLoggedOn(id, false)
}

func (a *app) setLoggedOn(id quickfix.SessionID, on bool) {
	if i := a.index(id); i >= 0 {
		a.mu.Lock()
		a.loggedOn[i] = on
		a.mu.Unlock()
		a.signal()
	}
}

func (a *app) ToAdmin(m *quickfix.Message, id quickfix.SessionID) {
	if !m.IsMsgTypeOf("A") {
		return
	}
	if i := a.index(id); i >= 0 {
		if c := a.creds[i]; c.Username != "" || c.Password != "" {
			m.Body.SetString(tag.Username, c.Username)
			m.Body.SetString(tag.Password, c.Password)
		}
	}
}

func (a *app) ToApp(m *quickfix.Message, id quickfix.SessionID) error {
	seq, err1 := m.Header.GetInt(tag.MsgSeqNum)
	clOrdID, err2 := m.Body.GetString(tag.ClOrdID)
	if err1 == nil && err2 == nil {
		a.tr.noteSeq(a.index(id), seq, clOrdID)
	}
	return nil
}

func (a *app) FromAdmin(m *quickfix.Message, id quickfix.SessionID) quickfix.MessageRejectError {
	switch {
	case m.IsMsgTypeOf("3"):
		ref, err := m.Body.GetInt(tag.RefSeqNum)
		if err != nil {
			a.tr.unmatched()
			return nil
		}
		code, _ := m.Body.GetString(tag.SessionRejectReason)
		text, _ := m.Body.GetString(tag.Text)
		a.tr.seqReject(time.Now(), a.index(id), ref, "session-reject 373="+code, text)
	case m.IsMsgTypeOf("5"):
		text, _ := m.Body.GetString(tag.Text)
		if text == "" {
			return nil
		}
		a.log.Warn().Str("session", id.String()).Str("text", text).Msg("logout from exchange")
		if i := a.index(id); i >= 0 {
			a.mu.Lock()
			a.logonErr[i] = text
			a.mu.Unlock()
			a.signal()
		}
	}
	return nil
}

// FromApp never rejects: a malformed or unexpected answer is counted, not
// fought over.
func (a *app) FromApp(m *quickfix.Message, id quickfix.SessionID) quickfix.MessageRejectError {
	now := time.Now()
	mt, err := m.MsgType()
	if err != nil {
		a.tr.unmatched()
		return nil
	}
	b := &m.Body
	clOrdID := optString(b, tag.ClOrdID)
	text := optString(b, tag.Text)
	switch mt {
	case "8":
		execType := optString(b, tag.ExecType)
		ordStatus := optString(b, tag.OrdStatus)
		code := optString(b, tag.OrdRejReason)
		a.tr.execReport(now, clOrdID, execType, ordStatus, code, text)
	case "9":
		code := optString(b, tag.CxlRejReason)
		a.tr.reject(now, clOrdID, "cancel-reject 102="+code, text)
	case "j":
		ref := optString(b, tag.BusinessRejectRefID)
		code := optString(b, tag.BusinessRejectReason)
		if ref == "" {
			ref = clOrdID
		}
		if ref == "" {
			// No ClOrdID to go by: the rejected message's sequence number.
			if seq, err := m.Body.GetInt(tag.RefSeqNum); err == nil {
				a.tr.seqReject(now, a.index(id), seq, "business-reject 380="+code, text)
				return nil
			}
		}
		a.tr.reject(now, ref, "business-reject 380="+code, text)
	default:
		// Market data and anything else: not an answer to a request.
	}
	return nil
}

// optString is the field's value, or "" when it is absent. GetString on an
// absent tag builds an error (a Sprintf and several allocations), and most
// ExecutionReports lack Text and OrdRejReason, so Has is asked first.
func optString(b *quickfix.Body, t quickfix.Tag) string {
	if !b.Has(t) {
		return ""
	}
	v, _ := b.GetString(t)
	return v
}

// waitLogon blocks until every session is logged on, a Logout with a reason
// arrives, or the timeout passes.
func (a *app) waitLogon(timeout time.Duration, stop <-chan struct{}) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		a.mu.Lock()
		all := true
		for i, ok := range a.loggedOn {
			if a.logonErr[i] != "" && !ok {
				err := fmt.Errorf("broker: logon of %s refused: %s", a.creds[i].SenderCompID, a.logonErr[i])
				a.mu.Unlock()
				return err
			}
			all = all && ok
		}
		a.mu.Unlock()
		if all {
			return nil
		}
		select {
		case <-a.logonCond:
		case <-stop:
			return fmt.Errorf("broker: cancelled while logging on")
		case <-deadline.C:
			a.mu.Lock()
			defer a.mu.Unlock()
			for i, ok := range a.loggedOn {
				if !ok {
					return fmt.Errorf("broker: session %s->%s not logged on after %s",
						a.creds[i].SenderCompID, a.creds[i].TargetCompID, timeout)
				}
			}
			return nil
		}
	}
}

// fixLogFactory sends QuickFIX/Go's logs through zerolog: session events at
// debug, every message at trace, so the default level writes nothing per
// message.
type fixLogFactory struct{ log zerolog.Logger }

type fixLog struct{ log zerolog.Logger }

func (f fixLogFactory) Create() (quickfix.Log, error) { return fixLog{f.log}, nil }

func (f fixLogFactory) CreateSessionLog(id quickfix.SessionID) (quickfix.Log, error) {
	return fixLog{f.log.With().Str("session", id.String()).Logger()}, nil
}

func (l fixLog) OnIncoming(b []byte) { l.log.Trace().Bytes("in", b).Send() }
func (l fixLog) OnOutgoing(b []byte) { l.log.Trace().Bytes("out", b).Send() }
func (l fixLog) OnEvent(s string)    { l.log.Debug().Msg(s) }
func (l fixLog) OnEventf(f string, v ...interface{}) {
	if e := l.log.Debug(); e.Enabled() {
		e.Msgf(f, v...)
	}
}
