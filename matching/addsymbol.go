package matching

// CanAddSymbol reports whether a CmdAddSymbol for the next ID would be
// accepted (room is left for another book). O(1).
func (e *Engine) CanAddSymbol() bool { return len(e.books) < cap(e.books) && len(e.books) < SymbolsMax }

// applyAddSymbol lists symbol c.Symbol with an empty book in the room New
// reserved. It allocates the book's maps; a listing is rare.
func (e *Engine) applyAddSymbol(c *Command, out []Event) []Event {
	if c.Symbol != SymbolID(len(e.books)+1) || !e.CanAddSymbol() ||
		c.Price < 0 || c.Price > BandBpsMax || c.StopPrice < 0 || c.StopPrice > BandBpsMax {
		return e.reject(c, out, ReasonInvalidCommand)
	}
	e.books = e.books[:len(e.books)+1]
	b := &e.books[len(e.books)-1]
	*b = newBook(c.Symbol, e.nodes, 64)
	b.initMarket()
	b.staticBps, b.dynamicBps = c.Price, c.StopPrice
	return e.emit(out, Event{Kind: EvSymbolAdded, Symbol: c.Symbol})
}
