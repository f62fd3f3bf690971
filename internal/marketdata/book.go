package marketdata

import "github.com/exchange-sim/exchange/matching"

// bookOrder is one resting order in the rebuilt L3 book: an intrusive list node
// in its level's FIFO, linked by index into the book's order store. It holds
// no pointer (40 bytes), so millions of resting orders are no work for the
// garbage collector's marking; its level is found by price when needed.
type bookOrder struct {
	id         matching.OrderID
	price      int64
	leaves     int64
	prev, next orderRef
	side       matching.Side
}

// orderRef is an order's index in its book's store; 0 is none.
type orderRef uint32

// orderChunk is the number of orders allocated at once.
const orderChunk = 1 << 12

// orderStore holds a book's orders in fixed chunks: growing it allocates one
// chunk and never copies or rescans the others. Index 0 is never used.
type orderStore struct {
	chunks [][]bookOrder
	n      int
	free   []orderRef
}

func (st *orderStore) at(r orderRef) *bookOrder { return &st.chunks[r/orderChunk][r%orderChunk] }

func (st *orderStore) alloc() orderRef {
	if n := len(st.free); n > 0 {
		r := st.free[n-1]
		st.free = st.free[:n-1]
		return r
	}
	if st.n == 0 {
		st.n = 1 // index 0 stays unused: the zero orderRef means none
	}
	if st.n >= len(st.chunks)*orderChunk {
		st.chunks = append(st.chunks, make([]bookOrder, orderChunk))
	}
	st.n++
	return orderRef(st.n - 1)
}

func (st *orderStore) release(r orderRef) {
	*st.at(r) = bookOrder{}
	st.free = append(st.free, r)
}

// level is one price of one side: the aggregate (L2) and its queue (L3).
type level struct {
	price      int64
	qty        int64
	orders     int
	head, tail orderRef
}

// bookSide keeps its levels sorted worst first, best last, so that the busy end
// of the book (near the touch) is the cheap end of the slice to insert and
// remove at. Finding a level is a binary search.
type bookSide struct {
	buy    bool
	levels []*level
	ords   *orderStore // the book's orders, for walking a level's queue
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
	orders     map[matching.OrderID]orderRef
	store      orderStore
	freeLevels []*level
	// dirty lists levels touched since the last flush (may repeat a key).
	dirty []levelKey
}

func newBook(ordersHint int) *book {
	b := &book{
		bids:   bookSide{buy: true},
		orders: make(map[matching.OrderID]orderRef, ordersHint),
	}
	b.bids.ords, b.asks.ords = &b.store, &b.store
	return b
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
	r := b.store.alloc()
	*b.store.at(r) = bookOrder{id: id, price: price, leaves: leaves, side: side, prev: l.tail}
	if l.tail != 0 {
		b.store.at(l.tail).next = r
	} else {
		l.head = r
	}
	l.tail = r
	l.qty += leaves
	l.orders++
	b.orders[id] = r
	b.dirty = append(b.dirty, levelKey{side, price})
}

// reduce sets an order's open quantity in place (keeping its queue position);
// 0 removes it. Unknown IDs are ignored: a taker that never rested, say.
func (b *book) reduce(id matching.OrderID, leaves int64) {
	r, ok := b.orders[id]
	if !ok {
		return
	}
	if leaves <= 0 {
		b.remove(id)
		return
	}
	o := b.store.at(r)
	if l := b.levelOf(o); l != nil {
		l.qty += leaves - o.leaves
	}
	o.leaves = leaves
	b.dirty = append(b.dirty, levelKey{o.side, o.price})
}

// remove takes an order off the book; unknown IDs are ignored.
func (b *book) remove(id matching.OrderID) {
	r, ok := b.orders[id]
	if !ok {
		return
	}
	delete(b.orders, id)
	o := b.store.at(r)
	s := b.side(o.side)
	i, found := s.search(o.price)
	if !found { // cannot happen: an order's level lives while it does
		b.store.release(r)
		return
	}
	l := s.levels[i]
	if o.prev != 0 {
		b.store.at(o.prev).next = o.next
	} else {
		l.head = o.next
	}
	if o.next != 0 {
		b.store.at(o.next).prev = o.prev
	} else {
		l.tail = o.prev
	}
	l.qty -= o.leaves
	l.orders--
	b.dirty = append(b.dirty, levelKey{o.side, o.price})
	if l.orders == 0 {
		copy(s.levels[i:], s.levels[i+1:])
		s.levels[len(s.levels)-1] = nil
		s.levels = s.levels[:len(s.levels)-1]
		*l = level{}
		b.freeLevels = append(b.freeLevels, l)
	}
	b.store.release(r)
}

// levelOf returns the level an order rests at. Cost: a binary search over
// its side's levels.
func (b *book) levelOf(o *bookOrder) *level {
	s := b.side(o.side)
	if i, found := s.search(o.price); found {
		return s.levels[i]
	}
	return nil
}

// clear empties the book, keeping its memory for reuse.
func (b *book) clear() {
	for _, s := range []*bookSide{&b.bids, &b.asks} {
		for _, l := range s.levels {
			*l = level{}
			b.freeLevels = append(b.freeLevels, l)
		}
		clear(s.levels)
		s.levels = s.levels[:0]
	}
	clear(b.orders)
	clear(b.store.chunks)
	b.store = orderStore{chunks: b.store.chunks[:0]}
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

// newLevel takes a level from the free list, allocating in chunks so that
// a growing book costs one allocation per 64 levels.
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
