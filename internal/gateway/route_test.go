package gateway

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
)

// TestRejectReversesRouting: a request sent on behalf of another firm
// (OnBehalfOfCompID 115) is answered with DeliverToCompID 128 naming it,
// as FIX's third-party addressing asks of a reply; here the gateway's own
// reject of an order for an unknown symbol.
func TestRejectReversesRouting(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	g := startGateway(t, cfg, newFakeOM())
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h := fixsession.Header{BeginString: "FIX.4.4", SenderCompID: "ALPHA", TargetCompID: "EXCHANGE"}
	send := func(mt string, seq uint64, body string) {
		if _, err := conn.Write(fixsession.AppendMessage(nil, &h, mt, seq, time.Now(), nil, []byte(body))); err != nil {
			t.Fatal(err)
		}
	}
	var buf []byte
	next := func() map[int]string {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		tmp := make([]byte, 4096)
		for {
			if n, err := fixsession.Frame(buf); err == nil {
				out := map[int]string{}
				for _, f := range fixsession.Scan(buf[:n], nil) {
					out[f.Tag] = string(f.Val)
				}
				buf = buf[n:]
				return out
			}
			k, err := conn.Read(tmp)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			buf = append(buf, tmp[:k]...)
		}
	}
	send("A", 1, "98=0\x01108=30\x01553=alpha\x01554=pw-alpha\x01")
	if m := next(); m[35] != "A" {
		t.Fatalf("Logon answered with %v", m)
	}
	waitLive(t, g, cfg.SessionByCompID("ALPHA"))
	// 115 is a header field: it goes before the body (AppendMessage's
	// body comes right after the standard header).
	send("D", 2, "115=CLIENTFIRM\x0111=R1\x0155=NOPE\x0154=1\x0138=10\x0140=2\x0144=1.00\x0160=20261203-10:00:00\x01")
	m := next()
	if m[35] != "8" || m[39] != "8" || m[128] != "CLIENTFIRM" || m[115] != "" {
		t.Fatalf("reject %v: want an ExecutionReport (rejected) with 128=CLIENTFIRM", m)
	}
	if !strings.Contains(m[58], "NOPE") {
		t.Fatalf("reject Text %q does not name the symbol", m[58])
	}
}
