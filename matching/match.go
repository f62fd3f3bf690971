package matching

import "math/bits"

// match trades the taker t against the opposite side opp, best level first and
// oldest order first within a level, while t has leaves and the best level
// crosses t's limit (t.price; 0 for a market order without protection).
// Trades print at the maker's price. Makers that fill leave the book; an
// emptied level is recycled. Self-trade prevention follows t.stp. When it
// returns, t.leaves is what t may still rest or must cancel (0 when it filled
// or self-trade prevention cancelled it). A level outside b's volatility
// bands is not traded: b enters a volatility auction instead and match
// returns. Every trade sets b's last price. Cost: O(log levels) per level
// consumed plus O(1) per maker touched.
func (e *Engine) match(b *book, opp *bookSide, t *order, out []Event) []Event {
	if l := e.best(opp); t.leaves == 0 || l == nil || !opp.crosses(l.price, t.price) {
		return out // the common case of a move: nothing to trade
	}
	banded := b.staticBps|b.dynamicBps != 0
	dynRef := b.lastPrice
	for t.leaves > 0 {
		l := e.best(opp)
		if l == nil || !opp.crosses(l.price, t.price) {
			break
		}
		if banded && b.outside(l.price, dynRef) {
			b.phase = PhaseVolatilityAuction
			return e.emit(out, Event{Kind: EvPhase, Symbol: b.symbol, Phase: PhaseVolatilityAuction})
		}
		matched := e.matchID
		for m := l.head; m != nil && t.leaves > 0; {
			next := m.next
			if t.stp != STPNone && t.isSelf(m) {
				out = e.selfTrade(t, m, out)
			} else {
				out = e.trade(t, m, out)
			}
			m = next
		}
		if e.matchID != matched { // a trade, not only self-trade prevention
			b.lastPrice = l.price
		}
		if l.count == 0 {
			e.dropLevel(l)
		}
	}
	return out
}

// outside reports whether a trade at price p would leave b's static band
// (around the last auction price) or its dynamic band (around dynRef, the
// last trade price before the order). O(1).
func (b *book) outside(p, dynRef int64) bool {
	return (b.staticBps > 0 && b.refPrice > 0 && beyond(p, b.refPrice, b.staticBps)) ||
		(b.dynamicBps > 0 && dynRef > 0 && beyond(p, dynRef, b.dynamicBps))
}

// beyond reports whether |p-ref| is more than bps basis points of ref, in
// 128-bit arithmetic so that no price overflows it.
func beyond(p, ref, bps int64) bool {
	d := p - ref
	if d < 0 {
		d = -d
	}
	h1, l1 := bits.Mul64(uint64(d), 10_000)
	h2, l2 := bits.Mul64(uint64(ref), uint64(bps))
	return h1 > h2 || (h1 == h2 && l1 > l2)
}

// trade fills min(t.leaves, what m shows) between taker t and maker m at
// m's price. A filled maker leaves the book but its level stays for match to
// recycle; an iceberg whose peak is gone shows a new one at the back of its
// level.
func (e *Engine) trade(t, m *order, out []Event) []Event {
	q := min(t.leaves, m.visible())
	t.leaves -= q
	m.leaves -= q
	m.lvl.qty -= q
	ice := m.iceberg()
	if ice != nil {
		ice.shown -= q
	}
	e.matchID++
	out, ev := e.slot(out)
	ev.Kind, ev.Side, ev.Symbol, ev.Account, ev.OrderID = EvTrade, t.side, t.symbol, t.account, t.id
	ev.Price, ev.Qty, ev.Leaves = m.price, q, t.leaves
	ev.MakerOrderID, ev.MakerAccount, ev.MakerLeaves, ev.MatchID = m.id, m.account, m.leaves, e.matchID
	if m.leaves == 0 {
		e.unlinkMaker(m)
	} else if ice != nil && ice.shown == 0 {
		out = e.refill(m, out)
	}
	return out
}

// refill shows an iceberg's next peak at the back of its level. O(1).
func (e *Engine) refill(m *order, out []Event) []Event {
	l := m.lvl
	l.remove(m)
	m.x.shown = min(m.x.peak, m.leaves)
	l.pushBack(m)
	ev := Event{
		Kind: EvRefilled, Side: m.side, Symbol: m.symbol, Account: m.account, OrderID: m.id,
		Price: m.price, Qty: m.qty, Leaves: m.leaves,
	}
	ev.SetDisplay(m.x.shown)
	return e.emit(out, ev)
}

// unlinkMaker takes a maker with no leaves off its level (which match
// recycles if it empties) and out of the index.
func (e *Engine) unlinkMaker(m *order) {
	if m.auctionOnly() {
		m.lvl.side.auctionOnly--
	}
	m.lvl.remove(m)
	e.index.del(uint64(m.id))
	e.orders.put(m)
}

// fokScan adds up the quantity a fill-or-kill taker could trade, without
// touching the book. Its visit method is bound once in New so the scan does
// not allocate a closure per order.
type fokScan struct {
	b      *book
	dynRef int64
	opp    *bookSide
	t      *order
	avail  int64
	stop   bool
}

func (s *fokScan) visit(l *level) bool {
	if !s.opp.crosses(l.price, s.t.price) || s.b.outside(l.price, s.dynRef) {
		return false
	}
	for m := l.head; m != nil; m = m.next { // an empty level has none
		if s.t.stp != STPNone && s.t.isSelf(m) {
			if s.t.stp == STPCancelOldest {
				continue // the maker is cancelled and matching goes on
			}
			s.stop = true // the taker would be cancelled or reduced here
			return false
		}
		s.avail += m.leaves
		if s.avail >= s.t.leaves {
			return false
		}
	}
	return true
}

// fokFillable reports whether t can trade its whole quantity at once: the
// makers that cross its limit, in priority order, hold enough before any
// self-trade prevention would cancel or reduce t, and inside the volatility
// bands (an iceberg counts with its reserve). O(makers scanned).
func (e *Engine) fokFillable(b *book, opp *bookSide, t *order) bool {
	e.fok = fokScan{b: b, dynRef: b.lastPrice, opp: opp, t: t}
	opp.levels.Ascend(e.visit)
	ok := e.fok.avail >= t.leaves
	e.fok = fokScan{}
	return ok
}
