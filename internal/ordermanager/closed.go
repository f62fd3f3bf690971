package ordermanager

import (
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// closedOrdersRetained is how many slots remember closed orders (filled,
// cancelled, expired, rejected by the engine) in full for
// OrderStatusRequest and too-late cancel rejects. A closed order sits in
// the slot of its OrderID modulo closedOrdersRetained, so what is
// remembered is, roughly, the closed orders among the last
// closedOrdersRetained OrderIDs given out (a later close in the same slot
// replaces an earlier one). The slots are rebuilt by replay from the
// journal but not written in snapshots: after a restart the orders closed
// before the newest snapshot are known by their ClOrdIDs only. Cost: one
// store of about 110 bytes per close, no hashing; memory is taken in
// chunks of closedChunk slots as they are first used (about 7 MB at most).
const closedOrdersRetained = 1 << 16

const (
	closedChunk  = 1 << 10
	closedChunks = closedOrdersRetained / closedChunk
)

// closedRec is a closed order as it was when it closed; id 0 is an empty
// slot.
type closedRec struct {
	id                        matching.OrderID
	price, qty, filled, cumTL int64
	acct                      matching.AccountID
	sym                       matching.SymbolID
	session                   refdata.SessionID
	side                      matching.Side
	typ                       matching.OrderType
	tif                       matching.TimeInForce
	status                    byte // its final OrdStatus
	cl                        ClOrdID
}

// closedBook is the direct-mapped table of closed orders. It is not part
// of the replayed state's hash.
type closedBook struct {
	chunks [closedChunks]*[closedChunk]closedRec
}

// add remembers r, closed with status st. O(1); allocates only the first
// time a chunk is used.
func (b *closedBook) add(r *orderRec, st byte) {
	i := uint64(r.id) % closedOrdersRetained
	c := b.chunks[i/closedChunk]
	if c == nil {
		c = new([closedChunk]closedRec)
		b.chunks[i/closedChunk] = c
	}
	c[i%closedChunk] = closedRec{
		id: r.id, price: r.price, qty: r.qty, filled: r.filled, cumTL: r.cumTL,
		acct: r.acct, sym: r.sym, session: r.session, side: r.side, typ: r.typ, tif: r.tif,
		status: st, cl: r.cl,
	}
}

// get returns the closed order id (as an order record with no leaves) and
// its final status, if remembered.
func (b *closedBook) get(id matching.OrderID) (orderRec, byte, bool) {
	if id == 0 {
		return orderRec{}, 0, false
	}
	i := uint64(id) % closedOrdersRetained
	c := b.chunks[i/closedChunk]
	if c == nil || c[i%closedChunk].id != id {
		return orderRec{}, 0, false
	}
	x := &c[i%closedChunk]
	return orderRec{
		id: x.id, price: x.price, qty: x.qty, filled: x.filled, cumTL: x.cumTL,
		acct: x.acct, sym: x.sym, session: x.session, side: x.side, typ: x.typ, tif: x.tif, cl: x.cl,
	}, x.status, true
}
