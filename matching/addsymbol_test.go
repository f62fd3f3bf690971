package matching

import "testing"

// TestAddSymbol: a symbol added at run time trades like a configured one;
// the books already there keep their levels, empty levels and the market
// orders resting in a call across the moves that adding books causes
// (invariants checked after each); wrong IDs and bands are refused, and a
// snapshot carries the new books.
func TestAddSymbol(t *testing.T) {
	e := New(Config{Symbols: 2, OrdersHint: 16})
	var out []Event
	apply := func(c Command) []Event {
		t.Helper()
		out = e.Apply(&c, out[:0])
		checkInvariants(t, e)
		return out
	}
	// Symbol 1: two bid levels and an empty ask level. Symbol 2: a call
	// with market orders resting on both sides and a crossed limit book.
	apply(nw(1, 1, Buy, 100, 5, withSym(1)))
	apply(nw(2, 1, Buy, 99, 5, withSym(1)))
	apply(nw(3, 2, Sell, 105, 5, withSym(1)))
	apply(cxl(3, 2, withSym(1)))
	apply(Command{Kind: CmdPhase, Symbol: 2, Phase: PhasePreOpen})
	apply(nw(10, 1, Buy, 0, 4, withSym(2), market))
	apply(nw(11, 2, Sell, 0, 3, withSym(2), market))
	apply(nw(12, 2, Sell, 200, 5, withSym(2)))
	apply(nw(13, 1, Buy, 210, 2, withSym(2)))
	for i := 0; i < 40; i++ { // several moves of the books
		c := Command{Kind: CmdAddSymbol, Symbol: SymbolID(e.Symbols() + 1), Price: 500, StopPrice: 100}
		if evs := apply(c); len(evs) != 1 || evs[0].Kind != EvSymbolAdded || evs[0].Symbol != c.Symbol {
			t.Fatalf("add %d: %v", c.Symbol, fmtEvents(evs))
		}
	}
	if e.Symbols() != 42 {
		t.Fatalf("symbols %d", e.Symbols())
	}
	for _, c := range []Command{
		{Kind: CmdAddSymbol, Symbol: 42},                     // exists
		{Kind: CmdAddSymbol, Symbol: 44},                     // not the next
		{Kind: CmdAddSymbol, Symbol: 43, Price: -1},          // band
		{Kind: CmdAddSymbol, Symbol: 43, StopPrice: 1 << 30}, // band
	} {
		if evs := apply(c); len(evs) != 1 || evs[0].Kind != EvRejected || evs[0].Reason != ReasonInvalidCommand {
			t.Fatalf("%+v: %v", c, fmtEvents(evs))
		}
	}
	// The old books still work: symbol 1 matches at its best level, the
	// empty level takes a new order, symbol 2 uncrosses its call.
	if evs := apply(nw(4, 2, Sell, 99, 7, withSym(1))); countKind(evs, EvTrade) != 2 {
		t.Fatalf("symbol 1: %v", fmtEvents(evs))
	}
	apply(nw(5, 2, Sell, 105, 1, withSym(1)))
	if evs := apply(Command{Kind: CmdPhase, Symbol: 2, Phase: PhaseContinuous}); countKind(evs, EvTrade) == 0 {
		t.Fatalf("symbol 2's uncross: %v", fmtEvents(evs))
	}
	// The new book trades, with its bands.
	apply(nw(6, 1, Buy, 200, 3, withSym(42)))
	if evs := apply(nw(7, 2, Sell, 200, 2, withSym(42))); countKind(evs, EvTrade) != 1 {
		t.Fatalf("new book: %v", fmtEvents(evs))
	}
	if st, dyn := e.books[41].staticBps, e.books[41].dynamicBps; st != 500 || dyn != 100 {
		t.Fatalf("bands %d %d", st, dyn)
	}
	r, err := Restore(e.AppendSnapshot(nil))
	if err != nil {
		t.Fatal(err)
	}
	if r.Symbols() != 42 || r.StateHash() != e.StateHash() {
		t.Fatalf("restored: %d symbols", r.Symbols())
	}
	c := Command{Kind: CmdAddSymbol, Symbol: 43}
	if evs := r.Apply(&c, nil); len(evs) != 1 || evs[0].Kind != EvSymbolAdded {
		t.Fatalf("add to a restored engine: %v", fmtEvents(evs))
	}
	checkInvariants(t, r)
}

func countKind(evs []Event, k EventKind) int {
	n := 0
	for i := range evs {
		if evs[i].Kind == k {
			n++
		}
	}
	return n
}
