package matching

import "testing"

// checkInvariants walks every book and the index and fails t when the
// engine's structure is inconsistent: a crossed book, levels out of order, a
// level whose total or count disagrees with its orders, broken links, an order
// whose quantities do not add up, or an index that disagrees with the levels.
func checkInvariants(t testing.TB, e *Engine) {
	t.Helper()
	if err := e.checkInvariants(); err != "" {
		t.Fatalf("invariant broken: %s", err)
	}
}

func (e *Engine) checkInvariants() string {
	resting := 0
	for i := range e.books {
		b := &e.books[i]
		for _, bs := range [2]*bookSide{&b.bids, &b.asks} {
			var bad string
			var prev *level
			bs.levels.Ascend(func(l *level) bool {
				if prev != nil && !bs.better(prev.price, l.price) {
					bad = "levels out of order"
					return false
				}
				prev = l
				var qty int64
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
					case o.leaves <= 0 || o.filled < 0 || o.qty != o.filled+o.leaves:
						bad = "order quantities do not add up"
					case o.tif != GTC && o.tif != Day:
						bad = "non-resting time in force on the book"
					case e.index[o.id] != o:
						bad = "index disagrees with level"
					}
					if bad != "" {
						return false
					}
					back = o
					qty += o.leaves
					n++
				}
				if l.tail != back {
					bad = "broken tail"
				} else if n == 0 || l.count != n || l.qty != qty {
					bad = "level total or count wrong"
				}
				resting += n
				return bad == ""
			})
			if bad != "" {
				return bad
			}
		}
		if bid, ask := b.bids.best(), b.asks.best(); bid != nil && ask != nil && bid.price >= ask.price {
			return "crossed book"
		}
	}
	if resting != len(e.index) {
		return "index holds orders not on the book"
	}
	return ""
}
