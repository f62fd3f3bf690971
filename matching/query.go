package matching

// OrderInfo describes an open order.
type OrderInfo struct {
	ID       OrderID
	Account  AccountID
	STPGroup uint32
	Symbol   SymbolID
	Side     Side
	TIF      TimeInForce
	STP      STPMode
	PostOnly bool
	Price    int64
	// Qty is the total quantity: Filled + Leaves (self-trade decrements and
	// replaces reduce it).
	Qty    int64
	Filled int64
	Leaves int64
}

// Order returns the open order id. O(1).
func (e *Engine) Order(id OrderID) (OrderInfo, bool) {
	o := e.index[id]
	if o == nil {
		return OrderInfo{}, false
	}
	return o.info(), true
}

// OpenOrders returns the number of open orders. O(1).
func (e *Engine) OpenOrders() int { return len(e.index) }

// Levels calls fn for each price level of one side of symbol s, best first,
// with its price, total leaves and number of orders, until fn returns false.
// O(levels visited).
func (e *Engine) Levels(s SymbolID, side Side, fn func(price, qty int64, orders int) bool) {
	b := e.book(s)
	if b == nil || (side != Buy && side != Sell) {
		return
	}
	b.sideOf(side).levels.Ascend(func(l *level) bool {
		return l.count == 0 || fn(l.price, l.qty, l.count)
	})
}

// Orders calls fn for each resting order of one side of symbol s in priority
// order (best price first, then oldest first) until fn returns false.
// O(orders visited).
func (e *Engine) Orders(s SymbolID, side Side, fn func(o OrderInfo) bool) {
	b := e.book(s)
	if b == nil || (side != Buy && side != Sell) {
		return
	}
	b.sideOf(side).levels.Ascend(func(l *level) bool {
		for o := l.head; o != nil; o = o.next {
			if !fn(o.info()) {
				return false
			}
		}
		return true
	})
}
