package refdata

import (
	"errors"
	"sync"
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

// TestRegisterSymbol: BuildSymbol names the field at fault; registration
// takes the next ID only, is idempotent for the same symbol, refuses a
// different one at a registered ID and a name in use; lookups from other
// goroutines see a consistent table meanwhile (run with -race).
func TestRegisterSymbol(t *testing.T) {
	c := testRegistry(t)
	n := len(c.Symbols)
	for _, tc := range []struct {
		l     SymbolListing
		field string
	}{
		{SymbolListing{Name: "", TickSize: "1", LotSize: "1"}, "name"},
		{SymbolListing{Name: "X", TickSize: "x", LotSize: "1"}, "tick_size"},
		{SymbolListing{Name: "X", TickSize: "1", LotSize: "0"}, "lot_size"},
		{SymbolListing{Name: "X", TickSize: "0.001", LotSize: "1"}, "tick_size"},
		{SymbolListing{Name: "X", TickSize: "1", LotSize: "1", ReferencePrice: "1.5"}, "reference_price"},
		{SymbolListing{Name: "X", TickSize: "1", LotSize: "1", StaticBandBps: matching.BandBpsMax + 1}, "static_band_bps"},
	} {
		_, err := c.BuildSymbol(&tc.l, 0)
		var le *ListingError
		if !errors.As(err, &le) || le.Field != tc.field || !errors.Is(err, ErrListing) {
			t.Fatalf("%+v: %v", tc.l, err)
		}
	}
	sym, err := c.BuildSymbol(&SymbolListing{Name: "NEWCO", TickSize: "0.05", LotSize: "10", ReferencePrice: "20"}, matching.SymbolID(n+1))
	if err != nil || sym.CashPerTickLot != 50 || sym.RefTicks != 400 {
		t.Fatalf("%+v %v", sym, err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // a reader, as the gateway is
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if id := c.SymbolByName("NEWCO"); id != 0 {
				if s, ok := c.Symbol(id); !ok || s.Name != "NEWCO" {
					t.Error("a listed symbol half seen")
					return
				}
			}
			_ = c.AllSymbols()
		}
	}()
	skip := sym
	skip.ID++
	if err := c.RegisterSymbol(skip); !errors.Is(err, ErrListing) {
		t.Fatalf("an ID past the next: %v", err)
	}
	if err := c.RegisterSymbol(sym); err != nil {
		t.Fatal(err)
	}
	if err := c.RegisterSymbol(sym); err != nil {
		t.Fatalf("the same listing again: %v", err)
	}
	other := sym
	other.Name = "OTHER"
	if err := c.RegisterSymbol(other); !errors.Is(err, ErrListing) {
		t.Fatalf("a different symbol at a listed ID: %v", err)
	}
	dup := sym
	dup.ID = matching.SymbolID(n + 2)
	if err := c.RegisterSymbol(dup); !errors.Is(err, ErrDuplicateSymbol) {
		t.Fatalf("a name in use: %v", err)
	}
	close(stop)
	wg.Wait()
	if c.SymbolCount() != n+1 || len(c.AllSymbols()) != n+1 || len(c.Symbols) != n || c.SymbolByName("NEWCO") != matching.SymbolID(n+1) {
		t.Fatalf("after: %d symbols", c.SymbolCount())
	}
	if testRegistry(t).SymbolByName("NEWCO") != 0 {
		t.Fatal("a listing leaked into another registry")
	}
}
