package ordermanager

import "github.com/exchange-sim/exchange/matching"

// ExecIDs of reports caused by engine events are derived from the event's
// OutSeq, so they are the same live and in replay: OutSeq×2 for the order
// the event is about (the taker of a trade), OutSeq×2+1 for a trade's maker.

// OnEvent advances order state and wallets from one engine event and appends
// the reports it causes. Events must arrive in OutSeq order. Cost: O(1); no
// allocation in steady state.
func (m *Manager) OnEvent(ev *matching.Event, reps []Report) []Report {
	start := len(reps)
	reps = m.onEvent(ev, reps)
	for i := start; i < len(reps); i++ {
		reps[i].OutSeq = ev.OutSeq
	}
	return reps
}

func (m *Manager) onEvent(ev *matching.Event, reps []Report) []Report {
	switch ev.Kind {
	case matching.EvAccepted:
		m.taker = ev.OrderID
		if r := m.order(ev.OrderID); r != nil {
			reps, _ = m.appendExec(reps, r, ExecNew, StatusNew, ev.OutSeq*2, ev.TimeNs)
		}
	case matching.EvRejected:
		reps = m.onRejected(ev, reps)
	case matching.EvTrade:
		reps = m.onTrade(ev, reps)
	case matching.EvCancelled:
		reps = m.onCancelled(ev, reps)
	case matching.EvReplaced:
		if !ev.PriorityKept {
			m.taker = ev.OrderID // it re-enters the book and may trade
		}
		reps = m.onReplaced(ev, reps)
	case matching.EvHalted, matching.EvResumed:
		if s := m.sym(ev.Symbol); s != nil {
			s.halted = ev.Kind == matching.EvHalted
			reps = m.appendSecurityStatus(reps, ev)
		}
	case matching.EvMassCancelled:
		reps = m.onMassCancelled(ev, reps)
	case matching.EvPhase:
		if s := m.sym(ev.Symbol); s != nil {
			s.phase = ev.Phase
		}
	case matching.EvTriggered:
		if r := m.order(ev.OrderID); r != nil {
			reps, _ = m.appendExec(reps, r, ExecTriggered, StatusNew, ev.OutSeq*2, ev.TimeNs)
		}
	}
	return reps
}

// appendExec appends an execution report about r and returns a pointer to
// it for the caller to complete.
func (m *Manager) appendExec(reps []Report, r *orderRec, execType, status byte, execID uint64, ns int64) ([]Report, *Report) {
	reps = append(reps, Report{})
	p := &reps[len(reps)-1]
	p.Kind, p.Session, p.ExecType, p.OrdStatus, p.ExecID = RepExec, r.session, execType, status, execID
	p.OrderID, p.ClOrdID, p.OrigClOrdID, p.Account, p.Symbol = r.id, r.cl, r.orig, r.acct, r.sym
	p.Side, p.Type, p.TIF, p.Price, p.OrderQty = r.side, r.typ, r.tif, r.price, r.qty
	p.CumQty, p.Leaves, p.CumTicksLots = r.filled, r.leaves, r.cumTL
	p.TransactNs, p.RecvNs = ns, r.recvNs
	return reps, p
}

// closeOrder ends r with final status st: its ClOrdID is retired and its
// record returned to the slab. Cancels and replaces in flight stay in m.ops
// until the engine answers them (it rejects them: unknown order).
func (m *Manager) closeOrder(r *orderRec, st byte) {
	m.closed.add(r, st)
	m.accts[r.acct-1].open--
	m.cl.retire(r.session, r.cl, r.clRef, st, r.clEnt)
	m.dropOrder(r.id)
}

// takeOp removes and returns the oldest cancel or replace in flight for
// order id (r, nil when the order is closed): the one the engine's answer
// at hand is about, since the engine answers an order's commands in order.
// What it holds is released, or, with passOn, handed to the next link of
// the chain if there is one (a rejected link: the next one then applies to
// the order as it was before, see onRejected). An open order has links in
// flight exactly when r.pending is set, which saves the lookup.
func (m *Manager) takeOp(id matching.OrderID, r *orderRec, passOn bool) (opRec, bool) {
	if r != nil && !r.pending {
		return opRec{}, false
	}
	op, next, ok := m.popOp(id)
	if !ok {
		return op, false
	}
	if op.hold != 0 {
		if passOn && next != nil {
			next.hold += op.hold
		} else if a := m.acct(op.acct); a != nil {
			m.reserve(a, op.side, op.sym, -op.hold)
		}
	}
	if r != nil && next == nil {
		r.pending = false
	}
	return op, true
}

func (m *Manager) onRejected(ev *matching.Event, reps []Report) []Report {
	code := engineReject(ev.Reason)
	switch ev.Cmd {
	case matching.CmdNew:
		r := m.order(ev.OrderID)
		if r == nil {
			return reps
		}
		m.reserve(&m.accts[r.acct-1], r.side, r.sym, -m.reservation(r, r.leaves, r.price))
		r.leaves = 0
		var p *Report
		reps, p = m.appendExec(reps, r, ExecRejected, StatusRejected, ev.OutSeq*2, ev.TimeNs)
		p.Reject = code
		m.closeOrder(r, StatusRejected)
	case matching.CmdCancel, matching.CmdReplace:
		// A rejected link passes its hold on to the next link of the chain:
		// that one was checked against this link's price and quantity but
		// now applies to the order as it was before (a replace rejected
		// because the symbol halted, say), and the two holds together cover
		// that.
		r := m.order(ev.OrderID)
		op, ok := m.takeOp(ev.OrderID, r, true)
		if !ok {
			return reps
		}
		// For a closed order the final status is the one its ClOrdID before
		// this link was retired with (the order's, or an earlier link's
		// rejected after the close); this link's ClOrdID keeps it for the
		// next link and for "too late" answers.
		st := byte(0)
		if r == nil {
			st = StatusCanceled
			if e, ok := m.cl.lookup(op.session, op.orig); ok && e.order == ev.OrderID && e.status != 0 {
				st = e.status
			}
		}
		m.cl.retire(op.session, op.cl, op.clRef, st, op.clEnt)
		reps = append(reps, Report{})
		p := &reps[len(reps)-1]
		p.Kind, p.Session, p.ExecID, p.Reject = RepCancelReject, op.session, ev.OutSeq*2, code
		p.OrderID, p.ClOrdID, p.OrigClOrdID = ev.OrderID, op.cl, op.orig
		p.Account, p.Symbol, p.Side = op.acct, op.sym, op.side
		p.CxlRejResponseTo = '1'
		if op.replace {
			p.CxlRejResponseTo = '2'
			p.Price, p.OrderQty = op.price, op.qty
		}
		p.TransactNs, p.RecvNs = ev.TimeNs, op.recvNs
		if r != nil {
			p.OrdStatus, p.CumQty, p.Leaves, p.CumTicksLots = r.status(), r.filled, r.leaves, r.cumTL
		} else {
			p.OrdStatus = st
		}
	case matching.CmdMassCancel:
		if a := m.acct(ev.Account); a != nil && len(a.massWait) > 0 {
			op := m.popMass(a)
			if op.report {
				reps = m.appendMass(reps, &op, ev, code)
			}
		}
	}
	return reps
}

func (m *Manager) popMass(a *acctState) massOp {
	op := a.massWait[0]
	n := copy(a.massWait, a.massWait[1:])
	a.massWait = a.massWait[:n]
	m.cl.retire(op.session, op.cl, op.clRef, 0, op.clEnt)
	return op
}

func (m *Manager) appendMass(reps []Report, op *massOp, ev *matching.Event, code RejectCode) []Report {
	reps = append(reps, Report{})
	p := &reps[len(reps)-1]
	p.Kind, p.Session, p.ExecID, p.ClOrdID = RepMassCancel, op.session, ev.OutSeq*2, op.cl
	p.Account, p.Symbol, p.Reject = ev.Account, op.symbol, code
	if code == RejNone {
		p.MassCancelled = ev.Qty
	}
	p.TransactNs, p.RecvNs, p.RefMsgType = ev.TimeNs, op.recvNs, 'q'
	return reps
}

func (m *Manager) onMassCancelled(ev *matching.Event, reps []Report) []Report {
	if ev.Account == 0 { // the end of an expiry
		return reps
	}
	a := m.acct(ev.Account)
	if a == nil || len(a.massWait) == 0 {
		return reps
	}
	op := m.popMass(a)
	if op.report {
		reps = m.appendMass(reps, &op, ev, RejNone)
	}
	return reps
}

func (m *Manager) onTrade(ev *matching.Event, reps []Report) []Report {
	s := m.sym(ev.Symbol)
	if s == nil {
		return reps
	}
	s.last = ev.Price
	n := ev.Qty * ev.Price * s.cpt
	if r := m.order(ev.OrderID); r != nil {
		reps = m.fill(r, ev, n, false, ev.Leaves, reps)
	}
	if r := m.order(ev.MakerOrderID); r != nil {
		// In an auction there is no maker: both sides pay the taker fee.
		reps = m.fill(r, ev, n, ev.Flags&matching.FlagAuction == 0, ev.MakerLeaves, reps)
	}
	return reps
}

// fill settles one side of a trade of notional n: cash and holdings move,
// the fee goes to the exchange, and the reservation shrinks to what the
// remaining leaves need (releasing any price improvement).
func (m *Manager) fill(r *orderRec, ev *matching.Event, n int64, maker bool, leaves int64, reps []Report) []Report {
	a := &m.accts[r.acct-1]
	bps, execID := a.takerBps, ev.OutSeq*2
	if maker {
		bps = a.makerBps
	}
	if r.id == ev.MakerOrderID {
		execID++
	}
	fee := feeOf(n, bps)
	old := m.reservation(r, r.leaves, r.price)
	r.filled += ev.Qty
	r.leaves = leaves
	r.cumTL += ev.Qty * ev.Price
	m.reserve(a, r.side, r.sym, m.reservation(r, r.leaves, r.price)-old)
	if r.side == matching.Buy {
		a.cash -= n + fee
		a.hold[r.sym-1] += ev.Qty
	} else {
		a.cash += n - fee
		a.hold[r.sym-1] -= ev.Qty
	}
	m.fees += fee
	st := StatusPartiallyFilled
	if leaves == 0 {
		st = StatusFilled
	}
	var p *Report
	reps, p = m.appendExec(reps, r, ExecTrade, st, execID, ev.TimeNs)
	p.LastPx, p.LastQty, p.Fee = ev.Price, ev.Qty, fee
	p.Auction = ev.Flags&matching.FlagAuction != 0
	if leaves == 0 {
		m.closeOrder(r, StatusFilled)
	}
	return reps
}

func (m *Manager) onCancelled(ev *matching.Event, reps []Report) []Report {
	r := m.order(ev.OrderID)
	if r == nil {
		return reps
	}
	a := &m.accts[r.acct-1]
	old := m.reservation(r, r.leaves, r.price)
	r.leaves = ev.Leaves
	if ev.Leaves > 0 {
		r.qty = r.filled + r.leaves // reduced in place (self-trade decrement)
	}
	released := old - m.reservation(r, r.leaves, r.price)
	var next *opRec
	if ev.Leaves > 0 && r.pending { // only a reduction in place looks at the chain
		next = m.headOp(r.id)
	}
	if next != nil && next.replace {
		// A replace is next in the chain: keep what the reduction frees held
		// for it, since the replace restores the quantity (see holdFor).
		next.hold += released
	} else {
		m.reserve(a, r.side, r.sym, -released)
	}
	execType, st := ExecCanceled, StatusCanceled
	var op opRec
	var haveOp bool
	switch ev.Reason {
	case matching.ReasonUser, matching.ReasonReplacedToFilled:
		op, haveOp = m.takeOp(r.id, r, false)
		if ev.Reason == matching.ReasonReplacedToFilled {
			execType, st = ExecReplaced, StatusFilled
			r.qty = r.filled
		}
	case matching.ReasonExpired:
		execType, st = ExecExpired, StatusExpired
	case matching.ReasonSelfTrade:
		if ev.Leaves > 0 {
			execType, st = ExecRestated, r.status()
		}
	}
	var p *Report
	reps, p = m.appendExec(reps, r, execType, st, ev.OutSeq*2, ev.TimeNs)
	p.Cancel = m.cancelReason(ev, r)
	if haveOp {
		p.Session, p.ClOrdID, p.OrigClOrdID, p.RecvNs = op.session, op.cl, op.orig, op.recvNs
		if op.replace {
			p.Price = op.price
		}
	}
	if ev.Leaves == 0 {
		m.closeOrder(r, st)
		if haveOp {
			m.cl.retire(op.session, op.cl, op.clRef, st, op.clEnt)
		}
	}
	return reps
}

func (m *Manager) onReplaced(ev *matching.Event, reps []Report) []Report {
	r := m.order(ev.OrderID)
	if r == nil {
		return reps
	}
	a := &m.accts[r.acct-1]
	old := m.reservation(r, r.leaves, r.price)
	op, haveOp := m.takeOp(r.id, r, false) // releases its hold
	r.price, r.qty, r.leaves = ev.Price, ev.Qty, ev.Leaves
	m.reserve(a, r.side, r.sym, m.reservation(r, r.leaves, r.price)-old)
	if haveOp {
		m.cl.retire(r.session, r.cl, r.clRef, 0, r.clEnt)
		r.session, r.orig, r.cl, r.clRef, r.clEnt, r.recvNs = op.session, op.orig, op.cl, op.clRef, op.clEnt, op.recvNs
	}
	reps, _ = m.appendExec(reps, r, ExecReplaced, r.status(), ev.OutSeq*2, ev.TimeNs)
	return reps
}
