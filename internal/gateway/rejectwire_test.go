package gateway

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/matching"
)

// rejectFieldsQF is the gateway's reject as it was built with QuickFIX/Go's
// message type before rejects were built in a fixBody like the reports:
// the reference rejectFields must match byte for byte.
func (g *Gateway) rejectFieldsQF(in *quickfix.Message, seq uint64, begin string, mt byte, rej *rejection) *quickfix.Message {
	out := quickfix.NewMessage()
	ib, ob := qfFields{&in.Body}, &out.Body
	code := reasonCode(mt, rej.why)
	now := quickfix.FIXUTCTimestamp{Time: time.Now(), Precision: quickfix.Micros}
	echo := func(tags ...quickfix.Tag) bool {
		all := true
		for _, t := range tags {
			v, ok := optional(ib, int(t))
			if !ok || len(v) == 0 {
				all = false
				continue
			}
			ob.SetBytes(t, bytes.Clone(v))
		}
		return all
	}
	switch mt {
	case 'D':
		out.Header.SetString(tag.MsgType, "8")
		ob.SetString(tag.OrderID, "NONE")
		ob.SetString(tag.ExecID, g.nextExecID())
		if begin == quickfix.BeginStringFIX42 {
			ob.SetString(tag.ExecTransType, "0")
		}
		ob.SetString(tag.ExecType, "8")
		ob.SetString(tag.OrdStatus, "8")
		echo(tag.ClOrdID, tag.Account, tag.Symbol)
		for _, t := range []quickfix.Tag{tag.Side, tag.OrderQty, tag.OrdType, tag.Price, tag.TimeInForce} {
			if v, ok := optional(ib, int(t)); ok && len(v) > 0 && validValue(int(t), v) {
				ob.SetBytes(t, bytes.Clone(v))
			}
		}
		ob.SetString(tag.CumQty, "0")
		ob.SetString(tag.LeavesQty, "0")
		ob.SetString(tag.AvgPx, "0")
		ob.SetInt(tag.OrdRejReason, fixCode(begin == quickfix.BeginStringFIX42, '8', code))
		ob.SetField(tag.TransactTime, now)
	case 'F', 'G':
		out.Header.SetString(tag.MsgType, "9")
		if !echo(tag.OrderID) {
			ob.SetString(tag.OrderID, "NONE")
		}
		echo(tag.ClOrdID, tag.OrigClOrdID, tag.Account)
		if !ob.Has(tag.OrigClOrdID) {
			ob.SetString(tag.OrigClOrdID, "NONE")
		}
		ob.SetString(tag.OrdStatus, "8")
		if mt == 'F' {
			ob.SetString(tag.CxlRejResponseTo, "1")
		} else {
			ob.SetString(tag.CxlRejResponseTo, "2")
		}
		ob.SetInt(tag.CxlRejReason, fixCode(begin == quickfix.BeginStringFIX42, '9', code))
		ob.SetField(tag.TransactTime, now)
	case 'q':
		out.Header.SetString(tag.MsgType, "r")
		ob.SetString(tag.OrderID, "NONE")
		echo(tag.ClOrdID, tag.MassCancelRequestType, tag.Symbol, tag.Account)
		ob.SetString(tag.MassCancelResponse, massResponseRejected)
		ob.SetInt(tag.MassCancelRejectReason, code)
		ob.SetInt(tag.TotalAffectedOrders, 0)
		ob.SetField(tag.TransactTime, now)
	default:
		out.Header.SetString(tag.MsgType, "j")
		if seq != 0 {
			ob.SetInt(tag.RefSeqNum, int(seq))
		}
		ob.SetString(tag.RefMsgType, string(mt))
		if v, ok := optional(ib, int(tag.ClOrdID)); ok && len(v) > 0 {
			ob.SetBytes(tag.BusinessRejectRefID, bytes.Clone(v))
		}
		ob.SetInt(tag.BusinessRejectReason, code)
	}
	ob.SetString(tag.Text, rej.text)
	return out
}

// qfBody is the MsgType and body of a QuickFIX/Go message as the gateway
// sent it (the fields after the header up to the checksum).
func qfBody(t *testing.T, m *quickfix.Message) (string, string) {
	t.Helper()
	mt, err := m.Header.GetString(tag.MsgType)
	if err != nil {
		t.Fatal(err)
	}
	raw := m.String()
	i := strings.Index(raw, "\x0135="+mt+"\x01")
	if i < 0 {
		t.Fatalf("no MsgType in %q", raw)
	}
	return mt, raw[i+len("\x0135="+mt+"\x01") : len(raw)-len("10=000\x01")]
}

// maskVolatile replaces the values of ExecID (17) and TransactTime (60),
// which differ between two builds of the same reject.
func maskVolatile(body string) string {
	var b strings.Builder
	for _, f := range fixsession.Scan([]byte(body), nil) {
		v := string(f.Val)
		if f.Tag == 17 || f.Tag == 60 {
			v = "*"
		}
		fmt.Fprintf(&b, "%d=%s|", f.Tag, v)
	}
	return b.String()
}

// TestRejectBytesUnchanged: the gateway's own rejects, now built in a
// fixBody, carry the same bytes (fields, values, order) as when they were
// built with QuickFIX/Go's message type, for every message type and both
// versions, with absent, empty and invalid fields to echo.
func TestRejectBytesUnchanged(t *testing.T) {
	cfg := testConfig(t, "127.0.0.1:1", t.TempDir())
	g, err := New(Options{Ref: cfg.Registry, Settings: testSettings(cfg), Submitter: newFakeOM()})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	msgs := map[byte][][]string{
		'D': {
			{"35=D", "11=c1", "1=acct", "55=AAPL", "54=1", "38=10", "40=2", "44=101.5", "59=0"},
			{"35=D", "11=c2", "55=ZZZ", "54=Z", "38=1e3", "40=", "44=+1", "59=9", "7928=1"},
			{"35=D"},
		},
		'F': {{"35=F", "11=c3", "41=c1", "37=77", "1=acct", "55=AAPL", "54=2"}, {"35=F", "11=c4"}},
		'G': {{"35=G", "11=c5", "41=", "55=AAPL", "54=2", "38=7", "40=2", "44=101.5"}},
		'q': {{"35=q", "11=m1", "530=1", "55=AAPL", "1=acct"}, {"35=q"}},
		'H': {{"35=H", "37=12", "11=s1"}, {"35=H"}},
	}
	rejs := []*rejection{{why: rUnknownSymbol, text: "unknown symbol \"ZZZ\""}, {why: rBadQty, text: "OrderQty (38) bad"},
		{why: rRateLimited, text: "rate limit exceeded: 5 msgs/s"}, {why: rUnsupported, text: "x"}, {why: rBusy, text: "busy"}}
	n := 0
	for mt, cases := range msgs {
		for _, fields := range cases {
			in := build(t, fields...)
			for _, begin := range []string{"FIX.4.4", "FIX.4.2"} {
				for _, rej := range rejs {
					for _, seq := range []uint64{0, 42} {
						wantMT, want := qfBody(t, g.rejectFieldsQF(in, seq, begin, mt, rej))
						var b fixBody
						b.SetString(58, "before") // rejectFields appends after what b holds
						start := len(b.b)
						gotMT := g.rejectFields(inbound{f: qfFields{&in.Body}, seq: seq}, begin, mt, rej, &b)
						got := string(b.b[start:])
						if gotMT != wantMT || maskVolatile(got) != maskVolatile(want) {
							t.Fatalf("%c %v %s %+v seq %d:\n got %s %q\nwant %s %q", mt, fields, begin, rej, seq, gotMT, got, wantMT, want)
						}
						n++
					}
				}
			}
		}
	}
	if n < 100 {
		t.Fatalf("%d cases", n)
	}
}

// TestSessionStatusBytesUnchanged: TradingSessionStatus too.
func TestSessionStatusBytesUnchanged(t *testing.T) {
	cfg := testConfig(t, "127.0.0.1:1", t.TempDir())
	g, err := New(Options{Ref: cfg.Registry, Settings: testSettings(cfg), Submitter: newFakeOM()})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	sym := cfg.SymbolByName("AAPL")
	for _, p := range []matching.Phase{matching.PhaseContinuous, matching.PhaseHalted, matching.PhasePreOpen} {
		for _, id := range []matching.SymbolID{sym, 0} {
			m := quickfix.NewMessage()
			m.Header.SetString(tag.MsgType, "h")
			name := "NONE"
			if s, ok := cfg.Symbol(id); ok {
				name = s.Name
			}
			m.Body.SetString(tag.TradingSessionID, name)
			m.Body.SetInt(tag.TradSesStatus, tradSesStatus(p))
			m.Body.SetString(tag.TradingSessionSubID, p.String())
			m.Body.SetString(tag.Text, p.String())
			_, want := qfBody(t, m)
			var b fixBody
			g.sessionStatus(&b, id, p)
			if string(b.b) != want {
				t.Fatalf("%v %d: %q, want %q", p, id, b.b, want)
			}
		}
	}
}

func TestSortFields(t *testing.T) {
	var b fixBody
	b.SetString(58, "keep")
	start := len(b.b)
	for _, f := range []struct {
		tag int
		v   string
	}{{60, "t"}, {11, "a"}, {1, "acct"}, {11, "b"}, {7928, "x"}, {37, ""}} {
		b.SetString(f.tag, f.v)
	}
	b.sortFields(start)
	if got, want := string(b.b), "58=keep\x011=acct\x0111=a\x0111=b\x0137=\x0160=t\x017928=x\x01"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	b.reset()
	b.sortFields(0)
	if len(b.b) != 0 {
		t.Fatal("empty body grew")
	}
}
