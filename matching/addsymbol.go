package matching

// CanAddSymbol reports whether a CmdAddSymbol for the next ID would be
// accepted (the engine is below SymbolsMax). O(1).
func (e *Engine) CanAddSymbol() bool { return len(e.books) < SymbolsMax }

// applyAddSymbol lists symbol c.Symbol with an empty book. It allocates the
// book's price tables, and, when the books are at capacity, moves them
// (growBooks); a listing is rare.
func (e *Engine) applyAddSymbol(c *Command, out []Event) []Event {
	if c.Symbol != SymbolID(len(e.books)+1) || !e.CanAddSymbol() ||
		c.Price < 0 || c.Price > BandBpsMax || c.StopPrice < 0 || c.StopPrice > BandBpsMax {
		return e.reject(c, out, ReasonInvalidCommand)
	}
	if len(e.books) == cap(e.books) {
		e.growBooks()
	}
	e.books = e.books[:len(e.books)+1]
	b := &e.books[len(e.books)-1]
	*b = newBook(c.Symbol, e.nodes, 64)
	b.initMarket()
	b.staticBps, b.dynamicBps = c.Price, c.StopPrice
	return e.emit(out, Event{Kind: EvSymbolAdded, Symbol: c.Symbol})
}

// growBooks moves the books to a larger array and repoints what pointed
// into the old one: every price level's side (each level is in its side's
// byPrice table, the tree holds the same levels), the two market-order levels
// each book holds, and the orders resting in them. Nothing else keeps a
// pointer into a book between commands. O(levels + resting market orders).
func (e *Engine) growBooks() {
	nb := make([]book, len(e.books), 2*len(e.books)+4)
	copy(nb, e.books)
	e.books = nb
	for i := range e.books {
		b := &e.books[i]
		b.initMarket()
		for _, bs := range [2]*bookSide{&b.bids, &b.asks} {
			bs.byPrice.each(func(l *level) { l.side = bs })
		}
		for k := range b.mkt {
			for o := b.mkt[k].head; o != nil; o = o.next {
				o.lvl = &b.mkt[k]
			}
		}
	}
}
