package broker

import (
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/quickfix/config"
	"github.com/quickfixgo/tag"
)

// fakeExchange is a QuickFIX/Go acceptor that answers every order at once:
// a NewOrderSingle with ExecType 0 (or F for market orders, to exercise the
// fill path), a cancel with 4, a replace with 5. If stallAt > 0 it sleeps
// stall before answering the stallAt-th request, blocking its session the
// way a stalled exchange would.
type fakeExchange struct {
	t        *testing.T
	port     int
	acc      *quickfix.Acceptor
	stallAt  int64
	stall    time.Duration
	n        atomic.Int64
	mu       sync.Mutex
	got      []string // "firm msgType symbol side qty price" per request, in order
	logons   []string // "user/password" per Logon
	password string   // if set, a Logon with another Password is refused ("bad password")
	execID   atomic.Int64
	rejectAt int64 // if > 0, reject this request with OrdRejReason 99
	// bizRejectAt, if > 0, answers this request with a BusinessMessageReject
	// that names it only by its MsgSeqNum (RefSeqNum, no BusinessRejectRefID).
	bizRejectAt int64
	// sessionRejectAt, if > 0, answers this request with a session-level
	// Reject (3) instead.
	sessionRejectAt int64
	garbage         bool // before each answer, send answers that match nothing
	// garbageEmpty makes one of the garbage answers carry an empty
	// ClOrdID (11=␁): QuickFIX/Go reads it, fixsession (rightly: FIX has
	// no empty values) takes it for a framing error and drops the
	// connection, so the native engine's test leaves the tag out instead.
	garbageEmpty bool
	out          chan outMsg
	gates        map[quickfix.SessionID]*gate
	stopOnce     sync.Once
	done         chan struct{}
}

type outMsg struct {
	m  *quickfix.Message
	id quickfix.SessionID
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startFake(t *testing.T, firms []string, configure func(*fakeExchange)) *fakeExchange {
	t.Helper()
	f := &fakeExchange{t: t, port: freePort(t)}
	if configure != nil {
		configure(f)
	}
	st := quickfix.NewSettings()
	g := st.GlobalSettings()
	g.Set(config.SocketAcceptHost, "127.0.0.1")
	g.Set(config.SocketAcceptPort, strconv.Itoa(f.port))
	g.Set(config.HeartBtInt, "30")
	g.Set(config.PersistMessages, "N")
	for _, firm := range firms {
		ss := quickfix.NewSessionSettings()
		ss.Set(config.BeginString, beginString)
		ss.Set(config.SenderCompID, "EXCHANGE")
		ss.Set(config.TargetCompID, firm)
		if _, err := st.AddSession(ss); err != nil {
			t.Fatal(err)
		}
	}
	// Replies leave through one goroutine that waits for each to be handed
	// to the writer (the broker's gate), so that the fake does not make
	// QuickFIX/Go's session loop spin (see gate.go).
	f.gates = map[quickfix.SessionID]*gate{}
	for id := range st.SessionSettings() {
		id.Qualifier = ""
		f.gates[id] = newGate()
	}
	f.out = make(chan outMsg, 1<<16)
	f.done = make(chan struct{})
	go func() {
		for {
			select {
			case o := <-f.out:
				f.gates[o.id].acquire(f.done)
				_ = quickfix.SendToTarget(o.m, o.id)
			case <-f.done:
				return
			}
		}
	}()
	// freePort's port may be taken by another test process before the
	// acceptor binds it. A failed Start leaves the acceptor's sessions
	// registered in QuickFIX/Go's process-wide table (its Stop cannot run
	// without listeners), and every later fake would then fail with
	// "Duplicate SessionID": unregister them and try another port.
	for attempt := 1; ; attempt++ {
		acc, err := quickfix.NewAcceptor(f, quickfix.NewMemoryStoreFactory(), st,
			gatedLogFactory{inner: quickfix.NewNullLogFactory(), gates: f.gates})
		if err != nil {
			t.Fatal(err)
		}
		if err = acc.Start(); err == nil {
			f.acc = acc
			break
		}
		for id := range st.SessionSettings() {
			_ = quickfix.UnregisterSession(id)
		}
		if attempt == 5 {
			t.Fatal(err)
		}
		f.port = freePort(t)
		g.Set(config.SocketAcceptPort, strconv.Itoa(f.port))
	}
	t.Cleanup(f.stop)
	return f
}

// stop stops the acceptor (and frees its session IDs for the next fake).
func (f *fakeExchange) stop() {
	f.stopOnce.Do(func() {
		f.acc.Stop()
		close(f.done)
	})
}

func (f *fakeExchange) OnCreate(quickfix.SessionID) {}
func (f *fakeExchange) OnLogon(quickfix.SessionID)  {}
func (f *fakeExchange) OnLogout(quickfix.SessionID) {}
func (f *fakeExchange) ToAdmin(*quickfix.Message, quickfix.SessionID) {
}
func (f *fakeExchange) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }

func (f *fakeExchange) FromAdmin(m *quickfix.Message, _ quickfix.SessionID) quickfix.MessageRejectError {
	if m.IsMsgTypeOf("A") {
		u, _ := m.Body.GetString(tag.Username)
		p, _ := m.Body.GetString(tag.Password)
		f.mu.Lock()
		f.logons = append(f.logons, u+"/"+p)
		f.mu.Unlock()
		if f.password != "" && p != f.password {
			return quickfix.RejectLogon{Text: "bad password"}
		}
	}
	return nil
}

func (f *fakeExchange) FromApp(m *quickfix.Message, id quickfix.SessionID) quickfix.MessageRejectError {
	mt, _ := m.MsgType()
	get := func(t quickfix.Tag) string { v, _ := m.Body.GetString(t); return v }
	f.mu.Lock()
	f.got = append(f.got, id.TargetCompID+" "+mt+" "+get(tag.Symbol)+" "+get(tag.Side)+" "+get(tag.OrderQty)+" "+get(tag.Price))
	f.mu.Unlock()
	n := f.n.Add(1)
	if n == f.stallAt {
		time.Sleep(f.stall)
	}
	if n == f.sessionRejectAt {
		t := tag.Price
		return quickfix.NewMessageRejectError("test session reject", 5, &t)
	}
	if n == f.bizRejectAt {
		seq, _ := m.Header.GetInt(tag.MsgSeqNum)
		r := quickfix.NewMessage()
		r.Header.SetString(tag.BeginString, beginString)
		r.Header.SetString(tag.MsgType, "j")
		r.Body.SetInt(tag.RefSeqNum, seq)
		r.Body.SetString(tag.RefMsgType, mt)
		r.Body.SetInt(tag.BusinessRejectReason, 3)
		r.Body.SetString(tag.Text, "not authorized")
		f.out <- outMsg{r, id}
		return nil
	}
	execType, status := "0", "0"
	switch mt {
	case "F":
		execType, status = "4", "4"
	case "G":
		execType, status = "5", "0"
	case "D":
		if get(tag.OrdType) == "1" {
			execType, status = "F", "2"
		}
	default:
		return nil
	}
	if n == f.rejectAt {
		execType, status = "8", "8"
	}
	if f.garbage {
		noClOrdID := struct{ mt, k, v string }{"9", "58", "no ClOrdID"}
		if f.garbageEmpty {
			noClOrdID = struct{ mt, k, v string }{"9", "11", ""}
		}
		for _, g := range []struct{ mt, k, v string }{
			{"8", "150", "Z"},               // no ClOrdID, unknown ExecType
			{"8", "11", "no-such-order"},    // unknown ClOrdID
			noClOrdID,                       // empty or no ClOrdID
			{"j", "379", "x"},               // unknown reference
			{"B", "148", "a news headline"}, // not an answer at all
		} {
			m := quickfix.NewMessage()
			m.Header.SetString(tag.BeginString, beginString)
			m.Header.SetString(tag.MsgType, g.mt)
			m.Body.SetString(quickfix.Tag(mustAtoi(g.k)), g.v)
			f.out <- outMsg{m, id}
		}
	}
	r := quickfix.NewMessage()
	r.Header.SetString(tag.BeginString, beginString)
	r.Header.SetString(tag.MsgType, "8")
	r.Body.SetString(tag.OrderID, "X"+get(tag.ClOrdID))
	r.Body.SetString(tag.ExecID, strconv.FormatInt(f.execID.Add(1), 10))
	r.Body.SetString(tag.ClOrdID, get(tag.ClOrdID))
	if o := get(tag.OrigClOrdID); o != "" {
		r.Body.SetString(tag.OrigClOrdID, o)
	}
	r.Body.SetString(tag.ExecType, execType)
	r.Body.SetString(tag.OrdStatus, status)
	r.Body.SetString(tag.Symbol, get(tag.Symbol))
	r.Body.SetString(tag.Side, get(tag.Side))
	r.Body.SetString(tag.LeavesQty, "0")
	r.Body.SetString(tag.CumQty, "0")
	r.Body.SetString(tag.AvgPx, "0")
	if execType == "8" {
		r.Body.SetString(tag.OrdRejReason, "99")
		r.Body.SetString(tag.Text, "test rejection")
	}
	f.out <- outMsg{r, id}
	return nil
}

func (f *fakeExchange) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

// testOptions points DefaultOptions at the fake with the given firms.
func testOptions(f *fakeExchange, firms ...string) Options {
	o := DefaultOptions()
	o.Port = f.port
	o.Sessions = nil
	for _, firm := range firms {
		o.Sessions = append(o.Sessions, Session{SenderCompID: firm, TargetCompID: "EXCHANGE",
			Username: "u-" + firm, Password: "p-" + firm})
	}
	o.Duration = 0
	o.DrainTimeout = 3 * time.Second
	o.LogonTimeout = 5 * time.Second
	return o
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// forEngines runs test once per FIX engine, as subtests named for them.
func forEngines(t *testing.T, test func(t *testing.T, engine string)) {
	for _, e := range []string{EngineNative, EngineQuickFIX} {
		t.Run(e, func(t *testing.T) { test(t, e) })
	}
}
