package matching

// level is one price level of one side of a book: the FIFO of the orders
// resting at that price, oldest first, with their total leaves. A level whose
// last order left stays in its tree for a while, empty and on the engine's
// list of empty levels, so that an order arriving at that price soon after
// (the common case when orders move) finds it without touching the tree.
type level struct {
	price int64
	// qty is the sum of what the orders show (their leaves, or an
	// iceberg's peak) and hidden the sum of icebergs' reserves.
	qty    int64
	hidden int64
	count  int
	head   *order
	tail   *order
	side   *bookSide

	// emptyPrev and emptyNext link an empty level into levelList; nextFree
	// links a pooled level.
	emptyPrev, emptyNext *level
	nextFree             *level
}

// pushBack appends o at the back of the queue. O(1).
func (l *level) pushBack(o *order) {
	o.lvl = l
	o.prev = l.tail
	o.next = nil
	if l.tail == nil {
		l.head = o
	} else {
		l.tail.next = o
	}
	l.tail = o
	v := o.visible()
	l.qty += v
	l.hidden += o.leaves - v
	l.count++
}

// remove unlinks o, wherever it is in the queue. O(1). pushBack and remove
// stay small enough to inline into the continuous path; the count of
// auction-only orders (bookSide.auctionOnly) is kept by their callers that
// add such an order to a book or take one off it (place, unrest,
// unlinkMaker, auctionDone), not by a refill, which moves an order within
// its level.
func (l *level) remove(o *order) {
	if o.prev == nil {
		l.head = o.next
	} else {
		o.prev.next = o.next
	}
	if o.next == nil {
		l.tail = o.prev
	} else {
		o.next.prev = o.prev
	}
	v := o.visible()
	l.qty -= v
	l.hidden -= o.leaves - v
	l.count--
	o.prev, o.next, o.lvl = nil, nil, nil
}

// set changes o's leaves (and an iceberg's shown peak; shown is 0 for any
// other order) in place, keeping the level's totals. O(1).
func (l *level) set(o *order, leaves, shown int64) {
	v := o.visible()
	l.qty -= v
	l.hidden -= o.leaves - v
	o.leaves = leaves
	if o.x != nil {
		o.x.shown = shown // 0 for an order that is not an iceberg
	}
	v = o.visible()
	l.qty += v
	l.hidden += o.leaves - v
}

// total is every lot on the level, shown and hidden.
func (l *level) total() int64 { return l.qty + l.hidden }

// levelList is a FIFO of empty levels, oldest first. O(1) operations.
type levelList struct {
	head, tail *level
	n          int
}

func (q *levelList) pushBack(l *level) {
	l.emptyPrev, l.emptyNext = q.tail, nil
	if q.tail == nil {
		q.head = l
	} else {
		q.tail.emptyNext = l
	}
	q.tail = l
	q.n++
}

func (q *levelList) remove(l *level) {
	if l.emptyPrev == nil {
		q.head = l.emptyNext
	} else {
		l.emptyPrev.emptyNext = l.emptyNext
	}
	if l.emptyNext == nil {
		q.tail = l.emptyPrev
	} else {
		l.emptyNext.emptyPrev = l.emptyPrev
	}
	l.emptyPrev, l.emptyNext = nil, nil
	q.n--
}

// levelPool recycles price levels like orderPool recycles orders.
type levelPool struct {
	free      *level
	allocated int
}

// slabMax caps how many orders or levels a pool adds at once once it has
// run out: doubling a pool of millions would leave up to half of a slab
// resident and unused (a pool's slabs need not be contiguous, so growing in
// bounded steps costs nothing but a call per step).
const slabMax = 1 << 16

func (p *levelPool) grow(n int) {
	slab := make([]level, n)
	for i := range slab {
		slab[i].nextFree = p.free
		p.free = &slab[i]
	}
	p.allocated += n
}

func (p *levelPool) get(price int64, side *bookSide) *level {
	if p.free == nil {
		p.grow(min(max(p.allocated, 256), slabMax))
	}
	l := p.free
	p.free = l.nextFree
	*l = level{price: price, side: side}
	return l
}

func (p *levelPool) put(l *level) {
	*l = level{nextFree: p.free}
	p.free = l
}
