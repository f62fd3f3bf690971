package matching

import (
	"cmp"
	"slices"
)

// refModel is a deliberately simple second implementation of the matching
// rules: every open order of every symbol in one slice, found by linear
// scans, sorted afresh whenever an order of priority matters. It is slow and
// obviously right, and the differential test holds the engine to it event for
// event.
type refModel struct {
	symbols int
	halted  []bool
	open    []*refOrder
	outSeq  uint64
	matchID uint64
	arrival uint64 // time priority: higher is younger
	cmd     Command
	out     []Event
}

type refOrder struct {
	id                  OrderID
	account             AccountID
	group               uint32
	symbol              SymbolID
	side                Side
	tif                 TimeInForce
	stp                 STPMode
	postOnly            bool
	price               int64
	qty, filled, leaves int64
	arrival             uint64
}

func newRefModel(symbols int) *refModel {
	return &refModel{symbols: symbols, halted: make([]bool, symbols+1)}
}

// ahead reports whether a has priority over b (same symbol and side).
func ahead(a, b *refOrder) bool {
	if a.price != b.price {
		if a.side == Buy {
			return a.price > b.price
		}
		return a.price < b.price
	}
	return a.arrival < b.arrival
}

// bookOrder orders everything the way mass cancel walks it: symbol, bids
// before asks, then priority.
func bookOrder(a, b *refOrder) int {
	if c := cmp.Compare(a.symbol, b.symbol); c != 0 {
		return c
	}
	if c := cmp.Compare(a.side, b.side); c != 0 {
		return c
	}
	if ahead(a, b) {
		return -1
	}
	if ahead(b, a) {
		return 1
	}
	return 0
}

func (m *refModel) find(id OrderID) *refOrder {
	for _, o := range m.open {
		if o.id == id {
			return o
		}
	}
	return nil
}

func (m *refModel) remove(o *refOrder) {
	i := slices.Index(m.open, o)
	m.open = slices.Delete(m.open, i, i+1)
}

// opposite returns the orders t could trade with, best first.
func (m *refModel) opposite(t *refOrder) []*refOrder {
	var r []*refOrder
	for _, o := range m.open {
		if o.symbol == t.symbol && o.side != t.side && (t.price == 0 || (t.side == Buy && o.price <= t.price) || (t.side == Sell && o.price >= t.price)) {
			r = append(r, o)
		}
	}
	slices.SortFunc(r, func(a, b *refOrder) int {
		if ahead(a, b) {
			return -1
		}
		return 1
	})
	return r
}

func (m *refModel) ev(ev Event) {
	m.outSeq++
	ev.OutSeq, ev.InSeq, ev.TimeNs, ev.Cmd = m.outSeq, m.cmd.Seq, m.cmd.TimeNs, m.cmd.Kind
	m.out = append(m.out, ev)
}

func (m *refModel) orderEv(k EventKind, o *refOrder, r Reason, qty, leaves int64) {
	m.ev(Event{Kind: k, Side: o.side, Reason: r, Symbol: o.symbol, Account: o.account, OrderID: o.id, Price: o.price, Qty: qty, Leaves: leaves})
}

func (m *refModel) reject(r Reason) {
	c := m.cmd
	m.ev(Event{Kind: EvRejected, Side: c.Side, Reason: r, Symbol: c.Symbol, Account: c.Account, OrderID: c.OrderID, Price: c.Price, Qty: c.Qty})
}

func (m *refModel) knownSymbol(s SymbolID) bool { return s >= 1 && int(s) <= m.symbols }

func (m *refModel) apply(c Command) []Event {
	m.cmd = c
	m.out = nil
	switch c.Kind {
	case CmdNew:
		m.newOrder()
	case CmdCancel:
		if o := m.target(); o != nil {
			m.orderEv(EvCancelled, o, ReasonUser, o.leaves, 0)
			m.remove(o)
		}
	case CmdReplace:
		m.replace()
	case CmdMassCancel:
		switch {
		case c.Symbol != 0 && !m.knownSymbol(c.Symbol):
			m.reject(ReasonUnknownSymbol)
		case c.Account == 0:
			m.reject(ReasonWrongAccount)
		default:
			m.cancelWhere(func(o *refOrder) bool { return o.account == c.Account }, ReasonMassCancel)
		}
	case CmdHalt, CmdResume:
		if !m.knownSymbol(c.Symbol) {
			m.reject(ReasonUnknownSymbol)
		} else if c.Kind == CmdHalt {
			m.halted[c.Symbol] = true
			m.ev(Event{Kind: EvHalted, Symbol: c.Symbol})
		} else {
			m.halted[c.Symbol] = false
			m.ev(Event{Kind: EvResumed, Symbol: c.Symbol})
		}
	case CmdExpire:
		if c.Symbol != 0 && !m.knownSymbol(c.Symbol) {
			m.reject(ReasonUnknownSymbol)
		} else {
			m.cancelWhere(func(o *refOrder) bool { return o.tif == Day }, ReasonExpired)
		}
	case CmdAdmin:
	default:
		m.reject(ReasonInvalidCommand)
	}
	return m.out
}

func (m *refModel) cancelWhere(match func(*refOrder) bool, r Reason) {
	var hit []*refOrder
	for _, o := range m.open {
		if (m.cmd.Symbol == 0 || o.symbol == m.cmd.Symbol) && match(o) {
			hit = append(hit, o)
		}
	}
	slices.SortFunc(hit, bookOrder)
	for _, o := range hit {
		m.orderEv(EvCancelled, o, r, o.leaves, 0)
		m.remove(o)
	}
	m.ev(Event{Kind: EvMassCancelled, Symbol: m.cmd.Symbol, Account: m.cmd.Account, Qty: int64(len(hit))})
}

func (m *refModel) target() *refOrder {
	c := m.cmd
	if !m.knownSymbol(c.Symbol) {
		m.reject(ReasonUnknownSymbol)
		return nil
	}
	o := m.find(c.OrderID)
	switch {
	case o == nil || o.symbol != c.Symbol:
		m.reject(ReasonUnknownOrder)
	case c.Side != 0 && c.Side != o.side:
		m.reject(ReasonInvalidSide)
	case c.Account != 0 && c.Account != o.account:
		m.reject(ReasonWrongAccount)
	default:
		return o
	}
	return nil
}

func (m *refModel) newOrder() {
	c := m.cmd
	var r Reason
	switch {
	case !m.knownSymbol(c.Symbol):
		r = ReasonUnknownSymbol
	case c.OrderID == 0:
		r = ReasonInvalidCommand
	case c.Side != Buy && c.Side != Sell:
		r = ReasonInvalidSide
	case c.Type != Limit && c.Type != Market:
		r = ReasonInvalidType
	case c.TIF != GTC && c.TIF != Day && c.TIF != IOC && c.TIF != FOK:
		r = ReasonInvalidTIF
	case c.STP > 4:
		r = ReasonInvalidSTP
	case c.Qty < 1 || c.Qty > 1<<40:
		r = ReasonInvalidQty
	case c.Price < 0 || c.Price > 1<<50 || (c.Type == Limit && c.Price == 0):
		r = ReasonInvalidPrice
	case c.PostOnly && c.Type == Market:
		r = ReasonInvalidType
	case c.PostOnly && c.TIF != GTC && c.TIF != Day:
		r = ReasonInvalidTIF
	case m.find(c.OrderID) != nil:
		r = ReasonDuplicateOrderID
	case m.halted[c.Symbol]:
		r = ReasonHalted
	}
	if r != ReasonNone {
		m.reject(r)
		return
	}
	t := &refOrder{id: c.OrderID, account: c.Account, group: c.STPGroup, symbol: c.Symbol, side: c.Side, tif: c.TIF,
		stp: c.STP, postOnly: c.PostOnly, price: c.Price, qty: c.Qty, leaves: c.Qty}
	if c.PostOnly && len(m.opposite(t)) > 0 {
		m.reject(ReasonPostOnlyWouldTrade)
		return
	}
	m.orderEv(EvAccepted, t, ReasonNone, t.qty, t.leaves)
	if c.TIF == FOK && !m.fillable(t) {
		m.orderEv(EvCancelled, t, ReasonFOKUnfilled, t.leaves, 0)
		return
	}
	m.match(t)
	switch {
	case t.leaves == 0:
	case c.Type == Market:
		m.orderEv(EvCancelled, t, ReasonMarketNoLiquidity, t.leaves, 0)
	case c.TIF == IOC || c.TIF == FOK:
		m.orderEv(EvCancelled, t, ReasonIOCRemainder, t.leaves, 0)
	default:
		m.rest(t)
	}
}

func (m *refModel) rest(t *refOrder) {
	m.arrival++
	t.arrival = m.arrival
	m.open = append(m.open, t)
	m.orderEv(EvAdded, t, ReasonNone, t.qty, t.leaves)
}

func self(t, o *refOrder) bool {
	return t.account == o.account || (t.group != 0 && t.group == o.group)
}

func (m *refModel) fillable(t *refOrder) bool {
	var sum int64
	for _, o := range m.opposite(t) {
		if t.stp != STPNone && self(t, o) {
			if t.stp == STPCancelOldest {
				continue
			}
			break
		}
		sum += o.leaves
	}
	return sum >= t.leaves
}

func (m *refModel) match(t *refOrder) {
	for t.leaves > 0 {
		opp := m.opposite(t)
		if len(opp) == 0 {
			return
		}
		o := opp[0]
		if t.stp != STPNone && self(t, o) {
			switch t.stp {
			case STPCancelNewest:
				m.orderEv(EvCancelled, t, ReasonSelfTrade, t.leaves, 0)
				t.leaves = 0
			case STPCancelOldest:
				m.orderEv(EvCancelled, o, ReasonSelfTrade, o.leaves, 0)
				m.remove(o)
			case STPCancelBoth:
				m.orderEv(EvCancelled, o, ReasonSelfTrade, o.leaves, 0)
				m.remove(o)
				m.orderEv(EvCancelled, t, ReasonSelfTrade, t.leaves, 0)
				t.leaves = 0
			case STPDecrementCancel:
				d := min(t.leaves, o.leaves)
				o.leaves -= d
				o.qty -= d
				m.orderEv(EvCancelled, o, ReasonSelfTrade, d, o.leaves)
				if o.leaves == 0 {
					m.remove(o)
				}
				t.leaves -= d
				t.qty -= d
				m.orderEv(EvCancelled, t, ReasonSelfTrade, d, t.leaves)
			}
			continue
		}
		q := min(t.leaves, o.leaves)
		t.leaves -= q
		t.filled += q
		o.leaves -= q
		o.filled += q
		m.matchID++
		m.ev(Event{Kind: EvTrade, Side: t.side, Symbol: t.symbol, Account: t.account, OrderID: t.id, Price: o.price,
			Qty: q, Leaves: t.leaves, MakerOrderID: o.id, MakerAccount: o.account, MakerLeaves: o.leaves, MatchID: m.matchID})
		if o.leaves == 0 {
			m.remove(o)
		}
	}
}

func (m *refModel) replace() {
	c := m.cmd
	o := m.target()
	if o == nil {
		return
	}
	switch {
	case c.Qty < 1 || c.Qty > 1<<40:
		m.reject(ReasonInvalidQty)
		return
	case c.Price < 1 || c.Price > 1<<50:
		m.reject(ReasonInvalidPrice)
		return
	case m.halted[o.symbol]:
		m.reject(ReasonHalted)
		return
	}
	if c.Qty <= o.filled {
		m.orderEv(EvCancelled, o, ReasonReplacedToFilled, o.leaves, 0)
		m.remove(o)
		return
	}
	if c.Price == o.price && c.Qty <= o.qty {
		o.qty = c.Qty
		o.leaves = c.Qty - o.filled
		m.ev(Event{Kind: EvReplaced, Side: o.side, PriorityKept: true, Symbol: o.symbol, Account: o.account, OrderID: o.id,
			Price: o.price, Qty: o.qty, Leaves: o.leaves})
		return
	}
	if o.postOnly {
		probe := *o
		probe.price = c.Price
		if len(m.opposite(&probe)) > 0 {
			m.reject(ReasonPostOnlyWouldTrade)
			return
		}
	}
	m.remove(o)
	o.price, o.qty, o.leaves = c.Price, c.Qty, c.Qty-o.filled
	m.orderEv(EvReplaced, o, ReasonNone, o.qty, o.leaves)
	m.match(o)
	if o.leaves > 0 {
		m.rest(o)
	}
}

// sorted returns every open order in mass-cancel order.
func (m *refModel) sorted() []*refOrder {
	s := slices.Clone(m.open)
	slices.SortFunc(s, bookOrder)
	return s
}
