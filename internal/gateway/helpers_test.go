package gateway

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
)

var (
	hashOnce sync.Once
	hashes   map[string]string
)

// testHashes are bcrypt hashes at the minimum cost, made once per run.
func testHashes(t testing.TB) map[string]string {
	hashOnce.Do(func() {
		hashes = map[string]string{}
		for _, pw := range []string{"pw-alpha", "pw-bravo", "pw-flood"} {
			h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
			if err != nil {
				panic(err)
			}
			hashes[pw] = string(h)
		}
	})
	return hashes
}

// testConfig is a small venue: AAPL (tick 0.01, lot 1) and BIG (tick 0.05,
// lot 100); firms ALPHA (two accounts), BRAVO, and FLOOD (1 msg/s, burst 2).
func testConfig(t testing.TB, addr, dir string) *config.Config {
	h := testHashes(t)
	y := fmt.Sprintf(`
listen: {fix: %q}
data_dir: %q
currency: {code: USD, minor_units: 2}
symbols:
  - {name: AAPL, tick_size: "0.01", lot_size: "1"}
  - {name: BIG, tick_size: "0.05", lot_size: "100"}
gateway:
  target_comp_id: EXCHANGE
  heartbeat_seconds: 30
  flood_logout_after: 5
firms:
  - name: ALPHA
    sessions:
      - {sender_comp_id: ALPHA, username: alpha, password_hash: %q}
    accounts: [{name: ALPHA-1, cash: "1000"}, {name: ALPHA-2, cash: "1000"}]
  - name: BRAVO
    sessions:
      - {sender_comp_id: BRAVO, username: bravo, password_hash: %q, cancel_on_disconnect: true}
    accounts: [{name: BRAVO-1}]
  - name: FLOOD
    sessions:
      - {sender_comp_id: FLOOD, username: flood, password_hash: %q, rate_per_second: 1, burst: 2}
    accounts: [{name: FLOOD-1}]
`, addr, dir, h["pw-alpha"], h["pw-bravo"], h["pw-flood"])
	c, err := config.Parse([]byte(y), "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// fakeOM records requests and, while answer is set, acknowledges new orders
// through Deliver, as the order manager would.
type fakeOM struct {
	mu   sync.Mutex
	reqs []ordermanager.Request
	busy bool
	ch   chan ordermanager.Request
}

func newFakeOM() *fakeOM { return &fakeOM{ch: make(chan ordermanager.Request, 1024)} }

func (f *fakeOM) Submit(r *ordermanager.Request) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy && r.Kind != ordermanager.ReqDisconnect {
		return false
	}
	f.reqs = append(f.reqs, *r)
	select {
	case f.ch <- *r:
	default:
	}
	return true
}

func (f *fakeOM) setBusy(b bool) {
	f.mu.Lock()
	f.busy = b
	f.mu.Unlock()
}

// next waits for the next request.
func (f *fakeOM) next(t testing.TB) ordermanager.Request {
	t.Helper()
	select {
	case r := <-f.ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no request submitted")
	}
	return ordermanager.Request{}
}

// testLog is silent unless GATEWAY_TEST_LOG is set (to a zerolog level).
func testLog() zerolog.Logger {
	lv, err := zerolog.ParseLevel(os.Getenv("GATEWAY_TEST_LOG"))
	if err != nil || os.Getenv("GATEWAY_TEST_LOG") == "" {
		return zerolog.Nop()
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(lv).With().Timestamp().Logger()
}

// startGateway builds and starts a gateway on a free port; it is stopped at
// the end of the test.
func startGateway(t testing.TB, cfg *config.Config, om Submitter) *Gateway {
	t.Helper()
	g, err := New(Options{Ref: cfg.Registry, Settings: testSettings(cfg), Submitter: om, Log: testLog(), FloodLogoutGrace: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		g.Stop()
		t.Fatal(err)
	}
	t.Cleanup(func() { stopGateway(g) })
	return g
}

// stopGateway stops g.
func stopGateway(g *Gateway) { g.Stop() }

// client is a QuickFIX/Go initiator for one session inside the test.
type client struct {
	t      testing.TB
	sid    quickfix.SessionID
	user   string
	pass   string
	in     chan *quickfix.Message // application messages and Reject/Logout
	logon  chan struct{}
	logout chan struct{}
	init   *quickfix.Initiator
	// resendAsked counts ResendRequests received, resetsSent the
	// SequenceResets sent in answer (see settle).
	resendAsked, resetsSent atomic.Int32
}

func (c *client) OnCreate(quickfix.SessionID) {}
func (c *client) OnLogon(quickfix.SessionID) {
	select {
	case c.logon <- struct{}{}:
	default:
	}
}
func (c *client) OnLogout(quickfix.SessionID) {
	select {
	case c.logout <- struct{}{}:
	default:
	}
}
func (c *client) ToAdmin(m *quickfix.Message, _ quickfix.SessionID) {
	if m.IsMsgTypeOf("4") {
		c.resetsSent.Add(1)
	}
	if m.IsMsgTypeOf("A") {
		if c.user != "" {
			m.Body.SetString(tag.Username, c.user)
		}
		if c.pass != "" {
			m.Body.SetString(tag.Password, c.pass)
		}
	}
}
func (c *client) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }
func (c *client) FromAdmin(m *quickfix.Message, _ quickfix.SessionID) quickfix.MessageRejectError {
	if m.IsMsgTypeOf("2") {
		c.resendAsked.Add(1)
	}
	if m.IsMsgTypeOf("3") || m.IsMsgTypeOf("5") || m.IsMsgTypeOf("A") {
		c.push(m)
	}
	return nil
}
func (c *client) FromApp(m *quickfix.Message, _ quickfix.SessionID) quickfix.MessageRejectError {
	c.push(m)
	return nil
}

func (c *client) push(m *quickfix.Message) {
	cp := quickfix.NewMessage()
	m.CopyInto(cp)
	select {
	case c.in <- cp:
	default:
		c.t.Error("client inbox full")
	}
}

// dial starts an initiator for comp on addr with FIX version begin.
func dial(t testing.TB, addr, begin, comp, target, user, pass string) *client {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	s := quickfix.NewSettings()
	g := s.GlobalSettings()
	g.Set("SocketConnectHost", host)
	g.Set("SocketConnectPort", port)
	g.Set("HeartBtInt", "30")
	g.Set("ReconnectInterval", "1")
	ss := quickfix.NewSessionSettings()
	ss.Set("BeginString", begin)
	ss.Set("SenderCompID", comp)
	ss.Set("TargetCompID", target)
	sid, err := s.AddSession(ss)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, sid: sid, user: user, pass: pass, in: make(chan *quickfix.Message, 1024),
		logon: make(chan struct{}, 1), logout: make(chan struct{}, 1)}
	c.init, err = quickfix.NewInitiator(c, quickfix.NewMemoryStoreFactory(), s, quickfix.NewNullLogFactory())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.init.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stop)
	return c
}

func (c *client) stop() { c.init.Stop() }

// settle waits (at most 1 s) until a resend the acceptor asked for right after
// a logon has been answered. QuickFIX/Go v0.9.7's memory store is not safe for
// a SendToTarget while the session goroutine replays it for a resend, so a
// test sending at that moment races inside the library.
func (c *client) settle() {
	deadline := time.Now().Add(time.Second)
	quiet := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) {
		if c.resendAsked.Load() > c.resetsSent.Load() {
			quiet = time.Now().Add(50 * time.Millisecond)
		} else if time.Now().After(quiet) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *client) waitLogon() {
	c.t.Helper()
	select {
	case <-c.logon:
	case <-time.After(10 * time.Second):
		c.t.Fatal("no logon")
	}
}

func (c *client) waitLogout() {
	c.t.Helper()
	select {
	case <-c.logout:
	case <-time.After(10 * time.Second):
		c.t.Fatal("no logout")
	}
}

// recv waits for the next message of type mt, skipping others.
func (c *client) recv(mt string) *quickfix.Message {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-c.in:
			if m.IsMsgTypeOf(mt) {
				return m
			}
		case <-deadline:
			c.t.Fatalf("no message of type %s", mt)
			return nil
		}
	}
}

// send sends a message built from "tag=value" pairs (35 first).
func (c *client) send(fields ...string) {
	c.t.Helper()
	if err := quickfix.SendToTarget(build(c.t, fields...), c.sid); err != nil {
		c.t.Fatal(err)
	}
}

// build makes a message from "tag=value" pairs; 35 goes to the header.
func build(t testing.TB, fields ...string) *quickfix.Message {
	m := quickfix.NewMessage()
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("bad field %q", f)
		}
		var tag int
		if _, err := fmt.Sscan(k, &tag); err != nil {
			t.Fatalf("bad tag %q", f)
		}
		if tag == 35 {
			m.Header.SetString(quickfix.Tag(tag), v)
		} else {
			m.Body.SetString(quickfix.Tag(tag), v)
		}
	}
	return m
}

func field(m *quickfix.Message, tag quickfix.Tag) string {
	if v, err := m.Body.GetString(tag); err == nil {
		return v
	}
	v, _ := m.Header.GetString(tag)
	return v
}

// rawLogon sends one Logon over a plain TCP connection and returns what the
// acceptor answers until it closes the connection. QuickFIX/Go's initiator
// does not pass a Logout received in answer to its Logon to the application,
// so refused logons are checked on the wire.
func rawLogon(t testing.TB, addr, begin, comp, target, user, pass string) string {
	t.Helper()
	m := quickfix.NewMessage()
	m.Header.SetString(8, begin)
	m.Header.SetString(tag.MsgType, "A")
	m.Header.SetString(49, comp)
	m.Header.SetString(56, target)
	m.Header.SetInt(tag.MsgSeqNum, 1)
	m.Header.SetField(52, quickfix.FIXUTCTimestamp{Time: time.Now()})
	m.Body.SetString(98, "0")
	m.Body.SetString(108, "30")
	if user != "" {
		m.Body.SetString(tag.Username, user)
	}
	if pass != "" {
		m.Body.SetString(tag.Password, pass)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(m.Bytes()); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			break
		}
	}
	return string(out)
}

// waitLive waits until the gateway has seen the session's logon (the broker
// may see the Logon answer a moment before the gateway's OnLogon has run).
func waitLive(t testing.TB, g *Gateway, id refdata.SessionID) fixsession.SessionID {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if sid, ok := g.LiveSession(id); ok {
			return sid
		}
	}
	t.Fatalf("session %d not live", id)
	return fixsession.SessionID{}
}

// qfFields reads the body of a message built or parsed by QuickFIX/Go, as
// the tests make them.
type qfFields struct{ b *quickfix.Body }

func (q qfFields) Has(t int) bool { return q.b.Has(quickfix.Tag(t)) }

// Get asks Has first: GetBytes of an absent tag builds an error (several
// allocations and a Sprintf).
func (q qfFields) Get(t int) ([]byte, bool) {
	if !q.b.Has(quickfix.Tag(t)) {
		return nil, false
	}
	v, err := q.b.GetBytes(quickfix.Tag(t))
	return v, err == nil
}

// normalize is normalizeFields for a message parsed by QuickFIX/Go, as the
// tests build them; a session-level refusal comes back in QuickFIX/Go's
// terms, as the tests inspect it.
func (n normalizer) normalize(msg *quickfix.Message, mt byte) (ordermanager.Request, *rejection, quickfix.MessageRejectError) {
	req, rej, merr := n.normalizeFields(qfFields{&msg.Body}, mt)
	return req, rej, qfReject(merr)
}

// qfReject is rej as QuickFIX/Go's MessageRejectError (nil for nil).
func qfReject(rej *fixsession.RejectError) quickfix.MessageRejectError {
	if rej == nil {
		return nil
	}
	var ref *quickfix.Tag
	if rej.HasRefTag {
		t := quickfix.Tag(rej.RefTagID)
		ref = &t
	}
	if rej.Business {
		return quickfix.NewBusinessMessageRejectError(rej.Text, rej.Reason, ref)
	}
	return quickfix.NewMessageRejectError(rej.Text, rej.Reason, ref)
}

// rejectMessage is rejectFields for a message parsed by QuickFIX/Go, the
// reject parsed back by QuickFIX/Go for the tests to inspect.
func (g *Gateway) rejectMessage(in *quickfix.Message, begin string, mt byte, rej *rejection) *quickfix.Message {
	seq, _ := in.Header.GetInt(tag.MsgSeqNum)
	var b fixBody
	msgType := g.rejectFields(inbound{f: qfFields{&in.Body}, seq: uint64(max(seq, 0))}, begin, mt, rej, &b)
	h := fixsession.SessionID{BeginString: begin, SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}
	raw := fixsession.AppendMessage(nil, &h, msgType, 1, time.Now(), nil, b.b)
	out := quickfix.NewMessage()
	if err := quickfix.ParseMessage(out, bytes.NewBuffer(raw)); err != nil {
		panic(fmt.Sprintf("reject does not parse: %v: %q", err, raw))
	}
	return out
}

// authenticateQF is authenticate for a Logon built by QuickFIX/Go, the
// configured session found as the acceptor finds it.
func (g *Gateway) authenticateQF(msg *quickfix.Message, sid fixsession.SessionID) (reason, result string) {
	return g.authenticate(qfFields{&msg.Body}, sid, g.acc.Session(sid))
}

// testSettings is the gateway's settings from a test's configuration (as
// cmd/exchange's gatewaySettings maps them).
func testSettings(cfg *config.Config) Settings {
	return Settings{
		ListenFIX:          cfg.ListenFIX,
		DataDir:            cfg.DataDir,
		TargetCompID:       cfg.TargetCompID,
		HeartbeatSeconds:   cfg.HeartbeatSeconds,
		FloodLogoutAfter:   cfg.FloodLogoutAfter,
		QuickFIXSettings:   cfg.QuickFIXSettings,
		SeqResetTime:       cfg.SeqResetTime,
		StoreRetentionDays: cfg.StoreRetentionDays,
		Schedule:           cfg.Schedule,
	}
}

// venueOf is what the gateway reads of a test's configuration.
func venueOf(cfg *config.Config) *venueConfig {
	return &venueConfig{Registry: cfg.Registry, Settings: testSettings(cfg)}
}
