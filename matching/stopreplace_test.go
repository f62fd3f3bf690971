package matching

import (
	"slices"
	"testing"
)

// TestStopReplaceRules: replacing a stop (market) or stop-limit order
// before its trigger. The book has traded at 100 and offers 10 at 101.
func TestStopReplaceRules(t *testing.T) {
	setup := []Command{
		nw(1, 1, S, 100, 1), nw(2, 2, B, 100, 1), nw(3, 1, S, 101, 10),
		nw(10, 4, B, 0, 5, withType(Stop), withStop(105)),
		nw(11, 4, B, 110, 5, withType(Stop), withStop(105)), // with a protection price
		nw(12, 4, B, 106, 5, withType(StopLimit), withStop(105)),
		nw(13, 4, S, 0, 5, withType(Stop), withStop(95)),
	}
	for _, c := range []struct {
		name string
		cmd  Command
		want []EventKind
		// after a replace: the order as Order reports it
		price, qty, stop int64
		reason           Reason
	}{
		{name: "stop: stop price and quantity", cmd: rpl(10, 4, 0, 7, withStop(106)),
			want: []EventKind{EvReplaced}, price: 0, qty: 7, stop: 106},
		{name: "stop: protection price, stop price, less quantity", cmd: rpl(11, 4, 112, 3, withStop(104)),
			want: []EventKind{EvReplaced}, price: 112, qty: 3, stop: 104},
		{name: "stop: a protection price where there was none", cmd: rpl(10, 4, 108, 5, withStop(105)),
			want: []EventKind{EvReplaced}, price: 108, qty: 5, stop: 105},
		{name: "stop-limit: all three", cmd: rpl(12, 4, 107, 6, withStop(108)),
			want: []EventKind{EvReplaced}, price: 107, qty: 6, stop: 108},
		{name: "sell stop: lower stop price", cmd: rpl(13, 4, 0, 2, withStop(90)),
			want: []EventKind{EvReplaced}, price: 0, qty: 2, stop: 90},
		{name: "stop-limit without a price", cmd: rpl(12, 4, 0, 5, withStop(105)),
			want: []EventKind{EvRejected}, reason: ReasonInvalidPrice},
		{name: "stop without a stop price", cmd: rpl(10, 4, 0, 5),
			want: []EventKind{EvRejected}, reason: ReasonInvalidStopPrice},
		{name: "stop to no quantity", cmd: rpl(10, 4, 0, 0, withStop(105)),
			want: []EventKind{EvRejected}, reason: ReasonInvalidQty},
		// The last price (100) already reaches a buy stop at 99: it triggers
		// at once and buys 5 of the 10 offered at 101.
		{name: "stop moved to a price already reached", cmd: rpl(10, 4, 0, 5, withStop(99)),
			want: []EventKind{EvReplaced, EvTriggered, EvTrade}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := New(Config{Symbols: 1})
			applyAll(t, e, setup)
			cmd := c.cmd
			out := e.Apply(&cmd, nil)
			checkInvariants(t, e)
			if got := kinds(out); !slices.Equal(got, c.want) {
				t.Fatalf("events %v, want %v:%s", got, c.want, fmtEvents(out))
			}
			if c.reason != ReasonNone {
				if out[0].Reason != c.reason {
					t.Fatalf("reason %v, want %v", out[0].Reason, c.reason)
				}
				return
			}
			if len(out) > 1 {
				if _, ok := e.Order(cmd.OrderID); ok {
					t.Fatal("a triggered stop market order is still open")
				}
				return
			}
			o, ok := e.Order(cmd.OrderID)
			if !ok || o.Price != c.price || o.Qty != c.qty || o.Leaves != c.qty || o.StopPrice != c.stop {
				t.Fatalf("order after the replace %+v, want %d at %d stop %d", o, c.qty, c.price, c.stop)
			}
			if sideString(e, 1, Buy) != "-" {
				t.Fatalf("a replaced stop shows on the book: %s", sideString(e, 1, Buy))
			}
		})
	}
}

// TestStopReplacePriority: a replaced stop goes behind the stops of its new
// stop price, even keeping the same one; once triggered and resting, an
// order takes no stop price any more.
func TestStopReplacePriority(t *testing.T) {
	e := New(Config{Symbols: 1})
	applyAll(t, e, []Command{
		nw(1, 1, S, 100, 1), nw(2, 2, B, 100, 1), nw(3, 1, S, 105, 10),
		nw(10, 4, B, 0, 1, withType(Stop), withStop(105)),
		nw(11, 4, B, 0, 1, withType(Stop), withStop(105)),
		rpl(10, 4, 0, 1, withStop(105)),
	})
	c := nw(20, 5, B, 105, 1)
	out := e.Apply(&c, nil)
	if tr := pick(out, EvTriggered); len(tr) != 2 || tr[0].OrderID != 11 || tr[1].OrderID != 10 {
		t.Fatalf("trigger order after the replace:%s", fmtEvents(out))
	}

	// A stop-limit triggered and resting (buy 5 at 104, nothing offered
	// there) is a limit order: a replace with a stop price is refused, one
	// without is a limit replace.
	applyAll(t, e, []Command{nw(30, 4, B, 104, 5, withType(StopLimit), withStop(104))})
	if o, ok := e.Order(30); !ok || o.Type != Limit {
		t.Fatalf("triggered stop-limit %+v, want resting as a limit order", o)
	}
	c = rpl(30, 4, 104, 4, withStop(104))
	if out = e.Apply(&c, nil); len(out) != 1 || out[0].Reason != ReasonInvalidStopPrice {
		t.Fatalf("replace of a triggered stop with a stop price:%s", fmtEvents(out))
	}
	c = rpl(30, 4, 104, 4)
	if out = e.Apply(&c, nil); len(out) != 1 || out[0].Kind != EvReplaced || !out[0].PriorityKept {
		t.Fatalf("limit replace of a triggered stop-limit:%s", fmtEvents(out))
	}
	checkInvariants(t, e)
}
