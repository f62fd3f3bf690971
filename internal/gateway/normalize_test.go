package gateway

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

func alphaNormalizer(t testing.TB) (normalizer, *config.Config) {
	cfg := testConfig(t, "127.0.0.1:1", t.TempDir())
	s, _ := cfg.Session(cfg.SessionByCompID("ALPHA"))
	return normalizer{cfg: venueOf(cfg), sess: s, units: symbolUnits(venueOf(cfg))}, cfg
}

func TestNormalizeNewOrder(t *testing.T) {
	n, cfg := alphaNormalizer(t)
	aapl, big := cfg.SymbolByName("AAPL"), cfg.SymbolByName("BIG")
	def, alpha2 := cfg.AccountByName("ALPHA-1"), cfg.AccountByName("ALPHA-2")
	cl := func(s string) ordermanager.ClOrdID { id, _ := ordermanager.MakeClOrdID(s); return id }
	for _, tc := range []struct {
		name   string
		fields []string
		want   ordermanager.Request
	}{
		{"limit day default account", []string{"11=a1", "55=AAPL", "54=1", "38=100", "40=2", "44=100.01"},
			ordermanager.Request{Kind: ordermanager.ReqNew, Side: matching.Buy, Type: matching.Limit, TIF: matching.Day,
				Symbol: aapl, Account: def, Price: 10001, Qty: 100, ClOrdID: cl("a1")}},
		{"lots and ticks of BIG, GTC, post-only, STP, account", []string{"11=a2", "55=BIG", "54=2", "38=300", "40=2", "44=12.35", "59=1", "18=M 6", "7928=2", "1=ALPHA-2"},
			ordermanager.Request{Kind: ordermanager.ReqNew, Side: matching.Sell, Type: matching.Limit, TIF: matching.GTC, PostOnly: true,
				STP: matching.STPCancelOldest, Symbol: big, Account: alpha2, Price: 247, Qty: 3, ClOrdID: cl("a2")}},
		{"market IOC", []string{"11=a3", "55=AAPL", "54=1", "38=5", "40=1", "59=3"},
			ordermanager.Request{Kind: ordermanager.ReqNew, Side: matching.Buy, Type: matching.Market, TIF: matching.IOC,
				Symbol: aapl, Account: def, Qty: 5, ClOrdID: cl("a3")}},
		{"market with protection price, FOK", []string{"11=a4", "55=AAPL", "54=2", "38=5", "40=1", "44=99.5", "59=4"},
			ordermanager.Request{Kind: ordermanager.ReqNew, Side: matching.Sell, Type: matching.Market, TIF: matching.FOK,
				Symbol: aapl, Account: def, Price: 9950, Qty: 5, ClOrdID: cl("a4")}},
		{"ExecInst 16 is not post-only", []string{"11=a5", "55=AAPL", "54=1", "38=1", "40=2", "44=1", "18=16"},
			ordermanager.Request{Kind: ordermanager.ReqNew, Side: matching.Buy, Type: matching.Limit, TIF: matching.Day,
				Symbol: aapl, Account: def, Price: 100, Qty: 1, ClOrdID: cl("a5")}},
		{"stop limit GTD by ExpireTime", []string{"11=a6", "55=AAPL", "54=1", "38=10", "40=4", "44=101", "99=100.5", "59=6", "126=20261203-15:30:00.250"},
			ordermanager.Request{Kind: ordermanager.ReqNew, Side: matching.Buy, Type: matching.StopLimit, TIF: matching.GTD,
				Symbol: aapl, Account: def, Price: 10100, StopPrice: 10050, Qty: 10, ClOrdID: cl("a6"),
				ExpireNs: time.Date(2026, 12, 3, 15, 30, 0, 250e6, time.UTC).UnixNano()}},
		{"stop GTD by ExpireDate", []string{"11=a7", "55=AAPL", "54=2", "38=10", "40=3", "99=99", "59=6", "432=20261203"},
			ordermanager.Request{Kind: ordermanager.ReqNew, Side: matching.Sell, Type: matching.Stop, TIF: matching.GTD,
				Symbol: aapl, Account: def, StopPrice: 9900, Qty: 10, ClOrdID: cl("a7"),
				ExpireNs: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC).UnixNano() - 1}},
		{"iceberg", []string{"11=a8", "55=AAPL", "54=1", "38=100", "40=2", "44=1", "111=10"},
			ordermanager.Request{Kind: ordermanager.ReqNew, Side: matching.Buy, Type: matching.Limit, TIF: matching.Day,
				Symbol: aapl, Account: def, Price: 100, Qty: 100, Display: 10, ClOrdID: cl("a8")}},
		{"at the open", []string{"11=a9", "55=AAPL", "54=1", "38=1", "40=1", "59=2"},
			ordermanager.Request{Kind: ordermanager.ReqNew, Side: matching.Buy, Type: matching.Market, TIF: matching.AtOpen,
				Symbol: aapl, Account: def, Qty: 1, ClOrdID: cl("a9")}},
		{"at the close", []string{"11=b1", "55=AAPL", "54=1", "38=1", "40=2", "44=1", "59=7"},
			ordermanager.Request{Kind: ordermanager.ReqNew, Side: matching.Buy, Type: matching.Limit, TIF: matching.AtClose,
				Symbol: aapl, Account: def, Price: 100, Qty: 1, ClOrdID: cl("b1")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, rej, merr := n.normalize(build(t, append([]string{"35=D"}, tc.fields...)...), 'D')
			if rej != nil || merr != nil {
				t.Fatalf("rejected: %v %v", rej, merr)
			}
			tc.want.Session, tc.want.Firm = n.sess.ID, n.sess.Firm
			if req != tc.want {
				t.Fatalf("got  %+v\nwant %+v", req, tc.want)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	n, _ := alphaNormalizer(t)
	long := strings.Repeat("x", 41)
	good := map[quickfixTag]string{11: "c1", 55: "AAPL", 54: "1", 38: "10", 40: "2", 44: "100.00"}
	// each case changes the good order: a value replaces, "" removes.
	for _, tc := range []struct {
		name     string
		mt       byte
		change   map[quickfixTag]string
		code     int    // FIX reason code of the business reject, or 373 of a session reject
		session  bool   // a session-level Reject (35=3)
		textPart string // must appear in Text
	}{
		{"non-tick price", 'D', map[quickfixTag]string{44: "100.005"}, ordRejOther, false, "not a whole multiple of the tick size 0.01"},
		{"fractional lot", 'D', map[quickfixTag]string{55: "BIG", 44: "10", 38: "150"}, ordRejIncorrectQty, false, "lot size 100"},
		{"zero quantity", 'D', map[quickfixTag]string{38: "0"}, ordRejIncorrectQty, false, "must be positive"},
		{"negative price", 'D', map[quickfixTag]string{44: "-1"}, ordRejOther, false, "must be positive"},
		{"unknown symbol", 'D', map[quickfixTag]string{55: "NOPE"}, ordRejUnknownSymbol, false, `unknown symbol "NOPE"`},
		{"bad side", 'D', map[quickfixTag]string{54: "5"}, ordRejUnsupported, false, "Side (54)"},
		{"bad ordtype", 'D', map[quickfixTag]string{40: "9"}, ordRejUnsupported, false, "OrdType (40)"},
		{"bad TIF", 'D', map[quickfixTag]string{59: "5"}, ordRejUnsupported, false, "TimeInForce (59)"},
		{"stop without StopPx", 'D', map[quickfixTag]string{40: "4"}, ordRejOther, false, "StopPx (99) is required"},
		{"GTD without expiry", 'D', map[quickfixTag]string{59: "6"}, ordRejUnsupported, false, "needs ExpireTime (126) or ExpireDate (432)"},
		{"bad ExpireTime", 'D', map[quickfixTag]string{59: "6", 126: "2026-12-03"}, ordRejUnsupported, false, "ExpireTime (126)"},
		{"bad ExpireDate", 'D', map[quickfixTag]string{59: "6", 432: "20261341"}, ordRejUnsupported, false, "ExpireDate (432)"},
		{"non-lot MaxFloor", 'D', map[quickfixTag]string{111: "0.5"}, ordRejIncorrectQty, false, "MaxFloor (111)"},
		{"bad STP", 'D', map[quickfixTag]string{7928: "9"}, ordRejUnsupported, false, "SelfTradePrevention (7928)"},
		{"limit without price", 'D', map[quickfixTag]string{44: ""}, ordRejOther, false, "Price (44) is required"},
		{"too-long ClOrdID", 'D', map[quickfixTag]string{11: long}, ordRejOther, false, "longer than 40"},
		{"foreign account", 'D', map[quickfixTag]string{1: "BRAVO-1"}, ordRejUnknownAccount, false, "does not belong"},
		{"unknown account", 'D', map[quickfixTag]string{1: "ZZZ"}, ordRejUnknownAccount, false, "unknown account"},
		{"missing ClOrdID", 'D', map[quickfixTag]string{11: ""}, sessRejRequiredTagMissing, true, "ClOrdID (11)"},
		{"missing Symbol", 'D', map[quickfixTag]string{55: ""}, sessRejRequiredTagMissing, true, "Symbol (55)"},
		{"price not a number", 'D', map[quickfixTag]string{44: "1e3"}, sessRejIncorrectDataFormat, true, "not a decimal"},
		{"qty not a number", 'D', map[quickfixTag]string{38: "ten"}, sessRejIncorrectDataFormat, true, "not a decimal"},
		{"replace non-tick", 'G', map[quickfixTag]string{41: "c0", 44: "1.001"}, cxlRejOther, false, "tick size"},
		{"replace without orig", 'G', nil, sessRejRequiredTagMissing, true, "OrigClOrdID (41)"},
		{"replace bad OrderID", 'G', map[quickfixTag]string{37: "abc"}, cxlRejUnknownOrder, false, "unknown order"},
		{"cancel foreign account", 'F', map[quickfixTag]string{41: "c0", 1: "BRAVO-1"}, cxlRejOther, false, "does not belong"},
		{"cancel unknown symbol", 'F', map[quickfixTag]string{41: "c0", 55: "ZZZ"}, cxlRejOther, false, "unknown symbol"},
		{"mass cancel bad type", 'q', map[quickfixTag]string{530: "3"}, massRejNotSupported, false, "MassCancelRequestType (530)"},
		{"mass cancel unknown symbol", 'q', map[quickfixTag]string{530: "1", 55: "ZZZ"}, massRejUnknownSymbol, false, "unknown symbol"},
		{"mass cancel missing type", 'q', nil, sessRejRequiredTagMissing, true, "MassCancelRequestType"},
		{"status unknown symbol", 'H', map[quickfixTag]string{55: "ZZZ"}, bizUnknownSecurity, false, "unknown symbol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fields := []string{"35=" + string(tc.mt)}
			for tag, v := range merge(good, tc.change) {
				fields = append(fields, strconv.Itoa(tag)+"="+v)
			}
			msg := build(t, fields...)
			req, rej, merr := n.normalize(msg, tc.mt)
			switch {
			case tc.session:
				if merr == nil {
					t.Fatalf("want session reject, got %+v %v", req, rej)
				}
				if merr.RejectReason() != tc.code || !strings.Contains(merr.Error(), tc.textPart) {
					t.Fatalf("session reject %d %q, want %d containing %q", merr.RejectReason(), merr.Error(), tc.code, tc.textPart)
				}
			default:
				if rej == nil {
					t.Fatalf("want reject, got %+v %v", req, merr)
				}
				if c := reasonCode(tc.mt, rej.why); c != tc.code || !strings.Contains(rej.text, tc.textPart) {
					t.Fatalf("reject %d %q, want %d containing %q", c, rej.text, tc.code, tc.textPart)
				}
			}
		})
	}
}

type quickfixTag = int

func merge(a, b map[quickfixTag]string) map[quickfixTag]string {
	out := map[quickfixTag]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func TestNormalizeCancelReplaceStatusMass(t *testing.T) {
	n, cfg := alphaNormalizer(t)
	aapl := cfg.SymbolByName("AAPL")
	req, rej, merr := n.normalize(build(t, "35=F", "11=c2", "41=c1", "37=77", "55=AAPL", "54=2"), 'F')
	if rej != nil || merr != nil || req.Kind != ordermanager.ReqCancel || req.OrigClOrdID.String() != "c1" ||
		req.ClOrdID.String() != "c2" || req.OrderID != 77 || req.Symbol != aapl || req.Side != matching.Sell {
		t.Fatalf("cancel: %+v %v %v", req, rej, merr)
	}
	req, rej, merr = n.normalize(build(t, "35=G", "11=c3", "41=c2", "55=AAPL", "54=2", "38=7", "40=2", "44=101.5"), 'G')
	if rej != nil || merr != nil || req.Kind != ordermanager.ReqReplace || req.Qty != 7 || req.Price != 10150 || req.OrigClOrdID.String() != "c2" {
		t.Fatalf("replace: %+v %v %v", req, rej, merr)
	}
	req, rej, merr = n.normalize(build(t, "35=H", "37=12"), 'H')
	if rej != nil || merr != nil || req.Kind != ordermanager.ReqStatus || req.OrderID != 12 {
		t.Fatalf("status: %+v %v %v", req, rej, merr)
	}
	req, rej, merr = n.normalize(build(t, "35=q", "11=m1", "530=1", "55=AAPL"), 'q')
	if rej != nil || merr != nil || req.Kind != ordermanager.ReqMassCancel || req.Symbol != aapl || req.Account != n.sess.DefaultAccount {
		t.Fatalf("mass cancel: %+v %v %v", req, rej, merr)
	}
	req, rej, merr = n.normalize(build(t, "35=q", "11=m2", "530=7"), 'q')
	if rej != nil || merr != nil || req.Symbol != 0 {
		t.Fatalf("mass cancel all: %+v %v %v", req, rej, merr)
	}
}

func TestAvgPx(t *testing.T) {
	_, cfg := alphaNormalizer(t)
	aapl, _ := cfg.Symbol(cfg.SymbolByName("AAPL"))
	big, _ := cfg.Symbol(cfg.SymbolByName("BIG"))
	for _, tc := range []struct {
		sym          *refdata.Symbol
		cumTicksLots int64
		cumQty       int64
		want         string
	}{
		{aapl, 0, 0, "0"},
		{aapl, 10001, 1, "100.01"},
		{aapl, 10001 + 10002, 2, "100.015"},
		{aapl, 10001 + 10002 + 10003, 3, "100.02"},         // 3 fills at 100.01/100.02/100.03
		{aapl, 10001*3 + 10002*1, 4, "100.0125"},           // exact quarter-tick average
		{aapl, 10001 + 10002 + 10004, 3, "100.0233333333"}, // non-terminating: tick digits + 8
		{big, 200 * 2, 2, "10"},                            // whole numbers are trimmed
		{big, 201*1 + 202*2, 3, "10.0833333333"},
	} {
		if got := avgPx(tc.sym, tc.cumTicksLots, tc.cumQty); got != tc.want {
			t.Errorf("avgPx(%s, %d, %d) = %s, want %s", tc.sym.Name, tc.cumTicksLots, tc.cumQty, got, tc.want)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	cfg := testConfig(t, "127.0.0.1:1", t.TempDir())
	g, err := New(Options{Ref: cfg.Registry, Settings: testSettings(cfg), Submitter: newFakeOM()})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	sid := fixsession.SessionID{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}
	logon := func(pw string) string {
		reason, _ := g.authenticateQF(build(t, "35=A", "553=alpha", "554="+pw), sid)
		return reason
	}
	if r := logon("wrong"); !strings.Contains(r, "bad password") {
		t.Fatalf("wrong password: %q", r)
	}
	if r := logon("pw-alpha"); !strings.Contains(r, "too many failed logons") {
		t.Fatalf("right after a failure: %q", r)
	}
	time.Sleep(logonRetryMin)
	if r := logon("pw-alpha"); r != "" {
		t.Fatalf("good password: %q", r)
	}
	if r := logon("wrong"); !strings.Contains(r, "bad password") {
		t.Fatalf("wrong password: %q", r)
	}
	if r := logon("pw-alpha"); r != "" { // remembered: no bcrypt, no throttle
		t.Fatalf("cached password: %q", r)
	}
	if r, _ := g.authenticateQF(build(t, "35=A", "553=alpha", "554=pw-alpha"), fixsession.SessionID{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ZED"}); !strings.Contains(r, "unknown SenderCompID") {
		t.Fatalf("unknown: %q", r)
	}
}
