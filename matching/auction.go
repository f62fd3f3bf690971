package matching

import "math"

// auctionScan finds a book's uncross price by the rule in rules.go without
// visiting every level. It evaluates candidate prices outward from an anchor
// (the best ask, else the best bid), keeping the executable demand d and
// supply s at the current candidate, and stops in each direction once the
// candidates can only be worse: going up, past the first candidate where
// supply exceeds demand and whose (d, s) later changes (demand only falls and
// supply only grows from there, so volume cannot grow and the surplus only
// grows); going down, the mirror image. The candidates it skips cannot be
// chosen, so it gives what evaluating every candidate gives (the reference
// model checks this by brute force). Cost: O(log levels) plus the levels
// between the best bid and the best ask when the book crosses, plus a few.
type auctionScan struct {
	// The selection so far: the highest volume, then the smallest
	// |surplus|, and the range [lo, hi] of candidates that tie on both,
	// with their demand and supply and whether any tie has a buy or a sell
	// surplus.
	found           bool
	vmax, minAbs    int64
	lo, hi          int64
	dLo, sLo        int64
	dHi, sHi        int64
	pos, neg        bool
	ref             int64
	dRef, sRef      int64
	refUp, refDown  bool
	d, s, cur       int64
	passed, stop    bool
	pd, ps          int64
	anchor          int64
	bids            []*level // bid levels at or above the anchor, best first
	bi              int
	pivot           level
	up, down, above func(*level) bool
}

func (a *auctionScan) init() {
	a.up, a.down, a.above = a.stepAsk, a.stepBid, a.collectBid
}

func (a *auctionScan) eval(p, d, s int64) {
	v, sur := min(d, s), d-s
	abs := sur
	if abs < 0 {
		abs = -abs
	}
	if p == a.ref {
		a.dRef, a.sRef = d, s
	}
	switch {
	case !a.found || v > a.vmax || (v == a.vmax && abs < a.minAbs):
		a.found, a.vmax, a.minAbs = true, v, abs
		a.lo, a.hi, a.dLo, a.sLo, a.dHi, a.sHi = p, p, d, s, d, s
		a.pos, a.neg = sur > 0, sur < 0
	case v == a.vmax && abs == a.minAbs:
		if p < a.lo {
			a.lo, a.dLo, a.sLo = p, d, s
		}
		if p > a.hi {
			a.hi, a.dHi, a.sHi = p, d, s
		}
		a.pos = a.pos || sur > 0
		a.neg = a.neg || sur < 0
	}
}

// stepUp moves to the next higher candidate p, with bq lots bid and aq
// offered at p.
func (a *auctionScan) stepUp(p, bq, aq int64) {
	a.d -= a.cur
	a.s += aq
	a.cur = bq
	a.eval(p, a.d, a.s)
	if a.passed {
		a.stop = a.d != a.pd || a.s != a.ps
	} else if a.s > a.d {
		a.passed, a.pd, a.ps = true, a.d, a.s
	}
}

// stepDown moves to the next lower candidate p.
func (a *auctionScan) stepDown(p, bq, aq int64) {
	a.d += bq
	a.s -= a.cur
	a.cur = aq
	a.eval(p, a.d, a.s)
	if a.passed {
		a.stop = a.d != a.pd || a.s != a.ps
	} else if a.d > a.s {
		a.passed, a.pd, a.ps = true, a.d, a.s
	}
}

// flushUp steps up through the collected bids and the reference price
// below limit.
func (a *auctionScan) flushUp(limit int64) {
	for !a.stop {
		p, nb := int64(math.MaxInt64), int64(math.MaxInt64)
		if a.bi > 0 {
			nb = a.bids[a.bi-1].price
			p = nb
		}
		if a.refUp && a.ref < p {
			p = a.ref
		}
		if p >= limit {
			return
		}
		var bq int64
		if nb == p {
			bq = a.bids[a.bi-1].total()
			a.bi--
		}
		if a.refUp && a.ref == p {
			a.refUp = false
		}
		a.stepUp(p, bq, 0)
	}
}

func (a *auctionScan) stepAsk(l *level) bool {
	if l.count == 0 {
		return true
	}
	a.flushUp(l.price)
	if a.stop {
		return false
	}
	var bq int64
	if a.bi > 0 && a.bids[a.bi-1].price == l.price {
		bq = a.bids[a.bi-1].total()
		a.bi--
	}
	if a.refUp && a.ref == l.price {
		a.refUp = false
	}
	a.stepUp(l.price, bq, l.total())
	return !a.stop
}

func (a *auctionScan) stepBid(l *level) bool {
	if l.count == 0 {
		return true
	}
	if a.refDown && a.ref > l.price {
		a.refDown = false
		a.stepDown(a.ref, 0, 0)
		if a.stop {
			return false
		}
	}
	if a.refDown && a.ref == l.price {
		a.refDown = false
	}
	a.stepDown(l.price, l.total(), 0)
	return !a.stop
}

func (a *auctionScan) collectBid(l *level) bool {
	if l.price < a.anchor {
		return false
	}
	if l.count > 0 {
		a.bids = append(a.bids, l)
	}
	return true
}

// auctionPrice returns b's uncross by the rule in rules.go: the price (0
// when nothing would execute), the executable volume, and the imbalance at
// that price with its side. See auctionScan for the cost.
func (e *Engine) auctionPrice(b *book) (price, qty, imb int64, side Side) {
	a := &e.au
	mB, mS := b.mkt[0].total(), b.mkt[1].total()
	ask, bid := e.best(&b.asks), e.best(&b.bids)
	*a = auctionScan{ref: b.lastPrice, bids: a.bids[:0], up: a.up, down: a.down, above: a.above}
	switch {
	case ask != nil || bid != nil:
		var dA, sA, askA int64
		if ask != nil {
			a.anchor, askA = ask.price, ask.total()
		} else {
			a.anchor = bid.price
		}
		b.bids.levels.Ascend(a.above)
		dA, sA = mB, mS+askA
		for _, l := range a.bids {
			dA += l.total()
		}
		var bidA int64
		a.bi = len(a.bids)
		if a.bi > 0 && a.bids[a.bi-1].price == a.anchor {
			bidA = a.bids[a.bi-1].total()
			a.bi--
		}
		a.eval(a.anchor, dA, sA)
		// Upward from the anchor.
		a.d, a.s, a.cur, a.passed = dA, sA, bidA, sA > dA
		a.pd, a.ps, a.stop = dA, sA, false
		a.refUp = a.ref > a.anchor
		a.pivot.price = a.anchor + 1
		b.asks.levels.AscendGreaterOrEqual(&a.pivot, a.up)
		a.flushUp(math.MaxInt64)
		// Downward from the anchor.
		a.d, a.s, a.cur, a.passed = dA, sA, askA, dA > sA
		a.pd, a.ps, a.stop = dA, sA, false
		a.refDown = a.ref > 0 && a.ref < a.anchor
		a.pivot.price = a.anchor - 1
		b.bids.levels.AscendGreaterOrEqual(&a.pivot, a.down)
		if a.refDown && !a.stop {
			a.stepDown(a.ref, 0, 0)
		}
		clear(a.bids)
		a.bids = a.bids[:0]
	case a.ref > 0:
		a.eval(a.ref, mB, mS)
	}
	if !a.found || a.vmax == 0 {
		return 0, 0, 0, 0
	}
	var d, s int64
	switch {
	case a.minAbs > 0 && !a.neg:
		price, d, s = a.hi, a.dHi, a.sHi
	case a.minAbs > 0 && !a.pos:
		price, d, s = a.lo, a.dLo, a.sLo
	case a.ref >= a.lo && a.ref <= a.hi:
		price, d, s = a.ref, a.dRef, a.sRef
	case a.ref > a.hi:
		price, d, s = a.hi, a.dHi, a.sHi
	default:
		price, d, s = a.lo, a.dLo, a.sLo
	}
	switch {
	case d > s:
		return price, s, d - s, Buy
	case s > d:
		return price, d, s - d, Sell
	}
	return price, d, 0, 0
}

// indicate brings b's indicative uncross up to date and emits EvIndicative
// when it changed.
func (e *Engine) indicate(b *book, out []Event) []Event {
	p, q, imb, side := e.auctionPrice(b)
	ni := indicative{price: p, qty: q, imb: imb, side: side}
	if ni == b.ind {
		return out
	}
	b.ind = ni
	return e.emit(out, Event{Kind: EvIndicative, Symbol: b.symbol, Side: side, Price: p, Qty: q, Leaves: imb})
}

// uncross runs b's auction ap: EvUncross, then the trades at the one price,
// buy and sell orders each taken in priority order (market orders, then
// price, then time), then the cancellation of what is left of market,
// at-the-open and at-the-close orders. Cost: the scan's, plus O(1) per order
// filled, plus O(orders in b) for the remainders.
func (e *Engine) uncross(b *book, ap Phase, out []Event) []Event {
	p, v, _, _ := e.auctionPrice(b)
	out = e.emit(out, Event{Kind: EvUncross, Symbol: b.symbol, Phase: ap, Price: p, Qty: v})
	if v > 0 {
		out = e.execute(b, p, out)
		b.lastPrice, b.refPrice = p, p
	}
	if b.bids.auctionOnly+b.asks.auctionOnly == 0 {
		return out
	}
	e.scratch = e.scratch[:0]
	e.collect(b, auctionOnly)
	for _, o := range e.scratch {
		out = e.orderEvent(out, EvCancelled, o, ReasonAuctionRemainder, o.leaves, 0)
		e.drop(o)
	}
	clear(e.scratch)
	e.scratch = e.scratch[:0]
	return out
}

// auctionOnly selects the orders an uncross cancels what is left of.
func auctionOnly(o *order) bool { return !o.held && o.auctionOnly() }

func (e *Engine) execute(b *book, p int64, out []Event) []Event {
	var bo, so *order
	for {
		if bo == nil {
			bo = e.nextInAuction(b, Buy, p)
		}
		if so == nil {
			so = e.nextInAuction(b, Sell, p)
		}
		if bo == nil || so == nil {
			break
		}
		q := min(bo.leaves, so.leaves)
		auctionFill(bo, q)
		auctionFill(so, q)
		e.matchID++
		out = e.emit(out, Event{
			Kind: EvTrade, Flags: FlagAuction, Side: Buy, Symbol: b.symbol, Account: bo.account, OrderID: bo.id,
			Price: p, Qty: q, Leaves: bo.leaves,
			MakerOrderID: so.id, MakerAccount: so.account, MakerLeaves: so.leaves, MatchID: e.matchID,
		})
		if bo.leaves == 0 {
			e.auctionDone(bo)
			bo = nil
		}
		if so.leaves == 0 {
			e.auctionDone(so)
			so = nil
		}
	}
	for _, o := range [2]*order{bo, so} {
		if o != nil && o.iceberg() != nil && o.x.shown == 0 {
			out = e.refill(o, out)
		}
	}
	return out
}

// nextInAuction returns the first order of side that executes at p, or nil.
func (e *Engine) nextInAuction(b *book, side Side, p int64) *order {
	if m := &b.mkt[side-1]; m.head != nil {
		return m.head
	}
	l := e.best(b.sideOf(side))
	if l == nil || (side == Buy && l.price < p) || (side == Sell && l.price > p) {
		return nil
	}
	return l.head
}

// auctionFill takes q lots from o's peak first, then its reserve.
func auctionFill(o *order, q int64) {
	o.lvl.set(o, o.leaves-q, max(o.shown()-q, 0))
}

// auctionDone takes a filled order off its level (recycling a tree level
// it empties) and out of the index.
func (e *Engine) auctionDone(o *order) {
	l := o.lvl
	l.remove(o)
	if o.auctionOnly() {
		l.side.auctionOnly--
	}
	e.index.del(uint64(o.id))
	e.orders.put(o)
	if l.price != 0 && l.count == 0 {
		e.dropLevel(l)
	}
}
