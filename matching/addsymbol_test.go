package matching

import "testing"

// TestAddSymbol: a symbol added at run time trades like a configured one,
// the books already there keep their orders (adding a book moves none),
// wrong IDs and bands are refused, and a snapshot carries the new book.
func TestAddSymbol(t *testing.T) {
	e := New(Config{Symbols: 1, OrdersHint: 16})
	var out []Event
	// Resting orders in symbol 1 before any listing.
	b1 := nw(1, 1, Buy, 100, 5, withSym(1))
	out = e.Apply(&b1, out[:0])
	for i := 0; i < 40; i++ { // more listings than any small spare room
		c := Command{Kind: CmdAddSymbol, Symbol: SymbolID(e.Symbols() + 1), Price: 500, StopPrice: 100}
		out = e.Apply(&c, out[:0])
		if len(out) != 1 || out[0].Kind != EvSymbolAdded || out[0].Symbol != c.Symbol {
			t.Fatalf("add %d: %v", c.Symbol, fmtEvents(out))
		}
	}
	if e.Symbols() != 41 {
		t.Fatalf("symbols %d", e.Symbols())
	}
	for _, c := range []Command{
		{Kind: CmdAddSymbol, Symbol: 41},                     // exists
		{Kind: CmdAddSymbol, Symbol: 43},                     // not the next
		{Kind: CmdAddSymbol, Symbol: 42, Price: -1},          // band
		{Kind: CmdAddSymbol, Symbol: 42, StopPrice: 1 << 30}, // band
	} {
		if out = e.Apply(&c, out[:0]); len(out) != 1 || out[0].Kind != EvRejected || out[0].Reason != ReasonInvalidCommand {
			t.Fatalf("%+v: %v", c, fmtEvents(out))
		}
	}
	// The old book still matches; the new one trades.
	s1 := nw(2, 2, Sell, 100, 5, withSym(1))
	if out = e.Apply(&s1, out[:0]); !hasKind(out, EvTrade) {
		t.Fatalf("old book: %v", fmtEvents(out))
	}
	b := nw(3, 1, Buy, 200, 3, withSym(41))
	s := nw(4, 2, Sell, 200, 2, withSym(41))
	e.Apply(&b, out[:0])
	if out = e.Apply(&s, out[:0]); !hasKind(out, EvTrade) {
		t.Fatalf("new book: %v", fmtEvents(out))
	}
	if st, dyn := e.books[40].staticBps, e.books[40].dynamicBps; st != 500 || dyn != 100 {
		t.Fatalf("bands %d %d", st, dyn)
	}
	r, err := Restore(e.AppendSnapshot(nil))
	if err != nil {
		t.Fatal(err)
	}
	if r.Symbols() != 41 || r.StateHash() != e.StateHash() || !r.CanAddSymbol() {
		t.Fatalf("restored: %d symbols", r.Symbols())
	}
}

func hasKind(evs []Event, k EventKind) bool {
	for i := range evs {
		if evs[i].Kind == k {
			return true
		}
	}
	return false
}
