package gateway

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
)

func TestLogon(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	om := newFakeOM()
	g := startGateway(t, cfg, om)

	// Refused logons: each gets a Logout whose Text says why.
	for _, tc := range []struct {
		name, begin, comp, target, user, pass, text string
	}{
		{"unknown CompID", "FIX.4.4", "NOPE", "EXCHANGE", "alpha", "pw-alpha", `58=unknown SenderCompID "NOPE"`},
		{"wrong password", "FIX.4.4", "ALPHA", "EXCHANGE", "alpha", "wrong", `58=bad password for user "alpha"`},
		{"wrong username", "FIX.4.2", "BRAVO", "EXCHANGE", "alpha", "pw-bravo", `58=bad username for SenderCompID "BRAVO"`},
		{"no password", "FIX.4.4", "FLOOD", "EXCHANGE", "flood", "", "58=Password (554) is required"},
		{"wrong TargetCompID", "FIX.4.4", "ALPHA", "OTHER", "alpha", "pw-alpha", `58=TargetCompID "OTHER" is wrong`},
		{"unsupported version", "FIX.4.3", "ALPHA", "EXCHANGE", "alpha", "pw-alpha", `58=BeginString "FIX.4.3" is not supported`},
	} {
		got := rawLogon(t, addr, tc.begin, tc.comp, tc.target, tc.user, tc.pass)
		if !strings.Contains(got, "\x0135=5\x01") || !strings.Contains(got, tc.text) {
			t.Errorf("%s: got %q, want a Logout with %q", tc.name, got, tc.text)
		}
	}
	if s := g.Stats(); s.Logons["ok"] != 0 || s.Logons["bad_password"] == 0 || s.Logons["unknown_comp_id"] == 0 {
		t.Errorf("logon counters: %v", s.Logons)
	}

	// Good logons with FIX 4.4 and FIX 4.2.
	a := dial(t, addr, quickfix.BeginStringFIX44, "ALPHA", "EXCHANGE", "alpha", "pw-alpha")
	b := dial(t, addr, quickfix.BeginStringFIX42, "BRAVO", "EXCHANGE", "bravo", "pw-bravo")
	a.waitLogon()
	b.waitLogon()
	if sid := waitLive(t, g, cfg.SessionByCompID("BRAVO")); sid.BeginString != quickfix.BeginStringFIX42 {
		t.Fatalf("BRAVO live session %v", sid)
	}
	waitLive(t, g, cfg.SessionByCompID("ALPHA"))
	// The same CompID cannot log on twice under two versions.
	if got := rawLogon(t, addr, "FIX.4.2", "ALPHA", "EXCHANGE", "alpha", "pw-alpha"); !strings.Contains(got, `58=SenderCompID "ALPHA" is already logged on (FIX.4.4)`) {
		t.Errorf("second logon: %q", got)
	}

	// Logout: the order manager hears of the disconnect.
	b.stop()
	for {
		r := om.next(t)
		if r.Kind == ordermanager.ReqDisconnect {
			if r.Session != cfg.SessionByCompID("BRAVO") {
				t.Fatalf("disconnect of session %d", r.Session)
			}
			break
		}
	}
	if _, ok := g.LiveSession(cfg.SessionByCompID("BRAVO")); ok {
		t.Fatal("BRAVO still live after logout")
	}
}

// TestOrderEntry drives orders over FIX through a fake order manager that
// acknowledges each new order.
func TestOrderEntry(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	om := newFakeOM()
	g := startGateway(t, cfg, om)
	a := dial(t, addr, quickfix.BeginStringFIX44, "ALPHA", "EXCHANGE", "alpha", "pw-alpha")
	a.waitLogon()
	alpha := cfg.SessionByCompID("ALPHA")

	// A good order is normalized and submitted; the ack comes back as an
	// ExecutionReport.
	a.send("35=D", "11=o1", "55=BIG", "54=1", "38=500", "40=2", "44=12.05", "59=1", "18=6", "1=ALPHA-2", "7928=1")
	r := om.next(t)
	if r.Kind != ordermanager.ReqNew || r.Session != alpha || r.Account != cfg.AccountByName("ALPHA-2") ||
		r.Symbol != cfg.SymbolByName("BIG") || r.Qty != 5 || r.Price != 241 || r.TIF != matching.GTC ||
		!r.PostOnly || r.STP != matching.STPCancelNewest || r.ClOrdID.String() != "o1" || r.RecvNs == 0 {
		t.Fatalf("request %+v", r)
	}
	g.Deliver([]ordermanager.Report{{Kind: ordermanager.RepExec, Session: r.Session, ExecType: ordermanager.ExecNew,
		OrdStatus: ordermanager.StatusNew, ExecID: 1, OrderID: 42, ClOrdID: r.ClOrdID, Account: r.Account, Symbol: r.Symbol,
		Side: r.Side, Type: r.Type, TIF: r.TIF, Price: r.Price, OrderQty: r.Qty, Leaves: r.Qty, TransactNs: time.Now().UnixNano()}})
	er := a.recv("8")
	for tag, want := range map[quickfix.Tag]string{37: "42", 11: "o1", 17: "1", 150: "0", 39: "0", 55: "BIG", 54: "1",
		38: "500", 40: "2", 44: "12.05", 59: "1", 14: "0", 151: "500", 6: "0", 1: "ALPHA-2"} {
		if got := field(er, tag); got != want {
			t.Errorf("ack tag %d = %q, want %q", tag, got, want)
		}
	}

	// Validation rejects travel back with their codes.
	a.send("35=D", "11=o2", "55=AAPL", "54=1", "38=1", "40=2", "44=100.001")
	er = a.recv("8")
	if field(er, 150) != "8" || field(er, 39) != "8" || field(er, 103) != "99" || !strings.Contains(field(er, 58), "tick size") || field(er, 11) != "o2" {
		t.Errorf("non-tick reject: %s", er)
	}
	a.send("35=D", "11=o3", "55=AAPL", "54=1", "38=1", "40=2", "44=100", "1=BRAVO-1")
	if er = a.recv("8"); field(er, 103) != "15" || !strings.Contains(field(er, 58), "does not belong") {
		t.Errorf("foreign account reject: %s", er)
	}
	a.send("35=D", "55=AAPL", "54=1", "38=1", "40=2", "44=100")
	if rj := a.recv("3"); field(rj, 373) != "1" || field(rj, 371) != "11" {
		t.Errorf("missing ClOrdID: %s", rj)
	}
	a.send("35=G", "11=o5", "41=o1", "55=AAPL", "54=1", "38=1", "40=2", "44=1.001")
	if cr := a.recv("9"); field(cr, 434) != "2" || field(cr, 102) != "99" || field(cr, 41) != "o1" || !strings.Contains(field(cr, 58), "tick size") {
		t.Errorf("replace reject: %s", cr)
	}
	a.send("35=q", "11=m1", "530=5")
	if mr := a.recv("r"); field(mr, 531) != "0" || field(mr, 532) != "0" || field(mr, 530) != "5" {
		t.Errorf("mass cancel reject: %s", mr)
	}
	a.send("35=V", "262=x", "263=0", "264=1")
	if bj := a.recv("j"); field(bj, 380) != "3" || field(bj, 372) != "V" {
		t.Errorf("market data without a handler: %s", bj)
	}
	a.send("35=B", "148=hello")
	if bj := a.recv("j"); field(bj, 380) != "3" {
		t.Errorf("unsupported message: %s", bj)
	}

	// Cancel, status and mass cancel pass through.
	a.send("35=F", "11=o6", "41=o1", "55=BIG", "54=1")
	if r = om.next(t); r.Kind != ordermanager.ReqCancel || r.OrigClOrdID.String() != "o1" {
		t.Fatalf("cancel %+v", r)
	}
	a.send("35=H", "11=o1", "55=BIG", "54=1")
	if r = om.next(t); r.Kind != ordermanager.ReqStatus || r.ClOrdID.String() != "o1" {
		t.Fatalf("status %+v", r)
	}
	a.send("35=q", "11=m2", "530=7")
	if r = om.next(t); r.Kind != ordermanager.ReqMassCancel || r.Symbol != 0 {
		t.Fatalf("mass cancel %+v", r)
	}

	// The order manager's own rejects and reports render with their codes.
	g.Deliver([]ordermanager.Report{
		{Kind: ordermanager.RepCancelReject, Session: alpha, ClOrdID: r.ClOrdID, OrigClOrdID: r.ClOrdID, OrdStatus: '4', CxlRejResponseTo: '1', Reject: 26},
		{Kind: ordermanager.RepMassCancel, Session: alpha, ClOrdID: r.ClOrdID, MassCancelled: 3},
	})
	if cr := a.recv("9"); field(cr, 434) != "1" || field(cr, 39) != "4" || field(cr, 58) == "" {
		t.Errorf("cancel reject report: %s", cr)
	}
	if mr := a.recv("r"); field(mr, 531) != "7" || field(mr, 533) != "3" || field(mr, 530) != "7" {
		t.Errorf("mass cancel report: %s", mr)
	}

	// Busy: the order manager's queue is full.
	om.setBusy(true)
	a.send("35=D", "11=o7", "55=AAPL", "54=2", "38=1", "40=2", "44=100")
	if er = a.recv("8"); field(er, 103) != "99" || !strings.Contains(field(er, 58), "exchange busy") {
		t.Errorf("busy reject: %s", er)
	}
	a.send("35=F", "11=o8", "41=o1")
	if cr := a.recv("9"); !strings.Contains(field(cr, 58), "exchange busy") {
		t.Errorf("busy cancel reject: %s", cr)
	}
	om.setBusy(false)

	// Three fills at 100.01, 100.02 and 100.03: AvgPx is exact.
	aapl := cfg.SymbolByName("AAPL")
	var reps []ordermanager.Report
	cum, cumTL := int64(0), int64(0)
	for i, px := range []int64{10001, 10002, 10003} {
		cum++
		cumTL += px
		status := ordermanager.StatusPartiallyFilled
		if i == 2 {
			status = ordermanager.StatusFilled
		}
		reps = append(reps, ordermanager.Report{Kind: ordermanager.RepExec, Session: alpha, ExecType: ordermanager.ExecTrade,
			OrdStatus: status, ExecID: uint64(10 + i), OrderID: 43, Account: cfg.AccountByName("ALPHA-1"), Symbol: aapl,
			Side: matching.Buy, Type: matching.Limit, TIF: matching.Day, Price: 10005, OrderQty: 3, CumQty: cum,
			Leaves: 3 - cum, LastPx: px, LastQty: 1, CumTicksLots: cumTL, Fee: 3})
	}
	g.Deliver(reps)
	for i, want := range []string{"100.01", "100.015", "100.02"} {
		er := a.recv("8")
		if field(er, 6) != want || field(er, 150) != "F" || field(er, 14) != itoa64(int64(i+1)) ||
			field(er, 151) != itoa64(int64(2-i)) || field(er, 32) != "1" || field(er, 12) != "0.03" {
			t.Errorf("fill %d: AvgPx %s (want %s): %s", i, field(er, 6), want, er)
		}
	}
	if s := g.Stats(); s.MessagesOut["8"] < 4 || s.Submitted["new"] != 1 || s.Rejects["D/busy"] != 1 {
		t.Errorf("stats %+v", s)
	}
	var sb strings.Builder
	if err := g.WriteMetrics(&sb); err != nil || !strings.Contains(sb.String(), `exchange_gateway_rejects_total{msg_type="D",reason="busy"} 1`) {
		t.Errorf("metrics: %v\n%s", err, sb.String())
	}
}

func itoa64(i int64) string { return strconv.FormatInt(i, 10) }

// TestRateLimitAndFlood: the FLOOD session may send 1 msg/s with a burst of 2;
// orders over the limit are rejected, and after 5 of them in a row the session
// is logged out.
func TestRateLimitAndFlood(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	om := newFakeOM()
	g := startGateway(t, cfg, om)
	c := dial(t, addr, quickfix.BeginStringFIX44, "FLOOD", "EXCHANGE", "flood", "pw-flood")
	c.waitLogon()
	for i := 0; i < 8; i++ {
		c.send("35=D", "11=f"+itoa64(int64(i)), "55=AAPL", "54=1", "38=1", "40=2", "44=100")
	}
	limited := 0
	var logout *quickfix.Message
	for logout == nil {
		select {
		case m := <-c.in:
			switch {
			case m.IsMsgTypeOf("8"):
				// Once the flood logout is decided, what still arrives before
				// the Logout goes out is refused as such.
				if txt := field(m, 58); field(m, 103) != "99" ||
					txt != "rate limit exceeded: 1 msgs/s" && txt != "session is being logged out for flooding" {
					t.Fatalf("rate limit reject: %s", m)
				}
				limited++
			case m.IsMsgTypeOf("5"):
				logout = m
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no flood logout; %d rate-limit rejects", limited)
		}
	}
	if !strings.Contains(field(logout, tag.Text), "flooding") || limited < 5 {
		t.Fatalf("logout %q after %d rejects", field(logout, tag.Text), limited)
	}
	c.waitLogout()
	if s := g.Stats(); s.FloodLogouts != 1 || s.RateLimited < 5 || s.Submitted["new"] < 1 || s.Submitted["new"] > 3 {
		t.Fatalf("stats %+v", s)
	}
	// Its disconnect reached the order manager too.
	deadline := time.After(5 * time.Second)
	for {
		select {
		case r := <-om.ch:
			if r.Kind == ordermanager.ReqDisconnect {
				return
			}
		case <-deadline:
			t.Fatal("no disconnect request after the flood logout")
		}
	}
}

// TestSequenceNumbersPersist: the acceptor's FIX store lives in the data
// folder, so after a restart a broker logs on again with its sequence numbers
// carried on.
func TestSequenceNumbersPersist(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	cfg := testConfig(t, addr, dir)
	om := newFakeOM()
	g1, err := New(Options{Ref: cfg.Registry, Settings: testSettings(cfg), Submitter: om})
	if err != nil {
		t.Fatal(err)
	}
	if err := g1.Start(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr, quickfix.BeginStringFIX44, "ALPHA", "EXCHANGE", "alpha", "pw-alpha")
	c.waitLogon()
	if seq := field(c.recv("A"), tag.MsgSeqNum); seq != "1" {
		t.Fatalf("first Logon answer has MsgSeqNum %s", seq)
	}
	for i := 0; i < 3; i++ {
		c.send("35=D", "11=s"+itoa64(int64(i)), "55=AAPL", "54=1", "38=1", "40=2", "44=100")
		om.next(t)
	}
	alpha := cfg.SessionByCompID("ALPHA")
	waitLive(t, g1, alpha)
	g1.Deliver([]ordermanager.Report{{Kind: ordermanager.RepExec, Session: alpha, ExecID: 1, OrderID: 1, Symbol: 1}})
	if seq := field(c.recv("8"), tag.MsgSeqNum); seq != "2" {
		t.Fatalf("report has MsgSeqNum %s", seq)
	}
	g1.Stop() // sends Logout with MsgSeqNum 3
	c.waitLogout()

	// Reports after the gateway stopped (its stores closed) are refused
	// and counted.
	g1.Deliver([]ordermanager.Report{{Kind: ordermanager.RepExec, Session: alpha}})
	if n := g1.Stats().ReportsDropped["send_failed"]; n != 1 {
		t.Fatalf("dropped %d", n)
	}

	g2, err := New(Options{Ref: cfg.Registry, Settings: testSettings(cfg), Submitter: om})
	if err != nil {
		t.Fatal(err)
	}
	if err := g2.Start(); err != nil {
		t.Fatal(err)
	}
	defer g2.Stop()
	c.waitLogon() // the initiator reconnects by itself
	// The new acceptor goes on from the stored sequence numbers; had it
	// started again from 1, the broker would have refused its Logon.
	if seq, _ := strconv.Atoi(field(c.recv("A"), tag.MsgSeqNum)); seq < 4 {
		t.Fatalf("Logon answer after the restart has MsgSeqNum %d", seq)
	}
	waitLive(t, g2, alpha)
	c.settle()
	c.send("35=D", "11=s9", "55=AAPL", "54=1", "38=1", "40=2", "44=100")
	for {
		if r := om.next(t); r.Kind != ordermanager.ReqDisconnect {
			if r.ClOrdID.String() != "s9" {
				t.Fatalf("after restart: %+v", r)
			}
			break
		}
	}
}

type fakeMD struct {
	reqs    chan fixsession.SessionID
	logouts chan fixsession.SessionID
}

func (m *fakeMD) OnMarketDataRequest(_ []byte, sid fixsession.SessionID) *fixsession.RejectError {
	m.reqs <- sid
	return nil
}

func (m *fakeMD) OnLogout(sid fixsession.SessionID) { m.logouts <- sid }

// TestMarketDataRouting: MarketDataRequest goes to the market data handler,
// which also hears of the session's logout.
func TestMarketDataRouting(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	md := &fakeMD{reqs: make(chan fixsession.SessionID, 4), logouts: make(chan fixsession.SessionID, 4)}
	g, err := New(Options{Ref: cfg.Registry, Settings: testSettings(cfg), Submitter: newFakeOM(), MarketData: md, Log: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopGateway(g) })
	c := dial(t, addr, quickfix.BeginStringFIX44, "ALPHA", "EXCHANGE", "alpha", "pw-alpha")
	c.waitLogon()
	c.send("35=V", "262=md1", "263=1", "264=1")
	var sid fixsession.SessionID
	select {
	case sid = <-md.reqs:
	case <-time.After(5 * time.Second):
		t.Fatal("no market data request")
	}
	c.stop()
	select {
	case got := <-md.logouts:
		if got != sid {
			t.Fatalf("logout of %v, want %v", got, sid)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("market data not told of the logout")
	}
}
