package main

import (
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/config"
)

// TestE2EOrderStatus: an OrderStatusRequest for a closed order answers its
// complete state (Side, OrderQty, OrdType, Price, CumQty, AvgPx, LeavesQty,
// the real OrderID) whether asked by the first ClOrdID of its replace chain,
// its last, or its OrderID; a cancel of it is refused naming its OrderID;
// OrderMassStatusRequest lists the open orders, by symbol too, and says
// when there are none.
func TestE2EOrderStatus(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("BRAVO"))
	a, b := cs[0], cs[1]

	a.limit(t, "A1", "AAPL", "1", "10", "190.00")
	oid := a.expectExec(t, "A1", "0").get(37)
	a.send(t, "G", "11=A2", "41=A1", "55=AAPL", "54=1", "38=8", "40=2", "44=190.00")
	a.expectExec(t, "A2", "5")
	b.limit(t, "B1", "AAPL", "2", "8", "190.00")
	a.expectExec(t, "A2", "F", "39=2")

	full := []string{"37=" + oid, "11=A2", "39=2", "54=1", "38=8", "40=2", "44=190", "14=8", "6=190", "151=0", "55=AAPL"}
	for _, ask := range [][]string{{"11=A1"}, {"11=A2"}, {"37=" + oid}} {
		a.send(t, "H", append(ask, "55=AAPL", "54=1")...)
		check(t, "status by "+ask[0], a.expect(t, "8", "150=I"), full...)
	}
	a.send(t, "H", "11=NOPE", "55=AAPL", "54=1")
	check(t, "status of an unknown order", a.expect(t, "8", "150=I", "11=NOPE"), "39=8", "54=1", "55=AAPL", "58=unknown order")
	a.send(t, "F", "11=A3", "41=A2", "55=AAPL", "54=1")
	check(t, "cancel of the filled order", a.expect(t, "9", "11=A3"), "37="+oid, "39=2", "102=0")

	// Mass status: two open orders of ALPHA's, one of BRAVO's.
	a.limit(t, "M1", "AAPL", "1", "5", "189.00")
	a.limit(t, "M2", "MSFT", "1", "3", "419.00")
	b.limit(t, "N1", "AAPL", "1", "4", "188.00")
	m1 := a.expectExec(t, "M1", "0").get(37)
	a.expectExec(t, "M2", "0")
	b.expectExec(t, "N1", "0")
	a.send(t, "AF", "584=S1", "585=7")
	check(t, "mass status, first", a.expect(t, "8", "584=S1", "11=M1"), "150=I", "39=0", "37="+m1, "54=1", "38=5", "151=5", "911=2", "912=N")
	check(t, "mass status, last", a.expect(t, "8", "584=S1", "11=M2"), "150=I", "39=0", "55=MSFT", "911=2", "912=Y")
	a.noMore(t, 300*time.Millisecond, "8", "584=S1")
	a.send(t, "AF", "584=S2", "585=1", "55=MSFT")
	check(t, "mass status by symbol", a.expect(t, "8", "584=S2"), "11=M2", "911=1", "912=Y")
	a.send(t, "AF", "584=S3", "585=1", "55=TSLA")
	check(t, "mass status, none", a.expect(t, "8", "584=S3"), "150=I", "37=NONE", "911=0", "912=Y", "58=no open orders match the request")
	a.send(t, "AF", "584=S4", "585=3")
	check(t, "mass status, unsupported type", a.expect(t, "j", "379=S4"), "372=AF", "380=0")
}

// TestE2EEngineCancelText: the cancels the engine makes by itself say why
// (Text) and carry ExecRestatementReason 8 (exchange option).
func TestE2EEngineCancelText(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("BRAVO"))
	a, b := cs[0], cs[1]
	b.limit(t, "S1", "AAPL", "2", "5", "190.00")
	b.expectExec(t, "S1", "0")
	a.limit(t, "I1", "AAPL", "1", "8", "190.00", "59=3")
	check(t, "IOC remainder", a.expectExec(t, "I1", "4"), "378=8", "58=IOC remainder cancelled: no more liquidity at the limit price")
	a.limit(t, "K1", "AAPL", "1", "8", "190.00", "59=4")
	check(t, "FOK kill", a.expectExec(t, "K1", "4"), "378=8", "58=FOK order killed: it could not be filled in full at once")
	a.limit(t, "T1", "AAPL", "1", "5", "185.00", "7928=1")
	a.limit(t, "T2", "AAPL", "2", "5", "185.00", "7928=1")
	a.expectExec(t, "T1", "0")
	got := a.expectExec(t, "T2", "4")
	check(t, "STP cancel newest", got, "378=8")
	if txt := got.get(58); len(txt) < 30 || txt[:34] != "self-trade prevention (cancel newe" {
		t.Errorf("STP Text %q", txt)
	}
}
