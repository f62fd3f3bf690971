package config

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/sequencer"
)

func TestDefaultResolves(t *testing.T) {
	c := Default()
	if len(c.Symbols) != 4 || c.Symbols[0].Name != "AAPL" || c.SymbolByName("SPY") != 4 {
		t.Fatalf("symbols: %+v", c.Symbols)
	}
	aapl, _ := c.Symbol(1)
	if aapl.RefTicks != 19000 || aapl.CashPerTickLot != 1 {
		t.Fatalf("AAPL ref ticks %d cash per tick-lot %d", aapl.RefTicks, aapl.CashPerTickLot)
	}
	if c.SessionByCompID("ALPHA") == 0 || c.SessionByCompID("NOPE") != 0 {
		t.Fatal("session lookup")
	}
	a, ok := c.Account(c.AccountByName("ALPHA-1"))
	if !ok || a.Cash != 10_000_000_000 || a.Holdings[1] != 1_000_000 {
		t.Fatalf("ALPHA-1: %+v", a)
	}
	mm, _ := c.Account(c.AccountByName("MM-1"))
	if mm.Limits.MaxOpenOrders != 50000 || mm.Limits.MaxOrderLots != 100000 {
		t.Fatalf("MM-1 limits not merged over defaults: %+v", mm.Limits)
	}
	if c.ListenFIX != "127.0.0.1:9878" || c.Durability != sequencer.DurabilityBatch {
		t.Fatalf("listen %s durability %s", c.ListenFIX, c.Durability)
	}
}

func TestUnitConversions(t *testing.T) {
	c := Default()
	s, _ := c.Symbol(1)
	for _, tc := range []struct {
		in      string
		ticks   int64
		wantErr string
	}{
		{"190.01", 19001, ""},
		{"190.015", 0, "not a whole multiple of the tick size"},
		{"0", 0, "must be positive"},
		{"-1", 0, "must be positive"},
		{"1e30", 0, "too large"},
	} {
		got, err := s.PriceToTicks(decimal.RequireFromString(tc.in))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.ticks {
			t.Errorf("%s: %d %v, want %d", tc.in, got, err, tc.ticks)
		}
	}
	if !s.TicksToPrice(19001).Equal(decimal.RequireFromString("190.01")) {
		t.Error("TicksToPrice")
	}
	if _, err := c.MoneyToMinor(decimal.RequireFromString("1.005")); err == nil {
		t.Error("fraction of a cent accepted")
	}
}

func TestErrorsNameTheField(t *testing.T) {
	base := string(DefaultYAML())
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"durability", "durability: batch", "durability: sometimes", "journal.durability"},
		{"tick", `tick_size: "0.01"`, `tick_size: "x"`, "symbols[0].tick_size"},
		{"sub-cent tick", `tick_size: "0.01"`, `tick_size: "0.001"`, "must be a whole number"},
		{"unknown key", "data_dir:", "data_dirr:", "data_dirr"},
		{"holding symbol", "holdings: {AAPL:", "holdings: {NOPE:", "unknown symbol \"NOPE\""},
		{"password", "password_hash: $2a$10$G8Fu", "password_hash: plain$2a$10$G8Fu", "firms[0].sessions[0].password_hash"},
		{"cash", `cash: "100000000.00"`, `cash: "lots"`, "firms[0].accounts[0].cash"},
		{"seq reset time", `seq_reset_time: "00:00"`, `seq_reset_time: "midnight"`, "gateway.seq_reset_time"},
		{"store retention", `store_retention_days: 7`, `store_retention_days: -2`, "gateway.store_retention_days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.Replace(base, tc.old, tc.new, 1)
			if y == base {
				t.Fatalf("replacement %q not found", tc.old)
			}
			_, err := Parse([]byte(y), "test.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "test.yaml") {
				t.Fatalf("err = %v, want it to name test.yaml and %q", err, tc.want)
			}
		})
	}
}
