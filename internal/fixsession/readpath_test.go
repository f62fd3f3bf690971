package fixsession

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/quickfixgo/quickfix"
)

// silentApp takes application messages without answering them and says
// when each was handled.
type silentApp struct{ got chan struct{} }

func (a *silentApp) Logon(quickfix.SessionID, *Session, *Message) string { return "" }
func (a *silentApp) OnLogon(*Session)                                    {}
func (a *silentApp) OnLogout(*Session)                                   {}
func (a *silentApp) FromApp(*Session, *Message) quickfix.MessageRejectError {
	a.got <- struct{}{}
	return nil
}

// TestReadWithoutAnswerWritesNothing: messages read one at a time that
// cause no answer do not wake the writer to store the inbound sequence
// number each time; it goes to the store once, with the next message sent
// (here the Heartbeat answering a TestRequest), and is right there.
func TestReadWithoutAnswerWritesNothing(t *testing.T) {
	dir := t.TempDir()
	app := &silentApp{got: make(chan struct{}, 1)}
	a, addr := startAcceptor(t, app, dir)
	defer a.Stop("bye", 0)
	r := dialRaw(t, addr)
	r.send("A", "98=0\x01108=30\x01")
	r.expect("35=A")
	size := func() int64 {
		st, err := os.Stat(filepath.Join(dir, "FIX.4.4-EXCH-ALPHA.msgs"))
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	// The Logon's answer and its numbers are written before it is sent.
	before := size()
	for i := 0; i < 5; i++ {
		r.send("D", "11=X\x01")
		<-app.got
	}
	r.send("1", "112=T\x01")
	r.expect("35=0", "112=T")
	if got := size() - before; got != recHeader+seqRecBytes {
		t.Fatalf("the store grew by %d bytes for 5 unanswered messages and a heartbeat, want one numbers record (%d)", got, recHeader+seqRecBytes)
	}
	if _, in := a.Session(quickfix.SessionID{BeginString: "FIX.4.4", SenderCompID: "EXCH", TargetCompID: "ALPHA"}).NextSeqNums(); in != 8 {
		t.Fatalf("next expected %d, want 8", in)
	}
}
