package ordermanager

import (
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

// TestStatusOfClosedOrders: a status request for a closed order answers its
// complete state (side, quantities, prices, OrderID, final status), found by
// the first ClOrdID of its replace chain, its last one, or its OrderID.
func TestStatusOfClosedOrders(t *testing.T) {
	h := newHarness(t)
	const B, S = matching.Buy, matching.Sell
	ack := h.do(newReq(1, "a", B, 10000, 10))
	oid := ack[0].OrderID
	h.do(rplReq(1, "a2", "a", 10000, 8)) // down in quantity: keeps priority
	h.do(newReq(3, "s", S, 9990, 8))     // fills a2 at 100.00
	if h.m.OpenOrders() != 0 {
		t.Fatal("open orders left")
	}
	for _, req := range []Request{
		{Kind: ReqStatus, Firm: 1, Session: 1, OrigClOrdID: cl("a")},
		{Kind: ReqStatus, Firm: 1, Session: 1, OrigClOrdID: cl("a2")},
		{Kind: ReqStatus, Firm: 1, Session: 1, OrderID: oid},
	} {
		got := h.do(req)
		if len(got) != 1 {
			t.Fatalf("%d reports", len(got))
		}
		p := got[0]
		if p.Kind != RepExec || p.ExecType != ExecOrderStatus || p.OrdStatus != StatusFilled || p.Reject != RejNone ||
			p.OrderID != oid || p.ClOrdID != cl("a2") || p.Side != B || p.Type != matching.Limit ||
			p.Price != 10000 || p.OrderQty != 8 || p.CumQty != 8 || p.Leaves != 0 || p.CumTicksLots != 8*10000 {
			t.Errorf("status %+v:\n got %+v", req, p)
		}
	}
	// Another firm does not see it.
	if got := h.do(Request{Kind: ReqStatus, Firm: 2, Session: 3, OrderID: oid}); got[0].Reject != RejUnknownOrder {
		t.Errorf("another firm's status request: %+v", got[0])
	}
	// A cancel of the closed order is too late and names its OrderID.
	got := h.do(cxlReq(1, "x", "a2"))
	if got[0].Kind != RepCancelReject || got[0].Reject != RejTooLate || got[0].OrderID != oid || got[0].OrdStatus != StatusFilled {
		t.Errorf("cancel of a closed order: %+v", got[0])
	}
}

// TestMassStatus: one status report per open order of the firm (by symbol
// when asked), numbered with TotNumReports and the last marked, or one
// report saying there is none.
func TestMassStatus(t *testing.T) {
	h := newHarness(t)
	h.do(newReq(1, "a", matching.Buy, 9900, 10))
	r2 := newReq(1, "b", matching.Buy, 4900, 1)
	r2.Symbol = 2
	h.do(r2)
	h.do(newReq(3, "c", matching.Sell, 10100, 5)) // another firm's
	all := h.do(Request{Kind: ReqMassStatus, Firm: 1, Session: 1, ClOrdID: cl("m1")})
	if len(all) != 2 {
		t.Fatalf("%d reports, want 2: %+v", len(all), all)
	}
	for i, p := range all {
		ms := p.MassStatus
		if p.ExecType != ExecOrderStatus || p.OrdStatus != StatusNew || ms.ReqID != cl("m1") || ms.Total != 2 || ms.Last != (i == 1) || ms.None || p.Session != 1 {
			t.Errorf("report %d: %+v", i, p)
		}
	}
	if all[0].ClOrdID != cl("a") || all[1].ClOrdID != cl("b") {
		t.Errorf("orders %s, %s", all[0].ClOrdID, all[1].ClOrdID)
	}
	bySym := h.do(Request{Kind: ReqMassStatus, Firm: 1, Session: 1, ClOrdID: cl("m2"), Symbol: 2})
	if len(bySym) != 1 || bySym[0].ClOrdID != cl("b") || !bySym[0].MassStatus.Last || bySym[0].MassStatus.Total != 1 {
		t.Errorf("by symbol: %+v", bySym)
	}
	none := h.do(Request{Kind: ReqMassStatus, Firm: 3, Session: 4, ClOrdID: cl("m3")})
	if len(none) != 1 || !none[0].MassStatus.None || !none[0].MassStatus.Last || none[0].MassStatus.Total != 0 || none[0].OrderID != 0 {
		t.Errorf("none: %+v", none)
	}
}

// TestCancelReasons: each cancel the engine makes on its own names why.
func TestCancelReasons(t *testing.T) {
	const B, S = matching.Buy, matching.Sell
	h := newHarness(t)
	lastCancel := func(reps []Report) Report {
		t.Helper()
		for i := len(reps) - 1; i >= 0; i-- {
			if reps[i].ExecType == ExecCanceled || reps[i].ExecType == ExecRestated {
				return reps[i]
			}
		}
		t.Fatalf("no cancel in %+v", reps)
		return Report{}
	}
	h.do(newReq(3, "s1", S, 10000, 5))
	ioc := newReq(1, "ioc", B, 10000, 8)
	ioc.TIF = matching.IOC
	if c := lastCancel(h.do(ioc)); c.Cancel != CancelIOCRemainder || c.Cancel.RestatementReason() != 8 {
		t.Errorf("IOC: %v", c.Cancel)
	}
	fok := newReq(1, "fok", B, 10000, 8)
	fok.TIF = matching.FOK
	h.do(newReq(3, "s2", S, 10000, 5))
	if c := lastCancel(h.do(fok)); c.Cancel != CancelFOKUnfilled {
		t.Errorf("FOK: %v", c.Cancel)
	}
	mkt := newReq(1, "mkt", B, 0, 8)
	mkt.Type, mkt.TIF = matching.Market, matching.IOC
	if c := lastCancel(h.do(mkt)); c.Cancel != CancelMarketNoLiquidity {
		t.Errorf("market: %v (%+v)", c.Cancel, c)
	}
	for _, tc := range []struct {
		mode        matching.STPMode
		taker, make CancelReason
	}{
		{matching.STPCancelNewest, CancelSTPNewest, 0},
		{matching.STPCancelOldest, 0, CancelSTPOldest},
		{matching.STPCancelBoth, CancelSTPBothTaker, CancelSTPBothMaker},
		{matching.STPDecrementCancel, CancelSTPDecrement, CancelSTPDecrement},
	} {
		h := newHarness(t)
		rest := h.do(newReq(1, "m", S, 10000, 5))
		tk := newReq(1, "t", B, 10000, 5)
		tk.STP = tc.mode
		reps := h.do(tk)
		for _, p := range reps {
			if p.ExecType != ExecCanceled && p.ExecType != ExecRestated {
				continue
			}
			want := tc.taker
			if p.OrderID == rest[0].OrderID {
				want = tc.make
			}
			if p.Cancel != want || p.Cancel.String() == "" {
				t.Errorf("STP mode %d, order %d: %v, want %v", tc.mode, p.OrderID, p.Cancel, want)
			}
		}
	}
	// A cancel the client asked for carries none.
	h2 := newHarness(t)
	h2.do(newReq(1, "k", B, 9900, 5))
	if c := lastCancel(h2.do(cxlReq(1, "kc", "k"))); c.Cancel != CancelNone {
		t.Errorf("user cancel: %v", c.Cancel)
	}
}

// TestCancelClosedByOrderID: a cancel naming a closed order by OrderID only
// is too late (not unknown), with the order's final status and OrderID.
func TestCancelClosedByOrderID(t *testing.T) {
	h := newHarness(t)
	oid := h.do(newReq(1, "a", matching.Buy, 10000, 5))[0].OrderID
	h.do(newReq(3, "s", matching.Sell, 10000, 5))
	got := h.do(Request{Kind: ReqCancel, Firm: 1, Session: 1, ClOrdID: cl("x"), OrderID: oid})
	if got[0].Reject != RejTooLate || got[0].OrderID != oid || got[0].OrdStatus != StatusFilled {
		t.Fatalf("cancel by OrderID of a filled order: %+v", got[0])
	}
	if got := h.do(Request{Kind: ReqCancel, Firm: 2, Session: 3, ClOrdID: cl("y"), OrderID: oid}); got[0].Reject != RejUnknownOrder {
		t.Fatalf("another firm: %+v", got[0])
	}
}
