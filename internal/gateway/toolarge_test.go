package gateway

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"
)

// TestTooLargeMessage: a correctly framed 1 MiB message is refused as too
// large, the Logout's Text naming the limit.
func TestTooLargeMessage(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	startGateway(t, cfg, newFakeOM())
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg := func(mt string, seq int, body map[quickfix.Tag]string) []byte {
		m := quickfix.NewMessage()
		m.Header.SetString(8, "FIX.4.4")
		m.Header.SetString(tag.MsgType, mt)
		m.Header.SetString(49, "ALPHA")
		m.Header.SetString(56, "EXCHANGE")
		m.Header.SetInt(tag.MsgSeqNum, seq)
		m.Header.SetField(52, quickfix.FIXUTCTimestamp{Time: time.Now()})
		for k, v := range body {
			m.Body.SetString(k, v)
		}
		return m.Bytes()
	}
	out := msg("A", 1, map[quickfix.Tag]string{98: "0", 108: "30", tag.Username: "alpha", tag.Password: "pw-alpha"})
	out = append(out, msg("D", 2, map[quickfix.Tag]string{tag.ClOrdID: "x", tag.Text: strings.Repeat("x", 1<<20)})...)
	go func() { _, _ = conn.Write(out) }()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	i := bytes.Index(got, []byte("\x0135=5\x01"))
	if i < 0 {
		t.Fatalf("no Logout: %q", got)
	}
	text := string(got[i:])
	if !strings.Contains(text, "too large") || !strings.Contains(text, "65536") {
		t.Fatalf("Logout does not say too large and the limit: %q", text)
	}
}
