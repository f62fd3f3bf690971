package fixsession

import (
	"bytes"
	"testing"

	"github.com/rs/zerolog"
)

// TestDeliverOffline: messages delivered while no connection is logged on
// get consecutive MsgSeqNums and are in the store, also after the session
// is closed and opened again (a restart); after Close, Deliver refuses.
func TestDeliverOffline(t *testing.T) {
	dir := t.TempDir()
	cfg := Settings{Header: Header{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}, StoreDir: dir}
	s, err := newSession(cfg, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{"11=A\x01", "11=B\x01", "11=C\x01"}
	first, queued, err := s.Deliver(len(bodies), func(i int) (string, []byte) { return "8", []byte(bodies[i]) })
	if err != nil || !queued || first != 1 {
		t.Fatalf("Deliver: first %d queued %v err %v", first, queued, err)
	}
	if out, _ := s.NextSeqNums(); out != 4 {
		t.Fatalf("next outbound %d, want 4", out)
	}
	s.Close()
	if _, _, err := s.Deliver(1, func(int) (string, []byte) { return "8", []byte("11=D\x01") }); err != ErrClosed {
		t.Fatalf("Deliver after Close: %v", err)
	}
	if s.LastWritten().IsZero() {
		t.Fatal("LastWritten is zero after a write")
	}
	s, err = newSession(cfg, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if out, _ := s.NextSeqNums(); out != 4 {
		t.Fatalf("next outbound after reopening %d, want 4", out)
	}
	for i, b := range bodies {
		raw, ok := s.store.get(uint64(i + 1))
		if !ok {
			t.Fatalf("message %d not in the store after reopening", i+1)
		}
		if _, _, body := bodyOf(raw); !bytes.Equal(body, []byte(b)) {
			t.Fatalf("message %d body %q, want %q", i+1, body, b)
		}
	}
}
