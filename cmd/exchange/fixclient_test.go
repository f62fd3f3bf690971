package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	fixcfg "github.com/quickfixgo/quickfix/config"
	"github.com/quickfixgo/quickfix/store/file"
	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"
	"golang.org/x/crypto/bcrypt"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// This file holds the harness of the end-to-end tests: a venue on free
// loopback ports and a FIX 4.4 test broker (a QuickFIX/Go initiator in this
// process) that keeps every answer it gets in an inbox the tests wait on.

// waitMax bounds every wait of the end-to-end tests. Every wait ends as soon
// as what it waits for happens, so the bound only decides when a test gives
// up: under -race on two loaded cores a logon's bcrypt check alone has taken
// seconds, and 5 s made logons time out.
const waitMax = 15 * time.Second

// freePort returns a loopback address with a port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// testConfig is the embedded default configuration with each edit
// (old, new) applied to its YAML text; an edit that does not apply fails the
// test, so a changed default cannot silently turn a test into a no-op.
func testConfig(t *testing.T, edits ...string) *config.Config {
	t.Helper()
	if len(edits)%2 != 0 {
		t.Fatal("testConfig: edits come in pairs")
	}
	y := string(config.DefaultYAML())
	for i := 0; i < len(edits); i += 2 {
		if !strings.Contains(y, edits[i]) {
			t.Fatalf("testConfig: %q is not in the default configuration", edits[i])
		}
		y = strings.Replace(y, edits[i], edits[i+1], 1)
	}
	cfg, err := config.Parse([]byte(y), "e2e test")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func testLogger() zerolog.Logger {
	if os.Getenv("E2E_LOG") != "" {
		return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	}
	return zerolog.Nop()
}

// cheapHashes maps the embedded default's password hashes (bcrypt cost 10)
// to hashes of the same demo passwords at bcrypt's least cost. A logon's
// bcrypt check at cost 10 has taken seconds under -race on two loaded cores
// and timed out the end-to-end tests' logons; the tests are about FIX, not
// about bcrypt (internal/gateway tests authentication). A default whose
// hashes change simply keeps its own (slower, still correct).
var cheapHashes = map[string]string{
	"$2a$10$G8FuJp3tePxl/gQUF.Vlb.GtNoCV10wU1Or7nul.WAI6kodXbEUPK": "$2a$04$JqbqFkez0ClxeYjPAQ1MnOf9Gxc.fx1imMQaPymtX.y7NTLMUO63m", // demo-alpha
	"$2a$10$IuX04LUTRe.iiGvHZJsk6OwlRl7x2s5PGpHbuvogpsTc83TXpa3J.": "$2a$04$tN8FHTxLIObAmQDdfatzDet/24bgAIKWCfUUzhC2DehubYvKyJQD6", // demo-bravo
	"$2a$10$4p81EY7yZJ8H9lIb/Il3ruQJLjvkTHiiazb1SW612nChFAM53An0K": "$2a$04$EmsghziKqgBPI7X02taheelxngOt/1HTXriLI2TLz1RAn62eTFsGi", // demo-charlie
	"$2a$10$9AkAeM1I6zMl5UNQ/6RRferOuXID3ZyuqCm8D7i6e7/bmD74pXnRK": "$2a$04$jPdnTtuMRyGwZiGELJ.i6ebj6LTm3GPxI7WGTXQkNVz2kDl1URMJi", // demo-mm
}

// cheapYAML is y with the default's password hashes replaced (cheapHashes),
// for configurations a test writes for an `exchange serve` child.
func cheapYAML(y string) string {
	for old, cheap := range cheapHashes {
		y = strings.ReplaceAll(y, old, cheap)
	}
	return y
}

// startTestVenue starts a venue on cfg with its data in dir. fixAddr "" picks
// a free port. The venue is stopped when the test ends unless stopped before.
func startTestVenue(t *testing.T, cfg *config.Config, dir, fixAddr string, durability sequencer.Durability) *venue {
	t.Helper()
	if fixAddr == "" {
		fixAddr = freePort(t)
	}
	cfg.DataDir = dir
	cfg.ListenFIX = fixAddr
	cfg.ListenHTTP = "127.0.0.1:0"
	for i := range cfg.Sessions {
		if cheap, ok := cheapHashes[cfg.Sessions[i].PasswordHash]; ok {
			cfg.Sessions[i].PasswordHash = cheap
		}
	}
	v, err := startVenue(cfg, venueOptions{dataDir: dir, durability: durability}, testLogger())
	if err != nil {
		t.Fatalf("startVenue: %v", err)
	}
	var once sync.Once
	stop := func() error {
		var err error
		once.Do(func() { err = v.stop() })
		return err
	}
	t.Cleanup(func() {
		// The test brokers have logged out by now (their cleanups ran
		// first); let the gateway hand their disconnects to the order
		// manager before the pipeline closes, or each costs 5 s (see the
		// BUG noted in TestE2ERestart).
		quiesce(v)
		_ = stop()
	})
	testStops.Store(v, stop)
	return v
}

// quiesce waits (at most 2 s) until no session of v is logged on, then a
// little longer for the gateway's disconnect to reach the order manager.
func quiesce(v *venue) {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		live := false
		for _, s := range v.cfg.Sessions {
			if _, ok := v.gw.LiveSession(s.ID); ok {
				live = true
			}
		}
		if !live {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
}

// testStops lets a test stop a venue early and still have the cleanup skip it.
var testStops sync.Map

func stopTestVenue(t *testing.T, v *venue) {
	t.Helper()
	f, _ := testStops.LoadAndDelete(v)
	if err := f.(func() error)(); err != nil {
		t.Fatalf("venue stop: %v", err)
	}
}

// fixMsg is one received FIX message: its raw text and its fields by tag
// (the last occurrence of a tag wins; the tests use no repeating groups).
type fixMsg struct {
	raw string
	f   map[int]string
}

func parseFIX(raw string) fixMsg {
	m := fixMsg{raw: raw, f: map[int]string{}}
	for _, kv := range strings.Split(raw, "\x01") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if tag, err := strconv.Atoi(k); err == nil {
			m.f[tag] = v
		}
	}
	return m
}

func (m fixMsg) get(tag int) string { return m.f[tag] }

func (m fixMsg) String() string { return strings.ReplaceAll(m.raw, "\x01", "|") }

// decimalTags are compared as numbers: "190" and "190.00" are the same
// price, but "190.007" and "190.0070001" are not.
var decimalTags = map[int]bool{6: true, 14: true, 31: true, 32: true, 38: true, 44: true, 151: true}

// matches reports whether m has every "tag=value" of want; "tag=" means the
// tag is absent.
func (m fixMsg) matches(want []string) bool {
	for _, w := range want {
		if m.mismatch(w) != "" {
			return false
		}
	}
	return true
}

// mismatch describes how m differs from one "tag=value", or "" if it does not.
func (m fixMsg) mismatch(w string) string {
	k, v, ok := strings.Cut(w, "=")
	tag, err := strconv.Atoi(k)
	if !ok || err != nil {
		return fmt.Sprintf("bad expectation %q", w)
	}
	got, present := m.f[tag]
	switch {
	case v == "":
		if present {
			return fmt.Sprintf("tag %d = %q, want it absent", tag, got)
		}
		return ""
	case !present:
		return fmt.Sprintf("tag %d absent, want %q", tag, v)
	case decimalTags[tag]:
		gd, err1 := decimal.NewFromString(got)
		wd, err2 := decimal.NewFromString(v)
		if err1 != nil || err2 != nil || !gd.Equal(wd) {
			return fmt.Sprintf("tag %d = %q, want %s", tag, got, v)
		}
		return ""
	case got != v:
		return fmt.Sprintf("tag %d = %q, want %q", tag, got, v)
	}
	return ""
}

// check fails the test for every "tag=value" m does not have.
func check(t *testing.T, what string, m fixMsg, want ...string) {
	t.Helper()
	for _, w := range want {
		if d := m.mismatch(w); d != "" {
			t.Errorf("%s: %s\n  in %s", what, d, m)
		}
	}
}

// clientOpts describe a test broker's session.
type clientOpts struct {
	comp, user, pass string
	// storeDir keeps the session's sequence numbers and messages on disk;
	// "" uses a memory store.
	storeDir string
	// noReset logs on with ResetOnLogon=N (continue the sequence numbers).
	noReset bool
	// begin is the BeginString; "" is FIX.4.4.
	begin string
}

func defaultOpts(comp string) clientOpts {
	u := strings.ToLower(comp)
	return clientOpts{comp: comp, user: u, pass: "demo-" + u}
}

// fixClient is a test broker: one FIX 4.4 session to the venue.
type fixClient struct {
	opts clientOpts
	sid  quickfix.SessionID
	ini  *quickfix.Initiator

	mu       sync.Mutex
	inbox    []fixMsg // application messages, session Rejects and Logouts, not yet taken
	events   []string // the session's last events, for failure messages
	loggedOn bool
	logons   int
	// resendAsked counts ResendRequests received, resetsSent the
	// SequenceResets sent in answer.
	resendAsked, resetsSent int
	notify                  chan struct{}
	stopOnce                sync.Once
}

func (c *fixClient) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *fixClient) push(m fixMsg) {
	c.mu.Lock()
	c.inbox = append(c.inbox, m)
	c.mu.Unlock()
	c.signal()
}

// quickfix.Application

func (c *fixClient) OnCreate(quickfix.SessionID) {}

func (c *fixClient) OnLogon(quickfix.SessionID) {
	c.mu.Lock()
	c.loggedOn = true
	c.logons++
	c.mu.Unlock()
	c.signal()
}

func (c *fixClient) OnLogout(quickfix.SessionID) {
	c.mu.Lock()
	c.loggedOn = false
	c.mu.Unlock()
	c.signal()
}

func (c *fixClient) ToAdmin(m *quickfix.Message, _ quickfix.SessionID) {
	if m.IsMsgTypeOf("A") {
		if c.opts.user != "" {
			m.Body.SetString(553, c.opts.user)
		}
		if c.opts.pass != "" {
			m.Body.SetString(554, c.opts.pass)
		}
	}
}

func (c *fixClient) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }

func (c *fixClient) FromAdmin(*quickfix.Message, quickfix.SessionID) quickfix.MessageRejectError {
	return nil
}

func (c *fixClient) FromApp(m *quickfix.Message, _ quickfix.SessionID) quickfix.MessageRejectError {
	c.push(parseFIX(m.String()))
	return nil
}

// quickfix.LogFactory and quickfix.Log: session Rejects and Logouts are
// taken from the incoming log, since QuickFIX/Go does not hand a Logout that
// answers a Logon to the application.

func (c *fixClient) Create() (quickfix.Log, error) { return c, nil }

func (c *fixClient) CreateSessionLog(quickfix.SessionID) (quickfix.Log, error) { return c, nil }

func (c *fixClient) OnIncoming(b []byte) {
	m := parseFIX(string(b))
	if traceFIX {
		fmt.Fprintf(os.Stderr, "%s %s <- %s\n", time.Now().Format("15:04:05.000"), c.opts.comp, m)
	}
	switch m.get(35) {
	case "3", "5":
		c.push(m)
	case "2":
		c.mu.Lock()
		c.resendAsked++
		c.mu.Unlock()
		c.signal()
	}
}

func (c *fixClient) OnOutgoing(b []byte) {
	m := parseFIX(string(b))
	if traceFIX {
		fmt.Fprintf(os.Stderr, "%s %s -> %s\n", time.Now().Format("15:04:05.000"), c.opts.comp, m)
	}
	if m.get(35) == "4" {
		c.mu.Lock()
		c.resetsSent++
		c.mu.Unlock()
		c.signal()
	}
}

// traceFIX (E2E_LOG set) prints the test brokers' messages and events.
var traceFIX = os.Getenv("E2E_LOG") != ""

func (c *fixClient) OnEvent(s string) {
	if traceFIX {
		fmt.Fprintf(os.Stderr, "%s %s event: %s\n", time.Now().Format("15:04:05.000"), c.opts.comp, s)
	}
	c.mu.Lock()
	c.events = append(c.events, s)
	if len(c.events) > 30 {
		c.events = c.events[1:]
	}
	c.mu.Unlock()
}

func (c *fixClient) OnEventf(f string, a ...interface{}) { c.OnEvent(fmt.Sprintf(f, a...)) }

// newClient builds and starts a test broker for v's FIX address; it does not
// wait for the logon. It is stopped when the test ends.
func newClient(t *testing.T, fixAddr string, o clientOpts) *fixClient {
	t.Helper()
	host, port, err := net.SplitHostPort(fixAddr)
	if err != nil {
		t.Fatal(err)
	}
	st := quickfix.NewSettings()
	g := st.GlobalSettings()
	g.Set(fixcfg.SocketConnectHost, host)
	g.Set(fixcfg.SocketConnectPort, port)
	g.Set(fixcfg.HeartBtInt, "30")
	g.Set(fixcfg.ReconnectInterval, "60") // the tests reconnect by hand
	g.Set(fixcfg.LogonTimeout, "5")
	g.Set(fixcfg.LogoutTimeout, "2")
	if o.noReset {
		g.Set(fixcfg.ResetOnLogon, "N")
	} else {
		g.Set(fixcfg.ResetOnLogon, "Y")
	}
	if o.storeDir != "" {
		g.Set(fixcfg.FileStorePath, o.storeDir)
	}
	ss := quickfix.NewSessionSettings()
	begin := o.begin
	if begin == "" {
		begin = quickfix.BeginStringFIX44
	}
	ss.Set(fixcfg.BeginString, begin)
	ss.Set(fixcfg.SenderCompID, o.comp)
	ss.Set(fixcfg.TargetCompID, "EXCHANGE")
	sid, err := st.AddSession(ss)
	if err != nil {
		t.Fatal(err)
	}
	c := &fixClient{opts: o, sid: sid, notify: make(chan struct{}, 1)}
	var sf quickfix.MessageStoreFactory = quickfix.NewMemoryStoreFactory()
	if o.storeDir != "" {
		sf = file.NewStoreFactory(st)
	}
	c.ini, err = quickfix.NewInitiator(c, sf, st, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ini.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stop)
	return c
}

// logon starts a test broker and waits until it is logged on.
func logon(t *testing.T, fixAddr string, o clientOpts) *fixClient {
	t.Helper()
	return logonAll(t, fixAddr, o)[0]
}

// logonAll starts test brokers at once (QuickFIX/Go spends up to a second
// before a session's first logon) and waits until all are logged on.
func logonAll(t *testing.T, fixAddr string, opts ...clientOpts) []*fixClient {
	t.Helper()
	cs := make([]*fixClient, len(opts))
	for i, o := range opts {
		cs[i] = newClient(t, fixAddr, o)
	}
	deadline := time.Now().Add(waitMax)
	for _, c := range cs {
		c.waitLogon(t, deadline)
	}
	return cs
}

func (c *fixClient) waitLogon(t *testing.T, deadline time.Time) {
	t.Helper()
	for {
		c.mu.Lock()
		ok := c.loggedOn
		var logout string
		for _, m := range c.inbox {
			if m.get(35) == "5" {
				logout = m.get(58)
			}
		}
		ev := strings.Join(c.events, "\n    ")
		c.mu.Unlock()
		switch {
		case ok:
			return
		case logout != "":
			t.Fatalf("%s: logon refused: %q", c.opts.comp, logout)
		case time.Now().After(deadline):
			t.Fatalf("%s: not logged on after %s; session events:\n    %s", c.opts.comp, waitMax, ev)
		}
		c.wait(deadline)
	}
}

// settle is for a logon that continued the sequence numbers: when the venue
// asks for a resend it waits until the broker has answered it, since
// QuickFIX/Go v0.9.7 drops the first application message that reaches a
// session in resend state while its stash is empty (resendState.FixMsgIn
// returns the state it was called on, not the one holding the new stash);
// a real broker recovers at its next message, a test would time out.
func (c *fixClient) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		c.mu.Lock()
		asked, sent := c.resendAsked, c.resetsSent
		c.mu.Unlock()
		switch {
		case asked > 0 && sent >= asked:
			return
		case asked == 0 && time.Now().After(deadline):
			return // no resend asked for
		case time.Now().After(deadline.Add(waitMax)):
			t.Fatalf("%s: the venue asked for a resend and it was not answered", c.opts.comp)
		}
		c.wait(time.Now().Add(50 * time.Millisecond))
	}
}

// wait blocks until something arrives or the deadline passes.
func (c *fixClient) wait(deadline time.Time) {
	d := time.Until(deadline)
	if d <= 0 {
		return
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-c.notify:
	case <-tm.C:
	}
}

// stop logs the session out (if it is on) and stops the initiator; the
// CompID may then be used by a new test broker.
func (c *fixClient) stop() { c.stopOnce.Do(c.ini.Stop) }

// send sends a message of msgType with fields given as "tag=value".
func (c *fixClient) send(t *testing.T, msgType string, fields ...string) {
	t.Helper()
	m := quickfix.NewMessage()
	m.Header.SetString(35, msgType)
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		tag, err := strconv.Atoi(k)
		if !ok || err != nil {
			t.Fatalf("bad field %q", f)
		}
		m.Body.SetString(quickfix.Tag(tag), v)
	}
	if err := quickfix.SendToTarget(m, c.sid); err != nil {
		t.Fatalf("%s: send %s: %v", c.opts.comp, msgType, err)
	}
}

// limit sends a day limit order.
func (c *fixClient) limit(t *testing.T, clOrdID, symbol, side, qty, px string, extra ...string) {
	t.Helper()
	c.send(t, "D", append([]string{"11=" + clOrdID, "55=" + symbol, "54=" + side, "38=" + qty, "40=2", "44=" + px, "59=0"}, extra...)...)
}

// expect takes the first message of msgType with all the "tag=value" of
// where from the inbox, waiting for it at most waitMax.
func (c *fixClient) expect(t *testing.T, msgType string, where ...string) fixMsg {
	t.Helper()
	want := append([]string{"35=" + msgType}, where...)
	deadline := time.Now().Add(waitMax)
	for {
		c.mu.Lock()
		for i, m := range c.inbox {
			if m.matches(want) {
				c.inbox = append(c.inbox[:i:i], c.inbox[i+1:]...)
				c.mu.Unlock()
				return m
			}
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, m := range c.inbox {
				fmt.Fprintf(&b, "\n    %s", m)
			}
			c.mu.Unlock()
			t.Fatalf("%s: no message %v within %s; unclaimed:%s", c.opts.comp, want, waitMax, b.String())
		}
		c.mu.Unlock()
		c.wait(deadline)
	}
}

// expectExec waits for the ExecutionReport of clOrdID with ExecType execType.
func (c *fixClient) expectExec(t *testing.T, clOrdID, execType string, where ...string) fixMsg {
	t.Helper()
	return c.expect(t, "8", append([]string{"11=" + clOrdID, "150=" + execType}, where...)...)
}

// expectLogout waits for a Logout from the venue and returns its Text.
func (c *fixClient) expectLogout(t *testing.T) string {
	t.Helper()
	return c.expect(t, "5").get(58)
}

// noMore fails if a message of msgType with where arrives within d.
func (c *fixClient) noMore(t *testing.T, d time.Duration, msgType string, where ...string) {
	t.Helper()
	want := append([]string{"35=" + msgType}, where...)
	deadline := time.Now().Add(d)
	for {
		c.mu.Lock()
		for _, m := range c.inbox {
			if m.matches(want) {
				c.mu.Unlock()
				t.Fatalf("%s: unexpected %s", c.opts.comp, m)
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			return
		}
		c.wait(deadline)
	}
}

// collectAcks records, in acked, the ClOrdID of every order the inbox holds
// a new-order acknowledgement (35=8, 150=0) for, by OrderID, and returns how
// many it found.
func (c *fixClient) collectAcks(t *testing.T, acked map[matching.OrderID]string) int {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, m := range c.inbox {
		if m.get(35) == "8" && m.get(150) == "0" {
			id, err := strconv.ParseUint(m.get(37), 10, 64)
			if err != nil {
				t.Fatalf("ack without a numeric OrderID: %s", m)
			}
			acked[matching.OrderID(id)] = m.get(11)
			n++
		}
	}
	return n
}

// The cheap hashes stand for the default's: each key is one of its hashes,
// and each cheap hash checks the same demo password.
func TestCheapHashesMatchDefault(t *testing.T) {
	y := string(config.DefaultYAML())
	for old, cheap := range cheapHashes {
		i := strings.Index(y, old)
		if i < 0 {
			t.Errorf("%s is not a hash of the default configuration any more", old)
			continue
		}
		line := y[i:]
		line = line[:strings.IndexByte(line, '\n')]
		pw := strings.TrimSpace(line[strings.Index(line, "#")+1:])
		if err := bcrypt.CompareHashAndPassword([]byte(cheap), []byte(pw)); err != nil {
			t.Errorf("the cheap hash for %s does not check %q: %v", old, pw, err)
		}
	}
}
