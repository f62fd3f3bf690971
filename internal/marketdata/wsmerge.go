package marketdata

import "math/bits"

// A WebSocket client's frame often holds several updates of one stream: the
// updates of the flushes that came during its write gap, or more when it has
// fallen behind. Each is sent as it was encoded (once, for every client)
// unless the frame holds more than one of its stream; then they are merged
// into one message, so that bytes, the client's parsing and the write's
// system time follow what changed rather than how often it was flushed:
//
//   - book: each level once, as the newest update left it;
//   - trades: every trade, in order, then the newest statistics (a trades
//     message's stats are those after its last trade);
//   - candles are sent unmerged (rare, and each update is a few candles).
//
// The merged message carries the newest update's sequence number, so a
// stream's numbers still only go up. Merging copies spans of the updates'
// shared JSON (update.spans): nothing is encoded again per client.

// span is a byte range of an update's JSON.
type span struct{ a, b int32 }

// updateSpans is where the parts of an update's JSON are, for merging.
type updateSpans struct {
	levels []span // book: each bid's JSON, then each ask's
	trades span   // trades: the trades array's inside
	stats  span   // trades: the stats object
}

// appendUpdateJSONSpans encodes u as appendUpdateJSON does and records its
// parts' places in sp.
func appendUpdateJSONSpans(b []byte, u *update, sp *updateSpans) []byte {
	s := u.s
	switch u.ch {
	case chBook:
		b = appendHeadJSON(b, "book", s, u.seq, false)
		sp.levels = make([]span, 0, len(u.bids)+len(u.asks))
		for side, ls := range [2][]Level{u.bids, u.asks} {
			if side == 0 {
				b = append(b, `,"bids":[`...)
			} else {
				b = append(b, `],"asks":[`...)
			}
			for i, l := range ls {
				if i > 0 {
					b = append(b, ',')
				}
				a := len(b)
				b = appendLevelJSON(b, s, l)
				sp.levels = append(sp.levels, span{int32(a), int32(len(b))})
			}
		}
		return append(b, "]}"...)
	case chTrades:
		b = appendHeadJSON(b, "trades", s, u.seq, false)
		b = append(b, `,"trades":`...)
		a := len(b)
		b = appendTradesJSON(b, s, u.trades)
		sp.trades = span{int32(a + 1), int32(len(b) - 1)}
		b = append(b, `,"stats":`...)
		a = len(b)
		b = appendStatsJSON(b, s, u.stats)
		sp.stats = span{int32(a), int32(len(b))}
		return append(b, '}')
	}
	return appendUpdateJSON(b, u)
}

// mergeable reports whether updates of u's channel are merged.
func mergeable(u *update) bool { return u.ch == chBook || u.ch == chTrades }

// appendMerged appends one message standing for us, updates of one stream
// (book or trades) oldest first, at least two. seen is scratch space.
func appendMerged(b []byte, us []*update, seen *priceSet) []byte {
	last := us[len(us)-1]
	if last.ch == chTrades {
		b = appendHeadJSON(b, "trades", last.s, last.seq, false)
		b = append(b, `,"trades":[`...)
		n := 0
		for _, u := range us {
			j, sp := u.JSON(), &u.spans
			if sp.trades.a == sp.trades.b {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			b = append(b, j[sp.trades.a:sp.trades.b]...)
			n++
		}
		b = append(b, `],"stats":`...)
		j := last.JSON()
		b = append(b, j[last.spans.stats.a:last.spans.stats.b]...)
		return append(b, '}')
	}
	// book: newest first, each level the first time it is met.
	b = appendHeadJSON(b, "book", last.s, last.seq, false)
	for side := range 2 {
		if side == 0 {
			b = append(b, `,"bids":[`...)
		} else {
			b = append(b, `],"asks":[`...)
		}
		total := 0
		for _, u := range us {
			if side == 0 {
				total += len(u.bids)
			} else {
				total += len(u.asks)
			}
		}
		seen.reset(total)
		n := 0
		for i := len(us) - 1; i >= 0; i-- {
			u := us[i]
			j := u.JSON()
			ls, off := u.bids, 0
			if side == 1 {
				ls, off = u.asks, len(u.bids)
			}
			for k, l := range ls {
				if !seen.add(l.Price) {
					continue
				}
				if n > 0 {
					b = append(b, ',')
				}
				sp := u.spans.levels[off+k]
				b = append(b, j[sp.a:sp.b]...)
				n++
			}
		}
	}
	return append(b, "]}"...)
}

// priceSet is a set of prices that empties in O(1): an open-addressing
// table whose slots count as used only when stamped with the current
// generation. A client merging book updates uses one, every frame.
type priceSet struct {
	keys []int64
	gens []uint32
	gen  uint32
}

// reset empties the set and makes room for n prices.
func (ps *priceSet) reset(n int) {
	if size := 2 * max(n, 8); len(ps.keys) < size {
		size = 1 << bits.Len(uint(size-1))
		ps.keys, ps.gens, ps.gen = make([]int64, size), make([]uint32, size), 0
	}
	if ps.gen++; ps.gen == 0 { // wrapped: old stamps could look current
		clear(ps.gens)
		ps.gen = 1
	}
}

// add adds price and reports whether it was not there yet.
func (ps *priceSet) add(price int64) bool {
	mask := uint64(len(ps.keys) - 1)
	for i := (uint64(price) * 0x9e3779b97f4a7c15 >> 32) & mask; ; i = (i + 1) & mask {
		if ps.gens[i] != ps.gen {
			ps.keys[i], ps.gens[i] = price, ps.gen
			return true
		}
		if ps.keys[i] == price {
			return false
		}
	}
}
