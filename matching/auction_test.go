package matching

import (
	"fmt"
	"slices"
	"testing"
)

func phase(p Phase) Command { return Command{Kind: CmdPhase, Symbol: 1, Phase: p} }

func withStop(px int64) opt   { return func(c *Command) { c.StopPrice = px } }
func withDisplay(n int64) opt { return func(c *Command) { c.Display = n } }
func withExpire(ns int64) opt { return func(c *Command) { c.ExpireNs = ns } }
func withTime(ns int64) opt   { return func(c *Command) { c.TimeNs = ns } }

// pick returns the events of kind k, unstamped.
func pick(evs []Event, k EventKind) []Event {
	var r []Event
	for _, ev := range evs {
		if ev.Kind == k {
			r = append(r, unstamped(ev))
		}
	}
	return r
}

// kinds lists the kinds of evs.
func kinds(evs []Event) []EventKind {
	var r []EventKind
	for _, ev := range evs {
		r = append(r, ev.Kind)
	}
	return r
}

func atrd(buy, sell OrderID, buyAcct, sellAcct AccountID, price, qty, buyLeaves, sellLeaves int64) Event {
	return Event{Kind: EvTrade, Flags: FlagAuction, Side: Buy, Symbol: 1, Account: buyAcct, OrderID: buy, Price: price, Qty: qty,
		Leaves: buyLeaves, MakerOrderID: sell, MakerAccount: sellAcct, MakerLeaves: sellLeaves}
}

// TestUncrossRule checks each step of the uncross rule on books computed by
// hand. D(p) is the demand at p or better, S(p) the supply.
func TestUncrossRule(t *testing.T) {
	tests := []struct {
		name string
		// before runs in continuous trading (to set the reference price),
		// call in the pre-open call.
		before, call []Command
		price, qty   int64
		imb          int64
		imbSide      Side
		trades       []Event
		bids, asks   string
	}{
		{
			// 100: D20 S5 V5; 101: D20 S15 V15; 102: D10 S15 V10.
			name:  "largest volume",
			call:  []Command{nw(1, 1, B, 102, 10), nw(2, 2, B, 101, 10), nw(3, 3, S, 100, 5), nw(4, 4, S, 101, 10)},
			price: 101, qty: 15, imb: 5, imbSide: Buy,
			trades: []Event{atrd(1, 3, 1, 3, 101, 5, 5, 0), atrd(1, 4, 1, 4, 101, 5, 0, 5), atrd(2, 4, 2, 4, 101, 5, 5, 0)},
			bids:   "2@101:5", asks: "-",
		},
		{
			// 100: D13 S10 V10 surplus 3; 101: D10 S10 V10 surplus 0.
			name:  "smallest surplus",
			call:  []Command{nw(1, 1, B, 101, 10), nw(2, 2, B, 100, 3), nw(3, 3, S, 100, 10)},
			price: 101, qty: 10,
			trades: []Event{atrd(1, 3, 1, 3, 101, 10, 0, 0)},
			bids:   "2@100:3", asks: "-",
		},
		{
			// 99: V5; 100: D15 S10 V10 +5; 101: D15 S10 V10 +5: buy
			// pressure, the highest.
			name:  "buy pressure takes the highest",
			call:  []Command{nw(1, 1, B, 101, 15), nw(2, 2, S, 99, 5), nw(3, 3, S, 100, 5)},
			price: 101, qty: 10, imb: 5, imbSide: Buy,
			trades: []Event{atrd(1, 2, 1, 2, 101, 5, 10, 0), atrd(1, 3, 1, 3, 101, 5, 5, 0)},
			bids:   "1@101:5", asks: "-",
		},
		{
			// 99: D10 S15 V10 -5; 100: D10 S15 V10 -5; 101: V5: sell
			// pressure, the lowest.
			name:  "sell pressure takes the lowest",
			call:  []Command{nw(1, 1, S, 99, 15), nw(2, 2, B, 101, 5), nw(3, 3, B, 100, 5)},
			price: 99, qty: 10, imb: 5, imbSide: Sell,
			trades: []Event{atrd(2, 1, 2, 1, 99, 5, 0, 10), atrd(3, 1, 3, 1, 99, 5, 0, 5)},
			bids:   "-", asks: "1@99:5",
		},
		{
			// 98, 100 (reference), 102: D10 S10 everywhere: the reference.
			name:   "reference price inside the range",
			before: []Command{nw(10, 5, S, 100, 1), nw(11, 6, B, 100, 1)},
			call:   []Command{nw(1, 1, B, 102, 10), nw(2, 2, S, 98, 10)},
			price:  100, qty: 10,
			trades: []Event{atrd(1, 2, 1, 2, 100, 10, 0, 0)},
			bids:   "-", asks: "-",
		},
		{
			name:   "reference price above the range: the closest",
			before: []Command{nw(10, 5, S, 105, 1), nw(11, 6, B, 105, 1)},
			call:   []Command{nw(1, 1, B, 102, 10), nw(2, 2, S, 98, 10)},
			price:  102, qty: 10,
			trades: []Event{atrd(1, 2, 1, 2, 102, 10, 0, 0)},
			bids:   "-", asks: "-",
		},
		{
			name:  "no reference price: the lowest",
			call:  []Command{nw(1, 1, B, 102, 10), nw(2, 2, S, 98, 10)},
			price: 98, qty: 10,
			trades: []Event{atrd(1, 2, 1, 2, 98, 10, 0, 0)},
			bids:   "-", asks: "-",
		},
		{
			// 100: D10 S5 V5; 101: D10 S15 V10. The market order goes
			// first and its remainder would be cancelled (none here).
			name:  "market orders first",
			call:  []Command{nw(1, 1, S, 100, 5), nw(2, 2, S, 101, 10), nw(3, 3, B, 0, 10, market), nw(4, 4, B, 101, 5)},
			price: 101, qty: 15,
			trades: []Event{atrd(3, 1, 3, 1, 101, 5, 5, 0), atrd(3, 2, 3, 2, 101, 5, 0, 5), atrd(4, 2, 4, 2, 101, 5, 0, 0)},
			bids:   "-", asks: "-",
		},
		{
			// 100: D15 S8 V8 +7; 101: D10 S8 V8 +2. Price, then time; the
			// last buy is filled in part and the worse one not at all.
			name:  "price then time, last one partly",
			call:  []Command{nw(1, 1, B, 101, 5), nw(2, 2, B, 101, 5), nw(3, 3, B, 100, 5), nw(4, 4, S, 100, 8)},
			price: 101, qty: 8, imb: 2, imbSide: Buy,
			trades: []Event{atrd(1, 4, 1, 4, 101, 5, 0, 3), atrd(2, 4, 2, 4, 101, 3, 2, 0)},
			bids:   "2@101:2 3@100:5", asks: "-",
		},
		{
			name:  "nothing crosses",
			call:  []Command{nw(1, 1, B, 99, 5), nw(2, 2, S, 100, 5)},
			price: 0, qty: 0,
			bids: "1@99:5", asks: "2@100:5",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Config{Symbols: 1})
			applyAll(t, e, tc.before)
			applyAll(t, e, []Command{phase(PhasePreOpen)})
			applyAll(t, e, tc.call)
			p, q, imb, side := e.Indicative(1)
			if p != tc.price || q != tc.qty || imb != tc.imb || side != tc.imbSide {
				t.Errorf("indicative %d %d %d %d, want %d %d %d %d", p, q, imb, side, tc.price, tc.qty, tc.imb, tc.imbSide)
			}
			c := phase(PhaseContinuous)
			out := e.Apply(&c, nil)
			checkInvariants(t, e)
			if u := pick(out, EvUncross); len(u) != 1 || u[0].Price != tc.price || u[0].Qty != tc.qty || u[0].Phase != PhaseOpeningAuction {
				t.Errorf("uncross %+v, want %d at %d", u, tc.qty, tc.price)
			}
			if got := pick(out, EvTrade); !slices.Equal(got, tc.trades) {
				t.Errorf("trades:%s\nwant:%s", fmtEvents(got), fmtEvents(tc.trades))
			}
			if b, a := sideString(e, 1, Buy), sideString(e, 1, Sell); b != tc.bids || a != tc.asks {
				t.Errorf("book %s | %s, want %s | %s", b, a, tc.bids, tc.asks)
			}
			if e.Phase(1) != PhaseContinuous {
				t.Errorf("phase %d", e.Phase(1))
			}
			if last, auction := e.LastPrice(1); tc.qty > 0 && (last != tc.price || auction != tc.price) {
				t.Errorf("last %d auction %d, want %d", last, auction, tc.price)
			}
		})
	}
}

// TestAuctionRemainders: market, at-the-open and at-the-close orders take
// part in one auction; what is left is cancelled after it.
func TestAuctionRemainders(t *testing.T) {
	e := New(Config{Symbols: 1})
	applyAll(t, e, []Command{phase(PhasePreOpen), nw(1, 1, B, 0, 10, market), nw(2, 2, S, 100, 4),
		nw(3, 3, B, 99, 5, withTIF(AtOpen)), nw(4, 4, S, 101, 5, withTIF(Day))})
	c := phase(PhaseContinuous)
	out := e.Apply(&c, nil)
	// 99: D15 S0; 100: D10 S4 V4; 101: D10 S9 V9: 9 at 101, the market
	// order keeps 1.
	want := []Event{can(1, B, 1, 0, 1, 0, ReasonAuctionRemainder), can(3, B, 3, 99, 5, 0, ReasonAuctionRemainder)}
	if got := pick(out, EvCancelled); !slices.Equal(got, want) {
		t.Fatalf("cancels:%s\nwant:%s", fmtEvents(got), fmtEvents(want))
	}
	if sideString(e, 1, Sell) != "-" || sideString(e, 1, Buy) != "-" {
		t.Fatal(booksString(e))
	}
}

// TestPhaseRejects: each phase refuses what the table in rules.go says.
func TestPhaseRejects(t *testing.T) {
	tests := []struct {
		phase Phase
		cmd   Command
	}{
		{PhaseContinuous, nw(1, 1, B, 100, 5, withTIF(AtOpen))},
		{PhaseContinuous, nw(1, 1, B, 100, 5, withTIF(AtClose))},
		{PhasePreOpen, nw(1, 1, B, 100, 5, withTIF(IOC))},
		{PhasePreOpen, nw(1, 1, B, 100, 5, withTIF(FOK))},
		{PhasePreOpen, nw(1, 1, B, 100, 5, withTIF(AtClose))},
		{PhaseClosingCall, nw(1, 1, B, 100, 5, withTIF(AtOpen))},
		{PhaseVolatilityAuction, nw(1, 1, B, 100, 5, withTIF(AtClose))},
		{PhaseOpeningAuction, nw(1, 1, B, 100, 5)},
		{PhaseClosingAuction, nw(1, 1, B, 100, 5)},
		{PhasePostClose, nw(1, 1, B, 100, 5)},
		{PhaseClosed, nw(1, 1, B, 100, 5)},
		{PhasePostClose, rpl(9, 1, 100, 7)},
	}
	for i, tc := range tests {
		e := New(Config{Symbols: 1})
		applyAll(t, e, []Command{nw(9, 1, B, 90, 5), phase(tc.phase)})
		out := e.Apply(&tc.cmd, nil)
		if len(out) != 1 || out[0].Kind != EvRejected || out[0].Reason != ReasonPhase {
			t.Errorf("%d: phase %d %+v:%s", i, tc.phase, tc.cmd, fmtEvents(out))
		}
	}
	// Cancels work in every phase.
	for p := PhaseContinuous; p <= PhaseVolatilityAuction; p++ {
		e := New(Config{Symbols: 1})
		applyAll(t, e, []Command{nw(9, 1, B, 90, 5), phase(p), cxl(9, 1)})
	}
}

// TestStopCascade: a trade triggers a stop whose trade triggers the next;
// stops triggered together enter by stop price, buys first.
func TestStopCascade(t *testing.T) {
	e := New(Config{Symbols: 1})
	applyAll(t, e, []Command{
		nw(1, 1, S, 101, 5), nw(2, 2, S, 103, 5), nw(3, 3, S, 105, 5),
		nw(10, 4, B, 0, 5, withType(Stop), withStop(101)),
		nw(11, 4, B, 0, 5, withType(Stop), withStop(103)),
		nw(12, 4, S, 80, 5, withType(StopLimit), withStop(90)),
	})
	if sideString(e, 1, Buy) != "-" {
		t.Fatal("a stop shows on the book")
	}
	c := nw(20, 5, B, 101, 5)
	out := e.Apply(&c, nil)
	checkInvariants(t, e)
	want := []EventKind{EvAccepted, EvTrade, EvTriggered, EvTrade, EvTriggered, EvTrade}
	if got := kinds(out); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v:%s", got, want, fmtEvents(out))
	}
	if out[2].OrderID != 10 || out[3].Price != 103 || out[4].OrderID != 11 || out[5].Price != 105 {
		t.Fatalf("cascade out of order:%s", fmtEvents(out))
	}
	if last, _ := e.LastPrice(1); last != 105 {
		t.Fatalf("last price %d", last)
	}
	if _, ok := e.Order(12); !ok {
		t.Fatal("the sell stop far below was triggered")
	}

	// Two buy stops reached by one trade: the lower stop price first, even
	// though it arrived later.
	e = New(Config{Symbols: 1})
	applyAll(t, e, []Command{
		nw(1, 1, S, 100, 5), nw(2, 2, S, 106, 10),
		nw(31, 4, B, 0, 1, withType(Stop), withStop(100)),
		nw(30, 4, B, 0, 1, withType(Stop), withStop(99)),
	})
	c = nw(20, 5, B, 100, 5)
	out = e.Apply(&c, nil)
	if tr := pick(out, EvTriggered); len(tr) != 2 || tr[0].OrderID != 30 || tr[1].OrderID != 31 {
		t.Fatalf("trigger order:%s", fmtEvents(out))
	}

	// Cancel and replace before the trigger; a stop reached on arrival
	// triggers at once.
	applyAll(t, e, []Command{nw(40, 4, S, 0, 2, withType(Stop), withStop(90))})
	c = rpl(40, 4, 0, 3, withStop(95))
	if out = e.Apply(&c, nil); len(out) != 1 || out[0].Kind != EvReplaced || out[0].StopPrice() != 95 {
		t.Fatalf("replace:%s", fmtEvents(out))
	}
	applyAll(t, e, []Command{cxl(40, 4)})
	c = nw(41, 4, B, 0, 1, withType(Stop), withStop(50))
	out = e.Apply(&c, nil)
	if got := kinds(out); !slices.Equal(got, []EventKind{EvAccepted, EvStopAdded, EvTriggered, EvTrade}) {
		t.Fatalf("stop reached on arrival: %v", got)
	}
}

// TestIcebergRefill: a refilled peak goes to the back of its level; the
// reserve never shows.
func TestIcebergRefill(t *testing.T) {
	e := New(Config{Symbols: 1})
	applyAll(t, e, []Command{nw(1, 1, S, 100, 10, withDisplay(3)), nw(2, 2, S, 100, 5)})
	levels := func() string {
		var s string
		e.Levels(1, Sell, func(p, q int64, n int) bool { s += fmt.Sprintf("%d:%d/%d ", p, q, n); return true })
		return s
	}
	if l := levels(); l != "100:8/2 " {
		t.Fatalf("levels %q: the reserve shows", l)
	}
	c := nw(3, 3, B, 100, 4)
	out := e.Apply(&c, nil)
	checkInvariants(t, e)
	want := []Event{
		acc(3, B, 3, 100, 4),
		trd(3, B, 3, 100, 3, 1, 1, 1, 7),
		evDisplay(Event{Kind: EvRefilled, Side: S, Symbol: 1, Account: 1, OrderID: 1, Price: 100, Qty: 10, Leaves: 7}, 3),
		trd(3, B, 3, 100, 1, 0, 2, 2, 4),
	}
	var got []Event
	for _, ev := range out {
		got = append(got, unstamped(ev))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events:%s\nwant:%s", fmtEvents(got), fmtEvents(want))
	}
	if s := sideString(e, 1, Sell); s != "2@100:4 1@100:7" {
		t.Fatalf("refilled peak is not at the back: %s", s)
	}
	if l := levels(); l != "100:7/2 " {
		t.Fatalf("levels %q", l)
	}
}

// TestVolatilityInterruption: an order that would trade outside the dynamic
// band puts the symbol into a volatility auction; the next phase command
// uncrosses it.
func TestVolatilityInterruption(t *testing.T) {
	e := New(Config{Symbols: 1, Bands: []Bands{{DynamicBps: 500}}})
	applyAll(t, e, []Command{nw(1, 1, S, 100, 5), nw(2, 2, B, 100, 1), nw(3, 1, S, 104, 5), nw(4, 1, S, 110, 5)})
	c := nw(5, 3, B, 120, 12)
	out := e.Apply(&c, nil)
	checkInvariants(t, e)
	want := []EventKind{EvAccepted, EvTrade, EvTrade, EvPhase, EvAdded, EvIndicative}
	if got := kinds(out); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v:%s", got, want, fmtEvents(out))
	}
	if e.Phase(1) != PhaseVolatilityAuction {
		t.Fatalf("phase %d", e.Phase(1))
	}
	// 110 is 10% from 100: outside. Order 5 rests with 3 at 120, crossing 4
	// at 110 in the call: the uncross trades 3 at 110 (the only candidate
	// price with volume... 110: D3 S5; 120: D3 S5, sell pressure: lowest).
	if p, q, _, _ := e.Indicative(1); p != 110 || q != 3 {
		t.Fatalf("indicative %d %d", p, q)
	}
	c = phase(PhaseContinuous)
	out = e.Apply(&c, nil)
	if u := pick(out, EvUncross); len(u) != 1 || u[0].Price != 110 || u[0].Qty != 3 || u[0].Phase != PhaseVolatilityAuction {
		t.Fatalf("uncross %+v", u)
	}
	if last, auction := e.LastPrice(1); last != 110 || auction != 110 {
		t.Fatalf("last %d auction %d", last, auction)
	}
}

// TestGTDExpiry: CmdExpireGTD cancels only the GTD orders due; CmdExpire
// cancels Day orders too.
func TestGTDExpiry(t *testing.T) {
	e := New(Config{Symbols: 1})
	applyAll(t, e, []Command{
		nw(1, 1, B, 90, 1, withTIF(GTD), withExpire(1000)),
		nw(2, 1, B, 91, 1, withTIF(GTD), withExpire(5000)),
		nw(3, 1, B, 92, 1, withTIF(Day)),
		nw(4, 1, B, 0, 1, withType(Stop), withStop(200), withTIF(GTD), withExpire(1000)),
	})
	c := Command{Kind: CmdExpireGTD, TimeNs: 1000}
	out := e.Apply(&c, nil)
	if cs := pick(out, EvCancelled); len(cs) != 2 || cs[0].OrderID != 1 || cs[1].OrderID != 4 || cs[0].Reason != ReasonExpired {
		t.Fatalf("expire GTD:%s", fmtEvents(out))
	}
	c = Command{Kind: CmdExpire, TimeNs: 2000}
	out = e.Apply(&c, nil)
	if cs := pick(out, EvCancelled); len(cs) != 1 || cs[0].OrderID != 3 {
		t.Fatalf("expire day:%s", fmtEvents(out))
	}
	c = nw(5, 1, B, 90, 1, withTIF(GTD), withExpire(10), withTime(10))
	if out = e.Apply(&c, nil); out[0].Reason != ReasonInvalidExpiry {
		t.Fatalf("GTD already due:%s", fmtEvents(out))
	}
}
