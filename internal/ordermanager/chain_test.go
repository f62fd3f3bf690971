package ordermanager

import (
	"fmt"
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

// submitAll submits reqs back to back, ahead of the engine, and returns the
// commands to sequence and the reports Submit gave at once.
func (h *harness) submitAll(reqs ...Request) ([]Pending, []Report) {
	var cmds []Pending
	var reps []Report
	for i := range reqs {
		cmds, reps = h.m.Submit(&reqs[i], cmds, reps)
	}
	return cmds, reps
}

// runChecked sequences and matches cmds, checking the wallet invariants
// after every event, and returns the reports.
func (h *harness) runChecked(cmds []Pending, cash0 int64, hold0 []int64) []Report {
	h.t.Helper()
	var reps []Report
	for i := range cmds {
		p := &cmds[i]
		h.seq++
		p.Cmd.Seq, p.Cmd.TimeNs = h.seq, int64(h.seq)*1000
		h.journal = append(h.journal, *p)
		h.evs = h.e.Apply(&p.Cmd, h.evs[:0])
		for j := range h.evs {
			reps = h.m.OnEvent(&h.evs[j], reps)
			h.checkInvariants(cash0, hold0)
		}
	}
	if !h.keepStatus {
		reps = dropStatus(reps)
	}
	h.all = append(h.all, reps...)
	return reps
}

// quiet checks that nothing is in flight and every reservation is exactly
// what the open orders need.
func (h *harness) quiet(t *testing.T) {
	t.Helper()
	if n := h.m.amendsInFlight(); n != 0 || h.m.ops.len() != 0 {
		t.Fatalf("%d amends in flight", n)
	}
	for i := range int32(h.m.orders.len()) {
		if r := h.m.orders.at(i); r.id != 0 && r.pending {
			t.Fatalf("order %d still pending", r.id)
		}
	}
	if err := h.m.checkConsistent(); err != nil {
		t.Fatal(err)
	}
}

// needAt is what a buy of account acct in symbol 1 reserves.
func (h *harness) needAt(acct matching.AccountID, leaves, price int64) int64 {
	return needCash(&h.m.accts[acct-1], &h.m.syms[0], leaves, price)
}

func TestChainedAmends(t *testing.T) {
	const (
		B = matching.Buy
		S = matching.Sell
	)
	replaced := func(id, orig string, st byte, cum, lvs int64) rep {
		return rep{RepExec, ExecReplaced, st, 1, id, orig, cum, lvs, 0}
	}
	cases := []struct {
		name string
		run  func(t *testing.T, h *harness, c0 int64, h0 []int64)
	}{
		{"three replaces then a cancel", func(t *testing.T, h *harness, c0 int64, h0 []int64) {
			h.do(newReq(1, "a", B, 10000, 10))
			cmds, reps := h.submitAll(
				rplReq(1, "r1", "a", 9900, 20),
				rplReq(1, "r2", "r1", 9800, 30),
				rplReq(1, "r3", "r2", 10000, 5),
				cxlReq(1, "c", "r3"))
			expect(t, "submit", reps)
			if len(cmds) != 4 || h.m.amendsInFlight() != 4 {
				t.Fatalf("%d commands, %d in flight", len(cmds), h.m.amendsInFlight())
			}
			// Each replace holds on top of the previous link: the account
			// has reserved at least the largest state of the chain.
			w, _ := h.m.Wallet(1)
			if w.CashReserved < h.needAt(1, 30, 9800) {
				t.Fatalf("reserved %d, chain needs up to %d", w.CashReserved, h.needAt(1, 30, 9800))
			}
			// A fourth amend behind the cancel is refused.
			_, reps = h.submitAll(rplReq(1, "r4", "r3", 10000, 5))
			expect(t, "behind cancel", reps, rep{RepCancelReject, 0, StatusNew, 1, "r4", "r3", 0, 0, RejCancelPending})
			if reps[0].Reject.CxlRejReason() != 3 {
				t.Fatal("CxlRejReason")
			}
			expect(t, "engine", h.runChecked(cmds, c0, h0),
				replaced("r1", "a", StatusNew, 0, 20),
				replaced("r2", "r1", StatusNew, 0, 30),
				replaced("r3", "r2", StatusNew, 0, 5),
				rep{RepExec, ExecCanceled, StatusCanceled, 1, "c", "r3", 0, 0, 0})
			if w, _ := h.m.Wallet(1); w.CashReserved != 0 || w.OpenOrders != 0 {
				t.Fatalf("wallet %+v", w)
			}
		}},
		{"replaces with fills in between", func(t *testing.T, h *harness, c0 int64, h0 []int64) {
			h.do(newReq(1, "a", B, 10000, 10))
			cmds, reps := h.submitAll(
				rplReq(1, "r1", "a", 10000, 20),
				newReq(3, "s1", S, 10000, 5), // fills 5 of r1
				rplReq(1, "r2", "r1", 10100, 25),
				newReq(3, "s2", S, 10100, 8), // fills 8 of r2
				rplReq(1, "r3", "r2", 9900, 12))
			expect(t, "submit", reps)
			got := h.runChecked(cmds, c0, h0)
			expect(t, "engine", got,
				replaced("r1", "a", StatusNew, 0, 20),
				rep{RepExec, ExecNew, StatusNew, 3, "s1", "", 0, 5, 0},
				rep{RepExec, ExecTrade, StatusFilled, 3, "s1", "", 5, 0, 0},
				rep{RepExec, ExecTrade, StatusPartiallyFilled, 1, "r1", "a", 5, 15, 0},
				replaced("r2", "r1", StatusPartiallyFilled, 5, 20),
				rep{RepExec, ExecNew, StatusNew, 3, "s2", "", 0, 8, 0},
				rep{RepExec, ExecTrade, StatusFilled, 3, "s2", "", 8, 0, 0},
				rep{RepExec, ExecTrade, StatusPartiallyFilled, 1, "r2", "r1", 13, 12, 0},
				// Total quantity 12 with 13 filled: the replace closes the order.
				replaced("r3", "r2", StatusFilled, 13, 0))
			if w, _ := h.m.Wallet(1); w.CashReserved != 0 || w.OpenOrders != 0 {
				t.Fatalf("wallet %+v", w)
			}
			// A cancel naming the last link is too late, with the final status.
			expect(t, "cancel after", h.do(cxlReq(1, "c", "r3")),
				rep{RepCancelReject, 0, StatusFilled, 1, "c", "r3", 0, 0, RejTooLate})
		}},
		{"chain ending in a cancel, fills in between", func(t *testing.T, h *harness, c0 int64, h0 []int64) {
			h.do(newReq(1, "a", B, 10000, 10))
			cmds, reps := h.submitAll(
				rplReq(1, "r1", "a", 10000, 30),
				newReq(3, "s1", S, 10000, 4),
				rplReq(1, "r2", "r1", 9950, 30),
				cxlReq(1, "c", "r2"))
			expect(t, "submit", reps)
			got := h.runChecked(cmds, c0, h0)
			expect(t, "engine", got,
				replaced("r1", "a", StatusNew, 0, 30),
				rep{RepExec, ExecNew, StatusNew, 3, "s1", "", 0, 4, 0},
				rep{RepExec, ExecTrade, StatusFilled, 3, "s1", "", 4, 0, 0},
				rep{RepExec, ExecTrade, StatusPartiallyFilled, 1, "r1", "a", 4, 26, 0},
				replaced("r2", "r1", StatusPartiallyFilled, 4, 26),
				rep{RepExec, ExecCanceled, StatusCanceled, 1, "c", "r2", 4, 0, 0})
			if got[4].Price != 9950 || got[4].OrderQty != 30 {
				t.Fatalf("replace report %+v", got[4])
			}
		}},
		{"first link too late: the order filled", func(t *testing.T, h *harness, c0 int64, h0 []int64) {
			h.do(newReq(1, "a", B, 10000, 10))
			cmds, reps := h.submitAll(
				newReq(3, "s", S, 10000, 10), // fills a before the chain
				rplReq(1, "r1", "a", 9900, 20),
				rplReq(1, "r2", "r1", 9800, 25),
				cxlReq(1, "c", "r2"))
			expect(t, "submit", reps)
			got := h.runChecked(cmds, c0, h0)
			expect(t, "engine", got,
				rep{RepExec, ExecNew, StatusNew, 3, "s", "", 0, 10, 0},
				rep{RepExec, ExecTrade, StatusFilled, 3, "s", "", 10, 0, 0},
				rep{RepExec, ExecTrade, StatusFilled, 1, "a", "", 10, 0, 0},
				rep{RepCancelReject, 0, StatusFilled, 1, "r1", "a", 0, 0, RejTooLate},
				rep{RepCancelReject, 0, StatusFilled, 1, "r2", "r1", 0, 0, RejTooLate},
				rep{RepCancelReject, 0, StatusFilled, 1, "c", "r2", 0, 0, RejTooLate})
			if got[3].CxlRejResponseTo != '2' || got[5].CxlRejResponseTo != '1' {
				t.Fatal("CxlRejResponseTo")
			}
			if w, _ := h.m.Wallet(1); w.CashReserved != 0 {
				t.Fatalf("hold leaked: reserved %d", w.CashReserved)
			}
			// A rejected link's ClOrdID still finds the (closed) order, in full.
			st := h.do(Request{Kind: ReqStatus, Firm: 1, Session: 1, OrigClOrdID: cl("r2")})
			expect(t, "status", st, rep{RepExec, ExecOrderStatus, StatusFilled, 1, "a", "", 10, 0, 0})
		}},
		{"first link rejected (halted), the next applies to the order as it was", func(t *testing.T, h *harness, c0 int64, h0 []int64) {
			h.do(newReq(1, "a", B, 10000, 10))
			cmds, reps := h.submitAll(
				Request{Kind: ReqHalt, Symbol: 1},
				rplReq(1, "r1", "a", 10000, 40), // rejected: halted
				Request{Kind: ReqResume, Symbol: 1},
				rplReq(1, "r2", "r1", 10500, 40), // checked against r1, applied to a
				rplReq(1, "r3", "r2", 10500, 35))
			expect(t, "submit", reps)
			got := h.runChecked(cmds, c0, h0)
			expect(t, "engine", got,
				rep{RepCancelReject, 0, StatusNew, 1, "r1", "a", 0, 10, RejHalted},
				replaced("r2", "r1", StatusNew, 0, 40),
				replaced("r3", "r2", StatusNew, 0, 35))
			h.quiet(t)
			if w, _ := h.m.Wallet(1); w.CashReserved != h.needAt(1, 35, 10500) {
				t.Fatalf("reserved %d, want %d", w.CashReserved, h.needAt(1, 35, 10500))
			}
		}},
		{"a rejected link hands its hold on to the next", func(t *testing.T, h *harness, c0 int64, h0 []int64) {
			// A2 has 1000.00; buy 2 @ 100.00 reserves 200.06.
			h.do(newReq(2, "a", B, 10000, 2))
			cmds, reps := h.submitAll(
				Request{Kind: ReqHalt, Symbol: 1},
				rplReq(2, "r1", "a", 10000, 6), // holds 400.13; rejected: halted
				Request{Kind: ReqResume, Symbol: 1},
				rplReq(2, "r2", "r1", 10500, 6)) // holds 30.02 against r1
			expect(t, "submit", reps)
			expect(t, "halt, r1", h.runChecked(cmds[:2], c0, h0),
				rep{RepCancelReject, 0, StatusNew, 2, "r1", "a", 0, 2, RejHalted})
			// r2 now applies to the order's 2 lots: it needs r1's hold too,
			// so that cash is not free for a new order meanwhile.
			w, _ := h.m.Wallet(2)
			if w.CashReserved != h.needAt(2, 2, 10000)+40013+3002 {
				t.Fatalf("reserved %d after r1's reject", w.CashReserved)
			}
			// (500.15 in the other symbol, not halted: it would fit without.)
			b := newReq(2, "b", B, 5000, 1)
			b.Symbol = 2
			c2, reps := h.submitAll(b)
			expect(t, "new order", reps, rep{RepExec, ExecRejected, StatusRejected, 2, "b", "", 0, 0, RejInsufficientCash})
			expect(t, "resume, r2", h.runChecked(append(cmds[2:], c2...), c0, h0),
				rep{RepExec, ExecReplaced, StatusNew, 2, "r2", "r1", 0, 6, 0})
			h.quiet(t)
			if w, _ := h.m.Wallet(2); w.CashReserved != h.needAt(2, 6, 10500) {
				t.Fatalf("reserved %d", w.CashReserved)
			}
		}},
		{"replace to filled, then a chained cancel", func(t *testing.T, h *harness, c0 int64, h0 []int64) {
			h.do(newReq(1, "a", B, 10000, 10))
			h.do(newReq(3, "s", S, 10000, 4))
			cmds, reps := h.submitAll(rplReq(1, "r1", "a", 10000, 4), cxlReq(1, "c", "r1"))
			expect(t, "submit", reps)
			expect(t, "engine", h.runChecked(cmds, c0, h0),
				replaced("r1", "a", StatusFilled, 4, 0),
				rep{RepCancelReject, 0, StatusFilled, 1, "c", "r1", 0, 0, RejTooLate})
		}},
		{"older ClOrdID joins the end of the chain", func(t *testing.T, h *harness, c0 int64, h0 []int64) {
			h.do(newReq(1, "a", B, 10000, 10))
			byID := Request{Kind: ReqReplace, Firm: 1, Session: 1, ClOrdID: cl("r3"), OrderID: 1, Price: 10000, Qty: 12}
			cmds, reps := h.submitAll(
				rplReq(1, "r1", "a", 9900, 20),
				rplReq(1, "r2", "a", 9800, 30), // names a, chains behind r1
				byID)                           // OrderID only, behind r2
			expect(t, "submit", reps)
			expect(t, "engine", h.runChecked(cmds, c0, h0),
				replaced("r1", "a", StatusNew, 0, 20),
				replaced("r2", "r1", StatusNew, 0, 30),
				replaced("r3", "r2", StatusNew, 0, 12))
			h.quiet(t)
		}},
		{"funds checked across the chain (buy)", func(t *testing.T, h *harness, c0 int64, h0 []int64) {
			// A2 has 1000.00; buy 2 @ 100.00 reserves 200.06.
			h.do(newReq(2, "a", B, 10000, 2))
			cmds, reps := h.submitAll(rplReq(2, "r1", "a", 10000, 5)) // holds 300.10
			expect(t, "r1", reps)
			// r2 to 10 lots needs need(10) - need(5) + 0.01 = 500.16 on top of
			// r1's hold, but only 499.84 is free: refused.
			c2, reps := h.submitAll(rplReq(2, "r2", "r1", 10000, 10))
			expect(t, "r2", reps, rep{RepCancelReject, 0, StatusNew, 2, "r2", "r1", 0, 0, RejInsufficientCash})
			if len(c2) != 0 {
				t.Fatal("refused replace produced a command")
			}
			c3, reps := h.submitAll(rplReq(2, "r3", "r1", 10000, 9))
			expect(t, "r3", reps)
			cmds = append(cmds, c3...)
			w, _ := h.m.Wallet(2)
			if w.Cash-w.CashReserved < 0 {
				t.Fatalf("over-reserved: %+v", w)
			}
			got := h.runChecked(cmds, c0, h0)
			expect(t, "engine", got,
				rep{RepExec, ExecReplaced, StatusNew, 2, "r1", "a", 0, 5, 0},
				rep{RepExec, ExecReplaced, StatusNew, 2, "r3", "r1", 0, 9, 0})
			h.quiet(t)
			if w, _ := h.m.Wallet(2); w.CashReserved != h.needAt(2, 9, 10000) {
				t.Fatalf("reserved %d", w.CashReserved)
			}
		}},
		{"holdings checked across the chain (sell)", func(t *testing.T, h *harness, c0 int64, h0 []int64) {
			h.do(newReq(1, "a", S, 9500, 100)) // A1 holds 500
			cmds, reps := h.submitAll(
				rplReq(1, "r1", "a", 9500, 250),  // holds 150
				rplReq(1, "r2", "r1", 9500, 420), // holds 170
				rplReq(1, "r3", "r2", 9500, 520)) // would hold 100: 80 free
			expect(t, "submit", reps, rep{RepCancelReject, 0, StatusNew, 1, "r3", "r2", 0, 0, RejInsufficientHoldings})
			if _, res := h.m.Holding(1, 1); res != 420 {
				t.Fatalf("holdings reserved %d", res)
			}
			expect(t, "engine", h.runChecked(cmds, c0, h0),
				replaced("r1", "a", StatusNew, 0, 250),
				replaced("r2", "r1", StatusNew, 0, 420))
			h.quiet(t)
		}},
		{"limit on links in flight", func(t *testing.T, h *harness, c0 int64, h0 []int64) {
			h.do(newReq(4, "a", B, 10000, 10))
			var reqs []Request
			prev := "a"
			for i := 1; i <= AmendsInFlightMax; i++ {
				id := fmt.Sprintf("r%d", i)
				reqs = append(reqs, rplReq(4, id, prev, 10000-int64(i), 10+int64(i)))
				prev = id
			}
			cmds, reps := h.submitAll(reqs...)
			expect(t, "submit", reps)
			_, reps = h.submitAll(rplReq(4, "over", prev, 10000, 5), cxlReq(4, "overc", prev))
			expect(t, "over the limit", reps,
				rep{RepCancelReject, 0, StatusNew, 4, "over", prev, 0, 0, RejPending},
				rep{RepCancelReject, 0, StatusNew, 4, "overc", prev, 0, 0, RejPending})
			if reps[0].Reject.CxlRejReason() != 3 {
				t.Fatal("CxlRejReason")
			}
			got := h.runChecked(cmds, c0, h0)
			if len(got) != AmendsInFlightMax || got[len(got)-1].ClOrdID != cl(prev) {
				t.Fatalf("%d reports", len(got))
			}
			h.quiet(t)
			// Room again once answered.
			expect(t, "after", h.do(cxlReq(4, "c", prev)), rep{RepExec, ExecCanceled, StatusCanceled, 4, "c", prev, 0, 0, 0})
		}},
		{"self-trade decrement under a chain", func(t *testing.T, h *harness, c0 int64, h0 []int64) {
			h.do(newReq(1, "a", B, 10000, 10))
			stp := newReq(1, "x", S, 10000, 4)
			stp.STP = matching.STPDecrementCancel
			cmds, reps := h.submitAll(
				rplReq(1, "r1", "a", 10000, 12),
				stp, // decrements r1 to 8
				rplReq(1, "r2", "r1", 10000, 20),
				rplReq(1, "r3", "r2", 9900, 20))
			expect(t, "submit", reps)
			got := h.runChecked(cmds, c0, h0)
			expect(t, "engine", got,
				replaced("r1", "a", StatusNew, 0, 12),
				rep{RepExec, ExecNew, StatusNew, 1, "x", "", 0, 4, 0},
				rep{RepExec, ExecRestated, StatusNew, 1, "r1", "a", 0, 8, 0},
				rep{RepExec, ExecCanceled, StatusCanceled, 1, "x", "", 0, 0, 0},
				replaced("r2", "r1", StatusNew, 0, 20),
				replaced("r3", "r2", StatusNew, 0, 20))
			h.quiet(t)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			c0, h0 := h.totals()
			c.run(t, h, c0, h0)
			h.checkInvariants(c0, h0)
			h.quiet(t)
			// The journal replays to the same state and reports.
			m := New(testConfig(t).Registry, Config{ClOrdIDsRetained: 1024})
			e := matching.New(matching.Config{Symbols: 2, OrdersHint: 64})
			var reps []Report
			var evs []matching.Event
			for i := range h.journal {
				j := &h.journal[i]
				if err := m.ApplySequenced(&j.Cmd, j.MetaBytes()); err != nil {
					t.Fatal(err)
				}
				evs = e.Apply(&j.Cmd, evs[:0])
				for k := range evs {
					reps = m.OnEvent(&evs[k], reps)
				}
			}
			reps = dropStatus(reps)
			var live []Report
			for _, r := range h.all {
				if r.ExecID < 1<<63 { // event reports only
					live = append(live, r)
				}
			}
			compareReports(t, "replay", live, reps)
			if m.StateHash() != h.m.StateHash() {
				t.Fatal("replayed state differs")
			}
		})
	}
}

// TestSnapshotWithChains: a snapshot of the live manager taken while
// chains are in flight restores to the same bytes, and the restored manager
// answers the rest of the engine's events as the original does.
func TestSnapshotWithChains(t *testing.T) {
	cfg := propConfig(t)
	for seed := uint64(20); seed < 24; seed++ {
		f := newFlow(cfg, seed)
		p := &pipeline{t: t, m: New(cfg.Registry, Config{}), e: matching.New(matching.Config{Symbols: len(cfg.Symbols)})}
		f.m = p.m
		lag := 25
		for i := 0; ; i++ {
			if len(p.queue) > lag {
				p.step()
				continue
			}
			req := f.next()
			p.submit(&req)
			if i > 1500 && p.longest >= 2 {
				if _, n := p.m.tailOp(p.queue[len(p.queue)-1].Cmd.OrderID); n >= 2 && len(p.cmds) == 1 {
					break
				}
			}
			if i > 20000 {
				t.Fatal("no chain in flight")
			}
		}
		snap := p.m.AppendSnapshot(nil)
		m2, err := Restore(cfg.Registry, Config{}, snap)
		if err != nil {
			t.Fatal(err)
		}
		if string(m2.AppendSnapshot(nil)) != string(snap) || m2.StateHash() != p.m.StateHash() {
			t.Fatal("restored state differs")
		}
		var reps2 []Report
		n0 := len(p.evReps)
		for len(p.queue) > 0 {
			c := p.queue[0]
			p.step()
			c.Cmd.Seq, c.Cmd.TimeNs = p.seq, int64(p.seq)*10
			for i := range p.evs {
				reps2 = m2.OnEvent(&p.evs[i], reps2)
			}
		}
		for i := range reps2 {
			reps2[i].RecvNs = 0
		}
		compareReports(t, fmt.Sprintf("seed %d", seed), p.evReps[n0:], reps2)
		if m2.StateHash() != p.m.StateHash() || m2.amendsInFlight() != 0 {
			t.Fatalf("seed %d: state after the chains differs", seed)
		}
	}
}

// TestStandbyPastTheAmendLimit: the leader refuses an amend beyond
// AmendsInFlightMax by what ITS engine has answered, so a standby whose
// engine lags applies the leader's commands with longer chains in flight.
// ApplySequenced (and a snapshot taken then) must take them: a refusal
// there stopped standbys as diverged under load.
func TestStandbyPastTheAmendLimit(t *testing.T) {
	h := newHarness(t)
	c0, h0 := h.totals()
	h.do(newReq(1, "a", matching.Buy, 10000, 10))
	prev := "a"
	for round := range 3 {
		var reqs []Request
		for i := range AmendsInFlightMax - 2 {
			id := fmt.Sprintf("r%d-%d", round, i)
			reqs = append(reqs, rplReq(1, id, prev, 10000-int64(i), 10+int64(i)))
			prev = id
		}
		cmds, reps := h.submitAll(reqs...)
		expect(t, "submit", reps)
		h.runChecked(cmds, c0, h0)
	}
	h.quiet(t)
	if len(h.journal) <= AmendsInFlightMax+1 {
		t.Fatalf("journal of %d commands does not pass the limit", len(h.journal))
	}
	// The standby's order manager applies every command before its engine
	// answers any.
	m := New(testConfig(t).Registry, Config{ClOrdIDsRetained: 1024})
	for i := range h.journal {
		j := &h.journal[i]
		if err := m.ApplySequenced(&j.Cmd, j.MetaBytes()); err != nil {
			t.Fatalf("command %d: %v", i+1, err)
		}
	}
	if n := m.amendsInFlight(); n <= AmendsInFlightMax {
		t.Fatalf("%d amends in flight on the standby, want more than %d", n, AmendsInFlightMax)
	}
	// A snapshot taken now restores.
	m, err := Restore(testConfig(t).Registry, Config{ClOrdIDsRetained: 1024}, m.AppendSnapshot(nil))
	if err != nil {
		t.Fatal(err)
	}
	e := matching.New(matching.Config{Symbols: 2, OrdersHint: 64})
	var evs []matching.Event
	var reps []Report
	for i := range h.journal {
		evs = e.Apply(&h.journal[i].Cmd, evs[:0])
		for k := range evs {
			reps = m.OnEvent(&evs[k], reps)
		}
	}
	var live []Report
	for _, r := range h.all {
		if r.ExecID < 1<<63 {
			live = append(live, r)
		}
	}
	compareReports(t, "standby", live, dropStatus(reps))
	if m.StateHash() != h.m.StateHash() {
		t.Fatal("the standby's state differs from the leader's")
	}
}
