package ordermanager

import (
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

func TestSmokeNewTradeCancel(t *testing.T) {
	h := newHarness(t)
	c0, h0 := h.totals()
	r := h.do(newReq(1, "a1", matching.Buy, 10000, 10))
	if len(r) != 1 || r[0].ExecType != ExecNew {
		t.Fatalf("new: %+v", r)
	}
	r = h.do(newReq(3, "b1", matching.Sell, 9990, 4))
	if len(r) != 3 || r[1].ExecType != ExecTrade || r[2].ExecType != ExecTrade {
		t.Fatalf("trade: %+v", r)
	}
	h.checkInvariants(c0, h0)
	r = h.do(cxlReq(1, "a2", "a1"))
	if len(r) != 1 || r[0].ExecType != ExecCanceled || r[0].CumQty != 4 {
		t.Fatalf("cancel: %+v", r)
	}
	h.checkInvariants(c0, h0)
	if h.m.OpenOrders() != 0 {
		t.Fatal("open orders left")
	}
}
