package ordermanager

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// propConfig: 5 firms of 2 accounts and 2 sessions each, varied cash, fees,
// shorts and limits, so the random flow hits rejects as well as trades.
func propConfig(t testing.TB) *config.Config {
	var b strings.Builder
	b.WriteString(`currency: {code: USD, minor_units: 2}
symbols:
  - {name: AAA, tick_size: "0.01", lot_size: "1", reference_price: "100.00"}
  - {name: BBB, tick_size: "0.01", lot_size: "10", reference_price: "50.00"}
fees: {maker_bps: 1, taker_bps: 3}
risk_defaults: {max_order_lots: 200, max_order_notional: "1000000.00", price_band_bps: 500, max_open_orders: 40}
firms:
`)
	for f := 0; f < 5; f++ {
		fmt.Fprintf(&b, "  - name: F%d\n", f)
		switch f {
		case 0:
			b.WriteString("    fees: {maker_bps: -2, taker_bps: 5}\n")
		case 1:
			b.WriteString("    fees: {maker_bps: 7, taker_bps: 0}\n")
		}
		b.WriteString("    sessions:\n")
		fmt.Fprintf(&b, "      - {sender_comp_id: S%da, username: s%da, password_hash: \"$2a$10$x\", cancel_on_disconnect: true}\n", f, f)
		fmt.Fprintf(&b, "      - {sender_comp_id: S%db, username: s%db, password_hash: \"$2a$10$x\"}\n", f, f)
		b.WriteString("    accounts:\n")
		for a := 0; a < 2; a++ {
			cash := []string{"3000.00", "250000.00"}[a]
			fmt.Fprintf(&b, "      - {name: A%d%d, cash: %q, holdings: {AAA: \"%d\", BBB: \"%d\"}", f, a, cash, 50+f*100, 20+a*80)
			switch {
			case f == 2 && a == 0:
				b.WriteString(", limits: {allow_short: true, short_limit_lots: 60}")
			case f == 3:
				b.WriteString(", limits: {price_band_bps: 0, max_open_orders: 15}")
			case f == 4 && a == 1:
				b.WriteString(", limits: {require_market_protection: true}")
			}
			b.WriteString("}\n")
		}
	}
	c, err := config.Parse([]byte(b.String()), "prop")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// flow generates random requests. It remembers the ClOrdIDs each session
// used so cancels and replaces mostly target real orders.
type flow struct {
	rng  *rand.Rand
	cfg  *config.Config
	ids  [][]ClOrdID // per session
	n    int
	kill []bool
	halt []bool
	m    *Manager // to aim most cancels and replaces at open orders
	// lastRpl is the ClOrdID of the last replace each session sent, and
	// lastSess the session that sent the last one: amends aimed at them
	// chain behind a replace still in flight.
	lastRpl  []ClOrdID
	lastSess refdata.SessionID
}

func newFlow(cfg *config.Config, seed uint64) *flow {
	return &flow{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), cfg: cfg,
		ids: make([][]ClOrdID, len(cfg.Sessions)+1), lastRpl: make([]ClOrdID, len(cfg.Sessions)+1), kill: make([]bool, len(cfg.Accounts)+1), halt: make([]bool, len(cfg.Symbols)+1)}
}

func (f *flow) fresh(s refdata.SessionID) ClOrdID {
	f.n++
	id, _ := MakeClOrdID(fmt.Sprintf("c%d", f.n))
	// Now and then reuse an old ID to hit the duplicate check.
	if f.rng.IntN(50) == 0 && len(f.ids[s]) > 0 {
		id = f.ids[s][f.rng.IntN(len(f.ids[s]))]
	}
	f.ids[s] = append(f.ids[s], id)
	if len(f.ids[s]) > 200 {
		f.ids[s] = f.ids[s][100:]
	}
	return id
}

func (f *flow) target(s refdata.SessionID, chain bool) ClOrdID {
	if chain && f.m != nil {
		// The latest ClOrdID of an order of s with a replace in flight.
		var tails []ClOrdID
		for i := range int32(f.m.orders.len()) {
			if o := f.m.orders.at(i); o.id != 0 && o.session == s && o.pending {
				if tail, _ := f.m.tailOp(o.id); tail != nil && tail.replace {
					tails = append(tails, tail.cl)
				}
			}
		}
		if len(tails) > 0 {
			return tails[f.rng.IntN(len(tails))]
		}
	}
	if l := f.lastRpl[s]; !l.IsZero() && (chain || f.rng.IntN(3) == 0) {
		if e, ok := f.m.cl.lookup(s, l); ok && e.order != 0 {
			return l // chain behind the last replace (accepted)
		}
	}
	if f.m != nil && f.rng.IntN(4) != 0 {
		var open []ClOrdID
		for i := range int32(f.m.orders.len()) {
			if o := f.m.orders.at(i); o.id != 0 && o.session == s {
				open = append(open, o.cl)
			}
		}
		if len(open) > 0 {
			return open[f.rng.IntN(len(open))]
		}
	}
	l := f.ids[s]
	if len(l) == 0 || f.rng.IntN(40) == 0 {
		id, _ := MakeClOrdID("nope")
		return id
	}
	// Prefer recent IDs: they are the ones likely open.
	return l[len(l)-1-min(len(l)-1, int(f.rng.ExpFloat64()*8))]
}

func (f *flow) next() Request {
	r := f.rng
	sess := &f.cfg.Sessions[r.IntN(len(f.cfg.Sessions))]
	chain := f.lastSess != 0 && r.IntN(3) == 0
	if chain {
		// Amend again at once, from the session of an order with a replace
		// in flight (else the last to send one): chains.
		sid := f.lastSess
		if f.m != nil {
			var with []refdata.SessionID
			f.m.ops.each(func(k orderKey, c *opChain) {
				if o := f.m.order(matching.OrderID(k)); o != nil && f.m.link(c.tail).replace {
					with = append(with, o.session)
				}
			})
			slices.Sort(with) // table order is random
			if len(with) > 0 {
				sid = with[r.IntN(len(with))]
			}
		}
		sess = &f.cfg.Sessions[sid-1]
	}
	firm := &f.cfg.Firms[sess.Firm-1]
	acct := firm.Accounts[r.IntN(len(firm.Accounts))]
	sym := matching.SymbolID(1 + r.IntN(2))
	ref := f.cfg.Symbols[sym-1].RefTicks
	if f.m != nil && f.rng.IntN(4) != 0 {
		ref = f.m.syms[sym-1].reference() // follow the market, mostly
	}
	price := ref + int64(r.IntN(int(ref/15))) - ref/30
	req := Request{Firm: sess.Firm, Session: sess.ID, Account: acct, Symbol: sym, Price: price,
		Qty: 1 + int64(r.IntN(40)), Side: matching.Side(1 + r.IntN(2)), Type: matching.Limit, TIF: matching.GTC}
	if r.IntN(30) == 0 {
		req.Qty = 150 + int64(r.IntN(100))
	}
	// Kill switches and halts are lifted soon after they are set.
	for a, on := range f.kill {
		if on && r.IntN(20) == 0 {
			f.kill[a] = false
			return Request{Kind: ReqKillSwitch, Account: matching.AccountID(a)}
		}
	}
	for s, on := range f.halt {
		if on && r.IntN(20) == 0 {
			f.halt[s] = false
			return Request{Kind: ReqResume, Symbol: matching.SymbolID(s)}
		}
	}
	p := r.IntN(1000)
	if chain {
		p = 540 + r.IntN(410) // a cancel or replace
	}
	switch {
	case p < 480:
		req.Kind = ReqNew
		req.ClOrdID = f.fresh(sess.ID)
		switch q := r.IntN(20); {
		case q < 2:
			req.TIF = matching.Day
		case q < 4:
			req.TIF = matching.IOC
		case q < 5:
			req.TIF = matching.FOK
		case q < 7:
			req.PostOnly = true
		case q < 9:
			f.stopOrder(&req, ref)
		}
		if r.IntN(3) == 0 {
			req.STP = matching.STPMode(r.IntN(5))
		}
	case p < 540:
		req.Kind, req.Type, req.TIF = ReqNew, matching.Market, matching.IOC
		req.ClOrdID = f.fresh(sess.ID)
		if r.IntN(2) == 0 {
			req.Price = 0
		}
	case p < 740:
		req.Kind = ReqCancel
		req.OrigClOrdID = f.target(sess.ID, chain) // before fresh: not its own ClOrdID
		req.ClOrdID = f.fresh(sess.ID)
		req.Account, req.Symbol, req.Side = 0, 0, 0
	case p < 950:
		req.Kind = ReqReplace
		req.OrigClOrdID = f.target(sess.ID, chain) // before fresh: not its own ClOrdID
		req.ClOrdID = f.fresh(sess.ID)
		req.Account, req.Symbol, req.Side = 0, 0, 0
		f.lastRpl[sess.ID], f.lastSess = req.ClOrdID, sess.ID
		f.stopReplace(&req, sess.ID, ref)
	case p < 965:
		req.Kind = ReqMassCancel
		req.ClOrdID = f.fresh(sess.ID)
		if r.IntN(2) == 0 {
			req.Symbol = 0
		}
	case p < 980:
		req.Kind, req.OrigClOrdID = ReqStatus, f.target(sess.ID, false)
	case p < 983:
		req.Kind, req.Firm, req.Session, req.On = ReqKillSwitch, 0, 0, true
		f.kill[acct] = true
	case p < 985:
		f.halt[sym] = true
		req = Request{Kind: ReqHalt, Symbol: sym}
	case p < 990:
		req = Request{Kind: ReqStatus, Firm: sess.Firm, Session: sess.ID, OrderID: matching.OrderID(r.IntN(f.n + 1))}
	case p < 993:
		req = Request{Kind: ReqExpire, Symbol: matching.SymbolID(r.IntN(3))}
	default:
		req = Request{Kind: ReqDisconnect, Firm: sess.Firm, Session: sess.ID}
	}
	return req
}

// stopOrder makes req a stop or stop-limit order with a stop price near
// ref; a stop has no protection price half the time (reserved at the band
// edge).
func (f *flow) stopOrder(req *Request, ref int64) {
	r := f.rng
	req.StopPrice = ref + int64(r.IntN(int(ref/25))) - ref/50
	req.Type, req.Price = matching.StopLimit, req.StopPrice+int64(r.IntN(int(ref/50)))-ref/100
	if r.IntN(2) == 0 {
		req.Type, req.Price = matching.Stop, 0
		if r.IntN(2) == 0 {
			req.Price = req.StopPrice + int64(r.IntN(int(ref/50)))
		}
	}
	if req.Side == matching.Sell && req.Price != 0 {
		req.Price = max(1, 2*req.StopPrice-req.Price)
	}
}

// stopReplace gives a replace of a stop or stop-limit order (waiting, or
// triggered already, which the engine then refuses) a new stop price, and
// a stop (market) order no price half the time.
func (f *flow) stopReplace(req *Request, sid refdata.SessionID, ref int64) {
	if f.m == nil {
		return
	}
	e, ok := f.m.cl.lookup(sid, req.OrigClOrdID)
	if !ok || e.order == 0 {
		return
	}
	o := f.m.order(e.order)
	if o == nil || (o.typ != matching.Stop && o.typ != matching.StopLimit) {
		return
	}
	r := f.rng
	req.StopPrice = ref + int64(r.IntN(int(ref/25))) - ref/50
	if r.IntN(2) == 0 {
		req.Type = o.typ
	}
	if o.typ == matching.Stop && r.IntN(2) == 0 {
		req.Price = 0
	}
}

// pipeline runs the manager and the engine the way the live process does:
// requests are submitted ahead of the engine by a random lag, and every
// command is journaled with its meta.
type pipeline struct {
	t       testing.TB
	m       *Manager
	e       *matching.Engine
	queue   []Pending
	journal []Pending
	evReps  []Report // reports caused by events, in order
	seq     uint64
	check   func()
	chained int // amends accepted behind others in flight
	longest int // longest amend chain seen
	evs     []matching.Event
	cmds    []Pending
	reps    []Report
}

func (p *pipeline) submit(req *Request) {
	p.cmds, p.reps = p.m.Submit(req, p.cmds[:0], p.reps[:0])
	if len(p.cmds) > p.m.CommandsMax() {
		p.t.Fatalf("%d commands, CommandsMax %d", len(p.cmds), p.m.CommandsMax())
	}
	p.queue = append(p.queue, p.cmds...)
	if (req.Kind == ReqCancel || req.Kind == ReqReplace) && len(p.cmds) == 1 {
		if _, n := p.m.tailOp(p.cmds[0].Cmd.OrderID); n > 1 {
			p.chained++
			p.longest = max(p.longest, n)
		}
	}
	if p.check != nil {
		p.check()
	}
}

func (p *pipeline) step() {
	c := p.queue[0]
	p.queue = p.queue[1:]
	p.seq++
	c.Cmd.Seq, c.Cmd.TimeNs = p.seq, int64(p.seq)*10
	p.journal = append(p.journal, c)
	p.evs = p.e.Apply(&c.Cmd, p.evs[:0])
	for i := range p.evs {
		n := len(p.evReps)
		p.evReps = p.m.OnEvent(&p.evs[i], p.evReps)
		for j := n; j < len(p.evReps); j++ {
			p.evReps[j].RecvNs = 0
		}
		if p.check != nil {
			p.check()
		}
	}
}

// runLive drives n random requests through a pipeline with random lag,
// checking the invariants after every Submit and every event.
func runLive(t *testing.T, cfg *config.Config, seed uint64, n int, check bool) *pipeline {
	f := newFlow(cfg, seed)
	p := &pipeline{t: t, m: New(cfg.Registry, Config{}), e: matching.New(matching.Config{Symbols: len(cfg.Symbols)})}
	f.m = p.m
	h := &harness{t: t, m: p.m}
	c0, h0 := h.totals()
	if check {
		p.check = func() { t.Helper(); h.checkInvariants(c0, h0) }
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	lag := rng.IntN(30)
	for i := 0; i < n; {
		if rng.IntN(100) == 0 {
			lag = rng.IntN(30) // how far Submit runs ahead of the engine
		}
		if len(p.queue) > lag || (len(p.queue) > 0 && rng.IntN(3) == 0) {
			p.step()
			continue
		}
		req := f.next()
		p.submit(&req)
		i++
	}
	for len(p.queue) > 0 {
		p.step()
	}
	if n := p.m.amendsInFlight(); n != 0 || p.m.ops.len() != 0 {
		t.Fatalf("%d amends in flight at quiescence", n)
	}
	return p
}

// TestPropertyRandomFlow: random order flow from many accounts through the
// manager and the real engine, with Submit running ahead of the engine by a
// random lag; after every Submit and every event, no cash or holding is
// negative (beyond an allowed short), reservations equal what open orders
// and requests in flight hold, and cash plus fees and holdings per symbol
// are conserved.
func TestPropertyRandomFlow(t *testing.T) {
	cfg := propConfig(t)
	n := 6000
	if testing.Short() {
		n = 1000
	}
	trades, rejects, chained, longest, stopRepl, triggers := 0, 0, 0, 0, 0, 0
	for seed := uint64(1); seed <= 6; seed++ {
		p := runLive(t, cfg, seed, n, true)
		chained += p.chained
		longest = max(longest, p.longest)
		for _, r := range p.evReps {
			switch {
			case r.ExecType == ExecTrade:
				trades++
			case r.ExecType == ExecReplaced && (r.Type == matching.Stop || r.Type == matching.StopLimit):
				stopRepl++
			case r.ExecType == ExecTriggered:
				triggers++
			}
			if r.Reject != RejNone {
				rejects++
			}
		}
	}
	// The floors scale with n (6,000 commands a seed, 1,000 under -short),
	// about half of what the seeds give.
	if trades < n/2 {
		t.Fatalf("only %d fills: the flow does not exercise settlement", trades)
	}
	if chained < n/10 || longest < 3 {
		t.Fatalf("only %d chained amends, longest chain %d: the flow does not exercise chains", chained, longest)
	}
	if minStops := max(n/300, 3); stopRepl < minStops || triggers < minStops {
		t.Fatalf("%d stop orders replaced, %d triggered: the flow does not exercise stops", stopRepl, triggers)
	}
	t.Logf("%d fill reports, %d engine-side rejects, %d chained amends, longest chain %d, %d stop replaces, %d triggers",
		trades, rejects, chained, longest, stopRepl, triggers)
}

// replay rebuilds a manager and engine from a journal the way recovery
// does and returns the event reports.
func replay(t *testing.T, m *Manager, e *matching.Engine, journal []Pending) []Report {
	var reps []Report
	var evs []matching.Event
	for i := range journal {
		c := &journal[i]
		if err := m.ApplySequenced(&c.Cmd, c.MetaBytes()); err != nil {
			t.Fatalf("journal %d: %v", i, err)
		}
		evs = e.Apply(&c.Cmd, evs[:0])
		for j := range evs {
			reps = m.OnEvent(&evs[j], reps)
		}
	}
	return reps
}

func compareReports(t *testing.T, what string, a, b []Report) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d reports vs %d", what, len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		x.RecvNs, y.RecvNs = 0, 0
		if x != y {
			t.Fatalf("%s: report %d differs:\n%+v\n%+v", what, i, x, y)
		}
	}
}

// TestReplayEquivalence: the live run (Submit ahead of the engine by a
// random lag) and a replay of its journal (each command's events right
// after it) end in the same state and produce the same event reports.
func TestReplayEquivalence(t *testing.T) {
	cfg := propConfig(t)
	chained := 0
	for seed := uint64(10); seed < 16; seed++ {
		live := runLive(t, cfg, seed, 4000, false)
		chained += live.chained
		m := New(cfg.Registry, Config{})
		e := matching.New(matching.Config{Symbols: len(cfg.Symbols)})
		reps := replay(t, m, e, live.journal)
		compareReports(t, fmt.Sprintf("seed %d", seed), live.evReps, reps)
		if m.StateHash() != live.m.StateHash() {
			t.Fatalf("seed %d: replayed state hash differs", seed)
		}
		if string(m.appendState(nil, false)) != string(live.m.appendState(nil, false)) {
			t.Fatalf("seed %d: replayed state differs", seed)
		}
	}
	if chained < 300 {
		t.Fatalf("only %d chained amends: the live runs do not exercise chains", chained)
	}
	t.Logf("%d chained amends", chained)
}

// TestSnapshotRoundTrip: a snapshot taken mid-replay restores to the same
// state hash and bytes, and continuing from it gives the same reports and
// final state as continuing the original.
func TestSnapshotRoundTrip(t *testing.T) {
	cfg := propConfig(t)
	live := runLive(t, cfg, 42, 3000, false)
	half := len(live.journal) / 2
	m := New(cfg.Registry, Config{})
	e := matching.New(matching.Config{Symbols: len(cfg.Symbols)})
	replay(t, m, e, live.journal[:half])
	if m.OpenOrders() == 0 {
		t.Fatal("no open orders at the snapshot: weak test")
	}
	snap := m.AppendSnapshot(nil)
	m2, err := Restore(cfg.Registry, Config{}, snap)
	if err != nil {
		t.Fatal(err)
	}
	if m2.StateHash() != m.StateHash() || string(m2.AppendSnapshot(nil)) != string(snap) {
		t.Fatal("restored state differs")
	}
	e2, err := matching.Restore(e.AppendSnapshot(nil))
	if err != nil {
		t.Fatal(err)
	}
	a := replay(t, m, e, live.journal[half:])
	b := replay(t, m2, e2, live.journal[half:])
	compareReports(t, "after restore", a, b)
	if m.StateHash() != m2.StateHash() || m.StateHash() != live.m.StateHash() {
		t.Fatal("state after continuing differs")
	}
	// Corrupt snapshots are refused, never panic.
	for i := 0; i < len(snap); i += 1 + len(snap)/40 {
		if _, err := Restore(cfg.Registry, Config{}, snap[:i]); err == nil {
			t.Fatalf("truncated snapshot at %d accepted", i)
		}
	}
	bad := append([]byte(nil), snap...)
	bad[len(bad)/2] ^= 0xff
	_, _ = Restore(cfg.Registry, Config{}, bad)
}
