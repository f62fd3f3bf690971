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

func TestFrameMessage(t *testing.T) {
	good := "8=FIX.4.4\x019=5\x0135=0\x0110=123\x01"
	if n, err := frameMessage([]byte(good + "8=FIX")); err != nil || n != len(good) {
		t.Fatalf("good message: %d %v", n, err)
	}
	for i := 0; i < len(good); i++ {
		if _, err := frameMessage([]byte(good[:i])); err != errIncomplete {
			t.Fatalf("prefix %q: %v, want incomplete", good[:i], err)
		}
	}
	for _, bad := range []string{
		"9=5\x0135=0\x0110=123\x01",                         // no BeginString
		"8=\x019=5\x0135=0\x0110=123\x01",                   // empty BeginString
		"8=FIX.4.4\x019=\x0135=0\x0110=123\x01",             // empty BodyLength
		"8=FIX.4.4\x019=119999999999999999999999999970\x01", // huge BodyLength (quickfixgo#678)
		"8=FIX.4.4\x019=0\x0110=123\x01",                    // zero BodyLength
		"8=FIX.4.4\x019=6\x0135=0\x0110=123\x01X",           // BodyLength too long
		"8=FIX.4.4\x019=4\x0135=0\x0110=123\x01",            // BodyLength too short
		"8=FIX.4.4\x019=5\x0135=\x01\x0110=123\x01",         // empty value
		"8=FIX.4.4\x019=5\x0135=0\x0110=12x\x01",            // bad checksum field
		frame("35=n\x01212=99999\x01213=<x/>\x01"),          // XmlDataLen (quickfixgo#678)
		frame("35=0\x0134=\x01"),                            // empty int field (quickfixgo#678)
		frame("35=0\x0134=1"),                               // body without a final SOH
		frame("35=0\x01=1\x01"),                             // no tag
		"8=FIX.4.4\x019=10\x0135=0\x01a4=1\x0110=123\x01",   // non-numeric tag
		"GET / HTTP/1.1\r\n\r\n",
	} {
		if _, err := frameMessage([]byte(bad)); err == nil || err == errIncomplete {
			t.Errorf("%q: %v, want an error", bad, err)
		}
	}
}

// frame wraps body in a header and trailer with the right BodyLength.
func frame(body string) string {
	return "8=FIX.4.4\x019=" + strconv.Itoa(len(body)) + "\x01" + body + "10=000\x01"
}

// TestGuardKeepsExchangeUp sends, after a Logon, a byte sequence that panics
// QuickFIX/Go's stream framer: the guard closes that connection and the
// exchange goes on serving others.
func TestGuardKeepsExchangeUp(t *testing.T) {
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
	if sid := waitLive(t, g, cfg.SessionByCompID("BRAVO")); !strings.Contains(g.remote(sid), "127.0.0.1") {
		t.Fatalf("BRAVO: %v %q", sid, g.remote(sid))
	}
}

// TestAcceptorPortIsPrivate: a Logon sent to the acceptor's own port, not
// through the guard, is never answered.
func TestAcceptorPortIsPrivate(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	g := startGateway(t, cfg, newFakeOM())
	if got := rawLogon(t, g.guard.inner, "FIX.4.4", "ALPHA", "EXCHANGE", "alpha", "pw-alpha"); got != "" {
		t.Fatalf("direct connection answered: %q", got)
	}
	if _, ok := g.LiveSession(cfg.SessionByCompID("ALPHA")); ok {
		t.Fatal("logged on through the private port")
	}
}
