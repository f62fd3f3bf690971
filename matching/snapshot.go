package matching

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/exchange-sim/exchange/internal/prefault"
)

// Snapshot layout, little-endian, version 2:
//
//	magic "MXSN" | version u32 | symbols u32 | outSeq u64 | matchID u64 | arrival u64
//	per symbol: halted u8 | phase u8 | indicative side u8 | lastPrice | refPrice |
//	            staticBps | dynamicBps | indicative price | qty | imbalance (u64 each)
//	            then four order lists, each count u64 | orders: buy book (resting
//	            market orders first), sell book, buy stops, sell stops
//	order: id u64 | account u32 | stpGroup u32 | price u64 | qty u64 | filled u64 |
//	       leaves u64 | tif u8 | stp u8 | postOnly u8 | type u8 | stopPrice u64 |
//	       peak u64 | shown u64 | expireNs u64 | arrival u64
//
// Orders appear in priority (or trigger) order, so the snapshot of a state is
// canonical: equal states give equal bytes.
const (
	snapMagic        = "MXSN"
	snapVersion      = 2
	snapHeaderSize   = 4 + 4 + 4 + 8 + 8 + 8
	snapBookSize     = 3 + 7*8
	snapOrderSize    = 8 + 4 + 4 + 8 + 8 + 8 + 8 + 4 + 5*8
	snapSideHeadSize = 8
)

// ErrSnapshot wraps every reason Restore refuses its input.
var ErrSnapshot = errors.New("matching: bad snapshot")

// AppendSnapshot appends the engine's whole state (books, phases, bands,
// stops, halts, OutSeq and MatchID) to b in the versioned binary form
// Restore reads. O(orders).
func (e *Engine) AppendSnapshot(b []byte) []byte {
	le := binary.LittleEndian
	b = append(b, snapMagic...)
	b = le.AppendUint32(b, snapVersion)
	b = le.AppendUint32(b, uint32(len(e.books)))
	b = le.AppendUint64(b, e.outSeq)
	b = le.AppendUint64(b, e.matchID)
	b = le.AppendUint64(b, e.arrival)
	appendOrder := func(o *order) {
		b = le.AppendUint64(b, uint64(o.id))
		b = le.AppendUint32(b, uint32(o.account))
		b = le.AppendUint32(b, o.stpGroup)
		b = le.AppendUint64(b, uint64(o.price))
		b = le.AppendUint64(b, uint64(o.qty))
		b = le.AppendUint64(b, uint64(o.filled()))
		b = le.AppendUint64(b, uint64(o.leaves))
		b = append(b, byte(o.tif), byte(o.stp), boolByte(o.postOnly), byte(o.typ))
		b = le.AppendUint64(b, uint64(o.stopPx()))
		b = le.AppendUint64(b, uint64(o.peak()))
		b = le.AppendUint64(b, uint64(o.shown()))
		b = le.AppendUint64(b, uint64(o.expireNs()))
		b = le.AppendUint64(b, o.arrival())
	}
	for i := range e.books {
		bk := &e.books[i]
		b = append(b, boolByte(bk.halted), byte(bk.phase), byte(bk.ind.side))
		for _, v := range [7]int64{bk.lastPrice, bk.refPrice, bk.staticBps, bk.dynamicBps, bk.ind.price, bk.ind.qty, bk.ind.imb} {
			b = le.AppendUint64(b, uint64(v))
		}
		for j, bs := range [2]*bookSide{&bk.bids, &bk.asks} {
			n := bk.mkt[j].count
			bs.levels.Ascend(func(l *level) bool { n += l.count; return true })
			b = le.AppendUint64(b, uint64(n))
			for o := bk.mkt[j].head; o != nil; o = o.next {
				appendOrder(o)
			}
			bs.levels.Ascend(func(l *level) bool {
				for o := l.head; o != nil; o = o.next {
					appendOrder(o)
				}
				return true
			})
		}
		for _, st := range bk.stops {
			if st == nil {
				b = le.AppendUint64(b, 0)
				continue
			}
			b = le.AppendUint64(b, uint64(st.Len()))
			st.Ascend(func(o *order) bool { appendOrder(o); return true })
		}
	}
	return b
}

// Restore rebuilds an engine from AppendSnapshot's output. It returns an error
// wrapping ErrSnapshot, never panics, on input that is truncated, has
// trailing bytes, or describes an impossible state (a crossed book outside a
// call, orders out of priority order, duplicate IDs, values out of range).
func Restore(b []byte) (*Engine, error) {
	le := binary.LittleEndian
	if len(b) < snapHeaderSize || string(b[:4]) != snapMagic {
		return nil, fmt.Errorf("%w: missing header", ErrSnapshot)
	}
	if v := le.Uint32(b[4:]); v != snapVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrSnapshot, v, snapVersion)
	}
	symbols := le.Uint32(b[8:])
	if symbols > SymbolsMax || uint64(symbols)*(snapBookSize+4*snapSideHeadSize) > uint64(len(b)) {
		return nil, fmt.Errorf("%w: %d symbols", ErrSnapshot, symbols)
	}
	e := newEngine(Config{Symbols: int(symbols), OrdersHint: snapshotOrders(b[snapHeaderSize:], int(symbols))}, restoreHeadroomLevels)
	// The pool and the index were sized for every order and are written
	// through: make their pages resident in one call each instead of a
	// page fault per 4 KiB (about half the time at millions of orders).
	prefault.Slice(e.orders.fresh)
	prefault.Slice(e.index.slots)
	e.outSeq = le.Uint64(b[12:])
	e.matchID = le.Uint64(b[20:])
	e.arrival = le.Uint64(b[28:])
	r := b[snapHeaderSize:]
	for i := range e.books {
		bk := &e.books[i]
		if len(r) < snapBookSize || r[0] > 1 || Phase(r[1]) > PhaseVolatilityAuction || r[2] > byte(Sell) {
			return nil, fmt.Errorf("%w: symbol %d: header", ErrSnapshot, bk.symbol)
		}
		bk.halted, bk.phase, bk.ind.side = r[0] == 1, Phase(r[1]), Side(r[2])
		var v [7]int64
		for k := range v {
			v[k] = int64(le.Uint64(r[3+8*k:]))
			if v[k] < 0 || v[k] > PriceMax {
				return nil, fmt.Errorf("%w: symbol %d: value %d out of range", ErrSnapshot, bk.symbol, k)
			}
		}
		bk.lastPrice, bk.refPrice, bk.staticBps, bk.dynamicBps = v[0], v[1], min(v[2], BandBpsMax), min(v[3], BandBpsMax)
		bk.ind.price, bk.ind.qty, bk.ind.imb = v[4], v[5], v[6]
		r = r[snapBookSize:]
		for list := range 4 {
			var err error
			if r, err = e.restoreList(bk, list, r); err != nil {
				return nil, fmt.Errorf("%w: symbol %d list %d: %v", ErrSnapshot, bk.symbol, list, err)
			}
		}
		bid, ask := bk.bids.firstLive(), bk.asks.firstLive()
		if !bk.phase.IsCall() && (bk.mkt[0].count > 0 || bk.mkt[1].count > 0 || (bid != nil && ask != nil && bid.price >= ask.price)) {
			return nil, fmt.Errorf("%w: symbol %d: crossed book outside a call", ErrSnapshot, bk.symbol)
		}
	}
	if len(r) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrSnapshot, len(r))
	}
	return e, nil
}

// snapshotOrders counts the orders of a snapshot's books (b after the
// header), so that Restore sizes the index and the order pool once: the
// index of a 5 M order book otherwise grew three times on the way. On input
// it cannot walk it returns a bound from the length; restoreList reports
// what is wrong.
func snapshotOrders(b []byte, symbols int) int {
	guess := len(b) / snapOrderSize
	n := uint64(0)
	for range symbols {
		if len(b) < snapBookSize {
			return guess
		}
		b = b[snapBookSize:]
		for range 4 {
			if len(b) < snapSideHeadSize {
				return guess
			}
			k := binary.LittleEndian.Uint64(b)
			b = b[snapSideHeadSize:]
			if k > uint64(len(b)/snapOrderSize) {
				return guess
			}
			b = b[k*snapOrderSize:]
			n += k
		}
	}
	return int(n)
}

// restoreList reads one of a book's four order lists: 0 bids, 1 asks, 2 buy
// stops, 3 sell stops.
func (e *Engine) restoreList(bk *book, list int, r []byte) ([]byte, error) {
	le := binary.LittleEndian
	if len(r) < snapSideHeadSize {
		return nil, errors.New("truncated")
	}
	n := le.Uint64(r)
	r = r[snapSideHeadSize:]
	if n > uint64(len(r)/snapOrderSize) {
		return nil, fmt.Errorf("%d orders in %d bytes", n, len(r))
	}
	side := Side(1 + list%2)
	stops := list >= 2
	bs := bk.sideOf(side)
	var (
		last *order
		sink uint64
	)
	for k := uint64(0); k < n; k++ {
		if k%restoreTouch == 0 {
			// The index slots of the next orders, in a row: their cache
			// misses overlap instead of coming one per order (Touch).
			for j := uint64(0); j < min(restoreTouch, n-k); j++ {
				sink ^= e.index.touch(le.Uint64(r[j*snapOrderSize:]))
			}
		}
		x := orderExt{
			stopPx:   int64(le.Uint64(r[52:])),
			peak:     int64(le.Uint64(r[60:])),
			shown:    int64(le.Uint64(r[68:])),
			expireNs: int64(le.Uint64(r[76:])),
			arrival:  le.Uint64(r[84:]),
		}
		o := order{
			id:       OrderID(le.Uint64(r[0:])),
			account:  AccountID(le.Uint32(r[8:])),
			stpGroup: le.Uint32(r[12:]),
			price:    int64(le.Uint64(r[16:])),
			qty:      int64(le.Uint64(r[24:])),
			leaves:   int64(le.Uint64(r[40:])),
			tif:      TimeInForce(r[48]),
			stp:      STPMode(r[49]),
			typ:      OrderType(r[51]),
			symbol:   bk.symbol,
			side:     side,
		}
		filled := int64(le.Uint64(r[32:]))
		if r[50] > 1 {
			return nil, fmt.Errorf("order %d: post-only flag", o.id)
		}
		o.postOnly = r[50] == 1
		r = r[snapOrderSize:]
		// x stays apart from o until o is in the pool: o.x = &x would move
		// x to the heap, an allocation per order.
		if err := validRestored(&o, &x, filled, stops, bk.phase.IsCall(), last); err != nil {
			return nil, err
		}
		if e.index.get(uint64(o.id)) != nil {
			return nil, fmt.Errorf("order %d: duplicate id", o.id)
		}
		p := e.orders.get()
		*p = o
		if x != (orderExt{}) {
			*e.orders.ext(p) = x
			p.ice = x.peak > 0
		}
		if stops {
			p.held = true
			e.stopTree(bk, side).ReplaceOrInsert(p)
			if e.stopTree(bk, side).Len() != int(k+1) {
				return nil, fmt.Errorf("order %d: duplicate stop position", o.id)
			}
		} else {
			if last != nil && last.price != 0 && bs.better(o.price, last.price) {
				return nil, fmt.Errorf("order %d: out of priority order", o.id)
			}
			e.place(bk, p)
		}
		e.index.put(uint64(p.id), p)
		last = p
	}
	e.touched ^= sink
	return r, nil
}

// restoreTouch is how many orders' index slots restoreList touches in a row.
const restoreTouch = 8

// validRestored checks one restored order's values (filled as the snapshot
// gives it, which must be o.qty-o.leaves); last is the order before it in the
// same list; x is o's extension as read (o.x is not set yet).
func validRestored(o *order, x *orderExt, filled int64, stops, call bool, last *order) error {
	resting := o.tif == GTC || o.tif == Day || o.tif == GTD || o.tif == AtOpen || o.tif == AtClose
	if stops {
		resting = o.tif >= GTC && o.tif <= GTD
	}
	switch {
	case !stops && o.typ == Market && !call:
		return fmt.Errorf("order %d: market order on the book outside a call", o.id)
	case o.id == 0:
		return errors.New("order id 0")
	case o.price < 0 || o.price > PriceMax || (o.price == 0 && o.typ != Market && o.typ != Stop):
		return fmt.Errorf("order %d: price %d", o.id, o.price)
	case o.leaves <= 0 || o.leaves > QtyMax || filled < 0 || filled > QtyMax || o.qty > QtyMax || o.qty != filled+o.leaves:
		return fmt.Errorf("order %d: quantities", o.id)
	case !resting:
		return fmt.Errorf("order %d: time in force %d", o.id, o.tif)
	case (o.tif == GTD) != (x.expireNs != 0):
		return fmt.Errorf("order %d: expiry", o.id)
	case o.stp > STPDecrementCancel:
		return fmt.Errorf("order %d: stp mode %d", o.id, o.stp)
	case stops && ((o.typ != Stop && o.typ != StopLimit) || x.stopPx <= 0 || x.stopPx > PriceMax || x.peak != 0 || x.shown != 0):
		return fmt.Errorf("order %d: stop", o.id)
	case !stops && ((o.typ != Limit && o.typ != Market) || x.stopPx < 0 || x.stopPx > PriceMax || (o.typ == Limit && o.price == 0)):
		return fmt.Errorf("order %d: type %d", o.id, o.typ)
	case x.peak < 0 || x.peak > QtyMax || (x.peak == 0 && x.shown != 0) || (x.peak > 0 && (x.shown <= 0 || x.shown > min(x.peak, o.leaves))):
		return fmt.Errorf("order %d: display", o.id)
	case !stops && last != nil && o.price == 0 && last.price != 0:
		return fmt.Errorf("order %d: market order behind a limit order", o.id)
	case stops && last != nil && !(o.side == Buy && buyStopLessX(last.x, x) || o.side == Sell && sellStopLessX(last.x, x)):
		return fmt.Errorf("order %d: stops out of order", o.id)
	}
	return nil
}

// StateHash returns an FNV-1a 64 hash of the engine's snapshot: equal states
// give equal hashes. O(orders); it reuses an internal buffer.
func (e *Engine) StateHash() uint64 {
	e.snap = e.AppendSnapshot(e.snap[:0])
	h := fnv.New64a()
	h.Write(e.snap)
	return h.Sum64()
}
