package fixsession

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestBurstBuffersDropped: a burst of 4 MB of messages to a client that is
// not reading grows the connection's socket and store buffers past
// bufKeepMax; once the client has read it all and a small message follows,
// the connection keeps none of the burst's buffers.
func TestBurstBuffersDropped(t *testing.T) {
	app := &echoApp{}
	a, addr := startAcceptor(t, app, t.TempDir())
	defer a.Stop("bye", time.Second)
	r := dialRaw(t, addr)
	r.send("A", "98=0\x01108=30\x01554=pw\x01")
	r.expect("35=A")
	s := a.Session(SessionID{BeginString: "FIX.4.4", SenderCompID: "EXCH", TargetCompID: "ALPHA"})
	if s == nil {
		t.Fatal("no session")
	}
	pad := bytes.Repeat([]byte("x"), 1000)
	const burst = 4000
	if _, err := s.SendBodies(burst, func(i int) (string, []byte) {
		return "8", append(AppendString(nil, 11, fmt.Sprintf("B%d", i)), AppendField(nil, 58, pad)...)
	}); err != nil {
		t.Fatal(err)
	}
	for i := range burst {
		r.expect("35=8", fmt.Sprintf("11=B%d", i))
	}
	// One small message after the burst: the writer runs once more on
	// whatever buffers it kept.
	if err := s.SendBody("8", AppendString(nil, 11, "after")); err != nil {
		t.Fatal(err)
	}
	r.expect("35=8", "11=after")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		c := s.conn
		outCap, pendCap := cap(c.out), cap(s.store.pending)
		s.mu.Unlock()
		c.writeMu.Lock()
		fbCap := cap(c.fb.msgs)
		c.writeMu.Unlock()
		if outCap <= bufKeepMax && pendCap <= bufKeepMax && fbCap <= bufKeepMax {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the burst the connection keeps %d B (socket), %d B and %d B (store)", outCap, pendCap, fbCap)
		}
	}
}
