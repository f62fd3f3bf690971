package ordermanager

import (
	"math/bits"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// MetaMax is the most meta bytes a Pending carries: the sequencer journals
// them with the command, so it is the sequencer's bound.
const MetaMax = sequencer.MetaMax

// Pending is one accepted command on its way to the sequencer: the command
// and the meta bytes that replay needs to rebuild this manager's state.
// Cmd.Seq and Cmd.TimeNs are left 0: the sequencer stamps them. It is
// the sequencer's Item itself, so what the manager hands over and what the
// journal holds cannot drift apart.
type Pending = sequencer.Item

// Limits of the order manager.
const (
	// ClOrdIDsRetained is how many ClOrdIDs of finished business (closed
	// orders, superseded ClOrdIDs of replaced orders, resolved cancels and
	// mass cancels) stay remembered for duplicate detection and for "too
	// late" answers. The ClOrdIDs of open orders and pending requests are
	// always remembered; a ClOrdID retired more than ClOrdIDsRetained
	// retirements ago is forgotten and may be used again.
	ClOrdIDsRetained = 1 << 16
	// massCancelsPendingMax bounds the client mass cancels in flight per
	// account.
	massCancelsPendingMax = 16
	// AmendsInFlightMax bounds the cancels and replaces in flight per order
	// (the links of its amend chain); one more is refused with RejPending
	// (CxlRejReason 3).
	AmendsInFlightMax = 16
	// notionalMax bounds every notional the manager computes, far inside
	// int64 so that a notional times a fee rate in bps cannot overflow.
	notionalMax = int64(1) << 52
	// holdMax bounds what one link of an amend chain can hold: its own hold
	// (at most 2×notionalMax) plus those handed on by rejected links before
	// it and a self-trade reduction's release.
	holdMax  = (AmendsInFlightMax + 1) * 2 * notionalMax
	bpsDenom = 10_000
)

type symState struct {
	cpt    int64 // cash per tick-lot
	ref    int64 // configured reference price, ticks
	last   int64 // last trade price, ticks (0 before the first trade)
	halted bool
	phase  matching.Phase // the engine's, from its EvPhase events
}

// reference is the price the band is centred on: the last trade, else the
// configured reference (0: none).
func (s *symState) reference() int64 {
	if s.last != 0 {
		return s.last
	}
	return s.ref
}

type acctState struct {
	firm     refdata.FirmID
	lim      refdata.Limits
	makerBps int64
	takerBps int64
	resBps   int64 // max(0, maker, taker): the fee rate a buy reserves

	cash     int64
	cashRes  int64
	hold     []int64 // per symbol (index SymbolID-1), lots
	holdRes  []int64
	open     int32
	kill     bool
	massWait []massOp // mass cancels in flight, oldest first
}

// massOp is a mass cancel in flight, resolved by its EvMassCancelled (or
// EvRejected).
type massOp struct {
	session refdata.SessionID
	symbol  matching.SymbolID
	report  bool // a client asked: answer with RepMassCancel
	cl      ClOrdID
	clRef   uint64
	clEnt   uint32 // hint for clBook.retire
	recvNs  int64
}

// orderRec is an open order as the order manager sees it.
type orderRec struct {
	id      matching.OrderID
	acct    matching.AccountID
	sym     matching.SymbolID
	session refdata.SessionID
	side    matching.Side
	typ     matching.OrderType
	tif     matching.TimeInForce
	price   int64 // limit price, or a market order's protection price
	qty     int64 // filled + leaves
	filled  int64
	leaves  int64
	cumTL   int64 // Σ price×qty of fills, tick-lots
	cl      ClOrdID
	orig    ClOrdID
	clRef   uint64
	clEnt   uint32 // hint for clBook.retire
	recvNs  int64
	pending bool // a cancel or replace is in flight (its amend chain is not empty)
	// stp is the order's self-trade prevention mode, for the Text of the
	// cancels it causes (not in snapshots: an order restored from one has
	// STPNone here, and its self-trade cancels say so generically).
	stp matching.STPMode
}

// opRec is a cancel or replace in flight: one link of the amend chain of
// the order it targets. It exists from the command's acceptance until the
// engine's answer.
type opRec struct {
	replace bool
	session refdata.SessionID
	acct    matching.AccountID
	sym     matching.SymbolID
	side    matching.Side
	price   int64 // replace: new price
	qty     int64 // replace: new total quantity
	// hold is what a replace holds on top of the order's own reservation
	// and the holds of the links before it (cash for a buy, lots for a
	// sell) until the engine answers. A link the engine rejects passes its
	// hold on to the next link, if any (see onRejected).
	hold   int64
	cl     ClOrdID
	orig   ClOrdID
	clRef  uint64
	clEnt  uint32 // hint for clBook.retire
	recvNs int64
	next   int32 // next link of the chain in Manager.links (0: none)
}

// opChain is the amend chain of one order: the cancels and replaces in
// flight for it, oldest first, as a list through Manager.links. The engine
// answers them in that order.
type opChain struct {
	head, tail int32
	n          int32
}

// Manager is the order manager: accounts and wallets, reservations, risk
// checks, order lifecycle and execution reports. It is a pure state machine
// driven by one goroutine; it has no locks and starts no goroutines.
type Manager struct {
	ref   *refdata.Registry
	syms  []symState
	accts []acctState

	orders slab[orderRec] // index 0 is never used
	free   []int32
	index  table[orderKey, int32]
	ops    table[orderKey, opChain] // orders with cancels or replaces in flight
	links  []opRec                  // slab of chain links; index 0 is never used
	lfree  []int32

	cl clBook

	nextOrderID matching.OrderID
	fees        int64
	// rejExec numbers the reports that are not caused by engine events
	// (rejects, status answers). It is outside the replayed state.
	rejExec uint64

	marks []bool // scratch, per account

	opr operatorState // operator notes and what they changed (operator.go)
	// listed holds the symbols listed at run time, oldest first (listing.go).
	listed []refdata.Symbol
	// taker is the order last accepted or re-entered by a replace: the
	// taker of the trades and self-trade cancels that follow (cancels.go).
	taker matching.OrderID
	// closed remembers the last closed orders for status requests
	// (closed.go).
	closed closedBook
}

// ordersHint is the number of order records allocated up front.
const ordersHint = 1 << 14

// New returns a manager with the accounts, balances and limits of ref and
// no orders. It allocates its tables up front. Symbols an operator lists
// are registered in ref.
func New(ref *refdata.Registry, cfg Config) *Manager {
	retain := cfg.retain()
	hint := min(ordersHint, max(retain, 16))
	m := &Manager{
		ref:         ref,
		syms:        make([]symState, len(ref.Symbols)),
		accts:       make([]acctState, len(ref.Accounts)),
		orders:      newSlab[orderRec](hint + 1),
		free:        make([]int32, 0, hint),
		index:       newTable[orderKey, int32](hint),
		ops:         newTable[orderKey, opChain](1024),
		links:       make([]opRec, 1, 1025),
		lfree:       make([]int32, 0, 1024),
		nextOrderID: 1,
	}
	m.orders.add() // index 0: no order
	m.cl.init(retain, hint)
	for i := range ref.Symbols {
		s := &ref.Symbols[i]
		m.syms[i] = symState{cpt: s.CashPerTickLot, ref: s.RefTicks}
	}
	n := len(ref.Symbols)
	for i := range ref.Accounts {
		a := &ref.Accounts[i]
		st := &m.accts[i]
		st.firm = a.Firm
		st.lim = a.Limits
		if f, ok := ref.Firm(a.Firm); ok {
			st.makerBps, st.takerBps = f.MakerBps, f.TakerBps
		}
		st.resBps = max(0, st.makerBps, st.takerBps)
		st.cash = a.Cash
		st.hold = make([]int64, n)
		st.holdRes = make([]int64, n)
		for sid, lots := range a.Holdings {
			if sid >= 1 && int(sid) <= n {
				st.hold[sid-1] = lots
			}
		}
		st.massWait = make([]massOp, 0, 4)
	}
	return m
}

func (m *Manager) sym(id matching.SymbolID) *symState {
	if id == 0 || uint64(id) > uint64(len(m.syms)) {
		return nil
	}
	return &m.syms[id-1]
}

func (m *Manager) acct(id matching.AccountID) *acctState {
	if id == 0 || uint64(id) > uint64(len(m.accts)) {
		return nil
	}
	return &m.accts[id-1]
}

// order returns the open order id, or nil.
func (m *Manager) order(id matching.OrderID) *orderRec {
	i, ok := m.index.get(orderKey(id))
	if !ok {
		return nil
	}
	return m.orders.at(*i)
}

// newOrder takes a record from the slab for id. The slab grows (allocates)
// only past its high-water mark.
func (m *Manager) newOrder(id matching.OrderID) *orderRec {
	var i int32
	if n := len(m.free); n > 0 {
		i = m.free[n-1]
		m.free = m.free[:n-1]
	} else {
		i = m.orders.add()
	}
	m.index.put(orderKey(id), i)
	r := m.orders.at(i)
	*r = orderRec{id: id}
	return r
}

func (m *Manager) dropOrder(id matching.OrderID) {
	i, ok := m.index.take(orderKey(id))
	if !ok {
		return
	}
	*m.orders.at(i) = orderRec{}
	m.free = append(m.free, i)
}

// notional returns price×qty×cashPerTickLot, with ok false when an input is
// negative or the product exceeds notionalMax.
func notional(price, qty, cpt int64) (int64, bool) {
	if price < 0 || qty < 0 || cpt <= 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(price), uint64(qty))
	if hi != 0 || lo > uint64(notionalMax) {
		return 0, false
	}
	hi, lo = bits.Mul64(lo, uint64(cpt))
	if hi != 0 || lo > uint64(notionalMax) {
		return 0, false
	}
	return int64(lo), true
}

// feeOf is the fee on notional n at bps basis points, truncated toward zero:
// a charge is rounded down and a rebate (negative bps) is rounded toward
// zero, so the exchange never charges or pays more than the exact amount.
func feeOf(n, bps int64) int64 { return n * bps / bpsDenom }

// feeCeil is the fee on n at bps (bps >= 0) rounded up: the most a buy can be
// charged, which its reservation covers.
func feeCeil(n, bps int64) int64 { return (n*bps + bpsDenom - 1) / bpsDenom }

// needCash is the cash a buy reserves for leaves lots at price: the notional
// plus the fee at the account's reservation rate, rounded up. Inputs are
// bounded at acceptance, so it cannot overflow.
func needCash(a *acctState, s *symState, leaves, price int64) int64 {
	if leaves <= 0 {
		return 0
	}
	n := leaves * price * s.cpt
	return n + feeCeil(n, a.resBps)
}

// reservation is what an order holds: cash for a buy, lots for a sell.
func (m *Manager) reservation(r *orderRec, leaves, price int64) int64 {
	if r.side == matching.Sell {
		return max(leaves, 0)
	}
	return needCash(&m.accts[r.acct-1], &m.syms[r.sym-1], leaves, price)
}

// reserve adds d (negative: releases) to the reservation of account a on
// side in symbol sym.
func (m *Manager) reserve(a *acctState, side matching.Side, sym matching.SymbolID, d int64) {
	if side == matching.Sell {
		a.holdRes[sym-1] += d
	} else {
		a.cashRes += d
	}
}

// status is the FIX OrdStatus of an open order.
func (r *orderRec) status() byte {
	if r.filled > 0 {
		return StatusPartiallyFilled
	}
	return StatusNew
}

// Wallet is a read-only copy of an account's balances.
type Wallet struct {
	Cash         int64 // minor units
	CashReserved int64
	// Holdings and HoldingsReserved are in lots, indexed by SymbolID-1.
	Holdings         []int64
	HoldingsReserved []int64
	OpenOrders       int
	KillSwitch       bool
}

// Wallet returns a copy of account acct's balances (it allocates the two
// slices); ok is false for an unknown account.
func (m *Manager) Wallet(acct matching.AccountID) (w Wallet, ok bool) {
	a := m.acct(acct)
	if a == nil {
		return w, false
	}
	return Wallet{
		Cash: a.cash, CashReserved: a.cashRes,
		Holdings: append([]int64(nil), a.hold...), HoldingsReserved: append([]int64(nil), a.holdRes...),
		OpenOrders: int(a.open), KillSwitch: a.kill,
	}, true
}

// Holding returns account acct's lots of sym and how many of them are
// reserved by open sells (0, 0 when either is unknown). O(1).
func (m *Manager) Holding(acct matching.AccountID, sym matching.SymbolID) (lots, reserved int64) {
	a := m.acct(acct)
	if a == nil || m.sym(sym) == nil {
		return 0, 0
	}
	return a.hold[sym-1], a.holdRes[sym-1]
}

// OpenOrders returns the number of open orders (accepted and not yet
// closed by an engine event). O(1).
func (m *Manager) OpenOrders() int { return m.index.len() }

// FeesCollected returns the net fees (charges minus rebates) the exchange fee
// account holds, in minor units. Total cash of all accounts plus this is
// constant. O(1).
func (m *Manager) FeesCollected() int64 { return m.fees }

// Halted reports whether the manager has seen sym halted.
func (m *Manager) Halted(sym matching.SymbolID) bool {
	s := m.sym(sym)
	return s != nil && s.halted
}

// Phase reports sym's trading phase as the manager has seen the engine's
// events (matching.PhaseHalted while halted), like matching.Engine.Phase. O(1).
func (m *Manager) Phase(sym matching.SymbolID) matching.Phase {
	s := m.sym(sym)
	switch {
	case s == nil:
		return matching.PhaseClosed
	case s.halted:
		return matching.PhaseHalted
	}
	return s.phase
}

// PhaseUnderHalt is sym's phase ignoring a halt: the phase it resumes in.
func (m *Manager) PhaseUnderHalt(sym matching.SymbolID) matching.Phase {
	if s := m.sym(sym); s != nil {
		return s.phase
	}
	return matching.PhaseClosed
}

// SetPhases seeds every symbol's phase from the engine's (phase(sym) under
// any halt), after both were restored from a snapshot, which does not carry
// the manager's copy.
func (m *Manager) SetPhases(phase func(matching.SymbolID) matching.Phase) {
	for i := range m.syms {
		m.syms[i].phase = phase(matching.SymbolID(i + 1))
	}
}

// LastPrice returns the last trade price of sym in ticks (0 before the first).
func (m *Manager) LastPrice(sym matching.SymbolID) int64 {
	s := m.sym(sym)
	if s == nil {
		return 0
	}
	return s.last
}

// NextOrderID returns the OrderID the next accepted new order gets.
func (m *Manager) NextOrderID() matching.OrderID { return m.nextOrderID }

// SeedRejectExecIDs sets the counter behind the ExecIDs of reports that no
// engine event causes (rejects, status answers); they are base+1, base+2,
// ... with the top bit set. A restarted process can seed it (for example
// from the clock) so such ExecIDs are not repeated across restarts.
func (m *Manager) SeedRejectExecIDs(base uint64) { m.rejExec = base }

func (m *Manager) nextRejExecID() uint64 {
	m.rejExec++
	return m.rejExec | 1<<63
}

// CommandsMax is the most commands one Submit can produce: the caller must
// have that much room in the sequencer queue before calling Submit (else
// call RejectBusy).
func (m *Manager) CommandsMax() int {
	n := 2
	for i := range m.ref.Firms {
		n = max(n, len(m.ref.Firms[i].Accounts))
	}
	return n
}
