package fixsession

import (
	"testing"

	"github.com/quickfixgo/quickfix"
)

// TestSessionIDString: a session logs under the name QuickFIX engines give
// the same session.
func TestSessionIDString(t *testing.T) {
	for _, id := range []SessionID{
		{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"},
		{BeginString: "FIX.4.2", SenderCompID: "A", TargetCompID: "B"},
		{},
	} {
		want := quickfix.SessionID{BeginString: id.BeginString, SenderCompID: id.SenderCompID, TargetCompID: id.TargetCompID}.String()
		if got := id.String(); got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
	if got := (SessionID{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}).String(); got != "FIX.4.4:EXCHANGE->ALPHA" {
		t.Errorf("%q", got)
	}
	st := Settings{Header: SessionID{BeginString: "FIX.4.4", SenderCompID: "X", TargetCompID: "Y"}}
	if st.ID() != st.Header {
		t.Errorf("ID %v, Header %v", st.ID(), st.Header)
	}
}
