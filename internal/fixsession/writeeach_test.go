package fixsession

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// countConn counts Write calls.
type countConn struct {
	net.Conn
	writes [][]byte
}

func (c *countConn) Write(b []byte) (int, error) {
	c.writes = append(c.writes, bytes.Clone(b))
	return len(b), nil
}

// TestWriteEach: three formatted messages go out with three writes, each
// one whole message.
func TestWriteEach(t *testing.T) {
	h := Header{BeginString: "FIX.4.4", SenderCompID: "A", TargetCompID: "B"}
	var b []byte
	for i := 1; i <= 3; i++ {
		b = AppendMessage(b, &h, "D", uint64(i), time.Now(), nil, []byte("11=X\x01"))
	}
	c := &countConn{}
	if err := writeEach(c, b); err != nil {
		t.Fatal(err)
	}
	if len(c.writes) != 3 {
		t.Fatalf("%d writes, want 3", len(c.writes))
	}
	for i, w := range c.writes {
		if n, err := Frame(w); err != nil || n != len(w) {
			t.Fatalf("write %d is not one whole message: %q", i, w)
		}
	}
}
