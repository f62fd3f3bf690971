package gateway

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"

	"github.com/exchange-sim/exchange/internal/fixsession"
)

// frame wraps body in a header and trailer with the right BodyLength (and a
// CheckSum the session layer would drop; the fuzz target only frames).
func frame(body string) string {
	return "8=FIX.4.4\x019=" + strconv.Itoa(len(body)) + "\x01" + body + "10=000\x01"
}

// TestMalformedInputKeepsExchangeUp sends, after a Logon, a byte sequence
// that panics QuickFIX/Go v0.9.7's stream framer (quickfixgo/quickfix#678),
// then more bytes that are not FIX: the session layer closes that
// connection and the exchange goes on serving others.
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
	// A garbled message alone is ignored and the session goes on; bytes
	// that go on not being FIX past the session layer's limit end the
	// connection. (Written aside: the exchange may close before it read
	// them all.)
	go func() { _, _ = conn.Write(bytes.Repeat([]byte("8=\x01not FIX "), 1<<16)) }()
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

// TestRepeatedFieldRejected: a field the exchange reads, given twice, is
// refused with a session-level Reject (373=13, 371 naming it) and never
// reaches the order manager; a tag it does not read (a repeating group's,
// here PartyID 448) may repeat.
func TestRepeatedFieldRejected(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	om := newFakeOM()
	startGateway(t, cfg, om)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h := fixsession.Header{BeginString: "FIX.4.4", SenderCompID: "ALPHA", TargetCompID: "EXCHANGE"}
	seq := uint64(0)
	send := func(mt, body string) {
		seq++
		if _, err := conn.Write(fixsession.AppendMessage(nil, &h, mt, seq, time.Now(), nil, []byte(body))); err != nil {
			t.Fatal(err)
		}
	}
	var pending []byte
	recv := func(mt string) []fixsession.Field {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		for {
			for len(pending) > 0 {
				n, err := fixsession.Frame(pending)
				if err != nil {
					break
				}
				fs := fixsession.Scan(pending[:n], nil)
				pending = pending[n:]
				if v, _ := fixsession.Get(fs, 35); string(v) == mt {
					return fs
				}
			}
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("waiting for a %s: %v", mt, err)
			}
			pending = append(pending, buf[:n]...)
		}
	}
	get := func(fs []fixsession.Field, tag int) string { v, _ := fixsession.Get(fs, tag); return string(v) }
	send("A", "98=0\x01108=30\x01553=alpha\x01554=pw-alpha\x01")
	recv("A")
	send("D", "11=r1\x0155=AAPL\x0154=1\x0138=1\x0140=2\x0144=100\x0144=1000\x0160=20260101-00:00:00\x01")
	rj := recv("3")
	if get(rj, 373) != "13" || get(rj, 371) != "44" || get(rj, 45) != "2" || !strings.Contains(get(rj, 58), "more than once") {
		t.Fatalf("repeated Price answered with %q %q %q %q", get(rj, 373), get(rj, 371), get(rj, 45), get(rj, 58))
	}
	send("D", "11=r2\x0155=AAPL\x0154=1\x0138=1\x0140=2\x0144=100\x0160=20260101-00:00:00\x01453=2\x01448=X\x01447=D\x01452=1\x01448=Y\x01447=D\x01452=3\x01")
	select {
	case r := <-om.ch:
		if r.ClOrdID.String() != "r2" {
			t.Fatalf("the order manager got %q; the order with the repeated Price must not reach it", r.ClOrdID.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an order with a repeated Parties group did not reach the order manager")
	}
}
