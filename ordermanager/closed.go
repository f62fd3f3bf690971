package ordermanager

import "github.com/exchange-sim/exchange/matching"

// ClosedOrdersRetained is how many closed orders (filled, cancelled,
// expired, rejected by the engine) stay remembered in full for
// OrderStatusRequest, the most recently closed first to be kept. They are
// rebuilt by replay from the journal, but not written in snapshots: after a
// restart the orders closed before the newest snapshot are known by their
// ClOrdIDs only (see answerStatus). Cost: about 200 bytes per order,
// allocated as orders close, up to the limit.
const ClosedOrdersRetained = 1 << 15

// closedRec is a closed order as it was when it closed.
type closedRec struct {
	r      orderRec
	status byte // its final OrdStatus
}

// closedBook is a ring of the last ClosedOrdersRetained closed orders with
// an index by OrderID. It is not part of the replayed state's hash.
type closedBook struct {
	recs  []closedRec
	next  int // where the next one goes once the ring is full
	index table[orderKey, int32]
}

// add remembers r, closed with status st. O(1); allocates only while the
// ring grows.
func (b *closedBook) add(r *orderRec, st byte) {
	if b.index.slots == nil {
		b.index = newTable[orderKey, int32](1024)
	}
	rec := closedRec{r: *r, status: st}
	rec.r.leaves, rec.r.pending = 0, false
	if len(b.recs) < ClosedOrdersRetained {
		b.recs = append(b.recs, rec)
		b.index.put(orderKey(r.id), int32(len(b.recs)-1))
		return
	}
	i := b.next
	b.next = (b.next + 1) % len(b.recs)
	old := b.recs[i].r.id
	if j, ok := b.index.get(orderKey(old)); ok && *j == int32(i) {
		b.index.del(orderKey(old))
	}
	b.recs[i] = rec
	b.index.put(orderKey(r.id), int32(i))
}

// get returns the closed order id and its final status, if remembered.
func (b *closedBook) get(id matching.OrderID) (*orderRec, byte, bool) {
	if b.index.slots == nil {
		return nil, 0, false
	}
	i, ok := b.index.get(orderKey(id))
	if !ok {
		return nil, 0, false
	}
	c := &b.recs[*i]
	return &c.r, c.status, true
}
