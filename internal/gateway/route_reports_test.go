package gateway

import (
	"net"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
)

// TestLaterReportsReverseRouting: an order sent on behalf of another firm
// (OnBehalfOfCompID 115) has every report about it sent back to that firm
// (DeliverToCompID 128), not only the gateway's immediate rejects: its
// acknowledgement, a fill later, the answer to a replace sent for it and
// the exchange's own cancel of the replaced order; an order without
// routing gets none; a duplicate ClOrdID sent for another firm does not
// take the order's routing over; once the order has ended its routing is
// forgotten.
func TestLaterReportsReverseRouting(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	om := newFakeOM()
	g := startGateway(t, cfg, om)
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
	var buf []byte
	next := func() map[int]string {
		t.Helper()
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
	send("A", "98=0\x01108=30\x01553=alpha\x01554=pw-alpha\x01")
	if m := next(); m[35] != "A" {
		t.Fatalf("Logon answered with %v", m)
	}
	sid := cfg.SessionByCompID("ALPHA")
	waitLive(t, g, sid)
	send("D", "115=CLIENTFIRM\x01116=DESK7\x0111=R1\x0155=AAPL\x0154=1\x0138=10\x0140=2\x0144=190.00\x0160=20261203-10:00:00\x01")
	r1 := om.next(t)
	send("D", "11=P1\x0155=AAPL\x0154=1\x0138=10\x0140=2\x0144=190.00\x0160=20261203-10:00:00\x01")
	p1 := om.next(t)

	rep := func(req ordermanager.Request, execType, status byte, leaves int64, execID uint64) ordermanager.Report {
		return ordermanager.Report{Kind: ordermanager.RepExec, Session: sid, ExecType: execType, OrdStatus: status,
			ExecID: execID, OutSeq: execID / 2, OrderID: matching.OrderID(execID), ClOrdID: req.ClOrdID, OrigClOrdID: req.OrigClOrdID,
			Account: req.Account, Symbol: req.Symbol, Side: req.Side, Type: req.Type, Price: req.Price, OrderQty: req.Qty, Leaves: leaves}
	}
	routed := func(what string, m map[int]string) {
		t.Helper()
		if m[35] != "8" || m[128] != "CLIENTFIRM" || m[129] != "DESK7" || m[115] != "" {
			t.Fatalf("%s: %v, want an ExecutionReport with 128=CLIENTFIRM 129=DESK7", what, m)
		}
	}
	g.Deliver([]ordermanager.Report{rep(r1, ordermanager.ExecNew, ordermanager.StatusNew, 10, 2), rep(p1, ordermanager.ExecNew, ordermanager.StatusNew, 10, 4)})
	routed("acknowledgement", next())
	if m := next(); m[11] != "P1" || m[128] != "" {
		t.Fatalf("order without routing: %v, want no 128", m)
	}
	fill := rep(r1, ordermanager.ExecTrade, ordermanager.StatusPartiallyFilled, 6, 6)
	fill.LastQty, fill.LastPx, fill.CumQty = 4, 19000, 4
	g.Deliver([]ordermanager.Report{fill})
	routed("fill", next())

	// A replace sent for the same client, then the exchange's own cancel
	// (an expiry) of the replaced order, under the replace's ClOrdID.
	send("G", "115=CLIENTFIRM\x01116=DESK7\x0111=R2\x0141=R1\x0155=AAPL\x0154=1\x0138=10\x0140=2\x0144=191.00\x0160=20261203-10:00:00\x01")
	r2 := om.next(t)
	g.Deliver([]ordermanager.Report{rep(r2, ordermanager.ExecReplaced, ordermanager.StatusPartiallyFilled, 6, 8)})
	routed("replace", next())
	// A new order reusing the live ClOrdID, for another firm: refused as a
	// duplicate; the live order keeps its routing.
	send("D", "115=OTHERFIRM\x0111=R2\x0155=AAPL\x0154=1\x0138=1\x0140=2\x0144=190.00\x0160=20261203-10:00:00\x01")
	dup := rep(om.next(t), ordermanager.ExecRejected, ordermanager.StatusRejected, 0, 0)
	dup.OutSeq, dup.ExecID, dup.Reject = 0, 1<<50, ordermanager.RejDuplicateClOrdID
	g.Deliver([]ordermanager.Report{dup})
	if m := next(); m[39] != "8" {
		t.Fatalf("duplicate's reject: %v", m)
	}
	exp := rep(r2, ordermanager.ExecExpired, ordermanager.StatusExpired, 0, 10)
	exp.OrigClOrdID = ordermanager.ClOrdID{}
	exp.Cancel = ordermanager.CancelReason(1)
	g.Deliver([]ordermanager.Report{exp})
	routed("expiry", next())
	st := g.session(sid)
	if n := st.routes.n.Load(); n != 0 {
		t.Fatalf("%d routes remembered after the order ended, want 0", n)
	}
}
