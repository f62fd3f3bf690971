package ordermanager

import (
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

// TestStopReplace: a waiting stop (market) or stop-limit order is replaced
// with a new stop price, quantity and (stop-limit, or a stop with a
// protection price) price; it stays reserved and banded as a new stop order
// would be: around its new stop price, a stop without a price at the band
// edge. Symbol AAA: reference 100.00, band 10% (1000 bps) for A1 and B1.
func TestStopReplace(t *testing.T) {
	const (
		B = matching.Buy
		S = matching.Sell
	)
	type order struct {
		typ                matching.OrderType
		stop, price, qty   int64
		acct               matching.AccountID
		side               matching.Side
		replStop, replPx   int64
		replQty            int64
		replType           matching.OrderType // 0: not given
		wantRej            RejectCode
		wantPrice, wantQty int64 // the order after the replace
	}
	for name, c := range map[string]order{
		// Band edge of a buy around 101.00: 101.00 + 10.10 = 111.10.
		"stop: stop price moves, band edge follows": {typ: matching.Stop, stop: 10100, qty: 5, acct: 1, side: B,
			replStop: 10200, replQty: 5, wantPrice: 11220, wantQty: 5},
		"stop: more quantity at the same stop": {typ: matching.Stop, stop: 10100, qty: 5, acct: 1, side: B,
			replStop: 10100, replQty: 8, wantPrice: 11110, wantQty: 8},
		"stop: less quantity, OrdType given": {typ: matching.Stop, stop: 10100, qty: 5, acct: 1, side: B,
			replStop: 10300, replQty: 2, replType: matching.Stop, wantPrice: 11330, wantQty: 2},
		"stop with protection price: new protection": {typ: matching.Stop, stop: 10100, price: 10500, qty: 5, acct: 1, side: B,
			replStop: 10050, replPx: 10400, replQty: 5, wantPrice: 10400, wantQty: 5},
		// Sell band edge around 98.00: 98.00 - 9.80 = 88.20.
		"sell stop: holdings follow the quantity": {typ: matching.Stop, stop: 9900, qty: 5, acct: 1, side: S,
			replStop: 9800, replQty: 9, wantPrice: 8820, wantQty: 9},
		"stop-limit: stop, limit and quantity": {typ: matching.StopLimit, stop: 10100, price: 10200, qty: 5, acct: 1, side: B,
			replStop: 10150, replPx: 10250, replQty: 6, wantPrice: 10250, wantQty: 6},
		// 115.00 is outside the band of the reference (110.00 at most) but
		// inside that of the stop price 110.00 (121.00): a stop-limit is
		// banded around its stop price, as when it was new.
		"stop-limit: banded around the new stop price": {typ: matching.StopLimit, stop: 10500, price: 10600, qty: 5, acct: 1, side: B,
			replStop: 11000, replPx: 11500, replQty: 5, wantPrice: 11500, wantQty: 5},
		"stop-limit: limit outside the stop's band": {typ: matching.StopLimit, stop: 10100, price: 10200, qty: 5, acct: 1, side: B,
			replStop: 10100, replPx: 12000, replQty: 5, wantRej: RejPriceBand},
		"stop-limit: no price": {typ: matching.StopLimit, stop: 10100, price: 10200, qty: 5, acct: 1, side: B,
			replStop: 10100, replQty: 5, wantRej: RejInvalidPrice},
		"stop: no stop price": {typ: matching.Stop, stop: 10100, qty: 5, acct: 1, side: B,
			replQty: 5, wantRej: RejInvalidStopPrice},
		"limit: a stop price": {typ: matching.Limit, price: 10000, qty: 5, acct: 1, side: B,
			replStop: 10100, replPx: 10000, replQty: 5, wantRej: RejInvalidStopPrice},
		"stop: changing the type": {typ: matching.Stop, stop: 10100, qty: 5, acct: 1, side: B,
			replStop: 10100, replPx: 10200, replQty: 5, replType: matching.StopLimit, wantRej: RejReplaceMismatch},
		// A2 requires a protection price on market orders, stops included.
		"stop: protection required": {typ: matching.Stop, stop: 10100, price: 10200, qty: 1, acct: 2, side: B,
			replStop: 10100, replQty: 1, wantRej: RejNoProtection},
		"stop: over the notional limit": {typ: matching.Stop, stop: 10100, qty: 5, acct: 1, side: B,
			replStop: 10100, replQty: 900, wantRej: RejMaxNotional},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			cash0, hold0 := h.totals()
			req := newReq(c.acct, "o1", c.side, c.price, c.qty)
			req.Type, req.StopPrice = c.typ, c.stop
			if reps := h.do(req); len(reps) != 1 || reps[0].ExecType != ExecNew {
				t.Fatalf("new order: %+v", reps)
			}
			cashRes0, holdRes0 := h.m.accts[c.acct-1].cashRes, h.m.accts[c.acct-1].holdRes[0]
			rpl := rplReq(c.acct, "o2", "o1", c.replPx, c.replQty)
			rpl.StopPrice, rpl.Type = c.replStop, c.replType
			reps := h.do(rpl)
			h.checkInvariants(cash0, hold0)
			a := &h.m.accts[c.acct-1]
			if c.wantRej != RejNone {
				if len(reps) != 1 || reps[0].Kind != RepCancelReject || reps[0].Reject != c.wantRej {
					t.Fatalf("replace: %+v, want a reject %v", reps, c.wantRej)
				}
				if a.cashRes != cashRes0 || a.holdRes[0] != holdRes0 {
					t.Fatalf("a refused replace changed the reservations: %d/%d, were %d/%d", a.cashRes, a.holdRes[0], cashRes0, holdRes0)
				}
				return
			}
			if len(reps) != 1 || reps[0].ExecType != ExecReplaced || reps[0].Price != c.wantPrice || reps[0].OrderQty != c.wantQty {
				t.Fatalf("replace: %+v, want replaced to %d at %d", reps, c.wantQty, c.wantPrice)
			}
			if c.side == B {
				if need := h.needAt(c.acct, c.wantQty, c.wantPrice); a.cashRes != need {
					t.Fatalf("cash reserved %d, want %d (%d lots at %d)", a.cashRes, need, c.wantQty, c.wantPrice)
				}
			} else if a.holdRes[0] != c.wantQty {
				t.Fatalf("holdings reserved %d, want %d", a.holdRes[0], c.wantQty)
			}
			// Still a waiting stop: a trade at its new stop price triggers it.
			h.do(newReq(3, "m1", matching.Sell, c.replStop, 1))
			h.do(newReq(4, "m2", matching.Buy, c.replStop, 1))
			h.checkInvariants(cash0, hold0)
		})
	}
}

// TestStopReplaceAfterTrigger: once triggered, a stop-limit order rests as
// a limit order; a replace that still carries a stop price is refused by
// the engine (RejInvalidStopPrice) and the reservations come back as they
// were.
func TestStopReplaceAfterTrigger(t *testing.T) {
	h := newHarness(t)
	cash0, hold0 := h.totals()
	req := newReq(1, "s1", matching.Buy, 10100, 20)
	req.Type, req.StopPrice = matching.StopLimit, 10100
	h.do(req)
	h.do(newReq(3, "m1", matching.Sell, 10100, 10))
	reps := h.do(newReq(4, "m2", matching.Buy, 10100, 1)) // 100 @ 101.00: s1 triggers, buys 9, rests 11
	triggered := false
	for _, r := range reps {
		triggered = triggered || (r.ClOrdID == cl("s1") && r.ExecType == ExecTriggered)
	}
	if !triggered {
		t.Fatalf("no trigger: %+v", reps)
	}
	res0 := h.m.accts[0].cashRes
	rpl := rplReq(1, "s2", "s1", 10100, 15)
	rpl.StopPrice = 10100
	reps = h.do(rpl)
	if len(reps) != 1 || reps[0].Kind != RepCancelReject || reps[0].Reject != RejInvalidStopPrice {
		t.Fatalf("replace of a triggered stop: %+v", reps)
	}
	if h.m.accts[0].cashRes != res0 {
		t.Fatalf("cash reserved %d after the refused replace, was %d", h.m.accts[0].cashRes, res0)
	}
	h.checkInvariants(cash0, hold0)
}
