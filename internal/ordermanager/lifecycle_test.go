package ordermanager

import (
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

// rep is the part of a report the lifecycle tests check.
type rep struct {
	kind     ReportKind
	exec     byte
	status   byte
	sess     uint32
	id       string // ClOrdID
	orig     string
	cum, lvs int64
	reject   RejectCode
}

func summarize(reps []Report) []rep {
	out := make([]rep, len(reps))
	for i, r := range reps {
		out[i] = rep{r.Kind, r.ExecType, r.OrdStatus, uint32(r.Session), r.ClOrdID.String(), r.OrigClOrdID.String(), r.CumQty, r.Leaves, r.Reject}
	}
	return out
}

func expect(t *testing.T, what string, got []Report, want ...rep) {
	t.Helper()
	g := summarize(got)
	if len(g) != len(want) {
		t.Fatalf("%s: got %d reports %+v, want %+v", what, len(g), g, want)
	}
	for i := range g {
		if g[i] != want[i] {
			t.Fatalf("%s: report %d = %+v, want %+v", what, i, g[i], want[i])
		}
	}
}

func TestLifecycle(t *testing.T) {
	const (
		B = matching.Buy
		S = matching.Sell
	)
	newR := func(id string, cum, lvs int64) rep { return rep{RepExec, ExecNew, StatusNew, 1, id, "", cum, lvs, 0} }
	cases := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"new, partial, fill", func(t *testing.T, h *harness) {
			expect(t, "new", h.do(newReq(1, "a", B, 10000, 10)), newR("a", 0, 10))
			expect(t, "partial", h.do(newReq(3, "b", S, 10000, 4)),
				rep{RepExec, ExecNew, StatusNew, 3, "b", "", 0, 4, 0},
				rep{RepExec, ExecTrade, StatusFilled, 3, "b", "", 4, 0, 0},
				rep{RepExec, ExecTrade, StatusPartiallyFilled, 1, "a", "", 4, 6, 0})
			expect(t, "fill", h.do(newReq(3, "c", S, 9900, 6)),
				rep{RepExec, ExecNew, StatusNew, 3, "c", "", 0, 6, 0},
				rep{RepExec, ExecTrade, StatusFilled, 3, "c", "", 6, 0, 0},
				rep{RepExec, ExecTrade, StatusFilled, 1, "a", "", 10, 0, 0})
			if h.m.OpenOrders() != 0 {
				t.Fatal("open orders left")
			}
			expect(t, "cancel filled", h.do(cxlReq(1, "x", "a")),
				rep{RepCancelReject, 0, StatusFilled, 1, "x", "a", 0, 0, RejTooLate})
			st := h.do(Request{Kind: ReqStatus, Firm: 1, Session: 1, OrigClOrdID: cl("a")})
			expect(t, "status of filled", st, rep{RepExec, ExecOrderStatus, StatusFilled, 1, "a", "", 10, 0, 0})
		}},
		{"cancel", func(t *testing.T, h *harness) {
			h.do(newReq(1, "a", B, 10000, 10))
			expect(t, "cancel", h.do(cxlReq(1, "c", "a")), rep{RepExec, ExecCanceled, StatusCanceled, 1, "c", "a", 0, 0, 0})
			expect(t, "again", h.do(cxlReq(1, "d", "a")), rep{RepCancelReject, 0, StatusCanceled, 1, "d", "a", 0, 0, RejTooLate})
			expect(t, "dup", h.do(cxlReq(1, "c", "a")), rep{RepCancelReject, 0, StatusCanceled, 1, "c", "a", 0, 0, RejDuplicateClOrdID})
		}},
		{"cancel in flight: pending, then too late from the engine", func(t *testing.T, h *harness) {
			h.do(newReq(1, "a", B, 10000, 10))
			// Submit a fill and a cancel before either reaches the engine.
			fill := newReq(3, "b", S, 10000, 10)
			cx := cxlReq(1, "c", "a")
			cx2 := cxlReq(1, "c2", "a")
			var cmds []Pending
			var reps []Report
			cmds, _ = h.m.Submit(&fill, cmds, nil)
			cmds, _ = h.m.Submit(&cx, cmds, nil)
			cmds, reps = h.m.Submit(&cx2, cmds, nil)
			expect(t, "second cancel", reps, rep{RepCancelReject, 0, StatusNew, 1, "c2", "a", 0, 0, RejCancelPending})
			reps = nil
			for i := range cmds {
				reps = h.run(&cmds[i], reps)
			}
			expect(t, "fill then cancel", reps,
				rep{RepExec, ExecNew, StatusNew, 3, "b", "", 0, 10, 0},
				rep{RepExec, ExecTrade, StatusFilled, 3, "b", "", 10, 0, 0},
				rep{RepExec, ExecTrade, StatusFilled, 1, "a", "", 10, 0, 0},
				rep{RepCancelReject, 0, StatusFilled, 1, "c", "a", 0, 0, RejTooLate})
		}},
		{"replace", func(t *testing.T, h *harness) {
			h.do(newReq(1, "a", B, 10000, 10))
			h.do(newReq(3, "s", S, 10000, 3))
			expect(t, "replace", h.do(rplReq(1, "r", "a", 9900, 20)),
				rep{RepExec, ExecReplaced, StatusPartiallyFilled, 1, "r", "a", 3, 17, 0})
			if w, _ := h.m.Wallet(1); w.CashReserved != needCash(&h.m.accts[0], &h.m.syms[0], 17, 9900) {
				t.Fatalf("reserved %d", w.CashReserved)
			}
			expect(t, "replace again", h.do(rplReq(1, "r2", "r", 9900, 15)),
				rep{RepExec, ExecReplaced, StatusPartiallyFilled, 1, "r2", "r", 3, 12, 0})
			expect(t, "cancel by new id", h.do(cxlReq(1, "c", "r2")),
				rep{RepExec, ExecCanceled, StatusCanceled, 1, "c", "r2", 3, 0, 0})
		}},
		{"replace to filled", func(t *testing.T, h *harness) {
			h.do(newReq(1, "a", B, 10000, 10))
			h.do(newReq(3, "s", S, 10000, 4))
			expect(t, "replace to 4", h.do(rplReq(1, "r", "a", 10000, 4)),
				rep{RepExec, ExecReplaced, StatusFilled, 1, "r", "a", 4, 0, 0})
			if h.m.OpenOrders() != 0 {
				t.Fatal("order still open")
			}
		}},
		{"replace that trades", func(t *testing.T, h *harness) {
			h.do(newReq(3, "s", S, 10000, 5))
			h.do(newReq(1, "a", B, 9900, 10))
			expect(t, "replace up", h.do(rplReq(1, "r", "a", 10000, 10)),
				rep{RepExec, ExecReplaced, StatusNew, 1, "r", "a", 0, 10, 0},
				rep{RepExec, ExecTrade, StatusPartiallyFilled, 1, "r", "a", 5, 5, 0},
				rep{RepExec, ExecTrade, StatusFilled, 3, "s", "", 5, 0, 0})
		}},
		{"replace rejected by engine: halted in flight", func(t *testing.T, h *harness) {
			h.do(newReq(1, "a", B, 10000, 10))
			before, _ := h.m.Wallet(1)
			r := rplReq(1, "r", "a", 10000, 20)
			halt := Request{Kind: ReqHalt, Symbol: 1}
			var cmds []Pending
			cmds, _ = h.m.Submit(&halt, cmds, nil)
			cmds, _ = h.m.Submit(&r, cmds, nil)
			if w, _ := h.m.Wallet(1); w.CashReserved <= before.CashReserved {
				t.Fatal("replace holds nothing in flight")
			}
			var reps []Report
			for i := range cmds {
				reps = h.run(&cmds[i], reps)
			}
			expect(t, "replace", reps, rep{RepCancelReject, 0, StatusNew, 1, "r", "a", 0, 10, RejHalted})
			if w, _ := h.m.Wallet(1); w.CashReserved != before.CashReserved {
				t.Fatal("hold not released")
			}
		}},
		{"post-only rejected by engine", func(t *testing.T, h *harness) {
			h.do(newReq(3, "s", S, 10000, 5))
			r := newReq(1, "p", B, 10000, 5)
			r.PostOnly = true
			expect(t, "post-only", h.do(r),
				rep{RepExec, ExecRejected, StatusRejected, 1, "p", "", 0, 0, RejPostOnlyWouldTrade})
			if w, _ := h.m.Wallet(1); w.CashReserved != 0 || w.OpenOrders != 0 {
				t.Fatalf("wallet %+v", w)
			}
		}},
		{"IOC remainder", func(t *testing.T, h *harness) {
			h.do(newReq(3, "s", S, 10000, 5))
			r := newReq(1, "i", B, 10000, 8)
			r.TIF = matching.IOC
			expect(t, "ioc", h.do(r), newR("i", 0, 8),
				rep{RepExec, ExecTrade, StatusPartiallyFilled, 1, "i", "", 5, 3, 0},
				rep{RepExec, ExecTrade, StatusFilled, 3, "s", "", 5, 0, 0},
				rep{RepExec, ExecCanceled, StatusCanceled, 1, "i", "", 5, 0, 0})
		}},
		{"market without liquidity", func(t *testing.T, h *harness) {
			r := newReq(1, "m", B, 0, 8)
			r.Type = matching.Market
			expect(t, "market", h.do(r), newR("m", 0, 8), rep{RepExec, ExecCanceled, StatusCanceled, 1, "m", "", 0, 0, 0})
			if w, _ := h.m.Wallet(1); w.CashReserved != 0 {
				t.Fatal("reservation left")
			}
		}},
		{"expire day orders", func(t *testing.T, h *harness) {
			r := newReq(1, "d", B, 10000, 8)
			r.TIF = matching.Day
			h.do(r)
			h.do(newReq(1, "g", B, 10000, 8))
			expect(t, "expire", h.do(Request{Kind: ReqExpire}), rep{RepExec, ExecExpired, StatusExpired, 1, "d", "", 0, 0, 0})
			if h.m.OpenOrders() != 1 {
				t.Fatal("GTC order expired")
			}
		}},
		{"mass cancel", func(t *testing.T, h *harness) {
			h.do(newReq(1, "a", B, 10000, 8))
			h.do(newReq(1, "b", S, 10100, 8))
			h.do(newReq(2, "c", S, 10100, 1))
			got := h.do(Request{Kind: ReqMassCancel, Firm: 1, Session: 1, Account: 1, ClOrdID: cl("m")})
			expect(t, "mass", got,
				rep{RepExec, ExecCanceled, StatusCanceled, 1, "a", "", 0, 0, 0},
				rep{RepExec, ExecCanceled, StatusCanceled, 1, "b", "", 0, 0, 0},
				rep{RepMassCancel, 0, 0, 1, "m", "", 0, 0, 0})
			if got[2].MassCancelled != 2 || h.m.OpenOrders() != 1 {
				t.Fatalf("mass cancelled %d, open %d", got[2].MassCancelled, h.m.OpenOrders())
			}
			expect(t, "other firm", h.do(Request{Kind: ReqMassCancel, Firm: 2, Session: 3, Account: 1}),
				rep{RepMassCancel, 0, 0, 3, "", "", 0, 0, RejWrongFirm})
		}},
		{"kill switch", func(t *testing.T, h *harness) {
			h.do(newReq(1, "a", B, 10000, 8))
			expect(t, "on", h.do(Request{Kind: ReqKillSwitch, Account: 1, On: true}),
				rep{RepExec, ExecCanceled, StatusCanceled, 1, "a", "", 0, 0, 0})
			expect(t, "refused", h.do(newReq(1, "b", B, 10000, 8)),
				rep{RepExec, ExecRejected, StatusRejected, 1, "b", "", 0, 0, RejKillSwitch})
			h.do(Request{Kind: ReqKillSwitch, Account: 1})
			expect(t, "after off", h.do(newReq(1, "b", B, 10000, 8)), newR("b", 0, 8))
		}},
		{"cancel on disconnect", func(t *testing.T, h *harness) {
			h.do(newReq(1, "a", B, 10000, 8))
			h.do(newReq(3, "b", B, 10000, 8))
			expect(t, "disconnect SA1", h.do(Request{Kind: ReqDisconnect, Firm: 1, Session: 1}),
				rep{RepExec, ExecCanceled, StatusCanceled, 1, "a", "", 0, 0, 0})
			expect(t, "disconnect SB (no cancel-on-disconnect)", h.do(Request{Kind: ReqDisconnect, Firm: 2, Session: 3}))
			if h.m.OpenOrders() != 1 {
				t.Fatal("wrong orders cancelled")
			}
		}},
		{"self-trade decrement", func(t *testing.T, h *harness) {
			h.do(newReq(1, "a", S, 10000, 8))
			r := newReq(1, "b", B, 10000, 5)
			r.STP = matching.STPDecrementCancel
			expect(t, "stp", h.do(r), newR("b", 0, 5),
				rep{RepExec, ExecRestated, StatusNew, 1, "a", "", 0, 3, 0},
				rep{RepExec, ExecCanceled, StatusCanceled, 1, "b", "", 0, 0, 0})
			if lots, res := h.m.Holding(1, 1); lots != 500 || res != 3 {
				t.Fatalf("holding %d reserved %d", lots, res)
			}
		}},
		{"status", func(t *testing.T, h *harness) {
			h.do(newReq(1, "a", B, 10000, 8))
			h.do(newReq(3, "s", S, 10000, 3))
			got := h.do(Request{Kind: ReqStatus, Firm: 1, Session: 1, OrigClOrdID: cl("a")})
			expect(t, "status", got, rep{RepExec, ExecOrderStatus, StatusPartiallyFilled, 1, "a", "", 3, 5, 0})
			if got[0].CumTicksLots != 30000 {
				t.Fatal("CumTicksLots")
			}
			expect(t, "other firm", h.do(Request{Kind: ReqStatus, Firm: 2, Session: 3, OrderID: 1}),
				rep{RepExec, ExecOrderStatus, StatusRejected, 3, "", "", 0, 0, RejUnknownOrder})
		}},
		{"halt and resume", func(t *testing.T, h *harness) {
			h.do(Request{Kind: ReqHalt, Symbol: 1})
			if !h.m.Halted(1) {
				t.Fatal("not halted")
			}
			h.do(Request{Kind: ReqResume, Symbol: 1})
			expect(t, "after resume", h.do(newReq(1, "a", B, 10000, 8)), newR("a", 0, 8))
			expect(t, "unknown symbol", h.do(Request{Kind: ReqHalt, Symbol: 7}),
				rep{RepBusinessReject, 0, 0, 0, "", "", 0, 0, RejUnknownSymbol})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			c0, h0 := h.totals()
			c.run(t, h)
			h.checkInvariants(c0, h0)
		})
	}
}

func TestFeesAndAvgPx(t *testing.T) {
	h := newHarness(t)
	c0, h0 := h.totals()
	w := func(a int) (int64, int64) { return h.m.accts[a-1].cash, h.m.accts[a-1].cashRes }
	// Maker A1 (1 bps) buys 3 @ 10001 from taker B1 (3 bps): N = 30003.
	h.do(newReq(1, "a", matching.Buy, 10001, 10))
	if _, res := w(1); res != 100010+31 { // ceil(100010*3/10000 = 30.003)
		t.Fatalf("reserved %d", res)
	}
	got := h.do(newReq(3, "b", matching.Sell, 10001, 3))
	if got[1].Fee != 9 || got[2].Fee != 3 { // 9.0009 and 3.0003 truncated
		t.Fatalf("fees %d %d", got[1].Fee, got[2].Fee)
	}
	if c, res := w(1); c != 10_000_000-30003-3 || res != needCash(&h.m.accts[0], &h.m.syms[0], 7, 10001) {
		t.Fatalf("A1 cash %d reserved %d", c, res)
	}
	if c, _ := w(3); c != 10_000_000+30003-9 {
		t.Fatalf("B1 cash %d", c)
	}
	// Maker rebate: C1 (maker -2 bps) rests 3 @ 10050; A1 takes it: N = 30150.
	h.do(newReq(4, "c", matching.Sell, 10050, 3))
	got = h.do(newReq(1, "d", matching.Buy, 10050, 3))
	if len(got) != 3 || got[1].Fee != 9 || got[2].Fee != -6 { // 9.045 down; -6.03 toward zero
		t.Fatalf("rebate: %+v", got)
	}
	if c, _ := w(4); c != 10_000_000+30150+6 {
		t.Fatalf("C1 cash %d", c)
	}
	if h.m.FeesCollected() != 9+3+9-6 {
		t.Fatalf("fees collected %d", h.m.FeesCollected())
	}
	// AvgPx: "a" fills 2 more @ 10001 against a sell at 9990.
	got = h.do(newReq(3, "h", matching.Sell, 9990, 2))
	a := got[len(got)-1]
	if a.ClOrdID.String() != "a" || a.CumQty != 5 || a.CumTicksLots != 5*10001 || a.LastPx != 10001 {
		t.Fatalf("avg px report %+v", a)
	}
	// Price improvement: A1 buys 2 @ 10100 and takes B1's 2 @ 10020.
	h.do(newReq(3, "e", matching.Sell, 10020, 2))
	cash0, res0 := w(1)
	got = h.do(newReq(1, "g", matching.Buy, 10100, 2))
	if got[1].LastPx != 10020 || got[1].Fee != 6 {
		t.Fatalf("improvement: %+v", got[1])
	}
	if c, res := w(1); c != cash0-20040-6 || res != res0 {
		t.Fatalf("after improvement cash %d (want %d) reserved %d (want %d)", c, cash0-20046, res, res0)
	}
	h.checkInvariants(c0, h0)
}

func TestArithmetic(t *testing.T) {
	for _, c := range []struct{ n, bps, fee, ceil int64 }{
		{30003, 3, 9, 10}, {30003, 1, 3, 4}, {30003, -2, -6, 0}, {10000, 3, 3, 3}, {1, 3, 0, 1}, {0, 3, 0, 0}, {9999, 1, 0, 1},
	} {
		if got := feeOf(c.n, c.bps); got != c.fee {
			t.Errorf("feeOf(%d, %d) = %d, want %d", c.n, c.bps, got, c.fee)
		}
		if c.bps >= 0 {
			if got := feeCeil(c.n, c.bps); got != c.ceil {
				t.Errorf("feeCeil(%d, %d) = %d, want %d", c.n, c.bps, got, c.ceil)
			}
		}
	}
	for _, c := range []struct {
		side          matching.Side
		ref, bps, out int64
	}{
		{matching.Buy, 10000, 1000, 11000}, {matching.Sell, 10000, 1000, 9000},
		{matching.Buy, 10001, 1000, 11001}, {matching.Sell, 10001, 1000, 9001},
		{matching.Sell, 100, 1_000_000, 1}, {matching.Buy, matching.PriceMax, 1000, matching.PriceMax},
	} {
		if got := bandEdge(c.side, c.ref, c.bps); got != c.out {
			t.Errorf("bandEdge(%d, %d, %d) = %d, want %d", c.side, c.ref, c.bps, got, c.out)
		}
	}
	if _, ok := notional(matching.PriceMax, matching.QtyMax, 1); ok {
		t.Error("notional overflow not caught")
	}
	if n, ok := notional(10000, 3, 10); !ok || n != 300000 {
		t.Error("notional")
	}
	if !inBand(11000, 10000, 1000) || inBand(11001, 10000, 1000) || !inBand(1, 10000, 0) || !inBand(5, 0, 1000) {
		t.Error("inBand")
	}
}

// TestReplaceHoldCoversInFlightChanges: what a replace holds covers its new
// reservation even when the order fills or is reduced by self-trade
// prevention between the replace's Submit and its processing, and another
// order meanwhile spends every free cent. Free cash never goes negative.
func TestReplaceHoldCoversInFlightChanges(t *testing.T) {
	run := func(t *testing.T, h *harness, cmds []Pending) {
		c0, h0 := h.totals()
		for i := range cmds {
			h.seq++
			c := &cmds[i]
			c.Cmd.Seq = h.seq
			h.evs = h.e.Apply(&c.Cmd, h.evs[:0])
			for j := range h.evs {
				h.m.OnEvent(&h.evs[j], nil)
				h.checkInvariants(c0, h0)
			}
		}
	}
	submit := func(h *harness, cmds []Pending, req Request) ([]Pending, []Report) {
		return h.m.Submit(&req, cmds, nil)
	}
	t.Run("fill in flight, lower price, more lots", func(t *testing.T) {
		h := newHarness(t)
		h.do(newReq(2, "a", matching.Buy, 10000, 2)) // A2: 100000 cash, 20006 reserved
		var cmds []Pending
		cmds, _ = submit(h, cmds, newReq(3, "s", matching.Sell, 10000, 1))
		cmds, reps := submit(h, cmds, rplReq(2, "r", "a", 9000, 10))
		if len(reps) != 0 {
			t.Fatalf("replace refused: %+v", reps)
		}
		// Spend what is left: the hold must already cover the worst case.
		cmds, _ = submit(h, cmds, newReq(2, "b", matching.Buy, 9000, 1))
		run(t, h, cmds)
	})
	t.Run("self-trade reduction in flight", func(t *testing.T) {
		h := newHarness(t)
		h.do(newReq(2, "a", matching.Buy, 10000, 2))
		var cmds []Pending
		stp := newReq(2, "x", matching.Sell, 10000, 1)
		stp.STP = matching.STPDecrementCancel
		cmds, _ = submit(h, cmds, stp)
		cmds, reps := submit(h, cmds, rplReq(2, "r", "a", 10000, 9))
		if len(reps) != 0 {
			t.Fatalf("replace refused: %+v", reps)
		}
		run(t, h, cmds[:1]) // the reduction frees 10003 ...
		cmds, _ = submit(h, cmds[1:], newReq(2, "b", matching.Buy, 9000, 2))
		run(t, h, cmds) // ... which must stay held for the replace
	})
}
