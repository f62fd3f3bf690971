package matching

// order is one open order. Orders come from the engine's pool and are linked
// into their price level's FIFO through prev and next; a free order is linked
// into the pool through next.
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

	price    int64
	stopPx   int64
	expireNs int64
	// peak is an iceberg's display quantity (0: not an iceberg) and shown
	// what it shows now; leaves-shown is its hidden reserve.
	peak  int64
	shown int64
	// arrival orders held stops with equal stop prices.
	arrival uint64
	// qty is the total quantity; for an open order qty == filled + leaves
	// always holds (self-trade decrements and replaces reduce qty too).
	qty    int64
	filled int64
	leaves int64

	lvl        *level
	prev, next *order
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
	if o.peak == 0 {
		return o.leaves
	}
	return o.shown
}

func (o *order) info() OrderInfo {
	return OrderInfo{
		ID: o.id, Account: o.account, STPGroup: o.stpGroup, Symbol: o.symbol,
		Side: o.side, TIF: o.tif, STP: o.stp, PostOnly: o.postOnly,
		Price: o.price, Qty: o.qty, Filled: o.filled, Leaves: o.leaves,
		Type: o.typ, StopPrice: o.stopPx, Display: o.peak, Shown: o.visible(), ExpireNs: o.expireNs,
	}
}

// orderPool hands out orders from slabs allocated up front, so that steady
// state takes and returns orders without allocating. A slab is allocated only
// when every pooled order is in use.
type orderPool struct {
	free      *order
	allocated int
}

func (p *orderPool) grow(n int) {
	slab := make([]order, n)
	for i := range slab {
		slab[i].next = p.free
		p.free = &slab[i]
	}
	p.allocated += n
}

func (p *orderPool) get() *order {
	if p.free == nil {
		p.grow(min(max(p.allocated, 1024), slabMax))
	}
	o := p.free
	p.free = o.next
	*o = order{}
	return o
}

func (p *orderPool) put(o *order) {
	*o = order{next: p.free}
	p.free = o
}
