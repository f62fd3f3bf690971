package ordermanager

import (
	"slices"
	"testing"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// testYAML: two symbols (cash per tick-lot 1 and 10), three firms.
//
//	firm 1 ALPHA: accounts 1 A1, 2 A2; sessions 1 SA1 (cancel on disconnect), 2 SA2
//	firm 2 BRAVO: account 3 B1 (shorts up to 100 lots); session 3 SB
//	firm 3 CHARLIE: account 4 C1 (maker rebate); session 4 SC
const testYAML = `
currency: {code: USD, minor_units: 2}
symbols:
  - {name: AAA, tick_size: "0.01", lot_size: "1", reference_price: "100.00"}
  - {name: BBB, tick_size: "0.01", lot_size: "10", reference_price: "50.00"}
fees: {maker_bps: 1, taker_bps: 3}
risk_defaults:
  max_order_lots: 1000
  max_order_notional: "50000.00"
  price_band_bps: 1000
  max_open_orders: 5
firms:
  - name: ALPHA
    sessions:
      - {sender_comp_id: SA1, username: sa1, password_hash: "$2a$10$x", cancel_on_disconnect: true}
      - {sender_comp_id: SA2, username: sa2, password_hash: "$2a$10$x", account: A2}
    accounts:
      - {name: A1, cash: "100000.00", holdings: {AAA: "500", BBB: "100"}}
      - {name: A2, cash: "1000.00", holdings: {AAA: "10"}, limits: {require_market_protection: true}}
  - name: BRAVO
    sessions:
      - {sender_comp_id: SB, username: sb, password_hash: "$2a$10$x"}
    accounts:
      - {name: B1, cash: "100000.00", holdings: {AAA: "500", BBB: "100"}, limits: {allow_short: true, short_limit_lots: 100}}
  - name: CHARLIE
    fees: {maker_bps: -2, taker_bps: 5}
    sessions:
      - {sender_comp_id: SC, username: sc, password_hash: "$2a$10$x"}
    accounts:
      - {name: C1, cash: "100000.00", holdings: {AAA: "500", BBB: "100"}, limits: {price_band_bps: 0, max_open_orders: 100}}
`

var testCfg *config.Config

// testConfig returns the parsed testYAML (parsed once; nothing modifies it).
func testConfig(t testing.TB) *config.Config {
	t.Helper()
	if testCfg == nil {
		c, err := config.Parse([]byte(testYAML), "test")
		if err != nil {
			t.Fatal(err)
		}
		testCfg = c
	}
	return testCfg
}

// harness runs a Manager and a real engine as the pipeline would, one
// request at a time, keeping the journal.
type harness struct {
	t       testing.TB
	m       *Manager
	e       *matching.Engine
	seq     uint64
	cmds    []Pending
	evs     []matching.Event
	journal []Pending
	all     []Report
	// keepStatus keeps RepSecurityStatus reports in what run returns.
	keepStatus bool
}

func newHarness(t testing.TB) *harness {
	c := testConfig(t)
	// A small ClOrdID retention keeps the harness cheap to build (tests and
	// fuzzing build thousands); the property tests use New itself.
	return &harness{t: t, m: New(c.Registry, Config{ClOrdIDsRetained: 1024}), e: matching.New(matching.Config{Symbols: len(c.Symbols), OrdersHint: 64})}
}

// do submits req, sequences and matches its commands, and returns every
// report it caused.
func (h *harness) do(req Request) []Report {
	var reps []Report
	h.cmds, reps = h.m.Submit(&req, h.cmds[:0], reps)
	for i := range h.cmds {
		reps = h.run(&h.cmds[i], reps)
	}
	h.all = append(h.all, reps...)
	return reps
}

func (h *harness) run(p *Pending, reps []Report) []Report {
	h.seq++
	p.Cmd.Seq, p.Cmd.TimeNs = h.seq, int64(h.seq)*1000
	h.journal = append(h.journal, *p)
	h.evs = h.e.Apply(&p.Cmd, h.evs[:0])
	for j := range h.evs {
		reps = h.m.OnEvent(&h.evs[j], reps)
	}
	if !h.keepStatus {
		// SecurityStatus broadcasts (one per session on every halt) are
		// tested in operator_test.go; other tests look at order reports.
		reps = dropStatus(reps)
	}
	return reps
}

// dropStatus removes the SecurityStatus broadcasts from reps.
func dropStatus(reps []Report) []Report {
	return slices.DeleteFunc(reps, func(r Report) bool { return r.Kind == RepSecurityStatus })
}

func cl(s string) ClOrdID {
	id, ok := MakeClOrdID(s)
	if !ok {
		panic("bad ClOrdID " + s)
	}
	return id
}

// Request builders. Firm and session follow the account: A1 -> firm 1
// session 1, A2 -> firm 1 session 2, B1 -> firm 2 session 3, C1 -> firm 3
// session 4.
func sessOf(acct matching.AccountID) (refdata.FirmID, refdata.SessionID) {
	switch acct {
	case 1:
		return 1, 1
	case 2:
		return 1, 2
	case 3:
		return 2, 3
	case 4:
		return 3, 4
	}
	return 0, 0
}

func newReq(acct matching.AccountID, id string, side matching.Side, price, qty int64) Request {
	f, s := sessOf(acct)
	return Request{Kind: ReqNew, Firm: f, Session: s, Account: acct, Symbol: 1, Side: side,
		Type: matching.Limit, TIF: matching.GTC, Price: price, Qty: qty, ClOrdID: cl(id)}
}

func cxlReq(acct matching.AccountID, id, orig string) Request {
	f, s := sessOf(acct)
	return Request{Kind: ReqCancel, Firm: f, Session: s, ClOrdID: cl(id), OrigClOrdID: cl(orig)}
}

func rplReq(acct matching.AccountID, id, orig string, price, qty int64) Request {
	f, s := sessOf(acct)
	return Request{Kind: ReqReplace, Firm: f, Session: s, ClOrdID: cl(id), OrigClOrdID: cl(orig), Price: price, Qty: qty}
}

// checkInvariants asserts the wallet invariants against the manager's own
// order records: reservations equal what open orders and ops in flight
// need, nothing negative beyond an allowed short, and conservation of cash
// (plus fees) and holdings.
func (h *harness) checkInvariants(cash0 int64, hold0 []int64) {
	h.t.Helper()
	m := h.m
	cashRes, holdRes, open := m.wantReserved()
	ns := len(m.syms)
	var cash int64
	hold := make([]int64, len(m.syms))
	for i := range m.accts {
		a := &m.accts[i]
		cash += a.cash
		if a.cashRes != cashRes[i] {
			h.t.Fatalf("account %d: cash reserved %d, open orders need %d", i+1, a.cashRes, cashRes[i])
		}
		if a.open != open[i] {
			h.t.Fatalf("account %d: open %d, records %d", i+1, a.open, open[i])
		}
		if a.cash < 0 || a.cash-a.cashRes < 0 {
			h.t.Fatalf("account %d: cash %d reserved %d", i+1, a.cash, a.cashRes)
		}
		for s := range m.syms {
			hold[s] += a.hold[s]
			if a.holdRes[s] != holdRes[i*ns+s] {
				h.t.Fatalf("account %d symbol %d: holdings reserved %d, open sells need %d", i+1, s+1, a.holdRes[s], holdRes[i*ns+s])
			}
			floor := int64(0)
			if a.lim.AllowShort {
				floor = -a.lim.ShortLimitLots
			}
			if a.hold[s] < floor || a.hold[s]-a.holdRes[s] < floor {
				h.t.Fatalf("account %d symbol %d: holdings %d reserved %d below %d", i+1, s+1, a.hold[s], a.holdRes[s], floor)
			}
		}
	}
	if cash+m.fees != cash0 {
		h.t.Fatalf("cash %d + fees %d != %d", cash, m.fees, cash0)
	}
	for s := range hold {
		if hold[s] != hold0[s] {
			h.t.Fatalf("symbol %d: holdings %d, want %d", s+1, hold[s], hold0[s])
		}
	}
}

func (h *harness) totals() (int64, []int64) {
	var cash int64
	hold := make([]int64, len(h.m.syms))
	for i := range h.m.accts {
		cash += h.m.accts[i].cash
		for s := range hold {
			hold[s] += h.m.accts[i].hold[s]
		}
	}
	return cash + h.m.fees, hold
}
