package main

import (
	"net"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/fixsession"
)

// rawFIX is a bare FIX 4.4 client over a socket, for header fields the
// QuickFIX/Go test broker does not set (third-party routing).
type rawFIX struct {
	t    *testing.T
	conn net.Conn
	h    fixsession.Header
	seq  uint64
	buf  []byte
}

func dialRawFIX(t *testing.T, addr, comp, user, pass string) *rawFIX {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r := &rawFIX{t: t, conn: conn, h: fixsession.Header{BeginString: "FIX.4.4", SenderCompID: comp, TargetCompID: "EXCHANGE"}}
	r.send("A", "98=0\x01108=30\x01553="+user+"\x01554="+pass+"\x01")
	if m := r.next(); m[35] != "A" {
		t.Fatalf("Logon answered with %v", m)
	}
	return r
}

// send sends a message; header fields (routing) go first in body.
func (r *rawFIX) send(mt, body string) {
	r.t.Helper()
	r.seq++
	if _, err := r.conn.Write(fixsession.AppendMessage(nil, &r.h, mt, r.seq, time.Now(), nil, []byte(body))); err != nil {
		r.t.Fatal(err)
	}
}

// next returns the next message's fields.
func (r *rawFIX) next() map[int]string {
	r.t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(waitMax))
	tmp := make([]byte, 4096)
	for {
		if n, err := fixsession.Frame(r.buf); err == nil {
			out := map[int]string{}
			for _, f := range fixsession.Scan(r.buf[:n], nil) {
				out[f.Tag] = string(f.Val)
			}
			r.buf = r.buf[n:]
			return out
		}
		k, err := r.conn.Read(tmp)
		if err != nil {
			r.t.Fatalf("read: %v", err)
		}
		r.buf = append(r.buf, tmp[:k]...)
	}
}

// exec waits for the ExecutionReport of clOrdID with ExecType execType,
// skipping other messages.
func (r *rawFIX) exec(clOrdID, execType string) map[int]string {
	r.t.Helper()
	for {
		m := r.next()
		if m[35] == "8" && m[11] == clOrdID && m[150] == execType {
			return m
		}
	}
}

// TestE2ERoutingOnLaterReports: through the whole venue, an order ALPHA
// sends on behalf of CLIENTFIRM (115) has every report about it addressed
// back with DeliverToCompID 128: its acknowledgement, a fill made by
// BRAVO's order later, the answer to a replace and to a cancel sent for the
// same client; an order without routing gets none.
func TestE2ERoutingOnLaterReports(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "batch")
	fix := v.cfg.ListenFIX
	a := dialRawFIX(t, fix, "ALPHA", "alpha", "demo-alpha")
	routed := func(what string, m map[int]string) {
		t.Helper()
		if m[128] != "CLIENTFIRM" || m[115] != "" {
			t.Fatalf("%s: %v, want 128=CLIENTFIRM", what, m)
		}
	}
	a.send("D", "115=CLIENTFIRM\x0111=R1\x0155=AAPL\x0154=1\x0138=10\x0140=2\x0144=190.00\x0159=0\x0160=20261203-10:00:00\x01")
	routed("acknowledgement", a.exec("R1", "0"))

	b := logon(t, fix, defaultOpts("BRAVO"))
	b.limit(t, "B1", "AAPL", "2", "4", "190.00")
	b.expectExec(t, "B1", "F")
	routed("fill made later by another firm's order", a.exec("R1", "F"))

	a.send("G", "115=CLIENTFIRM\x0111=R2\x0141=R1\x0155=AAPL\x0154=1\x0138=10\x0140=2\x0144=189.00\x0159=0\x0160=20261203-10:00:00\x01")
	routed("replace", a.exec("R2", "5"))
	a.send("F", "115=CLIENTFIRM\x0111=C1\x0141=R2\x0155=AAPL\x0154=1\x0138=10\x0160=20261203-10:00:00\x01")
	routed("cancel", a.exec("C1", "4"))

	a.send("D", "11=P1\x0155=AAPL\x0154=1\x0138=1\x0140=2\x0144=180.00\x0159=0\x0160=20261203-10:00:00\x01")
	if m := a.exec("P1", "0"); m[128] != "" {
		t.Fatalf("order without routing: %v, want no 128", m)
	}
}
