package marketdata

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/quickfixgo/enum"
	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/quickfix/datadictionary"
	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/matching"
)

// fix44Validator checks messages against the FIX 4.4 dictionary the
// session layer embeds (QuickFIX's), the way a validating client would.
type fix44Validator struct {
	dd *datadictionary.DataDictionary
	v  quickfix.Validator
}

func newFIX44Validator(t *testing.T) *fix44Validator {
	t.Helper()
	dd, err := datadictionary.Parse("../fixsession/spec/FIX44.xml")
	if err != nil {
		t.Fatal(err)
	}
	return &fix44Validator{dd: dd, v: quickfix.NewValidator(quickfix.ValidatorSettings{
		CheckFieldsOutOfOrder: true, RejectInvalidMessage: true}, dd, nil)}
}

// check parses fs (a received message, split) with the dictionary, so that
// repeating groups are read as groups, and validates it.
func (v *fix44Validator) check(fs []fixField) error {
	var raw bytes.Buffer
	for _, f := range fs {
		fmt.Fprintf(&raw, "%d=%s\x01", f.tag, f.val)
	}
	m := quickfix.NewMessage()
	if err := quickfix.ParseMessageWithDataDictionary(m, &raw, v.dd, v.dd); err != nil {
		return err
	}
	if rej := v.v.Validate(m); rej != nil {
		if t := rej.RefTagID(); t != nil {
			return fmt.Errorf("%v (tag %d)", rej, *t)
		}
		return rej
	}
	return nil
}

// dayEntry is one market-data entry as a client keeps it.
type dayEntry struct {
	action, typ, px, size, cond, flag, sub string
}

// dayEntries reads the NoMDEntries members of a W (starting at 269) or an
// X (starting at 279).
func dayEntries(fs []fixField) []dayEntry {
	var out []dayEntry
	var in bool
	for _, f := range fs {
		if f.tag == 268 {
			in = true
			continue
		}
		if !in {
			continue
		}
		switch f.tag {
		case 279:
			out = append(out, dayEntry{action: f.val})
			continue
		case 269:
			if len(out) == 0 || out[len(out)-1].typ != "" {
				out = append(out, dayEntry{})
			}
		}
		if len(out) == 0 {
			continue
		}
		e := &out[len(out)-1]
		switch f.tag {
		case 269:
			e.typ = f.val
		case 270:
			e.px = decimal.RequireFromString(f.val).String()
		case 271:
			e.size = decimal.RequireFromString(f.val).String()
		case 277:
			e.cond = f.val
		case 286:
			e.flag = f.val
		case 625:
			e.sub = f.val
		}
	}
	return out
}

// dayClient is what a subscriber holds: the day's entries by MDEntryType
// and OpenCloseSettlFlag, the trades with their flags, the phases told.
type dayClient struct {
	stats  map[string]dayEntry
	trades []dayEntry
	phases []string // "326/625"
}

func (c *dayClient) apply(t *testing.T, m []fixField) {
	t.Helper()
	switch fget(m, 35) {
	case "f":
		if fget(m, 55) != "AAPL" || fget(m, 325) != "Y" {
			t.Fatalf("SecurityStatus %v", m)
		}
		c.phases = append(c.phases, fget(m, 326)+"/"+fget(m, 625))
	case "W", "X":
		for _, e := range dayEntries(m) {
			switch e.typ {
			case "0", "1":
			case "2":
				c.trades = append(c.trades, e)
			default:
				k := e.typ + "/" + e.flag
				if e.action == "2" {
					if _, ok := c.stats[k]; !ok {
						t.Fatalf("DELETE of %s, which the client does not hold", k)
					}
					delete(c.stats, k)
				} else {
					c.stats[k] = e
				}
			}
		}
	default:
		t.Fatalf("unexpected %v", m)
	}
}

func (c *dayClient) statsString() string {
	var ks []string
	for k, e := range c.stats {
		ks = append(ks, fmt.Sprintf("%s:%s@%s cond=%s", k, e.size, e.px, e.cond))
	}
	slices.Sort(ks)
	return strings.Join(ks, " ")
}

// TestFIXTradingDay runs a short trading day through the engine and a FIX
// subscriber whose every message is validated against the FIX 4.4
// dictionary: the phase by SecurityStatus, the indicative uncross and the
// imbalance during each call, the official open and close, the auction
// trades flagged. The prices are computed by hand in the comments.
func TestFIXTradingDay(t *testing.T) {
	p := newTestPublisher(t, Config{FlushInterval: -1})
	eng := matching.New(matching.Config{Symbols: 3, OrdersHint: 64})
	var seq uint64
	run := func(c matching.Command) {
		seq++
		c.Seq, c.TimeNs, c.Symbol = seq, 1_700_000_000_000_000_000+int64(seq)*1e9, 1
		for _, ev := range eng.Apply(&c, nil) {
			if ev.Kind == matching.EvRejected {
				t.Fatalf("command %+v rejected: %+v", c, ev)
			}
			p.Apply(&ev)
		}
	}
	phase := func(ph matching.Phase) { run(matching.Command{Kind: matching.CmdPhase, Phase: ph}) }
	order := func(id matching.OrderID, side matching.Side, price, qty int64) {
		run(matching.Command{Kind: matching.CmdNew, OrderID: id, Account: 1, Side: side, Type: matching.Limit,
			TIF: matching.Day, Price: price, Qty: qty})
	}

	val := newFIX44Validator(t)
	r := newFIXRigStatus(t, p, true)
	r.request(t, "day", enum.SubscriptionRequestType_SNAPSHOT_PLUS_UPDATES, 0, []enum.MDEntryType{
		enum.MDEntryType_BID, enum.MDEntryType_OFFER, enum.MDEntryType_TRADE, enum.MDEntryType_OPENING_PRICE,
		enum.MDEntryType_CLOSING_PRICE, enum.MDEntryType_IMBALANCE}, "AAPL")
	c := &dayClient{stats: map[string]dayEntry{}}
	wait := func(what string, done func() bool) {
		t.Helper()
		r.until(t, func() string {
			if done() {
				return ""
			}
			return fmt.Sprintf("%s: stats %q, phases %v, trades %+v", what, c.statsString(), c.phases, c.trades)
		}, func(m []fixField) {
			if err := val.check(m); err != nil {
				t.Fatalf("35=%s fails the FIX 4.4 dictionary: %v\n%v", fget(m, 35), err, m)
			}
			c.apply(t, m)
		})
	}
	lastPhase := func(want string) func() bool {
		return func() bool { return len(c.phases) > 0 && c.phases[len(c.phases)-1] == want }
	}
	wait("the snapshot's phase", lastPhase("17/continuous"))

	// Pre-open call. 99.90: D10 S4; 100.00: D10 S4; 101.00: D0. Volume 4
	// at both lower prices with the same buy surplus 6: buy pressure takes
	// the higher, 100.00.
	phase(matching.PhasePreOpen)
	order(1, matching.Buy, 10000, 10)
	order(2, matching.Sell, 9990, 4)
	order(3, matching.Sell, 10100, 7)
	wait("the pre-open indicative", func() bool {
		return c.statsString() == "4/5:4@100 cond= A/:6@100 cond=P" && lastPhase("21/pre_open")()
	})

	// The opening uncross: 4 at 100.00, flagged as an opening auction print.
	phase(matching.PhaseContinuous)
	wait("the official open", func() bool {
		return c.statsString() == "4/0:@100 cond=" && lastPhase("17/continuous")() && len(c.trades) == 1
	})
	if tr := c.trades[0]; tr.px != "100" || tr.size != "4" || tr.cond != "E" || tr.sub != "opening_auction" {
		t.Fatalf("opening auction trade %+v", tr)
	}

	// Closing call: buy 6 left at 100.00, a sell of 6 there: 6 execute at
	// 100.00 with no surplus, so no imbalance entry.
	phase(matching.PhaseClosingCall)
	order(4, matching.Sell, 10000, 6)
	wait("the closing indicative", func() bool {
		return c.statsString() == "4/0:@100 cond= 5/5:6@100 cond=" && lastPhase("5/closing_call")()
	})
	phase(matching.PhasePostClose)
	wait("the official close", func() bool {
		return c.statsString() == "4/0:@100 cond= 5/0:@100 cond=" && lastPhase("18/post_close")() && len(c.trades) == 2
	})
	if tr := c.trades[1]; tr.px != "100" || tr.size != "6" || tr.cond != "" || tr.sub != "closing_auction" {
		t.Fatalf("closing auction trade %+v", tr)
	}
	want := []string{"17/continuous", "21/pre_open", "17/continuous", "5/closing_call", "18/post_close"}
	if !slices.Equal(c.phases, want) {
		t.Fatalf("phases told %v, want %v", c.phases, want)
	}

	// A late subscriber's snapshot carries the official prices and the
	// auction trades' flags.
	r.request(t, "late", enum.SubscriptionRequestType_SNAPSHOT, 0, []enum.MDEntryType{
		enum.MDEntryType_TRADE, enum.MDEntryType_OPENING_PRICE, enum.MDEntryType_CLOSING_PRICE}, "AAPL")
	w := r.expect(t, "W")
	if err := val.check(w); err != nil {
		t.Fatalf("W fails the dictionary: %v", err)
	}
	late := &dayClient{stats: map[string]dayEntry{}}
	late.apply(t, w)
	if s := late.statsString(); s != "4/0:@100 cond= 5/0:@100 cond=" {
		t.Fatalf("late snapshot's day entries %q", s)
	}
	if n := len(late.trades); n != 1 || late.trades[0].sub != "closing_auction" {
		t.Fatalf("late snapshot's trades %+v", late.trades) // one: the W carries the last trade
	}
	if f := r.expect(t, "f"); fget(f, 326) != "18" || fget(f, 58) != "post_close" {
		t.Fatalf("late SecurityStatus %v", f)
	}
}
