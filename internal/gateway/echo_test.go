package gateway

import (
	"strings"
	"testing"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"
)

// TestRejectEchoesOnlyValidValues: a NewOrderSingle refused for an
// undefined OrdType or TimeInForce gets an ExecutionReport that does not
// carry the undefined value (a validating client would reject the reject);
// the Text names it; valid fields are still echoed.
func TestRejectEchoesOnlyValidValues(t *testing.T) {
	n, cfg := alphaNormalizer(t)
	g := &Gateway{cfg: venueOf(cfg)}
	for _, tc := range []struct {
		fields []string
		gone   quickfix.Tag
		text   string
	}{
		{[]string{"11=o1", "55=AAPL", "54=1", "38=10", "40=Z", "44=10", "59=0"}, tag.OrdType, `"Z"`},
		{[]string{"11=o2", "55=AAPL", "54=1", "38=10", "40=2", "44=10", "59=9"}, tag.TimeInForce, `"9"`},
		{[]string{"11=o3", "55=AAPL", "54=X", "38=10", "40=2", "44=10", "59=0"}, tag.Side, `"X"`},
	} {
		msg := build(t, append([]string{"35=D"}, tc.fields...)...)
		_, rej, merr := n.normalize(msg, 'D')
		if merr != nil || rej == nil {
			t.Fatalf("%v: not refused (%v)", tc.fields, merr)
		}
		out := g.rejectMessage(msg, quickfix.BeginStringFIX44, 'D', rej)
		if out.Body.Has(tc.gone) {
			v, _ := out.Body.GetString(tc.gone)
			t.Errorf("%v: reject echoes %d=%s", tc.fields, tc.gone, v)
		}
		if txt, _ := out.Body.GetString(tag.Text); !strings.Contains(txt, tc.text) {
			t.Errorf("%v: Text %q does not name %s", tc.fields, txt, tc.text)
		}
		for _, tg := range []quickfix.Tag{tag.ClOrdID, tag.Symbol, tag.OrderQty} {
			if !out.Body.Has(tg) {
				t.Errorf("%v: valid tag %d not echoed", tc.fields, tg)
			}
		}
	}
	for v, want := range map[string]bool{"10": true, "-1.5": true, ".5": true, "+200.00": false, "1e3": false, "1.2.3": false, "": false, "-": false} {
		if got := plainDecimal([]byte(v)); got != want {
			t.Errorf("plainDecimal(%q) = %v", v, got)
		}
	}
}

// TestTransactTime: an order without TransactTime is taken (documented
// choice); one with a TransactTime that is not a UTCTimestamp gets a session
// Reject 373=6 naming tag 60.
func TestTransactTime(t *testing.T) {
	n, _ := alphaNormalizer(t)
	base := []string{"35=D", "11=t1", "55=AAPL", "54=1", "38=10", "40=2", "44=10", "59=0"}
	if _, rej, merr := n.normalize(build(t, base...), 'D'); rej != nil || merr != nil {
		t.Fatalf("without TransactTime: %v %v", rej, merr)
	}
	if _, rej, merr := n.normalize(build(t, append(base, "60=20260102-03:04:05.678")...), 'D'); rej != nil || merr != nil {
		t.Fatalf("with TransactTime: %v %v", rej, merr)
	}
	_, _, merr := n.normalize(build(t, append(base, "60=yesterday")...), 'D')
	if merr == nil || merr.RejectReason() != sessRejIncorrectDataFormat || merr.RefTagID() == nil || *merr.RefTagID() != tag.TransactTime {
		t.Fatalf("bad TransactTime: %v", merr)
	}
}
