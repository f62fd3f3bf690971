package marketdata

import "github.com/exchange-sim/exchange/matching"

// Trade is one print on the tape, in ticks and lots.
type Trade struct {
	MatchID uint64
	OutSeq  uint64
	TimeNs  int64
	Price   int64
	Qty     int64
	// TakerSide is the aggressor's side.
	TakerSide    matching.Side
	TakerOrderID matching.OrderID
	MakerOrderID matching.OrderID
	// Auction marks a trade printed by an auction uncross (TakerSide is
	// then Buy, by convention: an auction has no aggressor).
	Auction bool
	// auction is the auction that printed it (opening, closing or
	// volatility), for FIX's flags.
	auction matching.Phase
}

// tape is a bounded ring of the most recent trades, oldest first. It grows
// as trades come, up to max, so a generous max (for a replay) costs memory
// only when used.
type tape struct {
	buf   []Trade
	max   int
	start int
	n     int
}

func newTape(max int) tape { return tape{buf: make([]Trade, 0, min(max, 256)), max: max} }

// add appends a trade, dropping the oldest when full. O(1); it allocates only
// while the ring grows towards max.
func (t *tape) add(tr Trade) {
	if len(t.buf) < t.max {
		t.buf = append(t.buf, tr)
		t.n++
		return
	}
	t.buf[t.start] = tr
	t.start = (t.start + 1) % len(t.buf)
}

// appendRecent appends the newest limit trades (all when limit <= 0), oldest first.
func (t *tape) appendRecent(dst []Trade, limit int) []Trade {
	first := 0
	if limit > 0 && limit < t.n {
		first = t.n - limit
	}
	for i := first; i < t.n; i++ {
		dst = append(dst, t.buf[(t.start+i)%len(t.buf)])
	}
	return dst
}
