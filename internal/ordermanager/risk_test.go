package ordermanager

import (
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

func TestRiskChecks(t *testing.T) {
	base := func() Request { return newReq(1, "x", matching.Buy, 10000, 10) }
	type tc struct {
		name  string
		setup func(h *harness)
		edit  func(r *Request)
		want  RejectCode
		price int64 // expected command price when accepted (0: the request's)
	}
	rest := func(acct matching.AccountID, id string, side matching.Side, price, qty int64) func(h *harness) {
		return func(h *harness) {
			if r := h.do(newReq(acct, id, side, price, qty)); len(r) == 0 || r[0].ExecType != ExecNew {
				h.t.Fatalf("setup order %s: %+v", id, r)
			}
		}
	}
	cases := []tc{
		{name: "accepted", want: RejNone},
		{name: "unknown session", edit: func(r *Request) { r.Session = 99 }, want: RejUnknownSession},
		{name: "session of another firm", edit: func(r *Request) { r.Firm = 2 }, want: RejUnknownSession},
		{name: "empty ClOrdID", edit: func(r *Request) { r.ClOrdID = ClOrdID{} }, want: RejInvalidClOrdID},
		{name: "unknown account", edit: func(r *Request) { r.Account = 99 }, want: RejUnknownAccount},
		{name: "account of another firm", edit: func(r *Request) { r.Account = 3 }, want: RejWrongFirm},
		{name: "default account", edit: func(r *Request) { r.Account = 0 }, want: RejNone},
		{name: "duplicate ClOrdID", setup: rest(1, "x", matching.Buy, 9500, 1), want: RejDuplicateClOrdID},
		{name: "duplicate ClOrdID of a closed order", setup: func(h *harness) {
			rest(1, "x", matching.Buy, 9500, 1)(h)
			h.do(cxlReq(1, "y", "x"))
		}, want: RejDuplicateClOrdID},
		{name: "same ClOrdID other session", setup: rest(2, "x", matching.Buy, 9500, 1), want: RejNone},
		{name: "unknown symbol", edit: func(r *Request) { r.Symbol = 9 }, want: RejUnknownSymbol},
		{name: "halted", setup: func(h *harness) { h.do(Request{Kind: ReqHalt, Symbol: 1}) }, want: RejHalted},
		{name: "resumed", setup: func(h *harness) {
			h.do(Request{Kind: ReqHalt, Symbol: 1})
			h.do(Request{Kind: ReqResume, Symbol: 1})
		}, want: RejNone},
		{name: "side", edit: func(r *Request) { r.Side = 3 }, want: RejInvalidSide},
		{name: "type", edit: func(r *Request) { r.Type = 9 }, want: RejInvalidType},
		{name: "tif", edit: func(r *Request) { r.TIF = 9 }, want: RejInvalidTIF},
		{name: "stp", edit: func(r *Request) { r.STP = 9 }, want: RejInvalidSTP},
		{name: "post-only IOC", edit: func(r *Request) { r.PostOnly, r.TIF = true, matching.IOC }, want: RejPostOnlyNotAllowed},
		{name: "kill switch", setup: func(h *harness) { h.do(Request{Kind: ReqKillSwitch, Account: 1, On: true}) }, want: RejKillSwitch},
		{name: "kill switch lifted", setup: func(h *harness) {
			h.do(Request{Kind: ReqKillSwitch, Account: 1, On: true})
			h.do(Request{Kind: ReqKillSwitch, Account: 1})
		}, want: RejNone},
		{name: "qty zero", edit: func(r *Request) { r.Qty = 0 }, want: RejInvalidQty},
		{name: "qty max order lots", edit: func(r *Request) { r.Qty, r.Price = 1001, 9000 }, want: RejMaxOrderLots},
		{name: "price zero", edit: func(r *Request) { r.Price = 0 }, want: RejInvalidPrice},
		{name: "price negative", edit: func(r *Request) { r.Price = -1 }, want: RejInvalidPrice},
		{name: "band upper edge", edit: func(r *Request) { r.Price = 11000 }, want: RejNone},
		{name: "band above", edit: func(r *Request) { r.Price = 11001 }, want: RejPriceBand},
		{name: "band below", edit: func(r *Request) { r.Price = 8999 }, want: RejPriceBand},
		{name: "band follows last trade", setup: func(h *harness) {
			rest(3, "s", matching.Sell, 10900, 1)(h)
			h.do(newReq(4, "t", matching.Buy, 10900, 1))
		}, edit: func(r *Request) { r.Price = 11990 }, want: RejNone},
		{name: "band disabled", edit: func(r *Request) {
			*r = newReq(4, "x", matching.Buy, 20000, 10)
		}, want: RejNone},
		{name: "market gets band edge", edit: func(r *Request) { r.Type, r.Price = matching.Market, 0 }, want: RejNone, price: 11000},
		{name: "market sell gets band edge", edit: func(r *Request) { r.Type, r.Price, r.Side = matching.Market, 0, matching.Sell }, want: RejNone, price: 9000},
		{name: "market protection required", edit: func(r *Request) {
			*r = newReq(2, "x", matching.Buy, 0, 1)
			r.Type = matching.Market
		}, want: RejNoProtection},
		{name: "market protection given", edit: func(r *Request) {
			*r = newReq(2, "x", matching.Buy, 10100, 1)
			r.Type = matching.Market
		}, want: RejNone},
		{name: "market without band", edit: func(r *Request) {
			*r = newReq(4, "x", matching.Buy, 0, 1)
			r.Type = matching.Market
		}, want: RejNoReference},
		{name: "notional", edit: func(r *Request) { r.Qty = 501 }, want: RejMaxNotional},
		{name: "notional lot size", edit: func(r *Request) { r.Symbol, r.Price, r.Qty = 2, 5000, 101 }, want: RejMaxNotional},
		{name: "notional overflow", edit: func(r *Request) {
			*r = newReq(4, "x", matching.Buy, matching.PriceMax, 1000)
		}, want: RejMaxNotional},
		{name: "open orders", setup: func(h *harness) {
			for _, id := range []string{"o1", "o2", "o3", "o4", "o5"} {
				rest(1, id, matching.Buy, 9500, 1)(h)
			}
		}, want: RejMaxOpenOrders},
		{name: "cash exact", edit: func(r *Request) { *r = newReq(2, "x", matching.Buy, 9997, 10) }, want: RejNone},
		{name: "cash short", edit: func(r *Request) { *r = newReq(2, "x", matching.Buy, 10000, 10) }, want: RejInsufficientCash},
		{name: "cash reserved by open order", setup: rest(2, "o", matching.Buy, 9000, 1),
			edit: func(r *Request) { *r = newReq(2, "x", matching.Buy, 9997, 10) }, want: RejInsufficientCash},
		{name: "holdings", edit: func(r *Request) { r.Side, r.Price, r.Qty = matching.Sell, 9000, 501 }, want: RejInsufficientHoldings},
		{name: "holdings reserved", setup: rest(1, "o", matching.Sell, 10500, 450),
			edit: func(r *Request) { r.Side, r.Price, r.Qty = matching.Sell, 10500, 51 }, want: RejInsufficientHoldings},
		{name: "short within limit", setup: rest(3, "o", matching.Sell, 10500, 450),
			edit: func(r *Request) { *r = newReq(3, "x", matching.Sell, 10500, 150) }, want: RejNone},
		{name: "short limit", setup: rest(3, "o", matching.Sell, 10500, 450),
			edit: func(r *Request) { *r = newReq(3, "x", matching.Sell, 10500, 151) }, want: RejShortLimit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if c.setup != nil {
				c.setup(h)
			}
			req := base()
			if c.edit != nil {
				c.edit(&req)
			}
			cmds, reps := h.m.Submit(&req, nil, nil)
			if c.want != RejNone {
				if len(cmds) != 0 || len(reps) != 1 || reps[0].Reject != c.want || reps[0].ExecType != ExecRejected {
					t.Fatalf("want reject %v, got cmds %d reps %+v", c.want, len(cmds), reps)
				}
				if reps[0].ExecID&(1<<63) == 0 || reps[0].Session != req.Session || reps[0].ClOrdID != req.ClOrdID {
					t.Fatalf("reject report fields: %+v", reps[0])
				}
				return
			}
			if len(cmds) != 1 || len(reps) != 0 {
				t.Fatalf("want accepted, got cmds %d reps %+v", len(cmds), reps)
			}
			want := req.Price
			if c.price != 0 {
				want = c.price
			}
			if cmds[0].Cmd.Kind != matching.CmdNew || cmds[0].Cmd.Price != want || cmds[0].Cmd.Qty != req.Qty {
				t.Fatalf("command %+v, want price %d", cmds[0].Cmd, want)
			}
		})
	}
}

func TestAmendChecks(t *testing.T) {
	setup := func(h *harness) {
		h.do(newReq(1, "o", matching.Buy, 10000, 10))
		h.do(newReq(2, "p", matching.Buy, 9000, 10))
	}
	cases := []struct {
		name   string
		req    Request
		want   RejectCode
		cxlRej int
	}{
		{"cancel ok", cxlReq(1, "c", "o"), RejNone, 0},
		{"cancel by OrderID", Request{Kind: ReqCancel, Firm: 1, Session: 1, ClOrdID: cl("c"), OrderID: 1}, RejNone, 0},
		{"cancel other session same firm by OrderID", Request{Kind: ReqCancel, Firm: 1, Session: 2, ClOrdID: cl("c"), OrderID: 1}, RejNone, 0},
		{"cancel other firm by OrderID", Request{Kind: ReqCancel, Firm: 2, Session: 3, ClOrdID: cl("c"), OrderID: 1}, RejUnknownOrder, 1},
		{"cancel other session's ClOrdID", cxlReq(2, "c", "o"), RejUnknownOrder, 1},
		{"cancel unknown", cxlReq(1, "c", "zz"), RejUnknownOrder, 1},
		{"cancel OrderID mismatch", Request{Kind: ReqCancel, Firm: 1, Session: 1, ClOrdID: cl("c"), OrigClOrdID: cl("o"), OrderID: 2}, RejUnknownOrder, 1},
		{"cancel duplicate ClOrdID", cxlReq(1, "o", "o"), RejDuplicateClOrdID, 6},
		{"cancel no ClOrdID", Request{Kind: ReqCancel, Firm: 1, Session: 1, OrigClOrdID: cl("o")}, RejInvalidClOrdID, 99},
		{"cancel bad session", Request{Kind: ReqCancel, Firm: 2, Session: 1, ClOrdID: cl("c"), OrigClOrdID: cl("o")}, RejUnknownSession, 99},
		{"replace ok", rplReq(1, "r", "o", 10100, 12), RejNone, 0},
		{"replace qty", rplReq(1, "r", "o", 10100, 0), RejInvalidQty, 99},
		{"replace max lots", rplReq(1, "r", "o", 9000, 1001), RejMaxOrderLots, 99},
		{"replace price", rplReq(1, "r", "o", 0, 10), RejInvalidPrice, 99},
		{"replace band", rplReq(1, "r", "o", 12000, 10), RejPriceBand, 99},
		{"replace notional", rplReq(1, "r", "o", 10000, 501), RejMaxNotional, 99},
		{"replace side", func() Request { r := rplReq(1, "r", "o", 10000, 10); r.Side = matching.Sell; return r }(), RejReplaceMismatch, 99},
		{"replace cash", rplReq(2, "r", "p", 9000, 12), RejInsufficientCash, 99},
		{"replace down with no free cash", rplReq(2, "r", "p", 9000, 5), RejNone, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			setup(h)
			if c.name == "replace down with no free cash" || c.name == "replace cash" {
				// leave A2 with no free cash: 100000 - need(10 @ 9000) = 100000-90027
				h.do(newReq(2, "q", matching.Buy, 9900, 1))
			}
			cmds, reps := h.m.Submit(&c.req, nil, nil)
			if c.want == RejNone {
				if len(cmds) != 1 || len(reps) != 0 {
					t.Fatalf("want accepted, got %d cmds, reps %+v", len(cmds), reps)
				}
				return
			}
			if len(cmds) != 0 || len(reps) != 1 || reps[0].Kind != RepCancelReject || reps[0].Reject != c.want {
				t.Fatalf("want %v, got %d cmds, reps %+v", c.want, len(cmds), reps)
			}
			if got := reps[0].Reject.CxlRejReason(); got != c.cxlRej {
				t.Fatalf("CxlRejReason %d, want %d", got, c.cxlRej)
			}
			if want := map[RequestKind]byte{ReqCancel: '1', ReqReplace: '2'}[c.req.Kind]; reps[0].CxlRejResponseTo != want {
				t.Fatalf("CxlRejResponseTo %c", reps[0].CxlRejResponseTo)
			}
		})
	}
}

func TestRejectCodes(t *testing.T) {
	seen := map[string]RejectCode{}
	for c := RejBusy; c < rejCount; c++ {
		txt := RejectText(c)
		if txt == "" {
			t.Fatalf("code %d has no text", c)
		}
		if o, dup := seen[txt]; dup {
			t.Fatalf("codes %d and %d share text %q", o, c, txt)
		}
		seen[txt] = c
		if n := testing.AllocsPerRun(10, func() { _ = RejectText(c) }); n != 0 {
			t.Fatalf("RejectText allocates")
		}
	}
	for c, want := range map[RejectCode][2]int{
		RejKillSwitch: {0, 99}, RejUnknownSymbol: {1, 99}, RejHalted: {2, 99}, RejMaxOpenOrders: {3, 99},
		RejInsufficientCash: {3, 99}, RejUnknownOrder: {5, 1}, RejTooLate: {5, 0}, RejDuplicateClOrdID: {6, 6},
		RejInvalidTIF: {11, 99}, RejInvalidQty: {13, 99}, RejPending: {99, 3}, RejCancelPending: {99, 3}, RejPriceBand: {99, 99}, RejBusy: {99, 99},
		RejWrongFirm: {15, 99},
	} {
		if c.OrdRejReason() != want[0] || c.CxlRejReason() != want[1] {
			t.Errorf("%v: %d/%d, want %v", c, c.OrdRejReason(), c.CxlRejReason(), want)
		}
	}
	if RejectText(200) != "unknown reject code" {
		t.Fatal("out of range text")
	}
}

func TestRejectBusy(t *testing.T) {
	h := newHarness(t)
	h.do(newReq(1, "o", matching.Buy, 10000, 10))
	before := h.m.StateHash()
	for _, req := range []Request{
		newReq(1, "n", matching.Buy, 10000, 1), cxlReq(1, "c", "o"), rplReq(1, "r", "o", 10000, 5),
		{Kind: ReqMassCancel, Firm: 1, Session: 1}, {Kind: ReqHalt, Symbol: 1},
	} {
		reps := h.m.RejectBusy(&req, nil)
		if len(reps) != 1 || reps[0].Reject != RejBusy {
			t.Fatalf("%d: %+v", req.Kind, reps)
		}
	}
	st := Request{Kind: ReqStatus, Firm: 1, Session: 1, OrigClOrdID: cl("o")}
	if reps := h.m.RejectBusy(&st, nil); len(reps) != 1 || reps[0].ExecType != ExecOrderStatus || reps[0].OrdStatus != StatusNew {
		t.Fatalf("status: %+v", reps)
	}
	if h.m.StateHash() != before {
		t.Fatal("RejectBusy changed state")
	}
	// The busy ClOrdID was not registered.
	if r := h.do(newReq(1, "n", matching.Buy, 10000, 1)); len(r) != 1 || r[0].ExecType != ExecNew {
		t.Fatalf("after busy: %+v", r)
	}
}
