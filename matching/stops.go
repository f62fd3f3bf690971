package matching

import "github.com/google/btree"

// hold puts a new stop order off the book, behind the stops with the same
// stop price, and indexes it. O(log stops).
func (e *Engine) hold(b *book, o *order, out []Event) []Event {
	e.arrival++
	o.x.arrival = e.arrival
	e.stopTree(b, o.side).ReplaceOrInsert(o)
	o.held = true
	e.index.put(uint64(o.id), o)
	ev := Event{
		Kind: EvStopAdded, Side: o.side, Symbol: o.symbol, Account: o.account, OrderID: o.id,
		Price: o.price, Qty: o.qty, Leaves: o.leaves,
	}
	ev.SetStopPrice(o.x.stopPx)
	return e.emit(out, ev)
}

// stopTree returns b's tree of side's stops, made on first use.
func (e *Engine) stopTree(b *book, side Side) *btree.BTreeG[*order] {
	i := side - 1
	if b.stops[i] == nil {
		less := buyStopLess
		if side == Sell {
			less = sellStopLess
		}
		b.stops[i] = btree.NewWithFreeListG(btreeDegree, less, e.stopNodes)
		b.stopTrees = true
	}
	return b.stops[i]
}

// runTriggers triggers every stop of b that the last trade price reaches and
// enters them one at a time, in queue order; a trade made by a triggered
// order can reach more stops, which join the back of the queue (see
// rules.go). O(log stops) per stop triggered plus what each entry costs.
func (e *Engine) runTriggers(b *book, out []Event) []Event {
	e.trig = e.trig[:0]
	e.queueTriggered(b)
	for i := 0; i < len(e.trig); i++ {
		o := e.trig[i]
		if o.typ == Stop {
			o.typ = Market
		} else {
			o.typ = Limit
		}
		ev := Event{
			Kind: EvTriggered, Side: o.side, Symbol: o.symbol, Account: o.account, OrderID: o.id,
			Price: o.price, Qty: o.qty, Leaves: o.leaves,
		}
		ev.SetStopPrice(o.x.stopPx)
		out = e.emit(out, ev)
		out = e.enter(b, o, true, out)
		if b.phase == PhaseContinuous {
			e.queueTriggered(b)
		}
	}
	clear(e.trig)
	e.trig = e.trig[:0]
	return out
}

// queueTriggered moves the stops the last trade price reaches from b's stop
// trees to the back of the trigger queue: buy stops by rising stop price,
// then sell stops by falling stop price, oldest first at equal prices.
func (e *Engine) queueTriggered(b *book) {
	last := b.lastPrice
	if last == 0 {
		return
	}
	if st := b.stops[0]; st != nil {
		for {
			o, ok := st.Min()
			if !ok || o.x.stopPx > last {
				break
			}
			st.DeleteMin()
			o.held = false
			e.trig = append(e.trig, o)
		}
	}
	if st := b.stops[1]; st != nil {
		for {
			o, ok := st.Min()
			if !ok || o.x.stopPx < last {
				break
			}
			st.DeleteMin()
			o.held = false
			e.trig = append(e.trig, o)
		}
	}
}
