package ordermanager

import (
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

// phaseCmd moves symbol 1 to p through the engine, as the scheduler would.
func (h *harness) phase(p matching.Phase) []Report {
	pd := Pending{Cmd: matching.Command{Kind: matching.CmdPhase, Symbol: 1, Phase: p}}
	return h.run(&pd, nil)
}

// TestStopLimitReservedAndTriggered: a stop-limit order is reserved at its
// limit price, reported New, then Triggered (150=L) when a trade reaches
// its stop price, then filled.
func TestStopLimitReservedAndTriggered(t *testing.T) {
	h := newHarness(t)
	cash0, hold0 := h.totals()
	stop := newReq(1, "s1", matching.Buy, 10200, 5)
	stop.Type, stop.StopPrice = matching.StopLimit, 10100
	reps := h.do(stop)
	if len(reps) != 1 || reps[0].ExecType != ExecNew {
		t.Fatalf("stop-limit: %+v", reps)
	}
	h.checkInvariants(cash0, hold0)
	if need := h.needAt(1, 5, 10200); h.m.accts[0].cashRes != need {
		t.Fatalf("reserved %d, want %d at the limit price", h.m.accts[0].cashRes, need)
	}
	h.do(newReq(3, "b1", matching.Sell, 10100, 10))
	reps = h.do(newReq(4, "c1", matching.Buy, 10100, 5))
	var mine []byte
	for _, r := range reps {
		if r.ClOrdID == cl("s1") {
			mine = append(mine, r.ExecType)
		}
	}
	if string(mine) != string([]byte{ExecTriggered, ExecTrade}) {
		t.Fatalf("stop order reports %q, want triggered then trade", mine)
	}
	h.checkInvariants(cash0, hold0)
}

// TestPhaseRejectAndAuctionFill: a phase that refuses an order gives
// RejPhase (OrdRejReason 2 and its text); an auction fill is marked.
func TestPhaseRejectAndAuctionFill(t *testing.T) {
	h := newHarness(t)
	cash0, hold0 := h.totals()
	h.phase(matching.PhasePostClose)
	reps := h.do(newReq(1, "p1", matching.Buy, 10000, 1))
	if len(reps) != 1 || reps[0].Reject != RejPhase || reps[0].Reject.OrdRejReason() != 2 || RejectText(RejPhase) == "" {
		t.Fatalf("post-close order: %+v", reps)
	}
	h.phase(matching.PhasePreOpen)
	h.do(newReq(3, "a1", matching.Sell, 10000, 5))
	h.do(newReq(4, "a2", matching.Buy, 10010, 5))
	reps = h.phase(matching.PhaseContinuous)
	n := 0
	for _, r := range reps {
		if r.ExecType == ExecTrade {
			n++
			if !r.Auction || r.LastPx != 10000 {
				t.Errorf("auction fill %+v", r)
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d fills, want 2: %+v", n, reps)
	}
	h.checkInvariants(cash0, hold0)
}
