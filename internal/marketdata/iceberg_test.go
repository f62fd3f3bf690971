package marketdata

import (
	"fmt"
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

// TestIcebergShowsOnlyItsPeak drives the views with a real engine's events:
// an iceberg shows its peak in L2 and L3, a refill moves it to the back of
// its level, and market orders resting in a call show on no level.
func TestIcebergShowsOnlyItsPeak(t *testing.T) {
	p, err := New(Config{Symbols: testSymbols()})
	if err != nil {
		t.Fatal(err)
	}
	e := matching.New(matching.Config{Symbols: len(testSymbols())})
	var seq uint64
	apply := func(c matching.Command) {
		seq++
		c.Seq, c.Symbol = seq, 1
		for _, ev := range e.Apply(&c, nil) {
			p.Apply(&ev)
		}
	}
	queue := func() string {
		return fmt.Sprint(p.Queue(1, matching.Sell, 10, nil))
	}
	apply(matching.Command{Kind: matching.CmdNew, OrderID: 1, Account: 1, Side: matching.Sell, Type: matching.Limit, TIF: matching.GTC, Price: 100, Qty: 10, Display: 3})
	apply(matching.Command{Kind: matching.CmdNew, OrderID: 2, Account: 2, Side: matching.Sell, Type: matching.Limit, TIF: matching.GTC, Price: 100, Qty: 5})
	if q := queue(); q != "[{1 100 3} {2 100 5}]" {
		t.Fatalf("queue %s: the reserve shows", q)
	}
	apply(matching.Command{Kind: matching.CmdNew, OrderID: 3, Account: 3, Side: matching.Buy, Type: matching.Limit, TIF: matching.IOC, Price: 100, Qty: 4})
	if q := queue(); q != "[{2 100 4} {1 100 3}]" {
		t.Fatalf("queue %s after the refill", q)
	}
	if d := p.Depth(1, matching.Sell, 5, nil); len(d) != 1 || d[0].Qty != 7 {
		t.Fatalf("depth %+v", d)
	}
	apply(matching.Command{Kind: matching.CmdPhase, Phase: matching.PhasePreOpen})
	apply(matching.Command{Kind: matching.CmdNew, OrderID: 4, Account: 3, Side: matching.Buy, Type: matching.Market, TIF: matching.Day, Qty: 4})
	if d := p.Depth(1, matching.Buy, 5, nil); len(d) != 0 {
		t.Fatalf("a market order in a call shows on a level: %+v", d)
	}
	// The call's phase and indicative uncross (4 at 100: the buy market
	// order against the asks), then the official open and a flagged trade.
	p.mu.Lock()
	st := p.sym(1).stats
	p.mu.Unlock()
	if st.Phase != matching.PhasePreOpen || st.IndPrice != 100 || st.IndQty != 4 {
		t.Fatalf("stats in the call %+v", st)
	}
	apply(matching.Command{Kind: matching.CmdPhase, Phase: matching.PhaseContinuous})
	p.mu.Lock()
	st = p.sym(1).stats
	p.mu.Unlock()
	tr := p.Trades(1, 1, nil)
	if st.Phase != matching.PhaseContinuous || st.OfficialOpen != 100 || st.IndPrice != 0 || len(tr) != 1 || !tr[0].Auction {
		t.Fatalf("after the open: %+v %+v", st, tr)
	}
}

// Stats count the volatility auctions a symbol enters: once per entry,
// whatever the phase events in between.
func TestStatsCountInterruptions(t *testing.T) {
	p, err := New(Config{Symbols: testSymbols()})
	if err != nil {
		t.Fatal(err)
	}
	var seq uint64
	phase := func(ph matching.Phase) {
		seq++
		p.Apply(&matching.Event{Kind: matching.EvPhase, OutSeq: seq, Symbol: 1, Phase: ph})
	}
	for _, ph := range []matching.Phase{matching.PhaseContinuous, matching.PhaseVolatilityAuction, matching.PhaseVolatilityAuction,
		matching.PhaseContinuous, matching.PhaseVolatilityAuction, matching.PhaseContinuous} {
		phase(ph)
	}
	p.mu.Lock()
	st := p.sym(1).stats
	p.mu.Unlock()
	if st.Interruptions != 2 || st.Phase != matching.PhaseContinuous {
		t.Fatalf("interruptions %d in phase %s, want 2 in continuous", st.Interruptions, st.Phase)
	}
}
