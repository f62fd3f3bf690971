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
	// Type is Limit or Market on the book, Stop or StopLimit while waiting
	// for its trigger.
	Type      OrderType
	StopPrice int64
	// Display is an iceberg's peak (0: not an iceberg); Shown is what the
	// order shows now.
	Display  int64
	Shown    int64
	ExpireNs int64
}

// Order returns the open order id. O(1).
func (e *Engine) Order(id OrderID) (OrderInfo, bool) {
	o := e.index.get(uint64(id))
	if o == nil {
		return OrderInfo{}, false
	}
	return o.info(), true
}

// OpenOrders returns the number of open orders. O(1).
func (e *Engine) OpenOrders() int { return e.index.len() }

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
	for o := b.mkt[side-1].head; o != nil; o = o.next {
		if !fn(o.info()) {
			return
		}
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

// Stops calls fn for each waiting stop order of one side of symbol s in
// trigger order (buy stops by rising stop price, sell stops by falling stop
// price, then oldest first) until fn returns false. O(stops visited).
func (e *Engine) Stops(s SymbolID, side Side, fn func(o OrderInfo) bool) {
	b := e.book(s)
	if b == nil || (side != Buy && side != Sell) || b.stops[side-1] == nil {
		return
	}
	b.stops[side-1].Ascend(func(o *order) bool { return fn(o.info()) })
}

// Phase returns symbol s's phase (PhaseHalted while it is halted;
// PhaseClosed for an unknown symbol). O(1).
func (e *Engine) Phase(s SymbolID) Phase {
	b := e.book(s)
	switch {
	case b == nil:
		return PhaseClosed
	case b.halted:
		return PhaseHalted
	}
	return b.phase
}

// PhaseUnderHalt returns symbol s's phase ignoring a halt: the phase it
// resumes in (PhaseClosed for an unknown symbol). O(1).
func (e *Engine) PhaseUnderHalt(s SymbolID) Phase {
	if b := e.book(s); b != nil {
		return b.phase
	}
	return PhaseClosed
}

// Indicative returns symbol s's indicative uncross during a call: price (0:
// none), executable volume, and the imbalance with its side. O(1).
func (e *Engine) Indicative(s SymbolID) (price, qty, imbalance int64, side Side) {
	b := e.book(s)
	if b == nil {
		return 0, 0, 0, 0
	}
	return b.ind.price, b.ind.qty, b.ind.imb, b.ind.side
}

// LastPrice returns symbol s's last trade price (auction or continuous; 0:
// none yet) and its last auction price. O(1).
func (e *Engine) LastPrice(s SymbolID) (last, auction int64) {
	b := e.book(s)
	if b == nil {
		return 0, 0
	}
	return b.lastPrice, b.refPrice
}
