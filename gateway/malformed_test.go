package gateway

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"
)

// frame wraps body in a header and trailer with the right BodyLength (and a
// CheckSum the session layer would drop; the fuzz target only frames).
func frame(body string) string {
	return "8=FIX.4.4\x019=" + strconv.Itoa(len(body)) + "\x01" + body + "10=000\x01"
}

// TestMalformedInputKeepsExchangeUp sends, after a Logon, a byte sequence
// that panics QuickFIX/Go v0.9.7's stream framer (quickfixgo/quickfix#678):
// the session layer closes that connection and the exchange goes on serving
// others.
func TestMalformedInputKeepsExchangeUp(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	g := startGateway(t, cfg, newFakeOM())
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	logon := quickfix.NewMessage()
	logon.Header.SetString(8, "FIX.4.4")
	logon.Header.SetString(tag.MsgType, "A")
	logon.Header.SetString(49, "ALPHA")
	logon.Header.SetString(56, "EXCHANGE")
	logon.Header.SetInt(tag.MsgSeqNum, 1)
	logon.Header.SetField(52, quickfix.FIXUTCTimestamp{Time: time.Now()})
	logon.Body.SetString(98, "0")
	logon.Body.SetString(108, "30")
	logon.Body.SetString(tag.Username, "alpha")
	logon.Body.SetString(tag.Password, "pw-alpha")
	if _, err := conn.Write(append(logon.Bytes(), "8=\x019=119999999999999999999999999999999999999999999999999999999999970\x01"...)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for {
		if _, err := conn.Read(buf); err != nil {
			break
		}
	}
	if g.Stats().Malformed != 1 {
		t.Fatalf("malformed count %d", g.Stats().Malformed)
	}
	c := dial(t, addr, quickfix.BeginStringFIX44, "BRAVO", "EXCHANGE", "bravo", "pw-bravo")
	c.waitLogon()
	sid := waitLive(t, g, cfg.SessionByCompID("BRAVO"))
	if remote := g.acc.Session(sid).RemoteAddr(); !strings.Contains(remote, "127.0.0.1") {
		t.Fatalf("BRAVO: %v %q", sid, remote)
	}
}
