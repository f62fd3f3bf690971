package marketdata

import (
	"strings"
	"testing"

	"github.com/quickfixgo/enum"
	"github.com/quickfixgo/field"
	"github.com/quickfixgo/fix44/marketdatarequestreject"
	"github.com/quickfixgo/fix44/marketdatasnapshotfullrefresh"
	"github.com/shopspring/decimal"
)

// TestBodyOfKeepsGroups: the body handed to the FIX sender is the message's
// own body as QuickFIX/Go writes it, every member of a repeating group
// included (copying the body with FieldMap.CopyInto kept only the count).
func TestBodyOfKeepsGroups(t *testing.T) {
	w := marketdatasnapshotfullrefresh.New()
	w.SetMDReqID("r1")
	w.SetSymbol("AAPL")
	g := marketdatasnapshotfullrefresh.NewNoMDEntriesRepeatingGroup()
	for i, ty := range []enum.MDEntryType{enum.MDEntryType_BID, enum.MDEntryType_OFFER} {
		e := g.Add()
		e.SetMDEntryType(ty)
		e.SetMDEntryPx(decimal.NewFromInt(int64(100+i)), 2)
		e.SetMDEntrySize(decimal.NewFromInt(5), 0)
	}
	w.SetNoMDEntries(g)
	mt, body, err := bodyOf(w.ToMessage())
	if err != nil {
		t.Fatal(err)
	}
	raw := w.ToMessage().String()
	want := raw[strings.Index(raw, "\x0135=W\x01")+len("\x0135=W\x01") : len(raw)-len("10=000\x01")]
	if mt != "W" || string(body) != want {
		t.Fatalf("%s %q, want W %q", mt, body, want)
	}
	if n := strings.Count(string(body), "\x01269="); n != 2 {
		t.Fatalf("%d entries in %q", n, body)
	}

	y := marketdatarequestreject.New(field.NewMDReqID("r2"))
	y.SetText("no")
	if mt, body, err := bodyOf(y.ToMessage()); err != nil || mt != "Y" || string(body) != "58=no\x01262=r2\x01" {
		t.Fatalf("%s %q %v", mt, body, err)
	}
}
