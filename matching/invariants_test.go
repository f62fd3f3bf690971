package matching

import "testing"

// checkInvariants walks every book and the index and fails t when the
// engine's structure is inconsistent: a crossed book, levels out of order, a
// level whose total or count disagrees with its orders, broken links, an order
// whose quantities do not add up, or an index that disagrees with the levels.
// Outside a call the book must not cross; what a level shows must be exactly
// what its orders show (an iceberg's reserve never shows).
func checkInvariants(t testing.TB, e *Engine) {
	t.Helper()
	if err := e.checkInvariants(); err != "" {
		t.Fatalf("invariant broken: %s", err)
	}
}

func (e *Engine) checkInvariants() string {
	resting := 0
	listed := 0
	for l := e.empty.head; l != nil; l = l.emptyNext {
		listed++
		if listed > e.empty.n || l.count != 0 || l.side.byPrice.get(uint64(l.price)) != l {
			return "empty list too long, or holds a level with orders or not on the book"
		}
	}
	if listed != e.empty.n || e.empty.n > e.emptyMax {
		return "empty list count wrong or over its limit"
	}
	emptySeen := 0
	for i := range e.books {
		b := &e.books[i]
		for _, bs := range [2]*bookSide{&b.bids, &b.asks} {
			var bad string
			var prev *level
			if bs.levels.Len() != bs.byPrice.len() {
				return "price map and tree disagree in size"
			}
			bs.levels.Ascend(func(l *level) bool {
				if prev != nil && !bs.better(prev.price, l.price) {
					bad = "levels out of order"
					return false
				}
				if bs.byPrice.get(uint64(l.price)) != l || l.side != bs {
					bad = "price map or side pointer disagrees with tree"
					return false
				}
				if l.count == 0 {
					emptySeen++
					if l.qty != 0 || l.hidden != 0 || l.head != nil || l.tail != nil {
						bad = "empty level is not empty"
					}
					return bad == ""
				}
				prev = l
				var qty, hidden int64
				n := 0
				var back *order
				for o := l.head; o != nil; o = o.next {
					switch {
					case o.prev != back:
						bad = "broken prev link"
					case o.lvl != l:
						bad = "order points at another level"
					case o.price != l.price || o.side != bs.side || o.symbol != b.symbol:
						bad = "order on the wrong level"
					case o.leaves <= 0 || o.leaves > o.qty:
						bad = "order quantities do not add up"
					case o.tif != GTC && o.tif != Day && o.tif != GTD && o.tif != AtOpen && o.tif != AtClose:
						bad = "non-resting time in force on the book"
					case o.held || (o.typ != Limit && o.typ != Market) || (o.typ == Market && !b.phase.IsCall()):
						bad = "stop or market order on the book outside a call"
					case o.peak() > 0 && (o.shown() <= 0 || o.shown() > min(o.peak(), o.leaves)):
						bad = "iceberg shows nothing or more than its peak"
					case e.index.get(uint64(o.id)) != o:
						bad = "index disagrees with level"
					}
					if bad != "" {
						return false
					}
					back = o
					qty += o.visible()
					hidden += o.leaves - o.visible()
					n++
				}
				if l.tail != back {
					bad = "broken tail"
				} else if n == 0 || l.count != n || l.qty != qty || l.hidden != hidden {
					bad = "level total or count wrong"
				}
				resting += n
				return bad == ""
			})
			if bad != "" {
				return bad
			}
		}
		for i := range b.mkt {
			n := 0
			for o := b.mkt[i].head; o != nil; o = o.next {
				if o.typ != Market || o.price != 0 || o.lvl != &b.mkt[i] || e.index.get(uint64(o.id)) != o || !b.phase.IsCall() {
					return "bad resting market order"
				}
				n++
			}
			if n != b.mkt[i].count || b.mkt[i].hidden != 0 {
				return "market queue count wrong"
			}
			resting += n
		}
		for _, st := range b.stops {
			if st == nil {
				continue
			}
			var bad string
			st.Ascend(func(o *order) bool {
				if !o.held || o.lvl != nil || e.index.get(uint64(o.id)) != o || (o.typ != Stop && o.typ != StopLimit) {
					bad = "bad held stop"
				}
				resting++
				return bad == ""
			})
			if bad != "" {
				return bad
			}
		}
		for i, bs := range [2]*bookSide{&b.bids, &b.asks} {
			n := 0
			for o := b.mkt[i].head; o != nil; o = o.next {
				n++
			}
			bs.levels.Ascend(func(l *level) bool {
				for o := l.head; o != nil; o = o.next {
					if o.auctionOnly() {
						n++
					}
				}
				return true
			})
			if n != bs.auctionOnly {
				return "auction-only count wrong"
			}
		}
		bid, ask := b.bids.firstLive(), b.asks.firstLive()
		if !b.phase.IsCall() && bid != nil && ask != nil && bid.price >= ask.price {
			return "crossed book outside a call"
		}
	}
	if emptySeen != e.empty.n {
		return "empty list holds levels that are not in any tree"
	}
	if resting != e.index.len() {
		return "index holds orders not on the book"
	}
	return ""
}
