package matching

// order is one open order. Orders come from the engine's pool and are linked
// into their price level's FIFO through prev and next; a free order is linked
// into the pool through next.
//
// An order is 88 bytes: what every order needs. What only stop, iceberg and
// GTD orders need (stop price, stop arrival, expiry, iceberg peak and shown
// quantity, 40 bytes) lives in an orderExt that x points at, nil for the
// plain limit and market orders that make up nearly every book; the filled
// quantity is qty-leaves, not a field.
type order struct {
	id       OrderID
	account  AccountID
	stpGroup uint32
	symbol   SymbolID
	side     Side
	tif      TimeInForce
	stp      STPMode
	postOnly bool
	// typ is Limit or Market for an order on the book (a Market one rests
	// only in a call), Stop or StopLimit while held is set.
	typ  OrderType
	held bool
	// ice is set for an iceberg (x.peak > 0), so that what an order shows
	// (visible) costs one test of a byte on the hot path.
	ice bool

	price int64
	// qty is the total quantity; for an open order qty == filled + leaves
	// always holds (self-trade decrements and replaces reduce qty too), so
	// filled is qty-leaves.
	qty    int64
	leaves int64

	x          *orderExt
	lvl        *level
	prev, next *order
}

// orderExt is the part of an order that only stop, iceberg and GTD orders
// have. It comes from the order pool's own free list (orderPool.ext) and goes
// back with its order.
type orderExt struct {
	stopPx   int64
	expireNs int64
	// peak is an iceberg's display quantity (0: not an iceberg) and shown
	// what it shows now; leaves-shown is its hidden reserve.
	peak  int64
	shown int64
	// arrival orders held stops with equal stop prices.
	arrival uint64
	// nextFree links a pooled orderExt.
	nextFree *orderExt
}

// The accessors of the rarely used fields read zero for an order without an
// orderExt.

func (o *order) filled() int64 { return o.qty - o.leaves }

func (o *order) stopPx() int64 {
	if o.x == nil {
		return 0
	}
	return o.x.stopPx
}

func (o *order) expireNs() int64 {
	if o.x == nil {
		return 0
	}
	return o.x.expireNs
}

func (o *order) peak() int64 {
	if o.x == nil {
		return 0
	}
	return o.x.peak
}

func (o *order) shown() int64 {
	if o.x == nil {
		return 0
	}
	return o.x.shown
}

func (o *order) arrival() uint64 {
	if o.x == nil {
		return 0
	}
	return o.x.arrival
}

// iceberg returns o's orderExt when o is an iceberg, else nil.
func (o *order) iceberg() *orderExt {
	if o.ice {
		return o.x
	}
	return nil
}

// isSelf reports whether a resting order m belongs to the same owner as t:
// the same account, or the same non-zero STP group.
func (t *order) isSelf(m *order) bool {
	return t.account == m.account || (t.stpGroup != 0 && t.stpGroup == m.stpGroup)
}

// auctionOnly reports whether o takes part in one auction only: what is
// left of it after an uncross is cancelled.
func (o *order) auctionOnly() bool {
	return o.typ == Market || o.tif >= AtOpen // AtOpen or AtClose, the last two
}

// visible is what o shows on its level: its leaves, or an iceberg's peak.
func (o *order) visible() int64 {
	if o.ice {
		return o.x.shown
	}
	return o.leaves
}

func (o *order) info() OrderInfo {
	return OrderInfo{
		ID: o.id, Account: o.account, STPGroup: o.stpGroup, Symbol: o.symbol,
		Side: o.side, TIF: o.tif, STP: o.stp, PostOnly: o.postOnly,
		Price: o.price, Qty: o.qty, Filled: o.filled(), Leaves: o.leaves,
		Type: o.typ, StopPrice: o.stopPx(), Display: o.peak(), Shown: o.visible(), ExpireNs: o.expireNs(),
	}
}

// orderPool hands out orders from slabs allocated up front, so that steady
// state takes and returns orders without allocating. A slab is allocated only
// when every pooled order is in use. A new slab's orders are handed out in
// turn (fresh ones), not linked into the free list when it is allocated:
// linking wrote every order of a 64 k slab (5.6 MB, about 1,400 page faults
// of fresh memory) in the one call that grew the pool, and a restore of
// millions of orders wrote its whole pool twice.
type orderPool struct {
	free      *order  // returned orders
	fresh     []order // the newest slab's orders never handed out (zero)
	allocated int
	// xfree and xallocated are the same for orderExt.
	xfree      *orderExt
	xallocated int
}

// grow allocates a slab of n orders; the orders of the previous one that
// were never handed out go to the free list first.
func (p *orderPool) grow(n int) {
	for i := range p.fresh {
		p.fresh[i].next = p.free
		p.free = &p.fresh[i]
	}
	p.fresh = make([]order, n)
	p.allocated += n
}

func (p *orderPool) get() *order {
	if o := p.free; o != nil {
		p.free = o.next
		*o = order{}
		return o
	}
	if len(p.fresh) == 0 {
		p.grow(min(max(p.allocated, 1024), slabMax))
	}
	o := &p.fresh[0]
	p.fresh = p.fresh[1:]
	return o
}

func (p *orderPool) put(o *order) {
	if x := o.x; x != nil {
		*x = orderExt{nextFree: p.xfree}
		p.xfree = x
	}
	*o = order{next: p.free}
	p.free = o
}

// ext gives o a zeroed orderExt (o must have none) and returns it. Its slabs
// grow like the orders' but start small: few orders need one.
func (p *orderPool) ext(o *order) *orderExt {
	if p.xfree == nil {
		slab := make([]orderExt, min(max(p.xallocated, 256), slabMax))
		for i := range slab {
			slab[i].nextFree = p.xfree
			p.xfree = &slab[i]
		}
		p.xallocated += len(slab)
	}
	x := p.xfree
	p.xfree = x.nextFree
	x.nextFree = nil
	o.x = x
	return x
}
