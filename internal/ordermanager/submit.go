package ordermanager

import (
	"math/bits"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// Submit handles one request from the gateway. Reports to send at once
// (rejects, status answers) are appended to reps; commands to sequence are
// appended to cmds: none for a reject or a status query, one normally, more
// for a kill switch or a cancel-on-disconnect (at most CommandsMax). The
// state change of an accepted request is made here by the same function
// ApplySequenced uses. The caller must sequence every command it gets back,
// in order. Cost: O(1) and no allocation for orders, cancels and replaces;
// O(open orders) for a disconnect.
func (m *Manager) Submit(req *Request, cmds []Pending, reps []Report) ([]Pending, []Report) {
	switch req.Kind {
	case ReqNew:
		return m.submitNew(req, cmds, reps)
	case ReqCancel, ReqReplace:
		return m.submitAmend(req, cmds, reps)
	case ReqStatus:
		return cmds, m.answerStatus(req, reps)
	case ReqMassStatus:
		return cmds, m.answerMassStatus(req, reps)
	case ReqMassCancel:
		return m.submitMassCancel(req, cmds, reps)
	case ReqDisconnect:
		return m.submitDisconnect(req, cmds, reps)
	case ReqKillSwitch:
		return m.submitKillSwitch(req, cmds, reps)
	case ReqHalt, ReqResume, ReqExpire, ReqPhase, ReqExpireGTD:
		return m.submitSymbolOp(req, cmds, reps)
	}
	return cmds, m.rejectReq(req, RejUnsupported, reps)
}

// RejectBusy answers a request that could not be queued with a "busy"
// reject of the request's kind. It changes no state. A status query needs
// no queue and is answered normally.
func (m *Manager) RejectBusy(req *Request, reps []Report) []Report {
	switch req.Kind {
	case ReqStatus:
		return m.answerStatus(req, reps)
	case ReqMassStatus:
		return m.answerMassStatus(req, reps)
	}
	return m.rejectReq(req, RejBusy, reps)
}

// rejectReq appends the reject report a request of req's kind gets.
func (m *Manager) rejectReq(req *Request, code RejectCode, reps []Report) []Report {
	reps = append(reps, Report{})
	p := &reps[len(reps)-1]
	p.Session, p.ExecID, p.Reject, p.RecvNs = req.Session, m.nextRejExecID(), code, req.RecvNs
	p.ClOrdID, p.OrigClOrdID, p.OrderID = req.ClOrdID, req.OrigClOrdID, req.OrderID
	p.Account, p.Symbol, p.Side, p.Type, p.TIF = req.Account, req.Symbol, req.Side, req.Type, req.TIF
	p.Price, p.OrderQty = req.Price, req.Qty
	switch req.Kind {
	case ReqNew:
		p.Kind, p.ExecType, p.OrdStatus = RepExec, ExecRejected, StatusRejected
	case ReqCancel, ReqReplace:
		p.Kind, p.OrdStatus, p.CxlRejResponseTo = RepCancelReject, StatusRejected, '1'
		if req.Kind == ReqReplace {
			p.CxlRejResponseTo = '2'
		}
		if r, _, st := m.findOrder(req); r != nil {
			p.OrdStatus, p.OrderID = r.status(), r.id
			p.Account, p.Symbol, p.Side = r.acct, r.sym, r.side
		} else if st != 0 {
			p.OrdStatus = st // too late: the order's final status
			if c, _, _ := m.findStatus(req); c != nil {
				p.OrderID, p.Account, p.Symbol, p.Side = c.id, c.acct, c.sym, c.side
			}
		}
	case ReqMassCancel:
		p.Kind = RepMassCancel
	case ReqStatus:
		p.Kind, p.ExecType, p.OrdStatus = RepExec, ExecOrderStatus, StatusRejected
	case ReqMassStatus:
		p.Kind = RepBusinessReject
		p.MassStatus.ReqID = req.ClOrdID // the gateway names AF from it
		return reps
	default:
		p.Kind = RepBusinessReject
	}
	p.RefMsgType = refMsgType(req.Kind)
	return reps
}

func refMsgType(k RequestKind) byte {
	switch k {
	case ReqNew:
		return 'D'
	case ReqCancel:
		return 'F'
	case ReqReplace:
		return 'G'
	case ReqStatus:
		return 'H'
	case ReqMassCancel:
		return 'q'
	}
	return 0
}

// session checks that req comes from a configured session of req.Firm.
func (m *Manager) session(req *Request) *refdata.Session {
	s, ok := m.ref.Session(req.Session)
	if !ok || s.Firm != req.Firm {
		return nil
	}
	return s
}

// account resolves req's account (0: the session's default) and checks it
// belongs to req.Firm.
func (m *Manager) account(req *Request, s *refdata.Session) (matching.AccountID, *acctState, RejectCode) {
	id := req.Account
	if id == 0 && s != nil {
		id = s.DefaultAccount
	}
	a := m.acct(id)
	if a == nil {
		return id, nil, RejUnknownAccount
	}
	if a.firm != req.Firm {
		return id, nil, RejWrongFirm
	}
	return id, a, RejNone
}

// push appends a command with its meta and applies its state change. If the
// apply refuses it (it cannot for a command Submit built), the command is
// dropped and false returned.
func (m *Manager) push(cmds []Pending, cmd *matching.Command, mt *meta, recvNs int64) ([]Pending, bool) {
	cmds = append(cmds, Pending{Cmd: *cmd})
	p := &cmds[len(cmds)-1]
	mt.encode(p)
	if m.apply(&p.Cmd, mt, recvNs) != nil {
		return cmds[:len(cmds)-1], false
	}
	return cmds, true
}

// mulLE reports whether a×b <= c×d for non-negative a, b, c, d, exactly.
func mulLE(a, b, c, d int64) bool {
	h1, l1 := bits.Mul64(uint64(a), uint64(b))
	h2, l2 := bits.Mul64(uint64(c), uint64(d))
	return h1 < h2 || (h1 == h2 && l1 <= l2)
}

// inBand reports whether price is within bps basis points of ref (a zero
// band or reference disables the check).
func inBand(price, ref, bps int64) bool {
	if bps == 0 || ref == 0 {
		return true
	}
	d := price - ref
	if d < 0 {
		d = -d
	}
	return mulLE(d, bpsDenom, ref, bps)
}

// bandEdge is the protection price of a market order without one: the band
// edge on the order's adverse side, ref×(1 ± bps/10000) rounded toward ref,
// at least 1 tick and at most PriceMax.
func bandEdge(side matching.Side, ref, bps int64) int64 {
	hi, lo := bits.Mul64(uint64(ref), uint64(bps))
	q, _ := bits.Div64(hi, lo, bpsDenom) // hi < bpsDenom: ref < 2^50, bps <= 10^6
	w := int64(min(q, uint64(matching.PriceMax)))
	if side == matching.Buy {
		return min(ref+w, matching.PriceMax)
	}
	return max(ref-w, 1)
}

func validOrderFields(side matching.Side, typ matching.OrderType, tif matching.TimeInForce, stp matching.STPMode, postOnly bool) RejectCode {
	if r := matching.ValidEnums(side, typ, tif, stp); r != matching.ReasonNone {
		return engineReject(r)
	}
	if postOnly && (typ != matching.Limit || tif == matching.IOC || tif == matching.FOK ||
		tif == matching.AtOpen || tif == matching.AtClose) {
		return RejPostOnlyNotAllowed
	}
	return RejNone
}

// checkDayFields checks a new order's stop price, iceberg peak and GTD
// expiry the way the engine will, so that a client hears why at once. An
// expiry already past is the engine's to refuse: only it knows the
// sequencer's time.
func checkDayFields(req *Request) RejectCode {
	stop := req.Type == matching.Stop || req.Type == matching.StopLimit
	switch {
	case stop != (req.StopPrice != 0) || req.StopPrice < 0 || req.StopPrice > matching.PriceMax:
		return RejInvalidStopPrice
	case stop && (req.TIF == matching.AtOpen || req.TIF == matching.AtClose):
		return RejInvalidTIF
	case req.Display != 0 && (req.Display < 0 || req.Display >= req.Qty || req.Type != matching.Limit ||
		(req.TIF != matching.GTC && req.TIF != matching.Day && req.TIF != matching.GTD)):
		return RejInvalidDisplay
	case (req.TIF == matching.GTD) != (req.ExpireNs != 0):
		return RejInvalidExpiry
	}
	return RejNone
}

// checkNew runs the risk checks of a new order in a fixed order and returns
// the first that fails, with the price the command carries (a market
// order's derived protection price).
func (m *Manager) checkNew(req *Request) (matching.AccountID, int64, RejectCode) {
	sess := m.session(req)
	if sess == nil {
		return 0, 0, RejUnknownSession
	}
	if req.ClOrdID.IsZero() {
		return 0, 0, RejInvalidClOrdID
	}
	acctID, a, code := m.account(req, sess)
	if code != RejNone {
		return acctID, 0, code
	}
	if _, dup := m.cl.lookup(req.Session, req.ClOrdID); dup {
		return acctID, 0, RejDuplicateClOrdID
	}
	s := m.sym(req.Symbol)
	if s == nil {
		return acctID, 0, RejUnknownSymbol
	}
	if code := validOrderFields(req.Side, req.Type, req.TIF, req.STP, req.PostOnly); code != RejNone {
		return acctID, 0, code
	}
	if a.kill {
		return acctID, 0, RejKillSwitch
	}
	if s.halted {
		return acctID, 0, RejHalted
	}
	if req.Qty <= 0 || req.Qty > matching.QtyMax {
		return acctID, 0, RejInvalidQty
	}
	if req.Qty > a.lim.MaxOrderLots {
		return acctID, 0, RejMaxOrderLots
	}
	if code := checkDayFields(req); code != RejNone {
		return acctID, 0, code
	}
	price := req.Price
	limit := req.Type == matching.Limit || req.Type == matching.StopLimit
	if price < 0 || price > matching.PriceMax || (limit && price == 0) {
		return acctID, 0, RejInvalidPrice
	}
	ref := s.reference()
	if req.StopPrice != 0 {
		// A stop order is reserved and banded around the price it triggers
		// at, not the price of now.
		ref = req.StopPrice
	}
	if price == 0 { // market (or stop) order without protection
		if a.lim.RequireMarketProtection {
			return acctID, 0, RejNoProtection
		}
		if a.lim.PriceBandBps == 0 || ref == 0 {
			return acctID, 0, RejNoReference
		}
		price = bandEdge(req.Side, ref, a.lim.PriceBandBps)
	} else if !inBand(price, ref, a.lim.PriceBandBps) {
		return acctID, 0, RejPriceBand
	}
	n, ok := notional(price, req.Qty, s.cpt)
	if !ok || n > a.lim.MaxOrderNotional {
		return acctID, 0, RejMaxNotional
	}
	if int(a.open) >= a.lim.MaxOpenOrders {
		return acctID, 0, RejMaxOpenOrders
	}
	if code := m.checkFunds(a, req.Side, req.Symbol, n+feeCeil(n, a.resBps), req.Qty); code != RejNone {
		return acctID, 0, code
	}
	return acctID, price, RejNone
}

// checkFunds checks that a can reserve cash (a buy) or lots (a sell).
func (m *Manager) checkFunds(a *acctState, side matching.Side, sym matching.SymbolID, cash, lots int64) RejectCode {
	if side == matching.Buy {
		if cash > a.cash-a.cashRes {
			return RejInsufficientCash
		}
		return RejNone
	}
	free := a.hold[sym-1] - a.holdRes[sym-1]
	if !a.lim.AllowShort {
		if lots > free {
			return RejInsufficientHoldings
		}
	} else if free-lots < -a.lim.ShortLimitLots {
		return RejShortLimit
	}
	return RejNone
}

func (m *Manager) submitNew(req *Request, cmds []Pending, reps []Report) ([]Pending, []Report) {
	acctID, price, code := m.checkNew(req)
	if code != RejNone {
		return cmds, m.rejectReq(req, code, reps)
	}
	cmd := matching.Command{
		Kind: matching.CmdNew, Side: req.Side, Type: req.Type, TIF: req.TIF, STP: req.STP, PostOnly: req.PostOnly,
		Symbol: req.Symbol, Account: acctID, OrderID: m.nextOrderID, Price: price, Qty: req.Qty,
		StopPrice: req.StopPrice, Display: req.Display, ExpireNs: req.ExpireNs,
	}
	mt := meta{op: opNew, session: req.Session, cl: req.ClOrdID}
	var ok bool
	if cmds, ok = m.push(cmds, &cmd, &mt, req.RecvNs); !ok {
		return cmds, m.rejectReq(req, RejUnsupported, reps)
	}
	return cmds, reps
}

// findOrder finds the open order a cancel, replace or status request names,
// by OrigClOrdID (in the request's session) or else by OrderID, among the
// orders of the request's firm only. For a closed order still remembered it
// returns RejTooLate and the order's final status.
func (m *Manager) findOrder(req *Request) (*orderRec, RejectCode, byte) {
	id := req.OrderID
	known := false
	var st byte
	if !req.OrigClOrdID.IsZero() {
		e, ok := m.cl.lookup(req.Session, req.OrigClOrdID)
		if !ok || e.order == 0 || (id != 0 && id != e.order) {
			return nil, RejUnknownOrder, 0
		}
		id, known, st = e.order, true, e.status
	}
	if id == 0 {
		return nil, RejUnknownOrder, 0
	}
	r := m.order(id)
	if r == nil {
		if c, cst, ok := m.closed.get(id); ok && m.accts[c.acct-1].firm == req.Firm {
			if st == 0 {
				st = cst
			}
			return nil, RejTooLate, st
		}
		if known {
			return nil, RejTooLate, st
		}
		return nil, RejUnknownOrder, 0
	}
	if m.accts[r.acct-1].firm != req.Firm {
		return nil, RejUnknownOrder, 0
	}
	return r, RejNone, 0
}

func (m *Manager) submitAmend(req *Request, cmds []Pending, reps []Report) ([]Pending, []Report) {
	sess := m.session(req)
	if sess == nil {
		return cmds, m.rejectReq(req, RejUnknownSession, reps)
	}
	if req.ClOrdID.IsZero() {
		return cmds, m.rejectReq(req, RejInvalidClOrdID, reps)
	}
	if _, dup := m.cl.lookup(req.Session, req.ClOrdID); dup {
		return cmds, m.rejectReq(req, RejDuplicateClOrdID, reps)
	}
	r, code, _ := m.findOrder(req)
	if code != RejNone {
		return cmds, m.rejectReq(req, code, reps)
	}
	// Chained amends: with cancels or replaces in flight the request joins
	// the end of the order's chain and applies to the order as the last
	// replace leaves it. Nothing may follow a cancel, and the chain is
	// bounded.
	prevQty, prevPrice, orig := r.qty, r.price, r.cl
	if r.pending {
		tail, n := m.tailOp(r.id)
		switch {
		case n >= AmendsInFlightMax:
			return cmds, m.rejectReq(req, RejPending, reps)
		case tail != nil && !tail.replace:
			return cmds, m.rejectReq(req, RejCancelPending, reps)
		case tail != nil:
			prevQty, prevPrice, orig = tail.qty, tail.price, tail.cl
		}
	}
	cmd := matching.Command{Kind: matching.CmdCancel, OrderID: r.id, Symbol: r.sym, Account: r.acct, Side: r.side}
	mt := meta{op: opCancel, session: req.Session, cl: req.ClOrdID, orig: orig}
	if req.Kind == ReqReplace {
		var hold, price int64
		if hold, price, code = m.checkReplace(req, r, prevQty, prevPrice); code != RejNone {
			return cmds, m.rejectReq(req, code, reps)
		}
		// A waiting stop or stop-limit order is replaced with its (new) stop
		// price; once triggered it is a market or limit order and takes none
		// (the engine refuses the replace then: RejInvalidStopPrice).
		cmd.Kind, cmd.Price, cmd.Qty, cmd.StopPrice = matching.CmdReplace, price, req.Qty, req.StopPrice
		mt.op, mt.hold = opReplace, hold
	}
	var ok bool
	if cmds, ok = m.push(cmds, &cmd, &mt, req.RecvNs); !ok {
		return cmds, m.rejectReq(req, RejUnsupported, reps)
	}
	return cmds, reps
}

// checkReplace runs the risk checks of a replace of r that applies after
// the previous link of its chain (prevQty total lots at prevPrice: the last
// replace in flight, or the order itself) and returns what it must hold
// until the engine answers and the price the command carries.
//
// A limit order is replaced at a new limit price, banded around the
// reference price. A stop or stop-limit order, while it waits, is replaced
// with a stop price (StopPrice) and, like a new one, reserved and banded
// around that stop price: a stop-limit at its new limit price, a stop
// (market) order at its protection price, or at the band edge when the
// replace gives none (as a new stop order without one).
func (m *Manager) checkReplace(req *Request, r *orderRec, prevQty, prevPrice int64) (int64, int64, RejectCode) {
	a, s := &m.accts[r.acct-1], &m.syms[r.sym-1]
	stop := r.typ == matching.Stop || r.typ == matching.StopLimit
	switch {
	case (req.Symbol != 0 && req.Symbol != r.sym) || (req.Side != 0 && req.Side != r.side) ||
		(req.Account != 0 && req.Account != r.acct) || (req.Type != 0 && req.Type != r.typ):
		return 0, 0, RejReplaceMismatch
	case r.typ != matching.Limit && !stop:
		return 0, 0, RejNotReplaceable
	case a.kill:
		return 0, 0, RejKillSwitch
	case s.halted:
		return 0, 0, RejHalted
	case req.Qty <= 0 || req.Qty > matching.QtyMax:
		return 0, 0, RejInvalidQty
	case req.Qty > a.lim.MaxOrderLots:
		return 0, 0, RejMaxOrderLots
	case stop != (req.StopPrice != 0) || req.StopPrice < 0 || req.StopPrice > matching.PriceMax:
		return 0, 0, RejInvalidStopPrice
	}
	price, ref := req.Price, s.reference()
	if stop {
		ref = req.StopPrice
	}
	switch {
	case price == 0 && r.typ == matching.Stop:
		switch {
		case a.lim.RequireMarketProtection:
			return 0, 0, RejNoProtection
		case a.lim.PriceBandBps == 0:
			return 0, 0, RejNoReference
		}
		price = bandEdge(r.side, ref, a.lim.PriceBandBps)
	case price <= 0 || price > matching.PriceMax:
		return 0, 0, RejInvalidPrice
	case !inBand(price, ref, a.lim.PriceBandBps):
		return 0, 0, RejPriceBand
	}
	n, ok := notional(price, req.Qty, s.cpt)
	if !ok || n > a.lim.MaxOrderNotional {
		return 0, 0, RejMaxNotional
	}
	hold := holdFor(a, s, r.side, r.filled, prevQty, prevPrice, req.Qty, price)
	if r.side == matching.Sell {
		return hold, price, m.checkFunds(a, r.side, r.sym, 0, hold)
	}
	return hold, price, m.checkFunds(a, r.side, r.sym, hold, 0)
}

// holdFor is what a replace to newQty total lots at newPrice must hold on
// top of what the previous link leaves reserved (prevQty total lots at
// prevPrice), with filled lots filled now, whatever fills happen before the
// engine applies it.
//
// Let Lo = prevQty - filled (at least 0) be the leaves the previous link
// leaves and Ln = newQty - filled the leaves after this one. Fills of d lots
// before it leave Lo-d and Ln-d, and consume the previous reservation as
// they go; self-trade reductions in the meantime are held by the first
// link (see onCancelled). For a buy the shortfall f(d) = need(Ln-d, p') -
// need(Lo-d, p) is linear in d up to the fee rounding (±1) while both are
// positive, falls past Ln and grows no more past Lo, so its maximum over d
// is at d = 0 or d = min(Ln, Lo). For a sell it is Ln-Lo whatever d is. A
// replace to Ln <= 0 closes the order and holds nothing.
//
// Along a chain the shortfalls add up: if a link is rejected by the engine
// the next applies to the order as the link before left it, and needs at
// most the sum of both holds, which is why a rejected link hands its hold
// on (takeOp).
func holdFor(a *acctState, s *symState, side matching.Side, filled, prevQty, prevPrice, newQty, newPrice int64) int64 {
	ln, lo := newQty-filled, max(0, prevQty-filled)
	if ln <= 0 {
		return 0 // the engine will close the order
	}
	if side == matching.Sell {
		return max(0, ln-lo)
	}
	d := min(ln, lo)
	f0 := needCash(a, s, ln, newPrice) - needCash(a, s, lo, prevPrice)
	f1 := needCash(a, s, ln-d, newPrice) - needCash(a, s, lo-d, prevPrice)
	worst := max(f0, f1)
	if a.resBps > 0 {
		worst++
	}
	return max(0, worst)
}

// answerStatus answers an order status request from state (ExecType 'I')
// with the order's complete state: an open order, or a closed one still
// remembered (closed.go), found by any ClOrdID it has had that is still
// remembered or by OrderID. An order known only by its ClOrdID (closed
// before the newest snapshot, or longer ago than closedOrdersRetained) is
// answered as unknown order: a report without the order's Side, quantity
// and prices would be refused by a validating client.
func (m *Manager) answerStatus(req *Request, reps []Report) []Report {
	if m.session(req) == nil {
		return m.rejectReq(req, RejUnknownSession, reps)
	}
	r, st, code := m.findStatus(req)
	if r == nil {
		return m.rejectReq(req, code, reps)
	}
	reps, p := m.appendExec(reps, r, ExecOrderStatus, st, m.nextRejExecID(), 0)
	p.Session, p.RecvNs = req.Session, req.RecvNs
	return reps
}

// findStatus finds the order a status request names, open or closed and
// remembered, among its firm's: by OrigClOrdID (the request's ClOrdID, any
// of the order's chain) in the request's session, else by OrderID. It
// returns the order and its OrdStatus.
func (m *Manager) findStatus(req *Request) (*orderRec, byte, RejectCode) {
	id := req.OrderID
	if !req.OrigClOrdID.IsZero() {
		e, ok := m.cl.lookup(req.Session, req.OrigClOrdID)
		if !ok || e.order == 0 || (id != 0 && id != e.order) {
			return nil, 0, RejUnknownOrder
		}
		id = e.order
	}
	if id == 0 {
		return nil, 0, RejUnknownOrder
	}
	r, st := m.order(id), byte(0)
	if r != nil {
		st = r.status()
	} else if c, cst, ok := m.closed.get(id); ok {
		r, st = &c, cst
	}
	if r == nil || m.accts[r.acct-1].firm != req.Firm {
		return nil, 0, RejUnknownOrder
	}
	return r, st, RejNone
}

func (m *Manager) submitMassCancel(req *Request, cmds []Pending, reps []Report) ([]Pending, []Report) {
	sess := m.session(req)
	if sess == nil {
		return cmds, m.rejectReq(req, RejUnknownSession, reps)
	}
	acctID, a, code := m.account(req, sess)
	switch {
	case code != RejNone:
	case req.Symbol != 0 && m.sym(req.Symbol) == nil:
		code = RejUnknownSymbol
	case len(a.massWait) >= massCancelsPendingMax:
		code = RejMassCancelPending
	case !req.ClOrdID.IsZero():
		if _, dup := m.cl.lookup(req.Session, req.ClOrdID); dup {
			code = RejDuplicateClOrdID
		}
	}
	if code != RejNone {
		return cmds, m.rejectReq(req, code, reps)
	}
	cmd := matching.Command{Kind: matching.CmdMassCancel, Account: acctID, Symbol: req.Symbol}
	mt := meta{op: opMassCancel, session: req.Session, flags: flagReport, cl: req.ClOrdID}
	cmds, _ = m.push(cmds, &cmd, &mt, req.RecvNs)
	return cmds, reps
}

// submitDisconnect cancels, when the session has cancel-on-disconnect, the
// open orders of every account the session has open orders in, with one
// mass cancel per account (which also cancels other sessions' orders in a
// shared account). O(open orders).
func (m *Manager) submitDisconnect(req *Request, cmds []Pending, reps []Report) ([]Pending, []Report) {
	sess, ok := m.ref.Session(req.Session)
	if !ok {
		return cmds, m.rejectReq(req, RejUnknownSession, reps)
	}
	if !sess.CancelOnDisconnect {
		return cmds, reps
	}
	firm, ok := m.ref.Firm(sess.Firm)
	if !ok {
		return cmds, reps
	}
	if len(m.marks) < len(m.accts) {
		m.marks = make([]bool, len(m.accts))
	}
	for i := range int32(m.orders.len()) {
		if r := m.orders.at(i); r.id != 0 && r.session == req.Session {
			m.marks[r.acct-1] = true
		}
	}
	for _, acctID := range firm.Accounts {
		if m.marks[acctID-1] {
			cmd := matching.Command{Kind: matching.CmdMassCancel, Account: acctID}
			mt := meta{op: opMassCancel, session: req.Session}
			cmds, _ = m.push(cmds, &cmd, &mt, req.RecvNs)
		}
	}
	clear(m.marks)
	return cmds, reps
}

func (m *Manager) submitKillSwitch(req *Request, cmds []Pending, reps []Report) ([]Pending, []Report) {
	a := m.acct(req.Account)
	if a == nil {
		return cmds, m.rejectReq(req, RejUnknownAccount, reps)
	}
	if req.Firm != 0 && a.firm != req.Firm {
		return cmds, m.rejectReq(req, RejWrongFirm, reps)
	}
	cmd := matching.Command{Kind: matching.CmdAdmin, Account: req.Account}
	mt := meta{op: opKillOff, session: req.Session}
	if req.On {
		mt.op = opKillOn
	}
	cmds, _ = m.push(cmds, &cmd, &mt, req.RecvNs)
	if req.On {
		cmd = matching.Command{Kind: matching.CmdMassCancel, Account: req.Account}
		mt = meta{op: opMassCancel, session: req.Session}
		cmds, _ = m.push(cmds, &cmd, &mt, req.RecvNs)
	}
	return cmds, reps
}

func (m *Manager) submitSymbolOp(req *Request, cmds []Pending, reps []Report) ([]Pending, []Report) {
	if m.sym(req.Symbol) == nil && !(req.Kind != ReqHalt && req.Kind != ReqResume && req.Symbol == 0) {
		return cmds, m.rejectReq(req, RejUnknownSymbol, reps)
	}
	cmd := matching.Command{Kind: matching.CmdHalt, Symbol: req.Symbol}
	mt := meta{op: opHalt, session: req.Session}
	switch req.Kind {
	case ReqResume:
		cmd.Kind, mt.op = matching.CmdResume, opResume
	case ReqExpire:
		cmd.Kind, mt.op = matching.CmdExpire, opExpire
	case ReqPhase:
		cmd.Kind, cmd.Phase, mt.op = matching.CmdPhase, req.Phase, opPhase
	case ReqExpireGTD:
		cmd.Kind, mt.op = matching.CmdExpireGTD, opExpireGTD
	}
	cmds, _ = m.push(cmds, &cmd, &mt, req.RecvNs)
	return cmds, reps
}
