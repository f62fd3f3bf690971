package matching

import "github.com/google/btree"

// btreeDegree is the B-tree degree of every book side: nodes hold up to
// 2*degree-1 levels, which keeps a side of a thousand levels two nodes deep.
const btreeDegree = 16

// bookSide is one side of a book: its price levels in a B-tree ordered best
// first (highest bid, lowest ask), so Min is the best level, and the same
// levels by price for O(1) lookup. Both may hold empty levels (see level).
type bookSide struct {
	side    Side
	levels  *btree.BTreeG[*level]
	byPrice table[level]
	// auctionOnly counts the side's resting orders an uncross cancels the
	// rest of (market, at-the-open, at-the-close), so that an uncross
	// without any does not walk the book.
	auctionOnly int
}

// book is one symbol's order book.
type book struct {
	symbol SymbolID
	halted bool
	phase  Phase
	bids   bookSide
	asks   bookSide
	// mkt holds, buy then sell, the market orders without a protection
	// price that rest during a call, oldest first; they rank before every
	// limit order in the uncross. Their levels have price 0 and are in no
	// tree.
	mkt [2]level
	// stops holds the waiting stop orders, buy then sell, in trigger order;
	// nil until the first arrives.
	stops [2]*btree.BTreeG[*order]
	// stopTrees is set once either stop tree exists, so that the end of a
	// command in continuous trading tests one flag (Engine.after).
	stopTrees bool

	// lastPrice is the last trade's price (0: none yet), refPrice the last
	// auction's; they are the dynamic and static bands' references.
	lastPrice, refPrice   int64
	staticBps, dynamicBps int64
	ind                   indicative
}

// indicative is the uncross a call's book would give now.
type indicative struct {
	price, qty, imb int64
	side            Side
}

func bidLess(a, b *level) bool { return a.price > b.price }
func askLess(a, b *level) bool { return a.price < b.price }

// newBook returns an empty book whose price tables have room for levelsHint
// levels per side.
func newBook(s SymbolID, fl *btree.FreeListG[*level], levelsHint int) book {
	return book{
		symbol: s,
		bids:   bookSide{side: Buy, levels: btree.NewWithFreeListG(btreeDegree, bidLess, fl), byPrice: newTable[level](levelsHint)},
		asks:   bookSide{side: Sell, levels: btree.NewWithFreeListG(btreeDegree, askLess, fl), byPrice: newTable[level](levelsHint)},
	}
}

// initMarket points the market-order levels at their sides; the book must
// be at its final address.
func (b *book) initMarket() {
	b.mkt[0].side = &b.bids
	b.mkt[1].side = &b.asks
}

func buyStopLess(a, b *order) bool  { return buyStopLessX(a.x, b.x) } // a held stop always has x
func sellStopLess(a, b *order) bool { return sellStopLessX(a.x, b.x) }

func buyStopLessX(x, y *orderExt) bool {
	return x.stopPx < y.stopPx || (x.stopPx == y.stopPx && x.arrival < y.arrival)
}

func sellStopLessX(x, y *orderExt) bool {
	return x.stopPx > y.stopPx || (x.stopPx == y.stopPx && x.arrival < y.arrival)
}

// sideOf returns the side that orders of side s rest on.
func (b *book) sideOf(s Side) *bookSide {
	if s == Buy {
		return &b.bids
	}
	return &b.asks
}

// opposite returns the side an order of side s trades against.
func (b *book) opposite(s Side) *bookSide {
	if s == Buy {
		return &b.asks
	}
	return &b.bids
}

// better reports whether price a is strictly better than price b on this side.
func (bs *bookSide) better(a, b int64) bool {
	if bs.side == Buy {
		return a > b
	}
	return a < b
}

// firstLive returns the best level that holds orders, or nil, without
// changing anything. O(levels skipped).
func (bs *bookSide) firstLive() *level {
	var best *level
	bs.levels.Ascend(func(l *level) bool {
		if l.count > 0 {
			best = l
		}
		return best == nil
	})
	return best
}

// crosses reports whether a taker with limit price p (0: no limit) may trade
// with a resting level at price lp on this side.
func (bs *bookSide) crosses(lp, p int64) bool {
	if p == 0 {
		return true
	}
	if bs.side == Sell { // taker buys
		return lp <= p
	}
	return lp >= p
}
