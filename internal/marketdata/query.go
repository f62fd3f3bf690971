package marketdata

import "github.com/exchange-sim/exchange/matching"

// Level is one aggregated price level (L2), in ticks and lots.
type Level struct {
	Price  int64
	Qty    int64
	Orders int
}

// Order is one resting order (L3), in ticks and lots.
type Order struct {
	ID    matching.OrderID
	Price int64
	Qty   int64
}

// agg is the level's L2 aggregate.
func (l *level) agg() Level { return Level{Price: l.price, Qty: l.qty, Orders: l.orders} }

// top returns the best depth levels (all when depth <= 0), still worst first.
func (s *bookSide) top(depth int) []*level {
	if depth > 0 && depth < len(s.levels) {
		return s.levels[len(s.levels)-depth:]
	}
	return s.levels
}

// appendLevels appends up to depth levels (all when depth <= 0), best first.
func appendLevels(dst []Level, s *bookSide, depth int) []Level {
	ls := s.top(depth)
	for i := len(ls) - 1; i >= 0; i-- {
		dst = append(dst, ls[i].agg())
	}
	return dst
}

// appendOrders appends the resting orders of the best depth levels (all when
// depth <= 0) in priority order.
func appendOrders(dst []Order, s *bookSide, depth int) []Order {
	ls := s.top(depth)
	for i := len(ls) - 1; i >= 0; i-- {
		for r := ls[i].head; r != 0; {
			o := s.ords.at(r)
			dst = append(dst, Order{ID: o.id, Price: o.price, Qty: o.leaves})
			r = o.next
		}
	}
	return dst
}

// Symbols returns the symbols: the configured ones, then those listed at
// run time.
func (p *Publisher) Symbols() []SymbolInfo {
	syms := p.symList()
	out := make([]SymbolInfo, len(syms))
	for i, s := range syms {
		out[i] = s.info
	}
	return out
}

// Lookup finds a symbol by name.
func (p *Publisher) Lookup(name string) (SymbolInfo, bool) {
	if s := p.symNamed(name); s != nil {
		return s.info, true
	}
	return SymbolInfo{}, false
}

// Seq returns the OutSeq of the last event applied.
func (p *Publisher) Seq() uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.seq
}

// BBO returns the best bid and offer (L1); a zero Level means an empty side.
func (p *Publisher) BBO(sym matching.SymbolID) (bid, ask Level) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	s := p.sym(sym)
	if s == nil {
		return
	}
	if l := s.book.bids.best(); l != nil {
		bid = l.agg()
	}
	if l := s.book.asks.best(); l != nil {
		ask = l.agg()
	}
	return bid, ask
}

// Depth appends up to depth levels of one side (all when depth <= 0), best
// first (L2). O(depth).
func (p *Publisher) Depth(sym matching.SymbolID, side matching.Side, depth int, dst []Level) []Level {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if s := p.sym(sym); s != nil && (side == matching.Buy || side == matching.Sell) {
		dst = appendLevels(dst, s.book.side(side), depth)
	}
	return dst
}

// Queue appends every resting order of one side in priority order: best price
// first, then time (L3). depth > 0 limits it to the best depth levels.
// O(orders).
func (p *Publisher) Queue(sym matching.SymbolID, side matching.Side, depth int, dst []Order) []Order {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if s := p.sym(sym); s != nil && (side == matching.Buy || side == matching.Sell) {
		dst = appendOrders(dst, s.book.side(side), depth)
	}
	return dst
}

// Trades appends the newest limit trades of the tape (all kept when
// limit <= 0), oldest first.
func (p *Publisher) Trades(sym matching.SymbolID, limit int, dst []Trade) []Trade {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if s := p.sym(sym); s != nil {
		dst = s.tape.appendRecent(dst, limit)
	}
	return dst
}

// Candles appends the kept candles of one interval whose start lies in
// [fromNs, toNs], oldest first. Intervals without trades have no candle.
func (p *Publisher) Candles(sym matching.SymbolID, iv Interval, fromNs, toNs int64, dst []Candle) []Candle {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if s := p.sym(sym); s != nil && iv < intervalCount {
		dst = s.candles[iv].appendRange(dst, fromNs, toNs)
	}
	return dst
}

// Stats returns a symbol's session statistics.
func (p *Publisher) Stats(sym matching.SymbolID) Stats {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if s := p.sym(sym); s != nil {
		return s.stats
	}
	return Stats{}
}
