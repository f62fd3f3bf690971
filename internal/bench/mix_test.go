package bench

import (
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

// mixShape runs a generated stream and measures what it looks like.
type mixShape struct {
	kinds                 map[string]int
	traded, rejected      int
	orders, levels, total int
}

func measure(symbols int, warmup, cmds []matching.Command) mixShape {
	e := matching.New(matching.Config{Symbols: symbols, OrdersHint: len(warmup) * 2})
	var out []matching.Event
	for i := range warmup {
		out = e.Apply(&warmup[i], out[:0])
	}
	sh := mixShape{kinds: map[string]int{}, total: len(cmds)}
	for i := range cmds {
		c := &cmds[i]
		switch {
		case c.Kind == matching.CmdNew && c.TIF == matching.IOC:
			sh.kinds["ioc"]++
		case c.Kind == matching.CmdNew:
			sh.kinds["new"]++
		case c.Kind == matching.CmdCancel:
			sh.kinds["cancel"]++
		case c.Kind == matching.CmdReplace:
			sh.kinds["move"]++
		}
		out = e.Apply(c, out[:0])
		traded := false
		for _, ev := range out {
			traded = traded || ev.Kind == matching.EvTrade
			if ev.Kind == matching.EvRejected {
				sh.rejected++
			}
		}
		if traded {
			sh.traded++
		}
	}
	sh.orders = e.OpenOrders()
	for s := 1; s <= symbols; s++ {
		for _, side := range []matching.Side{matching.Buy, matching.Sell} {
			e.Levels(matching.SymbolID(s), side, func(int64, int64, int) bool { sh.levels++; return true })
		}
	}
	return sh
}

// TestGenerateMixShape checks that the generated stream is the exchange-core
// mix it claims to be: every command valid, the proportions, the book size
// and the trading share.
func TestGenerateMixShape(t *testing.T) {
	warmup, cmds := GenerateMix(1, 200_000, 1000)
	sh := measure(1, warmup, cmds)
	t.Logf("%+v trading %.1f%%", sh, 100*float64(sh.traded)/float64(sh.total))
	pct := func(k string) float64 { return 100 * float64(sh.kinds[k]) / float64(sh.total) }
	switch {
	case sh.rejected != 0:
		t.Errorf("%d rejected commands", sh.rejected)
	case pct("move") < 78 || pct("move") > 86, pct("ioc") < 2 || pct("ioc") > 4,
		pct("new") < 6 || pct("new") > 12, pct("cancel") < 3 || pct("cancel") > 9:
		t.Errorf("mix off: %v", sh.kinds)
	case sh.orders < 800 || sh.orders > 1200 || sh.levels < 500 || sh.levels > 1000:
		t.Errorf("book has %d orders over %d levels", sh.orders, sh.levels)
	}
	if tr := 100 * float64(sh.traded) / float64(sh.total); tr < 4 || tr > 8 {
		t.Errorf("%.1f%% of commands trade, want about 6%%", tr)
	}
}
