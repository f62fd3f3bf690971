package matching

// match trades the taker t against the opposite side opp, best level first and
// oldest order first within a level, while t has leaves and the best level
// crosses t's limit (t.price; 0 for a market order without protection).
// Trades print at the maker's price. Makers that fill leave the book; an
// emptied level is recycled. Self-trade prevention follows t.stp. When it
// returns, t.leaves is what t may still rest or must cancel (0 when it filled
// or self-trade prevention cancelled it). Cost: O(log levels) per level
// consumed plus O(1) per maker touched.
func (e *Engine) match(opp *bookSide, t *order, out []Event) []Event {
	for t.leaves > 0 {
		l := e.best(opp)
		if l == nil || !opp.crosses(l.price, t.price) {
			break
		}
		for m := l.head; m != nil && t.leaves > 0; {
			next := m.next
			if t.stp != STPNone && t.isSelf(m) {
				out = e.selfTrade(t, m, out)
			} else {
				out = e.trade(t, m, out)
			}
			m = next
		}
		if l.count == 0 {
			e.dropLevel(l)
		}
	}
	return out
}

// trade fills min(t.leaves, m.leaves) between taker t and maker m at m's
// price. A filled maker leaves the book but its level stays for match to
// recycle.
func (e *Engine) trade(t, m *order, out []Event) []Event {
	q := min(t.leaves, m.leaves)
	t.filled += q
	t.leaves -= q
	m.filled += q
	m.leaves -= q
	m.lvl.qty -= q
	e.matchID++
	out = e.emit(out, Event{
		Kind: EvTrade, Side: t.side, Symbol: t.symbol, Account: t.account, OrderID: t.id,
		Price: m.price, Qty: q, Leaves: t.leaves,
		MakerOrderID: m.id, MakerAccount: m.account, MakerLeaves: m.leaves, MatchID: e.matchID,
	})
	if m.leaves == 0 {
		e.unlinkMaker(m)
	}
	return out
}

// unlinkMaker takes a maker with no leaves off its level (which match
// recycles if it empties) and out of the index.
func (e *Engine) unlinkMaker(m *order) {
	m.lvl.remove(m)
	delete(e.index, m.id)
	e.orders.put(m)
}

// fokScan adds up the quantity a fill-or-kill taker could trade, without
// touching the book. Its visit method is bound once in New so the scan does
// not allocate a closure per order.
type fokScan struct {
	opp   *bookSide
	t     *order
	avail int64
	stop  bool
}

func (s *fokScan) visit(l *level) bool {
	if !s.opp.crosses(l.price, s.t.price) {
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
// self-trade prevention would cancel or reduce t. O(makers scanned).
func (e *Engine) fokFillable(opp *bookSide, t *order) bool {
	e.fok = fokScan{opp: opp, t: t}
	opp.levels.Ascend(e.visit)
	ok := e.fok.avail >= t.leaves
	e.fok = fokScan{}
	return ok
}
