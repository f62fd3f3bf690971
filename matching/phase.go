package matching

func (e *Engine) applyPhase(c *Command, out []Event) []Event {
	if c.Phase > PhaseVolatilityAuction {
		return e.reject(c, out, ReasonInvalidCommand)
	}
	if c.Symbol != 0 {
		b := e.book(c.Symbol)
		switch {
		case b == nil:
			return e.reject(c, out, ReasonUnknownSymbol)
		case b.halted:
			return e.reject(c, out, ReasonHalted)
		}
		return e.setPhase(b, c.Phase, out)
	}
	for i := range e.books {
		if b := &e.books[i]; !b.halted {
			out = e.setPhase(b, c.Phase, out)
		}
	}
	return out
}

// setPhase moves b to phase np. Leaving a call for a phase that is not a
// call uncrosses the book first. Cost: the uncross's when there is one,
// else O(1) plus what after costs.
func (e *Engine) setPhase(b *book, np Phase, out []Event) []Event {
	if b.phase.IsCall() && !np.IsCall() {
		out = e.uncross(b, auctionOf(b.phase), out)
		b.ind = indicative{}
	}
	b.phase = np
	out = e.emit(out, Event{Kind: EvPhase, Symbol: b.symbol, Phase: np})
	return e.after(b, out)
}

// auctionOf names the auction that ends call phase p.
func auctionOf(p Phase) Phase {
	switch p {
	case PhasePreOpen:
		return PhaseOpeningAuction
	case PhaseClosingCall:
		return PhaseClosingAuction
	}
	return PhaseVolatilityAuction
}
