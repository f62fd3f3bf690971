package marketdata

import "github.com/exchange-sim/exchange/matching"

// bookOrder is one resting order in the rebuilt L3 book: an intrusive list node
// in its level's FIFO.
type bookOrder struct {
	id         matching.OrderID
	price      int64
	leaves     int64
	side       matching.Side
	lvl        *level
	prev, next *bookOrder
}

// level is one price of one side: the aggregate (L2) and its queue (L3).
type level struct {
	price  int64
	qty    int64
	orders int
	head   *bookOrder
	tail   *bookOrder
}

// bookSide keeps its levels sorted worst first, best last, so that the busy end
// of the book (near the touch) is the cheap end of the slice to insert and
// remove at. Finding a level is a binary search.
type bookSide struct {
	buy    bool
	levels []*level
}

// levelKey names a level that changed since the last flush.
type levelKey struct {
	side  matching.Side
	price int64
}

// book is one symbol's rebuilt order book. It is not safe for concurrent use;
// the Publisher guards it.
type book struct {
	bids, asks bookSide
	orders     map[matching.OrderID]*bookOrder
	freeOrders []*bookOrder
	freeLevels []*level
	// dirty lists levels touched since the last flush (may repeat a key).
	dirty []levelKey
}

func newBook(ordersHint int) *book {
	return &book{
		bids:   bookSide{buy: true},
		orders: make(map[matching.OrderID]*bookOrder, ordersHint),
	}
}

func (b *book) side(s matching.Side) *bookSide {
	if s == matching.Buy {
		return &b.bids
	}
	return &b.asks
}

// search returns the index of the first level not worse than price, and whether
// that level is at price exactly.
func (s *bookSide) search(price int64) (int, bool) {
	lo, hi := 0, len(s.levels)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		p := s.levels[m].price
		if (s.buy && p < price) || (!s.buy && p > price) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s.levels) && s.levels[lo].price == price
}

// best returns the best level, or nil.
func (s *bookSide) best() *level {
	if len(s.levels) == 0 {
		return nil
	}
	return s.levels[len(s.levels)-1]
}

// add rests an order at the back of its level. An ID already on the book is
// replaced (it cannot happen with a correct event stream; tolerate it).
// Cost: a map insert and a binary search; O(levels behind the touch) only when
// a new level is created away from the touch.
func (b *book) add(id matching.OrderID, side matching.Side, price, leaves int64) {
	if leaves <= 0 || (side != matching.Buy && side != matching.Sell) {
		return
	}
	if _, ok := b.orders[id]; ok {
		b.remove(id)
	}
	s := b.side(side)
	i, found := s.search(price)
	var l *level
	if found {
		l = s.levels[i]
	} else {
		l = b.newLevel(price)
		s.levels = append(s.levels, nil)
		copy(s.levels[i+1:], s.levels[i:])
		s.levels[i] = l
	}
	o := b.newOrder()
	*o = bookOrder{id: id, price: price, leaves: leaves, side: side, lvl: l, prev: l.tail}
	if l.tail != nil {
		l.tail.next = o
	} else {
		l.head = o
	}
	l.tail = o
	l.qty += leaves
	l.orders++
	b.orders[id] = o
	b.dirty = append(b.dirty, levelKey{side, price})
}

// reduce sets an order's open quantity in place (keeping its queue position);
// 0 removes it. Unknown IDs are ignored: a taker that never rested, say.
func (b *book) reduce(id matching.OrderID, leaves int64) {
	o, ok := b.orders[id]
	if !ok {
		return
	}
	if leaves <= 0 {
		b.remove(id)
		return
	}
	o.lvl.qty += leaves - o.leaves
	o.leaves = leaves
	b.dirty = append(b.dirty, levelKey{o.side, o.price})
}

// remove takes an order off the book; unknown IDs are ignored.
func (b *book) remove(id matching.OrderID) {
	o, ok := b.orders[id]
	if !ok {
		return
	}
	delete(b.orders, id)
	l := o.lvl
	if o.prev != nil {
		o.prev.next = o.next
	} else {
		l.head = o.next
	}
	if o.next != nil {
		o.next.prev = o.prev
	} else {
		l.tail = o.prev
	}
	l.qty -= o.leaves
	l.orders--
	b.dirty = append(b.dirty, levelKey{o.side, o.price})
	if l.orders == 0 {
		s := b.side(o.side)
		if i, found := s.search(l.price); found {
			copy(s.levels[i:], s.levels[i+1:])
			s.levels[len(s.levels)-1] = nil
			s.levels = s.levels[:len(s.levels)-1]
		}
		*l = level{}
		b.freeLevels = append(b.freeLevels, l)
	}
	*o = bookOrder{}
	b.freeOrders = append(b.freeOrders, o)
}

// clear empties the book, keeping its memory for reuse.
func (b *book) clear() {
	for _, s := range []*bookSide{&b.bids, &b.asks} {
		for _, l := range s.levels {
			for o := l.head; o != nil; {
				n := o.next
				*o = bookOrder{}
				b.freeOrders = append(b.freeOrders, o)
				o = n
			}
			*l = level{}
			b.freeLevels = append(b.freeLevels, l)
		}
		clear(s.levels)
		s.levels = s.levels[:0]
	}
	clear(b.orders)
	b.dirty = b.dirty[:0]
}

// levelAt returns the aggregate at a price (zero when there is none).
func (b *book) levelAt(side matching.Side, price int64) (qty int64, orders int) {
	s := b.side(side)
	if i, found := s.search(price); found {
		return s.levels[i].qty, s.levels[i].orders
	}
	return 0, 0
}

// newOrder and newLevel take from the free lists, allocating in chunks so that
// a growing book costs one allocation per 256 orders.
func (b *book) newOrder() *bookOrder {
	if n := len(b.freeOrders); n > 0 {
		o := b.freeOrders[n-1]
		b.freeOrders = b.freeOrders[:n-1]
		return o
	}
	chunk := make([]bookOrder, 256)
	for i := len(chunk) - 1; i > 0; i-- {
		b.freeOrders = append(b.freeOrders, &chunk[i])
	}
	return &chunk[0]
}

func (b *book) newLevel(price int64) *level {
	var l *level
	if n := len(b.freeLevels); n > 0 {
		l = b.freeLevels[n-1]
		b.freeLevels = b.freeLevels[:n-1]
	} else {
		chunk := make([]level, 64)
		for i := len(chunk) - 1; i > 0; i-- {
			b.freeLevels = append(b.freeLevels, &chunk[i])
		}
		l = &chunk[0]
	}
	l.price = price
	return l
}
