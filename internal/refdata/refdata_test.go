package refdata

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/matching"
)

// testTables are two symbols, two firms with one session and one account
// each, in a currency of two decimal places.
func testTables() Tables {
	d := decimal.RequireFromString
	return Tables{
		CurrencyCode: "USD",
		MinorUnits:   2,
		Symbols: []Symbol{
			{ID: 1, Name: "AAA", TickSize: d("0.01"), LotSize: d("1"), CashPerTickLot: 1},
			{ID: 2, Name: "BBB", TickSize: d("0.05"), LotSize: d("100"), CashPerTickLot: 500},
		},
		Firms: []Firm{
			{ID: 1, Name: "F1", Sessions: []SessionID{1}, Accounts: []matching.AccountID{1}},
			{ID: 2, Name: "F2", Sessions: []SessionID{2}, Accounts: []matching.AccountID{2}},
		},
		Sessions: []Session{
			{ID: 1, Firm: 1, SenderCompID: "S1", DefaultAccount: 1},
			{ID: 2, Firm: 2, SenderCompID: "S2", DefaultAccount: 2},
		},
		Accounts: []Account{
			{ID: 1, Name: "A1", Firm: 1, Cash: 100_00},
			{ID: 2, Name: "A2", Firm: 2, Cash: 200_00},
		},
	}
}

func testRegistry(t *testing.T) *Registry {
	t.Helper()
	r, err := New(testTables())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLookups: every lookup finds what the tables hold by ID and by name,
// and nothing for 0, an ID past the end or an unknown name.
func TestLookups(t *testing.T) {
	r := testRegistry(t)
	if s, ok := r.Symbol(2); !ok || s.Name != "BBB" || r.SymbolByName("BBB") != 2 {
		t.Fatalf("symbol 2: %+v %v", s, ok)
	}
	if a, ok := r.Account(r.AccountByName("A2")); !ok || a.Cash != 200_00 || a.Firm != 2 {
		t.Fatalf("account A2: %+v %v", a, ok)
	}
	if s, ok := r.Session(r.SessionByCompID("S1")); !ok || s.Firm != 1 {
		t.Fatalf("session S1: %+v %v", s, ok)
	}
	if f, ok := r.Firm(2); !ok || f.Name != "F2" {
		t.Fatalf("firm 2: %+v %v", f, ok)
	}
	if _, ok := r.Symbol(0); ok {
		t.Fatal("symbol 0 found")
	}
	if _, ok := r.Symbol(3); ok {
		t.Fatal("symbol 3 found")
	}
	if _, ok := r.Account(3); ok {
		t.Fatal("account 3 found")
	}
	if _, ok := r.Session(0); ok {
		t.Fatal("session 0 found")
	}
	if _, ok := r.Firm(3); ok {
		t.Fatal("firm 3 found")
	}
	if r.SymbolByName("ZZZ") != 0 || r.AccountByName("ZZZ") != 0 || r.SessionByCompID("ZZZ") != 0 {
		t.Fatal("an unknown name found")
	}
	if r.SymbolCount() != 2 || len(r.AllSymbols()) != 2 {
		t.Fatalf("%d symbols", r.SymbolCount())
	}
}

// TestNewRefuses: New refuses tables its lookups could not serve.
func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Tables)
		want string
	}{
		{"symbol ID", func(t *Tables) { t.Symbols[1].ID = 3 }, "symbols[1] has ID 3"},
		{"symbol name", func(t *Tables) { t.Symbols[1].Name = "AAA" }, "symbols[1]: name"},
		{"firm ID", func(t *Tables) { t.Firms[0].ID = 2 }, "firms[0] has ID 2"},
		{"account ID", func(t *Tables) { t.Accounts[1].ID = 1 }, "accounts[1] has ID 1"},
		{"account name", func(t *Tables) { t.Accounts[1].Name = "" }, "accounts[1]: name"},
		{"account firm", func(t *Tables) { t.Accounts[1].Firm = 9 }, "unknown firm 9"},
		{"session ID", func(t *Tables) { t.Sessions[0].ID = 0 }, "sessions[0] has ID 0"},
		{"session comp", func(t *Tables) { t.Sessions[1].SenderCompID = "S1" }, "sessions[1]: SenderCompID"},
		{"session firm", func(t *Tables) { t.Sessions[0].Firm = 0 }, "unknown firm 0"},
		{"minor units", func(t *Tables) { t.MinorUnits = 9 }, "minor units 9"},
	} {
		tab := testTables()
		tc.edit(&tab)
		if _, err := New(tab); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestConversions: prices, quantities and money go to their int64 units
// and back, and a value off the grid is refused.
func TestConversions(t *testing.T) {
	r := testRegistry(t)
	s, _ := r.Symbol(2)
	d := decimal.RequireFromString
	if n, err := s.PriceToTicks(d("12.35")); err != nil || n != 247 || !s.TicksToPrice(n).Equal(d("12.35")) {
		t.Fatalf("price: %d %v", n, err)
	}
	if _, err := s.PriceToTicks(d("12.34")); err == nil {
		t.Fatal("a price off the tick grid accepted")
	}
	if n, err := s.QtyToLots(d("300")); err != nil || n != 3 || !s.LotsToQty(n).Equal(d("300")) {
		t.Fatalf("qty: %d %v", n, err)
	}
	if _, err := s.QtyToLots(d("150")); err == nil {
		t.Fatal("a quantity off the lot grid accepted")
	}
	if m, err := r.MoneyToMinor(d("1.25")); err != nil || m != 125 || !r.MinorToMoney(m).Equal(d("1.25")) {
		t.Fatalf("money: %d %v", m, err)
	}
	if _, err := r.MoneyToMinor(d("1.255")); err == nil {
		t.Fatal("a fraction of a cent accepted")
	}
}
