package matching

import (
	"fmt"
	"strings"
	"testing"
)

// Command builders for table tests. Symbol 1, GTC limit unless an option says
// otherwise.

type opt func(*Command)

func nw(id OrderID, acct AccountID, side Side, price, qty int64, opts ...opt) Command {
	c := Command{Kind: CmdNew, OrderID: id, Account: acct, Symbol: 1, Side: side, Type: Limit, TIF: GTC, Price: price, Qty: qty}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func withTIF(t TimeInForce) opt { return func(c *Command) { c.TIF = t } }
func withSTP(m STPMode) opt     { return func(c *Command) { c.STP = m } }
func withGroup(g uint32) opt    { return func(c *Command) { c.STPGroup = g } }
func withSym(s SymbolID) opt    { return func(c *Command) { c.Symbol = s } }
func withSide(s Side) opt       { return func(c *Command) { c.Side = s } }
func withType(t OrderType) opt  { return func(c *Command) { c.Type = t } }

var (
	postOnly = func(c *Command) { c.PostOnly = true }
	market   = func(c *Command) { c.Type = Market }
)

func cxl(id OrderID, acct AccountID, opts ...opt) Command {
	c := Command{Kind: CmdCancel, OrderID: id, Account: acct, Symbol: 1}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func rpl(id OrderID, acct AccountID, price, qty int64, opts ...opt) Command {
	c := Command{Kind: CmdReplace, OrderID: id, Account: acct, Symbol: 1, Price: price, Qty: qty}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Expected-event builders; stamps (OutSeq, InSeq, TimeNs, Cmd, MatchID) are
// checked separately.

func acc(id OrderID, side Side, acct AccountID, price, qty int64) Event {
	return Event{Kind: EvAccepted, Side: side, Symbol: 1, Account: acct, OrderID: id, Price: price, Qty: qty, Leaves: qty}
}

func add(id OrderID, side Side, acct AccountID, price, qty, leaves int64) Event {
	return Event{Kind: EvAdded, Side: side, Symbol: 1, Account: acct, OrderID: id, Price: price, Qty: qty, Leaves: leaves}
}

func trd(taker OrderID, side Side, acct AccountID, price, qty, leaves int64, maker OrderID, makerAcct AccountID, makerLeaves int64) Event {
	return Event{Kind: EvTrade, Side: side, Symbol: 1, Account: acct, OrderID: taker, Price: price, Qty: qty, Leaves: leaves,
		MakerOrderID: maker, MakerAccount: makerAcct, MakerLeaves: makerLeaves}
}

func can(id OrderID, side Side, acct AccountID, price, qty, leaves int64, r Reason) Event {
	return Event{Kind: EvCancelled, Side: side, Reason: r, Symbol: 1, Account: acct, OrderID: id, Price: price, Qty: qty, Leaves: leaves}
}

func rep(id OrderID, side Side, acct AccountID, price, qty, leaves int64, kept bool) Event {
	return Event{Kind: EvReplaced, Side: side, PriorityKept: kept, Symbol: 1, Account: acct, OrderID: id, Price: price, Qty: qty, Leaves: leaves}
}

func rej(r Reason) Event { return Event{Kind: EvRejected, Reason: r} }

func onSym(ev Event, s SymbolID) Event { ev.Symbol = s; return ev }

// unstamped clears the fields the table tests do not spell out; a rejection
// is compared by kind and reason only.
func unstamped(ev Event) Event {
	if ev.Kind == EvRejected {
		return Event{Kind: EvRejected, Reason: ev.Reason}
	}
	ev.OutSeq, ev.InSeq, ev.TimeNs, ev.Cmd = 0, 0, 0, 0
	if ev.Kind == EvTrade {
		ev.MatchID = 0 // on other kinds the word is Display
	}
	return ev
}

func fmtEvents(evs []Event) string {
	var sb strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&sb, "\n\t%+v", ev)
	}
	return sb.String()
}

// sideString renders one side of a book as "id@price:leaves ..." in
// priority order, or "-" when it is empty.
func sideString(e *Engine, s SymbolID, side Side) string {
	var parts []string
	e.Orders(s, side, func(o OrderInfo) bool {
		parts = append(parts, fmt.Sprintf("%d@%d:%d", o.ID, o.Price, o.Leaves))
		return true
	})
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// booksString renders every book.
func booksString(e *Engine) string {
	var sb strings.Builder
	for s := 1; s <= e.Symbols(); s++ {
		fmt.Fprintf(&sb, "%d[%s|%s|%v] ", s, sideString(e, SymbolID(s), Buy), sideString(e, SymbolID(s), Sell), e.Halted(SymbolID(s)))
	}
	return sb.String()
}

// applyAll applies cmds in order, stamping Seq, and fails on any rejection.
func applyAll(t *testing.T, e *Engine, cmds []Command) {
	t.Helper()
	var out []Event
	for i := range cmds {
		c := cmds[i]
		out = e.Apply(&c, out[:0])
		for _, ev := range out {
			if ev.Kind == EvRejected {
				t.Fatalf("setup command %d %+v rejected: %+v", i, c, ev)
			}
		}
		checkInvariants(t, e)
	}
}

// evStop returns ev with its stop price set (Event keeps it in a word it
// shares with EvTrade's fields, so a literal cannot name it).
func evStop(ev Event, p int64) Event {
	ev.SetStopPrice(p)
	return ev
}

// evDisplay returns ev with its iceberg display set.
func evDisplay(ev Event, d int64) Event {
	ev.SetDisplay(d)
	return ev
}
