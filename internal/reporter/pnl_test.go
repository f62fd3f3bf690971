package reporter

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/matching"
)

// TestBasisByHand: average-cost realized P&L over fills computed by hand
// (cpt is the minor units per tick-lot).
func TestBasisByHand(t *testing.T) {
	B, S := matching.Buy, matching.Sell
	type fill struct {
		side                 matching.Side
		px, qty              int64
		pnl, lots, cost, cum int64 // after the fill
	}
	cases := []struct {
		name  string
		cpt   int64
		start basis
		fills []fill
	}{
		{"long, partial closes, rounding kept in the rest", 1, basis{}, []fill{
			{B, 100, 3, 0, 3, 300, 0},
			{B, 101, 3, 0, 6, 603, 0},    // average 100.5
			{S, 110, 1, 10, 5, 503, 10},  // out 603×1/6 = 100 (100.5 toward 0): 110 − 100
			{S, 90, 2, -21, 3, 302, -11}, // out 503×2/5 = 201: 180 − 201
			{S, 100, 3, -2, 0, 0, -13},   // out all 302: 300 − 302
		}},
		{"short and cover", 10, basis{}, []fill{
			{S, 50, 4, 0, -4, -2000, 0},
			{S, 60, 2, 0, -6, -3200, 0},
			{B, 40, 3, 400, -3, -1600, 400}, // out −3200×3/6 = −1600: 1600 − 1200
			{B, 70, 3, -500, 0, 0, -100},    // 1600 − 2100
		}},
		{"reversal through flat opens at the fill price", 1, basis{}, []fill{
			{B, 10, 2, 0, 2, 20, 0},
			{S, 15, 5, 10, -3, -45, 10}, // closes 2 (30 − 20), short 3 at 15
			{B, 12, 4, 9, 1, 12, 19},    // covers 3 (45 − 36), long 1 at 12
		}},
		{"configured holdings at the reference price", 1, basis{lots: 10, cost: 1000}, []fill{
			{S, 120, 10, 200, 0, 0, 200},
		}},
		{"rounding of a short's cost toward zero", 1, basis{}, []fill{
			{S, 10, 3, 0, -3, -30, 0},
			{S, 11, 3, 0, -6, -63, 0},
			{B, 10, 1, 0, -5, -53, 0}, // out −63/6 = −10 (−10.5 toward 0): 10 − 10
			{B, 10, 5, 3, 0, 0, 3},    // out −53: 53 − 50
		}},
	}
	for _, c := range cases {
		b := c.start
		for i, f := range c.fills {
			pnl := b.fill(f.side, f.px, f.qty, c.cpt)
			if pnl != f.pnl || b.lots != f.lots || b.cost != f.cost || b.realized != f.cum {
				t.Errorf("%s, fill %d: pnl %d, basis %+v; want pnl %d, lots %d, cost %d, realized %d", c.name, i, pnl, b, f.pnl, f.lots, f.cost, f.cum)
			}
		}
	}
}

func TestMulDivNoOverflow(t *testing.T) {
	if got := mulDiv(math.MaxInt64/2, 1_000_000, 3_000_000); got != (math.MaxInt64/2)/3 {
		t.Errorf("mulDiv = %d", got)
	}
	if got := mulDiv(-7, 1, 2); got != -3 {
		t.Errorf("mulDiv(-7, 1, 2) = %d, want -3 (toward zero)", got)
	}
}

// TestBasisRebuiltForSchema1: a database with history but no cost basis
// (filled by schema version 1) gets the basis its executions give, the same
// as one computed while ingesting.
func TestBasisRebuiltForSchema1(t *testing.T) {
	dir, vcfg := fixtureJournal(t, 20_000)
	opts := OpenOptions{Path: filepath.Join(t.TempDir(), "reports.db")}
	r := catchUp(t, Config{Venue: vcfg.Registry, DataDir: dir, DB: opts, BatchCommands: 3000, Log: zerolog.Nop()})
	want := dumpTables(t, r.db)["cost_basis"]
	if _, err := r.db.sql.Exec(`DELETE FROM cost_basis`); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if count := want[:strings.IndexByte(want, ' ')]; count == "0" {
		t.Fatal("the fixture has no positions")
	}
	r2 := catchUp(t, Config{Venue: vcfg.Registry, DataDir: dir, DB: opts, Log: zerolog.Nop()})
	defer r2.Close()
	if got := dumpTables(t, r2.db)["cost_basis"]; got != want {
		t.Errorf("rebuilt cost basis %s, ingested %s", got, want)
	}
}
