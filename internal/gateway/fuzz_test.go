package gateway

import (
	"bytes"
	"strings"
	"testing"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
)

// checkOutcome runs one parsed application message through normalization and
// asserts the outcome: a well-formed Request, or a reject carrying a code and
// a Text (a session-level Reject with reason 1, 5 or 6, or the business reject
// of the message's type, which must build).
func checkOutcome(t *testing.T, g *Gateway, n normalizer, msg *quickfix.Message) {
	mtb, err := msg.Header.GetBytes(tag.MsgType)
	if err != nil || len(mtb) != 1 || !strings.ContainsRune("DFGHq", rune(mtb[0])) {
		return // answered by FromApp with a BusinessMessageReject (unsupported type)
	}
	mt := mtb[0]
	req, rej, merr := n.normalize(msg, mt)
	switch {
	case merr != nil:
		if rej != nil {
			t.Fatal("both a session reject and a business reject")
		}
		if r := merr.RejectReason(); r != sessRejRequiredTagMissing && r != sessRejValueIncorrect && r != sessRejIncorrectDataFormat {
			t.Fatalf("session reject reason %d", r)
		}
		if merr.Error() == "" || merr.RefTagID() == nil {
			t.Fatalf("session reject without text or tag: %v", merr)
		}
	case rej != nil:
		if rej.text == "" || len(rej.text) > 300 {
			t.Fatalf("reject text %q", rej.text)
		}
		out := g.rejectMessage(msg, quickfix.BeginStringFIX44, mt, rej)
		code := map[byte]quickfix.Tag{'D': tag.OrdRejReason, 'F': tag.CxlRejReason, 'G': tag.CxlRejReason, 'q': tag.MassCancelRejectReason, 'H': tag.BusinessRejectReason}[mt]
		if _, err := out.Body.GetInt(code); err != nil {
			t.Fatalf("reject of %c without code tag %d: %s", mt, code, out)
		}
		if txt, _ := out.Body.GetString(tag.Text); txt != rej.text {
			t.Fatalf("reject text %q", txt)
		}
		_ = out.String()
	default:
		checkRequest(t, n, mt, &req)
	}
}

func checkRequest(t *testing.T, n normalizer, mt byte, r *ordermanager.Request) {
	want := map[byte]ordermanager.RequestKind{'D': ordermanager.ReqNew, 'F': ordermanager.ReqCancel, 'G': ordermanager.ReqReplace, 'H': ordermanager.ReqStatus, 'q': ordermanager.ReqMassCancel}[mt]
	if r.Kind != want || r.Session != n.sess.ID || r.Firm != n.sess.Firm {
		t.Fatalf("request %+v for %c", r, mt)
	}
	if acc, ok := n.cfg.Account(r.Account); !ok || acc.Firm != n.sess.Firm {
		t.Fatalf("account %d is not the firm's", r.Account)
	}
	if r.Symbol != 0 {
		if _, ok := n.cfg.Symbol(r.Symbol); !ok {
			t.Fatalf("symbol %d", r.Symbol)
		}
	}
	if mt == 'D' || mt == 'G' {
		if r.ClOrdID.IsZero() || r.Symbol == 0 || r.Qty <= 0 || r.Price < 0 ||
			(r.Side != matching.Buy && r.Side != matching.Sell) ||
			(r.Type != matching.Limit && r.Type != matching.Market) ||
			(r.Type == matching.Limit && r.Price == 0) ||
			r.TIF < matching.GTC || r.TIF > matching.FOK || r.STP > matching.STPDecrementCancel {
			t.Fatalf("bad order request %+v", r)
		}
	}
	if mt == 'G' || mt == 'F' {
		if r.OrigClOrdID.IsZero() && r.OrderID == 0 {
			t.Fatalf("cancel/replace without an order reference %+v", r)
		}
	}
}

func fuzzSetup(t testing.TB) (*Gateway, normalizer) {
	n, cfg := alphaNormalizer(t)
	return &Gateway{cfg: venueOf(cfg), m: newMetrics(), units: n.units}, n
}

// FuzzParseMessage feeds arbitrary bytes through the session layer's framing, then
// what it lets through QuickFIX/Go's parser and the gateway's normalization:
// nothing panics, and every message ends as a Request or a reject with a code
// and a Text.
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{
		"8=FIX.4.4\x019=43\x0135=D\x0111=a\x0155=AAPL\x0154=1\x0138=10\x0140=2\x0144=100.01\x0110=000\x01",
		"8=FIX.4.4\x019=0\x0135=D\x0111=a\x0155=BIG\x0154=2\x0138=150\x0140=2\x0144=1.03\x0159=7\x0118=6\x017928=9\x0110=000\x01",
		"8=FIX.4.4\x019=0\x0135=G\x0111=b\x0141=a\x0155=AAPL\x0154=1\x0138=1e9\x0140=2\x0144=-0\x0110=000\x01",
		"8=FIX.4.4\x019=0\x0135=F\x0111=c\x0137=18446744073709551616\x0110=000\x01",
		"8=FIX.4.4\x019=0\x0135=q\x0111=d\x01530=1\x0155=\x0110=000\x01",
		"8=FIX.4.4\x019=0\x0135=H\x0137=0\x011=BRAVO-1\x0110=000\x01",
		"8=FIX.4.4\x019=5\x0135=D\x01\x0110=000\x01",
		"garbage",
		"35=D\x0111=a\x0155=AAPL\x0154=1\x0138=10\x0140=2\x0144=100.01\x01",
		"35=G\x0111=b\x0141=a\x0155=BIG\x0154=2\x0138=200\x0140=1\x0159=3\x017928=4\x01",
		"35=q\x0111=m\x01530=1\x0155=AAPL\x011=ALPHA-2\x01",
	} {
		f.Add([]byte(s))
	}
	g, n := fuzzSetup(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, []byte("8=")) && len(data) > 0 {
			// Take the bytes as a body and frame them, so the fuzzer need
			// not find the BodyLength itself.
			data = []byte(frame(string(data)))
		}
		n0, err := fixsession.Frame(data)
		if err != nil {
			return // the session layer closes the connection
		}
		if _, empty := fixsession.EmptyField(fixsession.Scan(data[:n0], nil)); empty {
			return // the session layer rejects it (373=4) before anything parses it
		}
		msg := quickfix.NewMessage()
		if err := quickfix.ParseMessage(msg, bytes.NewBuffer(bytes.Clone(data[:n0]))); err != nil {
			return // the session drops what does not parse
		}
		checkOutcome(t, g, n, msg)
		// The exchange normalizes the framed fields directly (rawFields):
		// the outcome must be the one QuickFIX/Go's parse gives, except
		// where QuickFIX/Go kept a repeated tag's last value and the raw
		// view its first.
		mt, _ := msg.Header.GetBytes(tag.MsgType)
		if len(mt) != 1 || hasRepeatedTag(data[:n0]) {
			return
		}
		raw := &fixsession.Message{Raw: data[:n0], Fields: fixsession.Scan(data[:n0], nil)}
		r1, j1, m1 := n.normalize(msg, mt[0])
		r2, j2, m2 := n.normalizeFields(rawFields{raw}, mt[0])
		if r1 != r2 || (j1 == nil) != (j2 == nil) || j1 != nil && *j1 != *j2 || (m1 == nil) != (m2 == nil) || m1 != nil && m1.Error() != m2.Error() {
			t.Fatalf("raw and parsed normalization differ:\n%+v %v %v\n%+v %v %v", r1, j1, m1, r2, j2, m2)
		}
	})
}

func hasRepeatedTag(msg []byte) bool {
	seen := map[int]bool{}
	for _, f := range fixsession.Scan(msg, nil) {
		if seen[f.Tag] {
			return true
		}
		seen[f.Tag] = true
	}
	return false
}

// FuzzOrderFields builds structurally valid messages with hostile field
// values.
func FuzzOrderFields(f *testing.F) {
	f.Add(byte('D'), "a1", "AAPL", "1", "100", "2", "100.01", "0", "6", "1", "ALPHA-1", "", "")
	f.Add(byte('D'), strings.Repeat("x", 41), "BIG", "2", "150", "2", "12.345", "1", "", "", "", "", "")
	f.Add(byte('G'), "a2", "AAPL", "1", "99999999999999999999999", "1", "0.000000000000000001", "4", "6 6", "4", "BRAVO-1", "a1", "")
	f.Add(byte('F'), "a3", "", "", "", "", "", "", "", "", "", "", "0042")
	f.Add(byte('q'), "a4", "AAPL", "", "", "", "", "", "", "", "", "", "")
	f.Add(byte('H'), "", "NOPE", "", "", "", "", "", "", "", "", "", "-1")
	g, n := fuzzSetup(f)
	f.Fuzz(func(t *testing.T, mt byte, clOrdID, symbol, side, qty, ordType, price, tif, execInst, stp, account, orig, orderID string) {
		m := quickfix.NewMessage()
		m.Header.SetString(tag.MsgType, string(mt))
		for _, fv := range []struct {
			tag quickfix.Tag
			v   string
		}{{tag.ClOrdID, clOrdID}, {tag.Symbol, symbol}, {tag.Side, side}, {tag.OrderQty, qty}, {tag.OrdType, ordType},
			{tag.Price, price}, {tag.TimeInForce, tif}, {tag.ExecInst, execInst}, {tagSTPMode, stp}, {tag.Account, account},
			{tag.OrigClOrdID, orig}, {tag.OrderID, orderID}, {tag.MassCancelRequestType, tif}} {
			if fv.v == "" {
				continue
			}
			if strings.ContainsRune(fv.v, 0x01) {
				return // cannot arrive in a field: SOH ends it
			}
			m.Body.SetString(fv.tag, fv.v)
		}
		checkOutcome(t, g, n, m)
	})
}
