package matching

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
)

// Snapshot layout, little-endian, version 1:
//
//	magic "MXSN" | version u32 | symbols u32 | outSeq u64 | matchID u64
//	per symbol: halted u8 | bids count u64 | bid orders | asks count u64 | ask orders
//	order: id u64 | account u32 | stpGroup u32 | price u64 | qty u64 | filled u64 |
//	       leaves u64 | tif u8 | stp u8 | postOnly u8
//
// Orders appear in priority order, so the snapshot of a state is canonical:
// equal states give equal bytes.
const (
	snapMagic        = "MXSN"
	snapVersion      = 1
	snapHeaderSize   = 4 + 4 + 4 + 8 + 8
	snapOrderSize    = 8 + 4 + 4 + 8 + 8 + 8 + 8 + 3
	snapSideHeadSize = 8
)

// ErrSnapshot wraps every reason Restore refuses its input.
var ErrSnapshot = errors.New("matching: bad snapshot")

// AppendSnapshot appends the engine's whole state (books, halts, OutSeq and
// MatchID) to b in the versioned binary form Restore reads. O(orders).
func (e *Engine) AppendSnapshot(b []byte) []byte {
	b = append(b, snapMagic...)
	b = binary.LittleEndian.AppendUint32(b, snapVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(e.books)))
	b = binary.LittleEndian.AppendUint64(b, e.outSeq)
	b = binary.LittleEndian.AppendUint64(b, e.matchID)
	for i := range e.books {
		bk := &e.books[i]
		b = append(b, boolByte(bk.halted))
		for _, bs := range [2]*bookSide{&bk.bids, &bk.asks} {
			n := 0
			bs.levels.Ascend(func(l *level) bool { n += l.count; return true })
			b = binary.LittleEndian.AppendUint64(b, uint64(n))
			bs.levels.Ascend(func(l *level) bool {
				for o := l.head; o != nil; o = o.next {
					b = binary.LittleEndian.AppendUint64(b, uint64(o.id))
					b = binary.LittleEndian.AppendUint32(b, uint32(o.account))
					b = binary.LittleEndian.AppendUint32(b, o.stpGroup)
					b = binary.LittleEndian.AppendUint64(b, uint64(o.price))
					b = binary.LittleEndian.AppendUint64(b, uint64(o.qty))
					b = binary.LittleEndian.AppendUint64(b, uint64(o.filled))
					b = binary.LittleEndian.AppendUint64(b, uint64(o.leaves))
					b = append(b, byte(o.tif), byte(o.stp), boolByte(o.postOnly))
				}
				return true
			})
		}
	}
	return b
}

// Restore rebuilds an engine from AppendSnapshot's output. It returns an error
// wrapping ErrSnapshot, never panics, on input that is truncated, has
// trailing bytes, or describes an impossible state (a crossed book, orders out
// of priority order, duplicate IDs, values out of range).
func Restore(b []byte) (*Engine, error) {
	if len(b) < snapHeaderSize || string(b[:4]) != snapMagic {
		return nil, fmt.Errorf("%w: missing header", ErrSnapshot)
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != snapVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrSnapshot, v, snapVersion)
	}
	symbols := binary.LittleEndian.Uint32(b[8:])
	if symbols > SymbolsMax || uint64(symbols)*(1+2*snapSideHeadSize) > uint64(len(b)) {
		return nil, fmt.Errorf("%w: %d symbols", ErrSnapshot, symbols)
	}
	e := New(Config{Symbols: int(symbols), OrdersHint: min(len(b)/snapOrderSize, 1<<20)})
	e.outSeq = binary.LittleEndian.Uint64(b[12:])
	e.matchID = binary.LittleEndian.Uint64(b[20:])
	r := b[snapHeaderSize:]
	for i := range e.books {
		bk := &e.books[i]
		if len(r) < 1 || r[0] > 1 {
			return nil, fmt.Errorf("%w: symbol %d: halt flag", ErrSnapshot, bk.symbol)
		}
		bk.halted = r[0] == 1
		r = r[1:]
		for _, side := range [2]Side{Buy, Sell} {
			var err error
			if r, err = e.restoreSide(bk, side, r); err != nil {
				return nil, fmt.Errorf("%w: symbol %d side %d: %v", ErrSnapshot, bk.symbol, side, err)
			}
		}
		bid, ask := bk.bids.firstLive(), bk.asks.firstLive()
		if bid != nil && ask != nil && bid.price >= ask.price {
			return nil, fmt.Errorf("%w: symbol %d: crossed book", ErrSnapshot, bk.symbol)
		}
	}
	if len(r) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrSnapshot, len(r))
	}
	return e, nil
}

func (e *Engine) restoreSide(bk *book, side Side, r []byte) ([]byte, error) {
	if len(r) < snapSideHeadSize {
		return nil, errors.New("truncated")
	}
	n := binary.LittleEndian.Uint64(r)
	r = r[snapSideHeadSize:]
	if n > uint64(len(r)/snapOrderSize) {
		return nil, fmt.Errorf("%d orders in %d bytes", n, len(r))
	}
	bs := bk.sideOf(side)
	var last int64
	for k := uint64(0); k < n; k++ {
		o := order{
			id:       OrderID(binary.LittleEndian.Uint64(r[0:])),
			account:  AccountID(binary.LittleEndian.Uint32(r[8:])),
			stpGroup: binary.LittleEndian.Uint32(r[12:]),
			price:    int64(binary.LittleEndian.Uint64(r[16:])),
			qty:      int64(binary.LittleEndian.Uint64(r[24:])),
			filled:   int64(binary.LittleEndian.Uint64(r[32:])),
			leaves:   int64(binary.LittleEndian.Uint64(r[40:])),
			tif:      TimeInForce(r[48]),
			stp:      STPMode(r[49]),
			symbol:   bk.symbol,
			side:     side,
		}
		if r[50] > 1 {
			return nil, fmt.Errorf("order %d: post-only flag", o.id)
		}
		o.postOnly = r[50] == 1
		r = r[snapOrderSize:]
		switch {
		case o.id == 0:
			return nil, errors.New("order id 0")
		case o.price <= 0 || o.price > PriceMax:
			return nil, fmt.Errorf("order %d: price %d", o.id, o.price)
		case o.leaves <= 0 || o.leaves > QtyMax || o.filled < 0 || o.filled > QtyMax || o.qty > QtyMax || o.qty != o.filled+o.leaves:
			return nil, fmt.Errorf("order %d: quantities", o.id)
		case o.tif != GTC && o.tif != Day:
			return nil, fmt.Errorf("order %d: time in force %d", o.id, o.tif)
		case o.stp > STPDecrementCancel:
			return nil, fmt.Errorf("order %d: stp mode %d", o.id, o.stp)
		case k > 0 && bs.better(o.price, last):
			return nil, fmt.Errorf("order %d: out of priority order", o.id)
		}
		if _, dup := e.index[o.id]; dup {
			return nil, fmt.Errorf("order %d: duplicate id", o.id)
		}
		last = o.price
		p := e.orders.get()
		*p = o
		e.rest(bk, p)
		e.index[p.id] = p
	}
	return r, nil
}

// StateHash returns an FNV-1a 64 hash of the engine's snapshot: equal states
// give equal hashes. O(orders); it reuses an internal buffer.
func (e *Engine) StateHash() uint64 {
	e.snap = e.AppendSnapshot(e.snap[:0])
	h := fnv.New64a()
	h.Write(e.snap)
	return h.Sum64()
}
