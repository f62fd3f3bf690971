package broker

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/quickfix/config"
	"github.com/quickfixgo/quickfix/store/file"
	"github.com/quickfixgo/tag"
	"github.com/rs/zerolog"
)

const beginString = "FIX.4.4"

// fixSettings builds the QuickFIX/Go initiator settings for o's sessions;
// relayPorts has the loopback port of each session's relay, which the
// session connects to instead of the exchange.
func fixSettings(o *Options, relayPorts []int) (*quickfix.Settings, []quickfix.SessionID, error) {
	st := quickfix.NewSettings()
	g := st.GlobalSettings()
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
		ss.Set(config.SocketConnectHost, "127.0.0.1")
		ss.Set(config.SocketConnectPort, strconv.Itoa(relayPorts[i]))
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
	*logons
	sessions map[quickfix.SessionID]int
	tr       *tracker
	log      zerolog.Logger
}

func newApp(o *Options, ids []quickfix.SessionID, tr *tracker, log zerolog.Logger) *app {
	a := &app{logons: newLogons(o.Sessions), sessions: make(map[quickfix.SessionID]int, len(ids)), tr: tr, log: log}
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

func (a *app) OnCreate(quickfix.SessionID) {}

func (a *app) OnLogon(id quickfix.SessionID) {
	a.log.Info().Str("session", id.String()).Msg("logged on")
	a.setLoggedOn(a.index(id), true)
}

func (a *app) OnLogout(id quickfix.SessionID) {
	a.log.Info().Str("session", id.String()).Msg("logged out")
	a.setLoggedOn(a.index(id), false)
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
		if !sessionReject(a.tr, time.Now(), a.index(id), bodyGetter(&m.Body)) {
			a.tr.unmatched()
		}
	case m.IsMsgTypeOf("5"):
		text, _ := m.Body.GetString(tag.Text)
		if text == "" {
			return nil
		}
		a.log.Warn().Str("session", id.String()).Str("text", text).Msg("logout from exchange")
		a.logonRefused(a.index(id), text)
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
	if i := a.index(id); !answer(a.tr, now, i, mt, bodyGetter(&m.Body)) {
		a.tr.unmatched()
	}
	return nil
}

// answer hands one application message of session i to the tracker, its
// fields read through get (absent: nil). Both engines use it, so they count
// the same way. It reports false when the message is malformed (a
// BusinessMessageReject without a usable reference); anything that is not
// an answer to a request (market data) is ignored and reported true.
func answer(tr *tracker, now time.Time, session int, msgType string, get func(tag int) []byte) bool {
	switch msgType {
	case "8":
		if et := get(fieldExecType); string(et) == "I" {
			tr.statusReport(now, session, get(fieldClOrdID), get(fieldOrdStatus), get(fieldText), len(get(fieldMassStatusReqID)) > 0)
		} else {
			tr.execReport(now, get(fieldClOrdID), et, get(fieldOrdStatus), get(fieldOrdRejReason), get(fieldText))
		}
	case "9":
		tr.reject(now, get(fieldClOrdID), "cancel-reject 102=", get(fieldCxlRejReason), get(fieldText))
	case "j":
		ref := get(fieldBusinessRejectRefID)
		if len(ref) == 0 {
			ref = get(fieldClOrdID)
		}
		code, text := get(fieldBusinessRejectReason), get(fieldText)
		if len(ref) == 0 {
			// No ClOrdID to go by: the rejected message's sequence number.
			return refSeqReject(tr, now, session, get, "business-reject 380=", code, text)
		}
		tr.reject(now, ref, "business-reject 380=", code, text)
	}
	return true
}

// sessionReject hands a session-level Reject (3) of session i to the
// tracker, as answer does an application message; false when it names no
// usable RefSeqNum.
func sessionReject(tr *tracker, now time.Time, session int, get func(tag int) []byte) bool {
	return refSeqReject(tr, now, session, get, "session-reject 373=", get(fieldSessionRejectReason), get(fieldText))
}

// refSeqReject counts a rejection that names the rejected message only by
// its RefSeqNum; false when that is not a number.
func refSeqReject(tr *tracker, now time.Time, session int, get func(tag int) []byte, reason string, code, text []byte) bool {
	seq, err := strconv.Atoi(string(get(fieldRefSeqNum)))
	if err != nil {
		return false
	}
	tr.seqReject(now, session, seq, reason, code, text)
	return true
}

// The tags answer reads.
const (
	fieldClOrdID              = int(tag.ClOrdID)
	fieldExecType             = int(tag.ExecType)
	fieldOrdStatus            = int(tag.OrdStatus)
	fieldOrdRejReason         = int(tag.OrdRejReason)
	fieldCxlRejReason         = int(tag.CxlRejReason)
	fieldText                 = int(tag.Text)
	fieldBusinessRejectRefID  = int(tag.BusinessRejectRefID)
	fieldBusinessRejectReason = int(tag.BusinessRejectReason)
	fieldRefSeqNum            = int(tag.RefSeqNum)
	fieldSessionRejectReason  = int(tag.SessionRejectReason)
	fieldMassStatusReqID      = 584
	fieldLastRptRequested     = 912
)

// bodyGetter reads b's fields for answer and sessionReject.
func bodyGetter(b *quickfix.Body) func(tag int) []byte {
	return func(t int) []byte { return optBytes(b, quickfix.Tag(t)) }
}

// optBytes is the field's value, or nil when it is absent. GetBytes on an
// absent tag builds an error (a Sprintf and several allocations), and most
// ExecutionReports lack Text and OrdRejReason, so Has is asked first.
func optBytes(b *quickfix.Body, t quickfix.Tag) []byte {
	if !b.Has(t) {
		return nil
	}
	v, _ := b.GetBytes(t)
	return v
}

// fixLogFactory sends QuickFIX/Go's logs through zerolog: session events at
// debug, every message at trace, so the default level writes nothing per
// message.
type fixLogFactory struct{ log zerolog.Logger }

type fixLog struct{ log zerolog.Logger }

func (f fixLogFactory) Create() (quickfix.Log, error) { return fixLog(f), nil }

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

// quickfixTransport is the QuickFIX/Go engine: an initiator whose sessions
// each connect through a relay of their own, which tells the session's gate
// when the writer is free (gate.go).
type quickfixTransport struct {
	ini    *quickfix.Initiator
	ids    []quickfix.SessionID
	gates  []*gate
	relays []*relay
	stop   <-chan struct{}
}

// startQuickfix starts the QuickFIX/Go initiator and waits until every
// session is logged on.
func startQuickfix(ctx context.Context, o *Options, tr *tracker, log zerolog.Logger) (_ transport, err error) {
	q := &quickfixTransport{gates: make([]*gate, len(o.Sessions)), stop: ctx.Done()}
	defer func() {
		if err != nil {
			q.close()
		}
	}()
	ports := make([]int, len(o.Sessions))
	for i := range q.gates {
		q.gates[i] = newGate()
		r, err := startRelay(o.Host, o.Port, q.gates[i])
		if err != nil {
			return nil, fmt.Errorf("broker: relay: %w", err)
		}
		q.relays = append(q.relays, r)
		ports[i] = r.port()
	}
	st, ids, err := fixSettings(o, ports)
	if err != nil {
		return nil, err
	}
	q.ids = ids
	a := newApp(o, ids, tr, log)
	var lf quickfix.LogFactory = quickfix.NewNullLogFactory()
	if o.FIXLogging {
		lf = fixLogFactory{log.With().Str("component", "quickfix").Logger()}
	}
	gf := gatedLogFactory{inner: lf, gates: map[quickfix.SessionID]*gate{}}
	for i, id := range ids {
		gf.gates[id] = q.gates[i]
	}
	ini, err := quickfix.NewInitiator(a, storeFactory(o, st), st, gf)
	if err != nil {
		return nil, fmt.Errorf("broker: initiator: %w", err)
	}
	if err := ini.Start(); err != nil {
		return nil, fmt.Errorf("broker: initiator: %w", err)
	}
	q.ini = ini
	if err := a.waitLogon(o.LogonTimeout, ctx.Done()); err != nil {
		return nil, err
	}
	// QuickFIX/Go calls OnLogon just before it moves the session to its
	// logged-on state; a message sent in between is queued instead of
	// written, and a queued message makes the session loop spin until the
	// writer drains it. A short grace keeps the first orders off that path.
	time.Sleep(logonGrace)
	return q, nil
}

const logonGrace = 50 * time.Millisecond

// send hands the requests to QuickFIX/Go one at a time, each when the
// session's gate lets it; their sequence numbers are noted by app.ToApp.
func (q *quickfixTransport) send(i int, b *batch) error {
	for j := range b.len() {
		mt, body := b.msg(j)
		q.gates[i].acquire(q.stop)
		if err := quickfix.SendToTarget(messageOf(mt, body), q.ids[i]); err != nil {
			return fmt.Errorf("broker: send %s: %w", b.reqs[j].clOrdID, err)
		}
	}
	return nil
}

func (q *quickfixTransport) close() {
	if q.ini != nil {
		q.ini.Stop()
	}
	for _, r := range q.relays {
		r.close()
	}
}
