package marketdata

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/matching"
	"github.com/quickfixgo/enum"
	"github.com/quickfixgo/field"
	"github.com/quickfixgo/fix44/marketdatarequest"
	"github.com/quickfixgo/quickfix"

	"github.com/exchange-sim/exchange/internal/fixsession"
)

// exchangeApp is the smallest acceptor application: V goes to the publisher,
// which sends through QuickFIX/Go's session registry (qfSender).
type exchangeApp struct{ p *Publisher }

func (a *exchangeApp) OnCreate(quickfix.SessionID)                       {}
func (a *exchangeApp) OnLogon(quickfix.SessionID)                        {}
func (a *exchangeApp) OnLogout(sid quickfix.SessionID)                   { a.p.OnLogout(ourSID(sid)) }
func (a *exchangeApp) ToAdmin(*quickfix.Message, quickfix.SessionID)     {}
func (a *exchangeApp) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }
func (a *exchangeApp) FromAdmin(*quickfix.Message, quickfix.SessionID) quickfix.MessageRejectError {
	return nil
}
func (a *exchangeApp) FromApp(msg *quickfix.Message, sid quickfix.SessionID) quickfix.MessageRejectError {
	if msg.IsMsgTypeOf("V") {
		rej := a.p.OnMarketDataRequest(msg.Bytes(), ourSID(sid))
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
	return quickfix.UnsupportedMessageType()
}

// ourSID is a QuickFIX/Go session ID in the session layer's terms.
func ourSID(sid quickfix.SessionID) fixsession.SessionID {
	return fixsession.SessionID{BeginString: sid.BeginString, SenderCompID: sid.SenderCompID, TargetCompID: sid.TargetCompID}
}

// qfSender is the publisher's FIXSender over QuickFIX/Go's session
// registry. The body goes out as it is: QuickFIX/Go writes a field as
// tag=value␁, so the first field's tag with the rest of the body (its
// other fields included) as the value writes the body unchanged, repeating
// groups and field order included.
func qfSender(sid fixsession.SessionID, msgType string, body []byte) error {
	eq := bytes.IndexByte(body, '=')
	if eq <= 0 || body[len(body)-1] != 0x01 {
		return fmt.Errorf("body %q is not tag=value fields", body)
	}
	first, err := strconv.Atoi(string(body[:eq]))
	if err != nil {
		return err
	}
	m := quickfix.NewMessage()
	m.Header.SetString(35, msgType)
	m.Body.SetBytes(quickfix.Tag(first), body[eq+1:len(body)-1])
	return quickfix.SendToTarget(m, quickfix.SessionID{BeginString: sid.BeginString, SenderCompID: sid.SenderCompID, TargetCompID: sid.TargetCompID})
}

// brokerApp is the test's initiator: it hands every message it receives over.
type brokerApp struct {
	logon chan quickfix.SessionID
	msgs  chan []fixField
	// status keeps SecurityStatus (35=f) messages, which the tests of the
	// book and the tape leave out; set before the session logs on.
	status bool
}

func (a *brokerApp) OnCreate(quickfix.SessionID)                       {}
func (a *brokerApp) OnLogon(sid quickfix.SessionID)                    { a.logon <- sid }
func (a *brokerApp) OnLogout(quickfix.SessionID)                       {}
func (a *brokerApp) ToAdmin(*quickfix.Message, quickfix.SessionID)     {}
func (a *brokerApp) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }
func (a *brokerApp) FromAdmin(m *quickfix.Message, _ quickfix.SessionID) quickfix.MessageRejectError {
	if m.IsMsgTypeOf("3") { // session-level reject
		a.msgs <- splitFIX(m.Bytes())
	}
	return nil
}
func (a *brokerApp) FromApp(m *quickfix.Message, _ quickfix.SessionID) quickfix.MessageRejectError {
	if m.IsMsgTypeOf("f") && !a.status {
		return nil
	}
	a.msgs <- splitFIX(m.Bytes())
	return nil
}

type fixField struct {
	tag int
	val string
}

// splitFIX splits a raw message into its fields, in order (groups flattened).
func splitFIX(raw []byte) []fixField {
	var out []fixField
	for _, f := range bytes.Split(bytes.TrimSuffix(raw, []byte{1}), []byte{1}) {
		tag, val, _ := strings.Cut(string(f), "=")
		n, _ := strconv.Atoi(tag)
		out = append(out, fixField{n, val})
	}
	return out
}

func fget(fs []fixField, tag int) string {
	for _, f := range fs {
		if f.tag == tag {
			return f.val
		}
	}
	return ""
}

// mdEntry is one flattened NoMDEntries member.
type mdEntry struct {
	action, typ, symbol, px, size, orders string
}

func mdEntries(fs []fixField) []mdEntry {
	var out []mdEntry
	for _, f := range fs {
		switch f.tag {
		case 279:
			out = append(out, mdEntry{action: f.val})
			continue
		case 269:
			if len(out) == 0 || out[len(out)-1].typ != "" {
				out = append(out, mdEntry{})
			}
		}
		if len(out) == 0 {
			continue
		}
		e := &out[len(out)-1]
		switch f.tag {
		case 269:
			e.typ = f.val
		case 55:
			e.symbol = f.val
		case 270:
			e.px = f.val
		case 271:
			e.size = f.val
		case 346:
			e.orders = f.val
		}
	}
	return out
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func fixSettings(t *testing.T, role string, port int) *quickfix.Settings {
	sender, target := "EXCH", "BROKER"
	if role == "initiator" {
		sender, target = target, sender
	}
	cfg := fmt.Sprintf(`[DEFAULT]
BeginString=FIX.4.4
SenderCompID=%s
TargetCompID=%s
HeartBtInt=30
ReconnectInterval=1
StartTime=00:00:00
EndTime=00:00:00
UseDataDictionary=N
ResetOnLogon=Y
SocketAcceptHost=127.0.0.1
SocketAcceptPort=%d
SocketConnectHost=127.0.0.1
SocketConnectPort=%d
[SESSION]
BeginString=FIX.4.4
`, sender, target, port, port)
	s, err := quickfix.ParseSettings(strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixRig is an acceptor wired to a publisher and a logged-on initiator.
type fixRig struct {
	p      *Publisher
	broker *brokerApp
	sid    quickfix.SessionID
}

func newFIXRig(t *testing.T, p *Publisher) *fixRig { return newFIXRigStatus(t, p, false) }

// newFIXRigStatus is newFIXRig whose broker keeps SecurityStatus messages
// when status is set.
func newFIXRigStatus(t *testing.T, p *Publisher, status bool) *fixRig {
	port := freePort(t)
	p.SetFIXSender(qfSender)
	acc, err := quickfix.NewAcceptor(&exchangeApp{p}, quickfix.NewMemoryStoreFactory(), fixSettings(t, "acceptor", port), quickfix.NewNullLogFactory())
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(acc.Stop)
	b := &brokerApp{logon: make(chan quickfix.SessionID, 1), msgs: make(chan []fixField, 4096), status: status}
	ini, err := quickfix.NewInitiator(b, quickfix.NewMemoryStoreFactory(), fixSettings(t, "initiator", port), quickfix.NewNullLogFactory())
	if err != nil {
		t.Fatal(err)
	}
	if err := ini.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ini.Stop)
	select {
	case sid := <-b.logon:
		return &fixRig{p: p, broker: b, sid: sid}
	case <-time.After(10 * time.Second):
		t.Fatal("no FIX logon")
	}
	return nil
}

// request sends a MarketDataRequest built with the typed fix44 builder.
func (r *fixRig) request(t *testing.T, reqID string, subType enum.SubscriptionRequestType, depth int, types []enum.MDEntryType, symbols ...string) {
	t.Helper()
	m := marketdatarequest.New(field.NewMDReqID(reqID), field.NewSubscriptionRequestType(subType), field.NewMarketDepth(depth))
	tg := marketdatarequest.NewNoMDEntryTypesRepeatingGroup()
	for _, ty := range types {
		tg.Add().SetMDEntryType(ty)
	}
	m.SetNoMDEntryTypes(tg)
	sg := marketdatarequest.NewNoRelatedSymRepeatingGroup()
	for _, s := range symbols {
		sg.Add().SetSymbol(s)
	}
	m.SetNoRelatedSym(sg)
	if subType == enum.SubscriptionRequestType_SNAPSHOT_PLUS_UPDATES {
		m.SetMDUpdateType(enum.MDUpdateType_INCREMENTAL_REFRESH)
	}
	if err := quickfix.SendToTarget(m, r.sid); err != nil {
		t.Fatal(err)
	}
}

// next returns the next application message, or nil after wait.
func (r *fixRig) next(wait time.Duration) []fixField {
	select {
	case m := <-r.broker.msgs:
		return m
	case <-time.After(wait):
		return nil
	}
}

// until hands each message to handle until pending reports nothing left to
// wait for (""), failing after 10 s with what was still pending.
func (r *fixRig) until(t *testing.T, pending func() string, handle func([]fixField)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for d := pending(); d != ""; d = pending() {
		m := r.next(time.Until(deadline))
		if m == nil {
			t.Fatalf("timed out: %s", d)
		}
		handle(m)
	}
}

// fixSubscriptions counts the FIX subscriptions of every session.
func fixSubscriptions(p *Publisher) int {
	p.fixMu.Lock()
	defer p.fixMu.Unlock()
	p.mu.RLock()
	defer p.mu.RUnlock()
	n := 0
	for _, fs := range p.fixSessions {
		n += len(fs.sub.subs)
	}
	return n
}

func (r *fixRig) expect(t *testing.T, msgType string) []fixField {
	t.Helper()
	m := r.next(5 * time.Second)
	if m == nil || fget(m, 35) != msgType {
		t.Fatalf("want 35=%s, got %v", msgType, m)
	}
	return m
}

// fixBook is the client's L2 of one side pair, price text → entry.
type fixBook map[string]map[string]mdEntry // typ → px → entry

func (b fixBook) apply(t *testing.T, es []mdEntry) {
	for _, e := range es {
		if b[e.typ] == nil {
			b[e.typ] = map[string]mdEntry{}
		}
		switch e.action {
		case "", "0", "1":
			if e.action == "0" && e.typ != "2" {
				if _, dup := b[e.typ][e.px]; dup {
					t.Errorf("New for a level the client holds: %+v", e)
				}
			}
			if e.action == "1" {
				if _, ok := b[e.typ][e.px]; !ok {
					t.Errorf("Change for a level the client lacks: %+v", e)
				}
			}
			b[e.typ][e.px] = e
		case "2":
			if _, ok := b[e.typ][e.px]; !ok {
				t.Errorf("Delete for a level the client lacks: %+v", e)
			}
			delete(b[e.typ], e.px)
		}
	}
}

func (b fixBook) equal(p *Publisher, sym matching.SymbolID, depth int) string {
	s := p.sym(sym)
	for _, side := range []struct {
		typ string
		sd  matching.Side
	}{{"0", matching.Buy}, {"1", matching.Sell}} {
		want := p.Depth(sym, side.sd, depth, nil)
		if len(want) != len(b[side.typ]) {
			return fmt.Sprintf("side %s: %d levels, want %d", side.typ, len(b[side.typ]), len(want))
		}
		for _, l := range want {
			e := b[side.typ][s.px.string(l.Price)]
			if e.size != s.qty.string(l.Qty) || e.orders != strconv.Itoa(l.Orders) {
				return fmt.Sprintf("side %s level %s: %+v, want qty %d orders %d", side.typ, s.px.string(l.Price), e, l.Qty, l.Orders)
			}
		}
	}
	return ""
}

var bidOfferTrade = []enum.MDEntryType{enum.MDEntryType_BID, enum.MDEntryType_OFFER, enum.MDEntryType_TRADE}

func TestFIXMarketData(t *testing.T) {
	p := newTestPublisher(t, Config{SubscriberQueueMax: 1 << 16})
	s := newSession(9, 1)
	for i := 0; i < 300; i++ {
		for _, ev := range s.next() {
			p.Apply(&ev)
		}
	}
	r := newFIXRig(t, p)

	// Snapshot only.
	r.request(t, "snap1", enum.SubscriptionRequestType_SNAPSHOT, 0, bidOfferTrade, "AAPL")
	w := r.expect(t, "W")
	if fget(w, 262) != "snap1" || fget(w, 55) != "AAPL" {
		t.Fatalf("W header %v", w)
	}
	b := fixBook{}
	b.apply(t, mdEntries(w))
	if d := b.equal(p, 1, 0); d != "" {
		t.Fatalf("snapshot: %s", d)
	}
	if len(b["2"]) != 1 {
		t.Fatalf("snapshot should carry the last trade, has %d", len(b["2"]))
	}

	// Rejects: unknown symbol, unsupported request type, unsupported entry type.
	r.request(t, "bad1", enum.SubscriptionRequestType_SNAPSHOT_PLUS_UPDATES, 0, bidOfferTrade, "NOPE")
	y := r.expect(t, "Y")
	if fget(y, 262) != "bad1" || fget(y, 281) != "0" || !strings.Contains(fget(y, 58), "NOPE") {
		t.Fatalf("unknown symbol reject %v", y)
	}
	r.request(t, "bad2", "7", 0, bidOfferTrade, "AAPL")
	if y := r.expect(t, "Y"); fget(y, 281) != "4" || fget(y, 58) == "" {
		t.Fatalf("unsupported SubscriptionRequestType reject %v", y)
	}
	r.request(t, "bad3", enum.SubscriptionRequestType_SNAPSHOT, 0, []enum.MDEntryType{"B"}, "AAPL")
	if y := r.expect(t, "Y"); fget(y, 281) != "8" {
		t.Fatalf("unsupported MDEntryType reject %v", y)
	}

	// Snapshot + updates at depth 5, then trading.
	const depth = 5
	r.request(t, "sub1", enum.SubscriptionRequestType_SNAPSHOT_PLUS_UPDATES, depth, bidOfferTrade, "AAPL")
	w = r.expect(t, "W")
	b = fixBook{}
	b.apply(t, mdEntries(w))
	delete(b, "2")
	if d := b.equal(p, 1, depth); d != "" {
		t.Fatalf("subscription snapshot: %s", d)
	}
	r.request(t, "sub1", enum.SubscriptionRequestType_SNAPSHOT_PLUS_UPDATES, depth, bidOfferTrade, "AAPL")
	if y := r.expect(t, "Y"); fget(y, 281) != "1" {
		t.Fatalf("duplicate MDReqID reject %v", y)
	}
	trades := 0
	for i := 0; i < 400; i++ {
		for _, ev := range s.next() {
			if ev.Kind == matching.EvTrade {
				trades++
			}
			p.Apply(&ev)
		}
	}
	// Read until the client's book and trades are the publisher's. The
	// session's queue holds every update this test makes, so the client never
	// falls behind, however slow the machine: the assertion runs every time.
	gotTrades := 0
	r.until(t, func() string {
		if d := b.equal(p, 1, depth); d != "" {
			return d
		}
		if gotTrades != trades {
			return fmt.Sprintf("got %d trade entries, engine printed %d", gotTrades, trades)
		}
		return ""
	}, func(m []fixField) {
		if fget(m, 35) != "X" || fget(m, 262) != "sub1" {
			t.Fatalf("want X for sub1, got %v", m)
		}
		es := mdEntries(m)
		for _, e := range es {
			if e.symbol != "AAPL" {
				t.Fatalf("entry without its symbol: %+v", e)
			}
			if e.typ == "2" {
				gotTrades++
			}
		}
		b.apply(t, es)
		delete(b, "2")
	})
	if n := p.resyncs.Load(); n != 0 {
		t.Fatalf("the session fell behind %d times with a queue for every update", n)
	}
	if trades == 0 {
		t.Fatal("the session printed no trades")
	}

	// Unsubscribe: no more X.
	r.request(t, "sub1", enum.SubscriptionRequestType_DISABLE_PREVIOUS_SNAPSHOT_PLUS_UPDATE_REQUEST, 0, bidOfferTrade, "AAPL")
	for deadline := time.Now().Add(10 * time.Second); fixSubscriptions(p) != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the unsubscribe never took effect")
		}
	}
	for i := 0; i < 100; i++ {
		for _, ev := range s.next() {
			p.Apply(&ev)
		}
	}
	if m := r.next(400 * time.Millisecond); m != nil {
		t.Fatalf("message after unsubscribe: %v", m)
	}
	r.request(t, "sub1", enum.SubscriptionRequestType_DISABLE_PREVIOUS_SNAPSHOT_PLUS_UPDATE_REQUEST, 0, bidOfferTrade, "AAPL")
	if y := r.expect(t, "Y"); !strings.Contains(fget(y, 58), "sub1") {
		t.Fatalf("unsubscribe of an unknown MDReqID %v", y)
	}
}

// TestParseMDRequest feeds hand-written raw messages, groups flattened as the
// dictionary-less acceptor sees them.
func TestParseMDRequest(t *testing.T) {
	raw := func(body string) []byte {
		return []byte(strings.ReplaceAll("8=FIX.4.4|9=100|35=V|49=B|56=E|34=2|52=20260101-00:00:00|"+body+"10=000|", "|", "\x01"))
	}
	r, rej := parseMDRequest(raw("262=a|263=1|264=10|265=1|267=2|269=0|269=2|146=2|55=AAPL|48=x|22=8|55=MSFT|"))
	if rej != nil || r.reqID != "a" || r.subType != 1 || r.depth != 10 || r.types != fixBid|fixTrade ||
		len(r.symbols) != 2 || r.symbols[1] != "MSFT" {
		t.Fatalf("parsed %+v, %v", r, rej)
	}
	r, rej = parseMDRequest(raw("262=d|263=1|264=0|267=3|269=4|269=5|269=A|146=1|55=AAPL|"))
	if rej != nil || r.badType != "" || r.types != fixOpening|fixClosing|fixImbalance {
		t.Fatalf("day entry types parsed %+v, %v", r, rej)
	}
	for body, tag := range map[string]int{
		"263=1|264=0|267=1|269=0|146=1|55=A|":                 262,
		"262=a|264=0|267=1|269=0|146=1|55=A|":                 263,
		"262=a|263=1|267=1|269=0|146=1|55=A|":                 264,
		"262=a|263=x|264=0|267=1|269=0|146=1|55=A|":           263,
		"262=a|263=1|264=0|267=2|269=0|146=1|55=A|":           267,
		"262=a|263=1|264=0|267=1|269=0|146=2|55=A|":           146,
		"262=a|263=1|264=0|267=1|269=0|269=1|146=1|55=A|":     267,
		"262=a|263=1|264=0|267=1|269=0|55=A|":                 146,
		"262=a|263=1|264=0|267=1|269=0|146=101|":              146,
		"262=a|263=1|264=99999999999|267=1|269=0|146=1|55=A|": 264,
	} {
		_, rej := parseMDRequest(raw(body))
		if rej == nil || !rej.HasRefTag || rej.RefTagID != tag {
			t.Errorf("%s: reject %v, want one naming tag %d", body, rej, tag)
		}
	}
}

func FuzzParseMDRequest(f *testing.F) {
	f.Add([]byte("262=a\x01263=1\x01264=10\x01267=1\x01269=0\x01146=1\x0155=AAPL\x01"))
	f.Add([]byte("262=d\x01263=1\x01264=0\x01267=3\x01269=4\x01269=5\x01269=A\x01146=1\x0155=AAPL\x01"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, rej := parseMDRequest(raw)
		if rej == nil && len(r.symbols) > fixSymbolsMax {
			t.Fatal("too many symbols accepted")
		}
	})
}

// TestFIXSlowSession stalls a session's sender until its queue overflows: the
// session must then get a fresh W and end up with the right book.
func TestFIXSlowSession(t *testing.T) {
	var stall gate
	p := newTestPublisher(t, Config{SubscriberQueueMax: 2})
	p.hooks.beforeFIXSend = stall.pass
	s := newSession(21, 1)
	for i := 0; i < 100; i++ {
		for _, ev := range s.next() {
			p.Apply(&ev)
		}
	}
	r := newFIXRig(t, p)
	r.request(t, "slow", enum.SubscriptionRequestType_SNAPSHOT_PLUS_UPDATES, 0,
		[]enum.MDEntryType{enum.MDEntryType_BID, enum.MDEntryType_OFFER}, "AAPL")
	b := fixBook{}
	b.apply(t, mdEntries(r.expect(t, "W")))
	stall.shut()
	for i := 0; i < 300; i++ {
		for _, ev := range s.next() {
			p.Apply(&ev)
		}
	}
	stall.open()
	if p.resyncs.Load() == 0 {
		t.Fatal("a stalled session was never marked as lagging")
	}
	snapshots := 0
	r.until(t, func() string {
		if snapshots == 0 {
			return "no fresh W after lagging"
		}
		return b.equal(p, 1, 0)
	}, func(m []fixField) {
		switch fget(m, 35) {
		case "W":
			snapshots++
			b = fixBook{}
		case "X":
		default:
			t.Fatalf("unexpected %v", m)
		}
		b.apply(t, mdEntries(m))
	})
	if snapshots == 0 {
		t.Fatal("no fresh W after lagging")
	}
	if d := b.equal(p, 1, 0); d != "" {
		t.Fatalf("after resync: %s", d)
	}
}
