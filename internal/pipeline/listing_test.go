package pipeline

import (
	"context"
	"errors"
	"testing"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// TestListSymbolReplayed: a symbol listed by an operator trades from its
// sequence number on; a venue restarted with a fresh configuration (the
// listing is not in the YAML) lists it again from its snapshot or its
// journal, trades it on, and replays give the live hashes.
func TestListSymbolReplayed(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	col := newCollector()
	x := open(t, dir, cfg, col, "batch", 0)
	ctx := context.Background()
	base := len(cfg.Symbols)
	sym, err := cfg.BuildSymbol(&refdata.SymbolListing{Name: "NEWCO", TickSize: "0.05", LotSize: "10", ReferencePrice: "20", DynamicBandBps: 500}, 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActListSymbol, Listing: sym, Who: "ops", Why: "IPO"})
	if err != nil || res.Commands != 2 {
		t.Fatalf("listing: %+v %v", res, err)
	}
	id := cfg.SymbolByName("NEWCO")
	if int(id) != base+1 || cfg.SymbolCount() != base+1 {
		t.Fatalf("NEWCO has ID %d", id)
	}
	if s, ok := cfg.Symbol(id); !ok || s.RefTicks != 400 || s.CashPerTickLot != 50 {
		t.Fatalf("registered %+v", s)
	}
	_, err = x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActListSymbol, Listing: sym, Who: "ops", Why: "again"})
	if !errors.Is(err, refdata.ErrDuplicateSymbol) {
		t.Fatalf("duplicate: %v", err)
	}
	dup := sym
	dup.Name = "AAPL"
	if _, err = x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActListSymbol, Listing: dup, Who: "ops", Why: "x"}); !errors.Is(err, refdata.ErrDuplicateSymbol) {
		t.Fatalf("configured name: %v", err)
	}
	bravo := cfg.AccountByName("BRAVO-1")
	acc, _ := cfg.Account(bravo)
	lim := acc.Limits
	lim.AllowShort, lim.ShortLimitLots = true, 1000
	if _, err := x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActSetLimits, Account: bravo, Limits: lim, Who: "ops", Why: "market maker for NEWCO"}); err != nil {
		t.Fatal(err)
	}
	trade := func(x *Exchange, n int, suffix string) {
		t.Helper()
		buy := newOrder(cfg, "ALPHA", clID(t, "b"+suffix), id, matching.Buy, 400, 3)
		sell := newOrder(cfg, "BRAVO", clID(t, "s"+suffix), id, matching.Sell, 400, 2)
		for _, r := range []*ordermanager.Request{&buy, &sell} {
			if !x.Submit(r) {
				t.Fatal("submit refused")
			}
		}
		col.waitFor(t, "NEWCO fills", func(r []ordermanager.Report) bool {
			k := 0
			for _, p := range r {
				if p.Kind == ordermanager.RepExec && p.ExecType == ordermanager.ExecTrade && p.Symbol == id {
					k++
				}
			}
			return k == n
		})
	}
	trade(x, 2, "1")
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	live := x.State()
	check := func(what string, st *State) {
		t.Helper()
		if st.Manager.StateHash() != live.Manager.StateHash() || st.Engine.StateHash() != live.Engine.StateHash() || st.Hasher.Sum() != live.Hasher.Sum() {
			t.Fatalf("%s: the state differs from the live one", what)
		}
		if len(st.Manager.Listed()) != 1 || st.Manager.Listed()[0].Name != "NEWCO" || st.Engine.Symbols() != base+1 {
			t.Fatalf("%s: listed %+v, %d books", what, st.Manager.Listed(), st.Engine.Symbols())
		}
		if last := st.Manager.LastPrice(id); last != 400 {
			t.Fatalf("%s: NEWCO last %d", what, last)
		}
	}
	for _, ignore := range []bool{true, false} {
		fresh := config.Default()
		st, _, err := Rebuild(fresh.Registry, RebuildOptions{Dir: dir, IgnoreSnapshots: ignore, Log: zerolog.Nop()})
		if err != nil {
			t.Fatalf("rebuild (ignore snapshots %v): %v", ignore, err)
		}
		check("rebuild", st)
		if fresh.SymbolByName("NEWCO") != id {
			t.Fatalf("rebuild (ignore snapshots %v) did not register NEWCO", ignore)
		}
	}
	// The live configuration replays its own journal: registering again is
	// a no-op.
	if st, _, err := Rebuild(cfg.Registry, RebuildOptions{Dir: dir, IgnoreSnapshots: true, Log: zerolog.Nop()}); err != nil {
		t.Fatal(err)
	} else {
		check("rebuild with the live configuration", st)
	}
	// A restart with a fresh configuration trades NEWCO on.
	cfg = config.Default()
	x2 := open(t, dir, cfg, col, "batch", 0)
	if cfg.SymbolByName("NEWCO") != id {
		t.Fatal("restart did not list NEWCO")
	}
	// s2 fills b1's last lot, then one of b2's: four more fill reports.
	trade(x2, 6, "2")
	if err := x2.Close(); err != nil {
		t.Fatal(err)
	}
}
