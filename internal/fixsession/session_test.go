package fixsession

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/rs/zerolog"
)

func TestAppendMessageIsValidFIX(t *testing.T) {
	h := Header{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}
	now := time.Date(2026, 11, 25, 5, 6, 7, 891234000, time.UTC)
	for _, body := range [][]byte{nil, []byte("11=A\x0155=AAPL\x01"), bytes.Repeat([]byte("58=xxxxxxxxxx\x01"), 2000)} {
		raw := AppendMessage(nil, &h, "8", 42, now, nil, body)
		n, err := Frame(raw)
		if err != nil || n != len(raw) {
			t.Fatalf("Frame = %d, %v; len %d: %q", n, err, len(raw), raw[:min(len(raw), 80)])
		}
		if !checksumOK(raw) {
			t.Fatalf("checksum wrong: %q", raw)
		}
		var m quickfix.Message
		m.Header.Init()
		m.Body.Init()
		m.Trailer.Init()
		if err := quickfix.ParseMessage(&m, bytes.NewBuffer(bytes.Clone(raw))); err != nil {
			t.Fatal(err)
		}
		if v, _ := m.Header.GetString(52); v != "20261125-05:06:07.891" {
			t.Fatalf("SendingTime %q", v)
		}
		if v, _ := m.Header.GetInt(34); v != 42 {
			t.Fatalf("MsgSeqNum %d", v)
		}
		mt, st, b := bodyOf(raw)
		if string(mt) != "8" || string(st) != "20261125-05:06:07.891" || !bytes.Equal(b, body) {
			t.Fatalf("bodyOf = %q %q %q", mt, st, b)
		}
	}
	raw := AppendMessage(nil, &h, "8", 1, now, nil, []byte("11=A\x01"))
	raw[len(raw)-2]++
	if checksumOK(raw) {
		t.Fatal("a changed CheckSum passed")
	}
}

func TestFrameRejects(t *testing.T) {
	for _, in := range []string{
		"9=5\x01", "8=FIX.4.4\x018=x\x01", "8=FIX.4.4\x019=abc\x01", "8=FIX.4.4\x019=0\x01",
		"8=FIX.4.4\x019=99999999\x01",
		"8=FIX.4.4\x019=5\x01x5=D\x0110=000\x01",
		"8=FIX.4.4\x019=9\x01212=2\x01ab\x0110=000\x01", "8=FIX.4.4\x019=5\x0135=D\x0111=000\x01",
	} {
		if _, err := Frame([]byte(in)); err == nil || err == ErrIncomplete {
			t.Errorf("Frame(%q) = %v, want a framing error", in, err)
		}
	}
	if _, err := Frame([]byte("8=FIX.4.4\x019=5\x0135=D\x01")); err != ErrIncomplete {
		t.Errorf("partial message: %v", err)
	}
}

// TestFrameSaysWhy: a malformed field is named in the error, which a
// logged-on counterparty reads in the Logout's Text.
func TestFrameSaysWhy(t *testing.T) {
	for body, want := range map[string]string{
		"35=D\x01ab=1\x01":          `tag "ab" is not a number`,
		"35=D\x0112345678901=1\x01": `tag "12345678901" is longer than 9 digits`,
		"35=D\x01=1\x01":            `field "=1" has no tag`,
		"35=D\x0111\x01":            `field "11" has no '='`,
		"35=D\x0107=1\x01":          `tag "07" starts with 0`,
	} {
		in := "8=FIX.4.4\x019=" + fmt.Sprint(len(body)) + "\x01" + body + "10=000\x01"
		if _, err := Frame([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Frame(%q) = %v, want an error saying %s", in, err, want)
		}
	}
}

func FuzzFrame(f *testing.F) {
	h := Header{BeginString: "FIX.4.4", SenderCompID: "A", TargetCompID: "B"}
	f.Add(AppendMessage(nil, &h, "D", 1, time.Now(), nil, []byte("11=X\x0138=10\x01")))
	f.Add([]byte("8=FIX.4.4\x019=5\x0135=0\x0110=000\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Frame(b)
		n2, fields, err2 := frameFields(b, nil)
		if n2 != n || (err == nil) != (err2 == nil) {
			t.Fatalf("Frame %d %v, frameFields %d %v", n, err, n2, err2)
		}
		if err != nil {
			return
		}
		if n > len(b) {
			t.Fatalf("n %d > len %d", n, len(b))
		}
		fs := Scan(b[:n], nil)
		if len(fs) < 3 || fs[0].Tag != 8 || fs[1].Tag != 9 || fs[len(fs)-1].Tag != 10 {
			t.Fatalf("framed message scans to %v", fs)
		}
		if len(fields) != len(fs) {
			t.Fatalf("frameFields gave %d fields, Scan %d", len(fields), len(fs))
		}
		for i := range fs {
			if fields[i].Tag != fs[i].Tag || !bytes.Equal(fields[i].Val, fs[i].Val) {
				t.Fatalf("field %d: frameFields %d=%q, Scan %d=%q", i, fields[i].Tag, fields[i].Val, fs[i].Tag, fs[i].Val)
			}
		}
		checksumOK(b[:n])
		if d, _ := dictionaryFor("FIX.4.4"); d != nil {
			d.validate(fields) // must not panic on any framed message
		}
	})
}

// echoApp accepts any logon whose password (554) is "pw" and answers each
// NewOrderSingle with an ExecutionReport echoing ClOrdID.
type echoApp struct {
	mu      sync.Mutex
	logons  int
	logouts int
	got     []string
}

func (a *echoApp) Logon(sid SessionID, s *Session, m *Message) string {
	if pw, _ := m.Get(554); s != nil && string(pw) != "pw" {
		return "bad password"
	}
	return ""
}
func (a *echoApp) OnLogon(*Session)  { a.mu.Lock(); a.logons++; a.mu.Unlock() }
func (a *echoApp) OnLogout(*Session) { a.mu.Lock(); a.logouts++; a.mu.Unlock() }
func (a *echoApp) FromApp(s *Session, m *Message) *RejectError {
	id, ok := m.Get(11)
	if !ok {
		return RejectTag(1, 11, "Required tag missing")
	}
	a.mu.Lock()
	a.got = append(a.got, string(id))
	a.mu.Unlock()
	body := AppendField(nil, 11, id)
	body = AppendString(body, 150, "0")
	_ = s.SendBody("8", body)
	return nil
}

func startAcceptor(t *testing.T, app App, dir string) (*Acceptor, string) {
	t.Helper()
	a := NewAcceptor(app, zerolog.Nop())
	if _, err := a.AddSession(Settings{Header: Header{BeginString: "FIX.4.4", SenderCompID: "EXCH", TargetCompID: "ALPHA"}, StoreDir: dir}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go a.Serve(ln)
	return a, ln.Addr().String()
}

// rawClient speaks FIX by hand, to provoke what a well-behaved engine never
// sends.
type rawClient struct {
	t   *testing.T
	c   net.Conn
	buf []byte
	seq uint64
	h   Header
}

func dialRaw(t *testing.T, addr string) *rawClient {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, c: c, seq: 1, h: Header{BeginString: "FIX.4.4", SenderCompID: "ALPHA", TargetCompID: "EXCH"}}
}

func (r *rawClient) send(mt string, body string) {
	r.sendSeq(mt, r.seq, body)
	r.seq++
}

func (r *rawClient) sendSeq(mt string, seq uint64, body string) {
	if _, err := r.c.Write(AppendMessage(nil, &r.h, mt, seq, time.Now(), nil, []byte(body))); err != nil {
		r.t.Fatal(err)
	}
}

// next returns the next message's fields as tag -> value ("" after EOF).
func (r *rawClient) next() map[int]string {
	r.t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	tmp := make([]byte, 4096)
	for {
		if n, err := Frame(r.buf); err == nil {
			out := map[int]string{}
			for _, f := range Scan(r.buf[:n], nil) {
				out[f.Tag] = string(f.Val)
			}
			r.buf = r.buf[n:]
			return out
		}
		n, err := r.c.Read(tmp)
		r.buf = append(r.buf, tmp[:n]...)
		if err != nil {
			return nil
		}
	}
}

func (r *rawClient) expect(want ...string) map[int]string {
	r.t.Helper()
	m := r.next()
	if m == nil {
		r.t.Fatalf("connection ended; wanted %v", want)
	}
	for _, w := range want {
		k, v, _ := strings.Cut(w, "=")
		var tag int
		fmt.Sscan(k, &tag)
		if m[tag] != v {
			r.t.Fatalf("tag %d = %q, want %q (message %v)", tag, m[tag], v, m)
		}
	}
	return m
}

func TestLogonRefusedAndAccepted(t *testing.T) {
	app := &echoApp{}
	a, addr := startAcceptor(t, app, t.TempDir())
	defer a.Stop("bye", time.Second)

	r := dialRaw(t, addr)
	r.send("A", "98=0\x01108=30\x01554=nope\x01")
	r.expect("35=5", "58=bad password")
	if r.next() != nil {
		t.Fatal("connection still open after a refused logon")
	}

	r = dialRaw(t, addr)
	r.h.SenderCompID = "NOBODY"
	r.send("A", "98=0\x01108=30\x01")
	r.expect("35=5", "58=unknown session FIX.4.4:EXCH->NOBODY")

	r = dialRaw(t, addr)
	r.send("D", "11=X\x01")
	if r.next() != nil {
		t.Fatal("a first message other than Logon was answered")
	}

	r = dialRaw(t, addr)
	r.send("A", "98=0\x01108=30\x01554=pw\x01")
	r.expect("35=A", "108=30", "34=1") // the refused logon did not use up seq 1
	r.send("D", "11=ORD1\x01")
	r.expect("35=8", "11=ORD1", "34=2")
	r.send("D", "38=5\x01")
	r.expect("35=3", "373=1", "371=11", "45=3", "372=D")
	r.send("D", "11=\x0138=5\x01") // a tag without a value: rejected, the session goes on
	r.expect("35=3", "373=4", "371=11", "45=4")
	r.send("D", "11=ORD2\x01")
	r.expect("35=8", "11=ORD2")
	// A second connection for a logged-on session is disconnected
	// without a message (which would use one of the session's numbers).
	r2 := dialRaw(t, addr)
	r2.send("A", "98=0\x01108=30\x01554=pw\x01")
	if m := r2.next(); m != nil {
		t.Fatalf("duplicate logon answered with %v", m)
	}
	// TestRequest, then Logout.
	r.send("1", "112=PING\x01")
	r.expect("35=0", "112=PING")
	r.send("5", "")
	r.expect("35=5")
	if r.next() != nil {
		t.Fatal("connection open after the Logout exchange")
	}
}

func TestGapAndResend(t *testing.T) {
	app := &echoApp{}
	r, _ := loggedOnRaw(t, app, "34=1")
	r.send("D", "11=A1\x01")
	r.expect("35=8", "11=A1", "34=2")
	// Skip seq 3: the acceptor asks for it and holds seq 4 back.
	r.sendSeq("D", 4, "11=A3\x01")
	r.expect("35=2", "7=3", "16=0")
	r.sendSeq("D", 3, "11=A2\x01")
	r.expect("35=8", "11=A2")
	r.expect("35=8", "11=A3")
	r.seq = 5
	// Our ResendRequest: the logon is gap-filled, the reports come again.
	r.send("2", "7=1\x0116=0\x01")
	r.expect("35=4", "123=Y", "34=1", "36=2", "43=Y")
	m := r.expect("35=8", "11=A1", "34=2", "43=Y")
	if m[122] == "" {
		t.Fatal("resend without OrigSendingTime")
	}
	r.expect("35=4", "123=Y", "34=3", "36=4") // the ResendRequest we were sent
	r.expect("35=8", "11=A2", "34=4", "43=Y")
	r.expect("35=8", "11=A3", "34=5", "43=Y")
	// A range beyond what was sent: one gap fill to where we are, with a
	// real OrigSendingTime (an empty 122 would itself be rejected).
	r.send("2", "7=50\x0116=0\x01")
	m = r.expect("35=4", "123=Y", "34=50", "36=6", "43=Y")
	if m[122] == "" {
		t.Fatal("gap fill without OrigSendingTime")
	}
	// MsgSeqNum too low without PossDupFlag ends the session.
	r.sendSeq("D", 2, "11=OLD\x01")
	r.expect("35=5", "58=MsgSeqNum too low, expecting 7 but received 2")
	app.mu.Lock()
	defer app.mu.Unlock()
	if strings.Join(app.got, ",") != "A1,A2,A3" {
		t.Fatalf("app got %v", app.got)
	}
}

// quickfixClient is a QuickFIX/Go initiator: the reference engine the
// session layer must interoperate with.
type quickfixClient struct {
	logged chan struct{}
	out    chan struct{}
	execs  chan string
}

func (c *quickfixClient) OnCreate(quickfix.SessionID) {}
func (c *quickfixClient) OnLogon(quickfix.SessionID)  { c.logged <- struct{}{} }
func (c *quickfixClient) OnLogout(quickfix.SessionID) {
	select {
	case c.out <- struct{}{}:
	default:
	}
}
func (c *quickfixClient) ToAdmin(m *quickfix.Message, _ quickfix.SessionID) {
	if m.IsMsgTypeOf("A") {
		m.Body.SetString(554, "pw")
	}
}
func (c *quickfixClient) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }
func (c *quickfixClient) FromAdmin(*quickfix.Message, quickfix.SessionID) quickfix.MessageRejectError {
	return nil
}
func (c *quickfixClient) FromApp(m *quickfix.Message, _ quickfix.SessionID) quickfix.MessageRejectError {
	id, _ := m.Body.GetString(11)
	c.execs <- id
	return nil
}

func TestQuickFIXInitiatorInterop(t *testing.T) {
	app := &echoApp{}
	dir := t.TempDir()
	a, addr := startAcceptor(t, app, dir)
	host, port, _ := net.SplitHostPort(addr)
	settings := quickfix.NewSettings()
	g := settings.GlobalSettings()
	g.Set("SocketConnectHost", host)
	g.Set("SocketConnectPort", port)
	g.Set("HeartBtInt", "30")
	g.Set("ReconnectInterval", "1")
	ss := quickfix.NewSessionSettings()
	ss.Set("BeginString", "FIX.4.4")
	ss.Set("SenderCompID", "ALPHA")
	ss.Set("TargetCompID", "EXCH")
	if _, err := settings.AddSession(ss); err != nil {
		t.Fatal(err)
	}
	sid := quickfix.SessionID{BeginString: "FIX.4.4", SenderCompID: "ALPHA", TargetCompID: "EXCH"}
	cl := &quickfixClient{logged: make(chan struct{}, 4), out: make(chan struct{}, 4), execs: make(chan string, 100)}
	ini, err := quickfix.NewInitiator(cl, quickfix.NewMemoryStoreFactory(), settings, quickfix.NewNullLogFactory())
	if err != nil {
		t.Fatal(err)
	}
	if err := ini.Start(); err != nil {
		t.Fatal(err)
	}
	defer ini.Stop()
	wait := func(ch chan struct{}, what string) {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s", what)
		}
	}
	wait(cl.logged, "logon")
	for i := 0; i < 50; i++ {
		m := quickfix.NewMessage()
		m.Header.SetString(35, "D")
		m.Body.SetString(11, fmt.Sprintf("C%d", i))
		if err := quickfix.SendToTarget(m, sid); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 50; i++ {
		select {
		case id := <-cl.execs:
			if id != fmt.Sprintf("C%d", i) {
				t.Fatalf("report %d for %s", i, id)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("report %d missing", i)
		}
	}
	// The acceptor restarts (same store): the initiator reconnects and the
	// sequence numbers carry on, so no resend and no refusal.
	a.Stop("restart", 2*time.Second)
	wait(cl.out, "logout")
	a2, addr2 := startAcceptorOn(t, app, dir, addr)
	defer a2.Stop("bye", time.Second)
	_ = addr2
	wait(cl.logged, "logon after the restart")
	m := quickfix.NewMessage()
	m.Header.SetString(35, "D")
	m.Body.SetString(11, "AFTER")
	if err := quickfix.SendToTarget(m, sid); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-cl.execs:
		if id != "AFTER" {
			t.Fatalf("report for %s", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no report after the restart")
	}
	s := a2.Session(SessionID{BeginString: "FIX.4.4", SenderCompID: "EXCH", TargetCompID: "ALPHA"})
	out, in := s.NextSeqNums()
	if out < 53 || in < 53 {
		t.Fatalf("sequence numbers after restart: out %d in %d", out, in)
	}
}

func startAcceptorOn(t *testing.T, app App, dir, addr string) (*Acceptor, string) {
	t.Helper()
	a := NewAcceptor(app, zerolog.Nop())
	if _, err := a.AddSession(Settings{Header: Header{BeginString: "FIX.4.4", SenderCompID: "EXCH", TargetCompID: "ALPHA"}, StoreDir: dir}); err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	go a.Serve(ln)
	return a, addr
}

func TestInitiatorAgainstAcceptor(t *testing.T) {
	app := &echoApp{}
	a, addr := startAcceptor(t, app, t.TempDir())
	defer a.Stop("bye", time.Second)
	capp := &clientApp{reports: make(chan string, 1000), logged: make(chan struct{}, 2)}
	in, err := NewInitiator(addr, Settings{
		Header:      Header{BeginString: "FIX.4.4", SenderCompID: "ALPHA", TargetCompID: "EXCH"},
		HeartBtInt:  30 * time.Second,
		LogonFields: []byte("554=pw\x01"),
	}, capp, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	in.Start()
	defer in.Stop()
	select {
	case <-capp.logged:
	case <-time.After(5 * time.Second):
		t.Fatal("no logon")
	}
	const n = 500
	for i := 0; i < n; i++ {
		if err := in.Session.SendBody("D", AppendString(nil, 11, fmt.Sprintf("N%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		select {
		case id := <-capp.reports:
			if id != fmt.Sprintf("N%d", i) {
				t.Fatalf("report %d for %s", i, id)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("report %d missing", i)
		}
	}
}

type clientApp struct {
	reports chan string
	logged  chan struct{}
}

func (c *clientApp) Logon(SessionID, *Session, *Message) string { return "" }
func (c *clientApp) OnLogon(*Session)                           { c.logged <- struct{}{} }
func (c *clientApp) OnLogout(*Session)                          {}
func (c *clientApp) FromApp(s *Session, m *Message) *RejectError {
	id, _ := m.Get(11)
	c.reports <- string(id)
	return nil
}

// TestHeartbeatAndSilence: with HeartBtInt=1 the acceptor sends Heartbeats
// while it has nothing else to send, a TestRequest when the client is
// silent, and closes the connection when that goes unanswered.
func TestHeartbeatAndSilence(t *testing.T) {
	a, addr := startAcceptor(t, &echoApp{}, "")
	defer a.Stop("bye", time.Second)
	r := dialRaw(t, addr)
	r.send("A", "98=0\x01108=1\x01554=pw\x01")
	r.expect("35=A", "108=1")
	start := time.Now()
	sawHeartbeat, sawTestReq := false, false
	for {
		m := r.next()
		if m == nil {
			break
		}
		switch m[35] {
		case "0":
			sawHeartbeat = true
		case "1":
			if m[112] == "" {
				t.Fatal("TestRequest without TestReqID")
			}
			sawTestReq = true
		default:
			t.Fatalf("unexpected %v", m)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("connection of a silent client still open after 10s")
		}
	}
	if !sawHeartbeat || !sawTestReq {
		t.Fatalf("heartbeat %v, test request %v before the close", sawHeartbeat, sawTestReq)
	}
}

// TestStoreSurvivesRestart: sequence numbers and sent messages are read back
// by a new acceptor on the same folder, so a resend after a restart sends
// the original reports.
func TestStoreSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	app := &echoApp{}
	a, addr := startAcceptor(t, app, dir)
	r := dialRaw(t, addr)
	r.send("A", "98=0\x01108=30\x01554=pw\x01")
	r.expect("35=A")
	for _, id := range []string{"S1", "S2"} {
		r.send("D", "11="+id+"\x01")
		r.expect("35=8", "11="+id)
	}
	a.Stop("restart", 2*time.Second)
	r.expect("35=5", "58=restart")

	a2, addr2 := startAcceptorOn(t, app, dir, addr)
	defer a2.Stop("bye", time.Second)
	r = dialRaw(t, addr2)
	r.seq = 5 // logon, two orders, the Logout answer went unsent: 1-3 used, 4 skipped
	r.send("A", "98=0\x01108=30\x01554=pw\x01")
	r.expect("35=A", "34=5")
	r.expect("35=2", "7=4", "16=0")                // it missed our seq 4
	r.sendSeq("4", 4, "43=Y\x01123=Y\x0136=6\x01") // gap fill over 4 and the logon
	r.seq = 6
	r.send("2", "7=2\x0116=3\x01")
	r.expect("35=8", "11=S1", "34=2", "43=Y")
	r.expect("35=8", "11=S2", "34=3", "43=Y")
}

// TestNonReaderDisconnected: a counterparty that never reads fills its
// outbound buffer; further sends fail with ErrTooMuch and the connection is
// closed, so the session is logged out instead of growing without bound.
func TestNonReaderDisconnected(t *testing.T) {
	app := &echoApp{}
	a, addr := startAcceptor(t, app, "")
	defer a.Stop("bye", time.Second)
	s := a.Session(SessionID{BeginString: "FIX.4.4", SenderCompID: "EXCH", TargetCompID: "ALPHA"})
	s.mu.Lock() // the connection reads it under s.mu
	s.cfg.OutBytesMax = 1 << 20
	s.mu.Unlock()
	r := dialRaw(t, addr)
	r.send("A", "98=0\x01108=30\x01554=pw\x01")
	r.expect("35=A")
	body := AppendString(nil, 58, strings.Repeat("x", 8000))
	var err error
	for i := 0; i < 100_000 && err == nil; i++ {
		err = s.SendBody("8", body)
	}
	if err != ErrTooMuch {
		t.Fatalf("sending to a non-reader: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.LoggedOn() {
		if time.Now().After(deadline) {
			t.Fatal("non-reader still logged on")
		}
		time.Sleep(10 * time.Millisecond)
	}
	app.mu.Lock()
	defer app.mu.Unlock()
	if app.logouts != 1 {
		t.Fatalf("OnLogout called %d times", app.logouts)
	}
}

// TestStopBeforeServe: Stop called before Serve's goroutine has run must
// still end Serve (it used to block in Accept for ever).
func TestStopBeforeServe(t *testing.T) {
	a := NewAcceptor(&echoApp{}, zerolog.Nop())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.Stop("bye", time.Second)
	done := make(chan struct{})
	go func() {
		a.Serve(ln)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still accepting after Stop")
	}
}

func TestParseTimestamp(t *testing.T) {
	for in, want := range map[string]string{
		"20261125-05:06:07":           "2026-11-25T05:06:07Z",
		"20261125-05:06:07.1":         "2026-11-25T05:06:07.1Z",
		"20261125-05:06:07.891":       "2026-11-25T05:06:07.891Z",
		"20261125-05:06:07.891234":    "2026-11-25T05:06:07.891234Z",
		"20261125-05:06:07.891234567": "2026-11-25T05:06:07.891234567Z",
	} {
		got, ok := ParseTimestamp([]byte(in))
		if !ok || got.Format(time.RFC3339Nano) != want {
			t.Errorf("%s: %v %v, want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "20261125-05:06", "20261125-05:06:07.", "20261125-05:06:07.8912345678",
		"20261125-05:06:07.89123456789012", "2026112505:06:07.1", "20261325-05:06:07", "20261125-25:06:07", "2026x125-05:06:07", "20261125-05:06:07,123"} {
		if _, ok := ParseTimestamp([]byte(in)); ok {
			t.Errorf("%q parsed", in)
		}
	}
	if n := testing.AllocsPerRun(100, func() { ParseTimestamp([]byte("20261125-05:06:07.891234")) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// TestStoreTornTail: a record cut short by a crash is dropped at open, the
// whole ones before it are found again.
func TestStoreTornTail(t *testing.T) {
	dir := t.TempDir()
	h := &Header{BeginString: "FIX.4.4", SenderCompID: "EXCH", TargetCompID: "ALPHA"}
	st, err := openStore(dir, h)
	if err != nil {
		t.Fatal(err)
	}
	st.save(1, []byte("one"), 0)
	st.save(2, []byte("two"), 0)
	var fb flushBatch
	st.take(&fb)
	if err := fb.write(); err != nil {
		t.Fatal(err)
	}
	// Half of a third record.
	if _, err := st.msgF.Write([]byte{9, 0, 0, 0, 3, 0}); err != nil {
		t.Fatal(err)
	}
	st.close()
	st, err = openStore(dir, h)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	for seq, want := range map[uint64]string{1: "one", 2: "two"} {
		if got, ok := st.get(seq); !ok || string(got) != want {
			t.Fatalf("seq %d: %q %v", seq, got, ok)
		}
	}
	if _, ok := st.get(3); ok {
		t.Fatal("torn record found")
	}
	if st.msgSize != 2*(recHeader+3) {
		t.Fatalf("file not cut back: %d", st.msgSize)
	}
}

// TestStoreNumbersInMsgs: each batch carries the sequence numbers in the
// messages file, so a process killed without closing the store comes back
// with the numbers of its last batch; a store of the earlier layout (the
// numbers in .seqnums alone) opens with those; a numbers record cut short
// is dropped and the one before it holds.
func TestStoreNumbersInMsgs(t *testing.T) {
	h := &Header{BeginString: "FIX.4.4", SenderCompID: "EXCH", TargetCompID: "ALPHA"}
	open := func(dir string) *store {
		t.Helper()
		st, err := openStore(dir, h)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// check wants the numbers out and in, and message seq to read msg.
	check := func(st *store, out, in, seq uint64, msg string) {
		t.Helper()
		if st.nextOut != out || st.nextIn != in {
			t.Fatalf("numbers: out %d in %d, want %d and %d", st.nextOut, st.nextIn, out, in)
		}
		if got, ok := st.get(seq); !ok || string(got) != msg {
			t.Fatalf("message %d: %q %v, want %q", seq, got, ok, msg)
		}
	}
	flush := func(st *store) {
		t.Helper()
		var fb flushBatch
		st.take(&fb)
		if err := fb.write(); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("killed", func(t *testing.T) {
		dir := t.TempDir()
		st := open(dir)
		st.save(3, []byte("three"), 0)
		st.save(4, []byte("four"), 0)
		st.nextOut, st.nextIn, st.seqDirty = 5, 9, true
		flush(st)
		st.nextIn, st.seqDirty = 10, true // an inbound message, nothing sent
		flush(st)
		st.closeFiles() // killed: no clean close, .seqnums never written
		st = open(dir)
		defer st.close()
		check(st, 5, 10, 4, "four")
	})
	t.Run("earlier layout", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, storeName(h))
		var nums [16]byte
		binary.LittleEndian.PutUint64(nums[0:], 7)
		binary.LittleEndian.PutUint64(nums[8:], 8)
		rec := binary.LittleEndian.AppendUint32(nil, 4)
		rec = binary.LittleEndian.AppendUint64(rec, 5)
		rec = append(rec, "five"...)
		if err := os.WriteFile(name+".seqnums", nums[:], 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name+".msgs", rec, 0o644); err != nil {
			t.Fatal(err)
		}
		st := open(dir)
		defer st.close()
		check(st, 7, 8, 5, "five")
	})
	t.Run("torn numbers", func(t *testing.T) {
		dir := t.TempDir()
		st := open(dir)
		st.nextOut, st.nextIn, st.seqDirty = 4, 6, true
		flush(st)
		whole := st.msgSize
		torn := appendSeqRecord(nil, 40, 60, 0)
		if _, err := st.msgF.Write(torn[:len(torn)-3]); err != nil {
			t.Fatal(err)
		}
		st.closeFiles()
		st = open(dir)
		defer st.close()
		if st.nextOut != 4 || st.nextIn != 6 || st.msgSize != whole {
			t.Fatalf("after a torn numbers record: out %d in %d size %d, want 4, 6 and %d", st.nextOut, st.nextIn, st.msgSize, whole)
		}
	})
}

// TestGarbledIgnored: a garbled message (here a non-numeric tag) is
// ignored and not counted; the session goes on.
func TestGarbledIgnored(t *testing.T) {
	r, _ := loggedOnRaw(t, &echoApp{})
	r.sendSeq("D", 2, "11=ORD1\x01ab=1\x01")
	r.sendSeq("1", 2, "112=STILL\x01")
	r.expect("35=0", "112=STILL")
}

// TestMalformedLoggedOnToldWhy: a logged-on counterparty whose bytes stop
// being FIX (more than garbledRunMax garbled messages in a row) gets a
// Logout whose Text names the problem before the connection closes,
// instead of a silent close.
func TestMalformedLoggedOnToldWhy(t *testing.T) {
	r, _ := loggedOnRaw(t, &echoApp{})
	var junk []byte
	for i := 0; i <= garbledRunMax; i++ {
		junk = AppendMessage(junk, &r.h, "D", 2, time.Now(), nil, []byte("11=ORD1\x01ab=1\x01"))
	}
	// Written aside: the acceptor may close before it read them all.
	go func() { _, _ = r.c.Write(junk) }()
	lo := r.expect("35=5")
	if !strings.Contains(lo[58], `tag "ab" is not a number`) || !strings.Contains(lo[58], "closing") {
		t.Fatalf("Logout Text %q does not say why", lo[58])
	}
	if r.next() != nil {
		t.Fatal("connection still open after a malformed message")
	}
}

// TestLogoutBehindGap: a Logout whose MsgSeqNum is past a gap is answered
// at once (a counterparty that is leaving will not answer a ResendRequest),
// and the expected number stays: at the next logon the gap is asked for.
func TestLogoutBehindGap(t *testing.T) {
	r, addr := loggedOnRaw(t, &echoApp{})
	r.sendSeq("5", 5, "")
	lo := r.expect("35=5")
	if !strings.Contains(lo[58], "MsgSeqNum 2 expected, 5 received") {
		t.Fatalf("Logout Text %q", lo[58])
	}
	if r.next() != nil {
		t.Fatal("connection still open after the Logout exchange")
	}
	r = dialRaw(t, addr)
	r.seq = 6
	r.send("A", "98=0\x01108=30\x01554=pw\x01")
	r.expect("35=A")
	r.expect("35=2", "7=2") // the messages 2..5 are asked for now
}

// loggedOnRaw starts an acceptor with app and logs a raw client on
// as ALPHA, checking the Logon answer for want too; it returns the client
// and the acceptor's address.
func loggedOnRaw(t *testing.T, app *echoApp, want ...string) (*rawClient, string) {
	t.Helper()
	a, addr := startAcceptor(t, app, t.TempDir())
	t.Cleanup(func() { a.Stop("bye", time.Second) })
	r := dialRaw(t, addr)
	r.send("A", "98=0\x01108=30\x01554=pw\x01")
	r.expect(append([]string{"35=A"}, want...)...)
	return r, addr
}
