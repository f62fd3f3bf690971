package matching

import (
	"cmp"
	"math/big"
	"slices"
)

// refModel is a deliberately simple second implementation of the matching
// rules: every open order of every symbol in one slice, found by linear
// scans, sorted afresh whenever an order of priority matters, and the
// uncross found by trying every candidate price. It is slow and obviously
// right, and the differential test holds the engine to it event for event.
type refModel struct {
	symbols int
	halted  []bool
	phase   []Phase
	last    []int64 // last trade price
	ref     []int64 // last auction price
	bands   []Bands
	ind     []indicative
	open    []*refOrder
	outSeq  uint64
	matchID uint64
	arrival uint64 // time priority: higher is younger
	stopArr uint64 // the engine's stop arrival counter
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
	typ                 OrderType
	held                bool
	price, stopPx       int64
	expireNs            int64
	peak, shown         int64
	qty, filled, leaves int64
	arrival, stopArr    uint64
}

func newRefModel(symbols int, bands ...Bands) *refModel {
	m := &refModel{symbols: symbols, halted: make([]bool, symbols+1), phase: make([]Phase, symbols+1),
		last: make([]int64, symbols+1), ref: make([]int64, symbols+1), bands: make([]Bands, symbols+1),
		ind: make([]indicative, symbols+1)}
	copy(m.bands[1:], bands)
	return m
}

func (o *refOrder) visible() int64 {
	if o.peak == 0 {
		return o.leaves
	}
	return o.shown
}

// ahead reports whether a has priority over b (same symbol and side, both
// on the book): resting market orders first, then price, then time.
func ahead(a, b *refOrder) bool {
	if (a.price == 0) != (b.price == 0) {
		return a.price == 0
	}
	if a.price != b.price {
		if a.side == Buy {
			return a.price > b.price
		}
		return a.price < b.price
	}
	return a.arrival < b.arrival
}

// stopAhead reports whether held stop a triggers before b (same side).
func stopAhead(a, b *refOrder) bool {
	if a.stopPx != b.stopPx {
		return (a.side == Buy) == (a.stopPx < b.stopPx)
	}
	return a.stopArr < b.stopArr
}

// bookOrder orders everything the way mass cancel walks it: symbol, bids,
// asks, buy stops, sell stops, then priority.
func bookOrder(a, b *refOrder) int {
	if c := cmp.Compare(a.symbol, b.symbol); c != 0 {
		return c
	}
	ga, gb := int(a.side), int(b.side)
	if a.held {
		ga += 2
	}
	if b.held {
		gb += 2
	}
	if c := cmp.Compare(ga, gb); c != 0 {
		return c
	}
	before := ahead
	if a.held {
		before = stopAhead
	}
	if before(a, b) {
		return -1
	}
	if before(b, a) {
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

// opposite returns the resting orders t could trade with, best first.
func (m *refModel) opposite(t *refOrder) []*refOrder {
	var r []*refOrder
	for _, o := range m.open {
		if !o.held && o.symbol == t.symbol && o.side != t.side && (t.price == 0 || (t.side == Buy && o.price <= t.price) || (t.side == Sell && o.price >= t.price)) {
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
			if m.phase[o.symbol].IsCall() {
				m.indicate(o.symbol)
			}
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
	case CmdExpire, CmdExpireGTD:
		if c.Symbol != 0 && !m.knownSymbol(c.Symbol) {
			m.reject(ReasonUnknownSymbol)
		} else {
			day := c.Kind == CmdExpire
			m.cancelWhere(func(o *refOrder) bool {
				return (day && o.tif == Day) || (o.tif == GTD && o.expireNs <= c.TimeNs)
			}, ReasonExpired)
		}
	case CmdPhase:
		m.applyPhase()
	case CmdAdmin:
	default:
		m.reject(ReasonInvalidCommand)
	}
	return m.out
}

func (m *refModel) cancelWhere(match func(*refOrder) bool, r Reason) {
	lo, hi := 1, m.symbols
	if m.cmd.Symbol != 0 {
		lo, hi = int(m.cmd.Symbol), int(m.cmd.Symbol)
	}
	n := 0
	for s := lo; s <= hi; s++ {
		var hit []*refOrder
		for _, o := range m.open {
			if int(o.symbol) == s && match(o) {
				hit = append(hit, o)
			}
		}
		slices.SortFunc(hit, bookOrder)
		for _, o := range hit {
			m.orderEv(EvCancelled, o, r, o.leaves, 0)
			m.remove(o)
		}
		n += len(hit)
		if len(hit) > 0 && m.phase[s].IsCall() {
			m.indicate(SymbolID(s))
		}
	}
	m.ev(Event{Kind: EvMassCancelled, Symbol: m.cmd.Symbol, Account: m.cmd.Account, Qty: int64(n)})
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

// admits is the phase table of rules.go.
func admits(p Phase, tif TimeInForce) bool {
	switch p {
	case PhaseContinuous:
		return tif != AtOpen && tif != AtClose
	case PhasePreOpen:
		return tif != IOC && tif != FOK && tif != AtClose
	case PhaseClosingCall:
		return tif != IOC && tif != FOK && tif != AtOpen
	case PhaseVolatilityAuction:
		return tif != IOC && tif != FOK && tif != AtOpen && tif != AtClose
	}
	return false
}

func (m *refModel) newOrder() {
	c := m.cmd
	stop := c.Type == Stop || c.Type == StopLimit
	var r Reason
	switch {
	case !m.knownSymbol(c.Symbol):
		r = ReasonUnknownSymbol
	case c.OrderID == 0:
		r = ReasonInvalidCommand
	case c.Side != Buy && c.Side != Sell:
		r = ReasonInvalidSide
	case c.Type < Limit || c.Type > StopLimit:
		r = ReasonInvalidType
	case c.TIF < GTC || c.TIF > AtClose:
		r = ReasonInvalidTIF
	case c.STP > 4:
		r = ReasonInvalidSTP
	case c.Qty < 1 || c.Qty > 1<<40:
		r = ReasonInvalidQty
	case c.Price < 0 || c.Price > 1<<50 || ((c.Type == Limit || c.Type == StopLimit) && c.Price == 0):
		r = ReasonInvalidPrice
	case stop != (c.StopPrice != 0) || c.StopPrice < 0 || c.StopPrice > 1<<50:
		r = ReasonInvalidStopPrice
	case c.PostOnly && c.Type != Limit:
		r = ReasonInvalidType
	case c.PostOnly && c.TIF != GTC && c.TIF != Day && c.TIF != GTD:
		r = ReasonInvalidTIF
	case stop && (c.TIF == AtOpen || c.TIF == AtClose):
		r = ReasonInvalidTIF
	case c.Display != 0 && (c.Display < 0 || c.Display >= c.Qty || c.Type != Limit || (c.TIF != GTC && c.TIF != Day && c.TIF != GTD)):
		r = ReasonInvalidDisplay
	case (c.TIF == GTD) != (c.ExpireNs != 0) || (c.TIF == GTD && c.ExpireNs <= c.TimeNs):
		r = ReasonInvalidExpiry
	case m.find(c.OrderID) != nil:
		r = ReasonDuplicateOrderID
	case m.halted[c.Symbol]:
		r = ReasonHalted
	case !admits(m.phase[c.Symbol], c.TIF):
		r = ReasonPhase
	}
	if r != ReasonNone {
		m.reject(r)
		return
	}
	t := &refOrder{id: c.OrderID, account: c.Account, group: c.STPGroup, symbol: c.Symbol, side: c.Side, tif: c.TIF,
		stp: c.STP, postOnly: c.PostOnly, typ: c.Type, price: c.Price, stopPx: c.StopPrice, expireNs: c.ExpireNs,
		peak: c.Display, qty: c.Qty, leaves: c.Qty}
	if c.PostOnly && m.phase[c.Symbol] == PhaseContinuous && len(m.opposite(t)) > 0 {
		m.reject(ReasonPostOnlyWouldTrade)
		return
	}
	m.orderEv(EvAccepted, t, ReasonNone, t.qty, t.leaves)
	if stop {
		m.stopArr++
		t.held, t.stopArr = true, m.stopArr
		m.open = append(m.open, t)
		m.ev(evStop(Event{Kind: EvStopAdded, Side: t.side, Symbol: t.symbol, Account: t.account, OrderID: t.id, Price: t.price,
			Qty: t.qty, Leaves: t.leaves}, t.stopPx))
	} else {
		m.enter(t)
	}
	m.after(c.Symbol)
}

// enter runs an order that is not on the book (new or triggered) under its
// symbol's phase.
func (m *refModel) enter(t *refOrder) {
	s := t.symbol
	if m.phase[s] == PhaseContinuous {
		if t.tif == FOK && !m.fillable(t) {
			m.orderEv(EvCancelled, t, ReasonFOKUnfilled, t.leaves, 0)
			return
		}
		m.match(t)
		if t.leaves == 0 {
			return
		}
		if m.phase[s] == PhaseContinuous && t.typ == Market {
			m.orderEv(EvCancelled, t, ReasonMarketNoLiquidity, t.leaves, 0)
			return
		}
	}
	if t.tif == IOC || t.tif == FOK {
		m.orderEv(EvCancelled, t, ReasonIOCRemainder, t.leaves, 0)
		return
	}
	m.rest(t)
}

func (m *refModel) after(s SymbolID) {
	if m.phase[s] == PhaseContinuous && !m.halted[s] {
		m.runTriggers(s)
	}
	if m.phase[s].IsCall() {
		m.indicate(s)
	}
}

func (m *refModel) rest(t *refOrder) {
	m.arrival++
	t.arrival = m.arrival
	if t.peak > 0 {
		t.shown = min(t.peak, t.leaves)
	}
	m.open = append(m.open, t)
	m.ev(evDisplay(Event{Kind: EvAdded, Side: t.side, Symbol: t.symbol, Account: t.account, OrderID: t.id, Price: t.price,
		Qty: t.qty, Leaves: t.leaves}, t.shown))
}

func self(t, o *refOrder) bool {
	return t.account == o.account || (t.group != 0 && t.group == o.group)
}

// beyondBand is the band test in arbitrary precision.
func beyondBand(p, ref, bps int64) bool {
	d := new(big.Int).Abs(big.NewInt(p - ref))
	d.Mul(d, big.NewInt(10_000))
	return d.Cmp(new(big.Int).Mul(big.NewInt(ref), big.NewInt(bps))) > 0
}

func (m *refModel) outside(s SymbolID, p, dynRef int64) bool {
	b := m.bands[s]
	return (b.StaticBps > 0 && m.ref[s] > 0 && beyondBand(p, m.ref[s], b.StaticBps)) ||
		(b.DynamicBps > 0 && dynRef > 0 && beyondBand(p, dynRef, b.DynamicBps))
}

func (m *refModel) fillable(t *refOrder) bool {
	var sum int64
	for _, o := range m.opposite(t) {
		if m.outside(t.symbol, o.price, m.last[t.symbol]) {
			break
		}
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

func (m *refModel) refill(o *refOrder) {
	m.arrival++
	o.arrival = m.arrival
	o.shown = min(o.peak, o.leaves)
	m.ev(evDisplay(Event{Kind: EvRefilled, Side: o.side, Symbol: o.symbol, Account: o.account, OrderID: o.id, Price: o.price,
		Qty: o.qty, Leaves: o.leaves}, o.shown))
}

func (m *refModel) match(t *refOrder) {
	s := t.symbol
	dynRef := m.last[s]
	for t.leaves > 0 {
		opp := m.opposite(t)
		if len(opp) == 0 {
			return
		}
		o := opp[0]
		if m.outside(s, o.price, dynRef) {
			m.phase[s] = PhaseVolatilityAuction
			m.ev(Event{Kind: EvPhase, Symbol: s, Phase: PhaseVolatilityAuction})
			return
		}
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
				o.shown = min(o.shown, o.leaves)
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
		q := min(t.leaves, o.visible())
		t.leaves -= q
		t.filled += q
		o.leaves -= q
		o.filled += q
		if o.peak > 0 {
			o.shown -= q
		}
		m.last[s] = o.price
		m.matchID++
		m.ev(Event{Kind: EvTrade, Side: t.side, Symbol: t.symbol, Account: t.account, OrderID: t.id, Price: o.price,
			Qty: q, Leaves: t.leaves, MakerOrderID: o.id, MakerAccount: o.account, MakerLeaves: o.leaves, MatchID: m.matchID})
		if o.leaves == 0 {
			m.remove(o)
		} else if o.peak > 0 && o.shown == 0 {
			m.refill(o)
		}
	}
}

// runTriggers: every stop the last price reaches is queued (buy stops by
// rising stop price, then sell stops by falling stop price, oldest first)
// and entered in queue order; later triggers join the back.
func (m *refModel) runTriggers(s SymbolID) {
	queue := m.triggered(s)
	for i := 0; i < len(queue); i++ {
		o := queue[i]
		if o.typ == Stop {
			o.typ = Market
		} else {
			o.typ = Limit
		}
		m.ev(evStop(Event{Kind: EvTriggered, Side: o.side, Symbol: o.symbol, Account: o.account, OrderID: o.id, Price: o.price,
			Qty: o.qty, Leaves: o.leaves}, o.stopPx))
		m.enter(o)
		if m.phase[s] == PhaseContinuous {
			queue = append(queue, m.triggered(s)...)
		}
	}
}

// triggered takes the stops of s that the last price reaches out of the
// open orders, in trigger order.
func (m *refModel) triggered(s SymbolID) []*refOrder {
	last := m.last[s]
	if last == 0 {
		return nil
	}
	var buys, sells []*refOrder
	for _, o := range m.open {
		if o.held && o.symbol == s {
			if o.side == Buy && o.stopPx <= last {
				buys = append(buys, o)
			} else if o.side == Sell && o.stopPx >= last {
				sells = append(sells, o)
			}
		}
	}
	sortStops := func(x []*refOrder) {
		slices.SortFunc(x, func(a, b *refOrder) int {
			if stopAhead(a, b) {
				return -1
			}
			return 1
		})
	}
	sortStops(buys)
	sortStops(sells)
	all := append(buys, sells...)
	for _, o := range all {
		o.held = false
		m.remove(o)
	}
	return all
}

// auction finds s's uncross by brute force over every candidate price (each
// resting limit price and the reference price).
func (m *refModel) auction(s SymbolID) (price, qty, imb int64, side Side) {
	var mB, mS int64
	var cands []int64
	for _, o := range m.open {
		if o.held || o.symbol != s {
			continue
		}
		if o.price == 0 {
			if o.side == Buy {
				mB += o.leaves
			} else {
				mS += o.leaves
			}
		} else {
			cands = append(cands, o.price)
		}
	}
	ref := m.last[s]
	if ref > 0 {
		cands = append(cands, ref)
	}
	slices.Sort(cands)
	cands = slices.Compact(cands)
	type pt struct{ p, d, s int64 }
	var pts []pt
	for _, p := range cands {
		d, su := mB, mS
		for _, o := range m.open {
			if o.held || o.symbol != s || o.price == 0 {
				continue
			}
			if o.side == Buy && o.price >= p {
				d += o.leaves
			}
			if o.side == Sell && o.price <= p {
				su += o.leaves
			}
		}
		pts = append(pts, pt{p, d, su})
	}
	abs := func(x int64) int64 {
		if x < 0 {
			return -x
		}
		return x
	}
	var vmax int64
	for _, x := range pts {
		vmax = max(vmax, min(x.d, x.s))
	}
	if vmax == 0 {
		return 0, 0, 0, 0
	}
	minAbs := int64(-1)
	for _, x := range pts {
		if min(x.d, x.s) == vmax && (minAbs < 0 || abs(x.d-x.s) < minAbs) {
			minAbs = abs(x.d - x.s)
		}
	}
	var r []pt
	pos, neg := false, false
	for _, x := range pts {
		if min(x.d, x.s) == vmax && abs(x.d-x.s) == minAbs {
			r = append(r, x)
			pos = pos || x.d > x.s
			neg = neg || x.d < x.s
		}
	}
	var c pt
	switch {
	case minAbs > 0 && !neg:
		c = r[len(r)-1]
	case minAbs > 0 && !pos:
		c = r[0]
	default:
		// Closest to the reference price; a reference of 0 picks the lowest.
		c = r[0]
		for _, x := range r[1:] {
			if abs(x.p-ref) < abs(c.p-ref) {
				c = x
			}
		}
	}
	switch {
	case c.d > c.s:
		return c.p, c.s, c.d - c.s, Buy
	case c.s > c.d:
		return c.p, c.d, c.s - c.d, Sell
	}
	return c.p, c.d, 0, 0
}

func (m *refModel) indicate(s SymbolID) {
	p, q, imb, side := m.auction(s)
	ni := indicative{price: p, qty: q, imb: imb, side: side}
	if ni == m.ind[s] {
		return
	}
	m.ind[s] = ni
	m.ev(Event{Kind: EvIndicative, Symbol: s, Side: side, Price: p, Qty: q, Leaves: imb})
}

func (m *refModel) uncross(s SymbolID, ap Phase) {
	p, v, _, _ := m.auction(s)
	m.ev(Event{Kind: EvUncross, Symbol: s, Phase: ap, Price: p, Qty: v})
	if v > 0 {
		var buys, sells []*refOrder
		for _, o := range m.open {
			if o.held || o.symbol != s {
				continue
			}
			if o.side == Buy && (o.price == 0 || o.price >= p) {
				buys = append(buys, o)
			}
			if o.side == Sell && (o.price == 0 || o.price <= p) {
				sells = append(sells, o)
			}
		}
		prio := func(a, b *refOrder) int {
			if ahead(a, b) {
				return -1
			}
			return 1
		}
		slices.SortFunc(buys, prio)
		slices.SortFunc(sells, prio)
		i, j := 0, 0
		for i < len(buys) && j < len(sells) {
			bo, so := buys[i], sells[j]
			q := min(bo.leaves, so.leaves)
			for _, o := range []*refOrder{bo, so} {
				o.leaves -= q
				o.filled += q
				o.shown = max(o.shown-q, 0)
			}
			m.matchID++
			m.ev(Event{Kind: EvTrade, Flags: FlagAuction, Side: Buy, Symbol: s, Account: bo.account, OrderID: bo.id, Price: p,
				Qty: q, Leaves: bo.leaves, MakerOrderID: so.id, MakerAccount: so.account, MakerLeaves: so.leaves, MatchID: m.matchID})
			if bo.leaves == 0 {
				m.remove(bo)
				i++
			}
			if so.leaves == 0 {
				m.remove(so)
				j++
			}
		}
		for _, x := range [][]*refOrder{buys[i:], sells[j:]} {
			if len(x) > 0 && x[0].peak > 0 && x[0].shown == 0 {
				m.refill(x[0])
			}
		}
		m.last[s], m.ref[s] = p, p
	}
	var rest []*refOrder
	for _, o := range m.open {
		if o.symbol == s && !o.held && (o.typ == Market || o.tif == AtOpen || o.tif == AtClose) {
			rest = append(rest, o)
		}
	}
	slices.SortFunc(rest, bookOrder)
	for _, o := range rest {
		m.orderEv(EvCancelled, o, ReasonAuctionRemainder, o.leaves, 0)
		m.remove(o)
	}
}

func (m *refModel) applyPhase() {
	c := m.cmd
	if c.Phase > PhaseVolatilityAuction {
		m.reject(ReasonInvalidCommand)
		return
	}
	if c.Symbol != 0 {
		switch {
		case !m.knownSymbol(c.Symbol):
			m.reject(ReasonUnknownSymbol)
		case m.halted[c.Symbol]:
			m.reject(ReasonHalted)
		default:
			m.setPhase(c.Symbol, c.Phase)
		}
		return
	}
	for s := 1; s <= m.symbols; s++ {
		if !m.halted[s] {
			m.setPhase(SymbolID(s), c.Phase)
		}
	}
}

func (m *refModel) setPhase(s SymbolID, np Phase) {
	if m.phase[s].IsCall() && !np.IsCall() {
		ap := PhaseVolatilityAuction
		switch m.phase[s] {
		case PhasePreOpen:
			ap = PhaseOpeningAuction
		case PhaseClosingCall:
			ap = PhaseClosingAuction
		}
		m.uncross(s, ap)
		m.ind[s] = indicative{}
	}
	m.phase[s] = np
	m.ev(Event{Kind: EvPhase, Symbol: s, Phase: np})
	m.after(s)
}

func (m *refModel) replace() {
	c := m.cmd
	o := m.target()
	if o == nil {
		return
	}
	s := o.symbol
	call := m.phase[s].IsCall()
	switch {
	case c.Qty < 1 || c.Qty > 1<<40:
		m.reject(ReasonInvalidQty)
		return
	case c.Price < 0 || c.Price > 1<<50 || (c.Price == 0 && o.typ != Stop):
		m.reject(ReasonInvalidPrice)
		return
	case o.held != (c.StopPrice != 0) || c.StopPrice < 0 || c.StopPrice > 1<<50:
		m.reject(ReasonInvalidStopPrice)
		return
	case o.typ == Market:
		m.reject(ReasonNotReplaceable)
		return
	case m.halted[s]:
		m.reject(ReasonHalted)
		return
	case !call && m.phase[s] != PhaseContinuous:
		m.reject(ReasonPhase)
		return
	}
	if c.Qty <= o.filled {
		m.orderEv(EvCancelled, o, ReasonReplacedToFilled, o.leaves, 0)
		m.remove(o)
		m.after(s)
		return
	}
	if o.held {
		o.price, o.qty, o.leaves, o.stopPx = c.Price, c.Qty, c.Qty-o.filled, c.StopPrice
		m.stopArr++
		o.stopArr = m.stopArr
		m.ev(evStop(Event{Kind: EvReplaced, Side: o.side, Symbol: s, Account: o.account, OrderID: o.id, Price: o.price,
			Qty: o.qty, Leaves: o.leaves}, o.stopPx))
		m.after(s)
		return
	}
	if c.Price == o.price && c.Qty <= o.qty {
		o.qty = c.Qty
		o.leaves = c.Qty - o.filled
		o.shown = min(o.shown, o.leaves)
		m.ev(evDisplay(Event{Kind: EvReplaced, Side: o.side, PriorityKept: true, Symbol: o.symbol, Account: o.account, OrderID: o.id,
			Price: o.price, Qty: o.qty, Leaves: o.leaves}, o.shown))
		m.after(s)
		return
	}
	if o.postOnly && !call {
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
	if !call {
		m.match(o)
	}
	if o.leaves > 0 {
		m.rest(o)
	}
	m.after(s)
}

// sorted returns every open order in mass-cancel order.
func (m *refModel) sorted() []*refOrder {
	s := slices.Clone(m.open)
	slices.SortFunc(s, bookOrder)
	return s
}
