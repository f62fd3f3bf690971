// Package bench holds the benchmarks of the critical path and of the matching
// engine, the load scenarios they run, and their latency reports. Correctness
// tests live beside the code they test, not here.
package bench

import (
	"math/rand/v2"

	"github.com/exchange-sim/exchange/matching"
)

// MixConfig shapes a generated command stream after the exchange-core
// benchmark: a book of roughly Orders resting GTC limit orders per symbol
// spread over PriceRange ticks each side of a random-walk mid price, then a
// mix of new GTC orders, IOC orders, cancels and moves (replace to a new
// price) in the proportions of the Pct fields.
type MixConfig struct {
	Symbols    int
	Orders     int   // resting orders per symbol to keep the book near
	PriceRange int64 // ticks each side of the mid that resting orders spread over
	Accounts   int

	NewPct, IOCPct, CancelPct int // the rest are moves
	// CrossPct is the share of new GTC orders and moves priced across the
	// spread, which together with the IOC orders makes the trading share.
	CrossPct int
	// StopPct and IcebergPct are the shares of new GTC orders made stop (or
	// stop-limit) orders a few ticks beyond the mid, and icebergs showing a
	// fifth of their quantity.
	StopPct, IcebergPct int
}

// mixExchangeCore is the exchange-core mix on one symbol: 9% new GTC, 3% IOC,
// 6% cancel, 82% move, about 1,000 resting orders over about 750 levels.
var mixExchangeCore = MixConfig{Symbols: 1, Orders: 1000, PriceRange: 1000, Accounts: 1000,
	NewPct: 9, IOCPct: 3, CancelPct: 6, CrossPct: 3}

// GenerateMix returns the exchange-core mix on one symbol: warmup builds the
// book (about 1,000 orders over about 750 levels), cmds are n commands of the
// mix. Both must be applied, in order, to a fresh engine with one symbol.
func GenerateMix(seed int64, n int, accounts int) (warmup, cmds []matching.Command) {
	cfg := mixExchangeCore
	cfg.Accounts = accounts
	return Generate(seed, n, cfg)
}

// generateDeep is the same mix on a deep book: 100,000 resting orders over
// about 10,000 levels.
func generateDeep(seed int64, n int, accounts int) (warmup, cmds []matching.Command) {
	cfg := mixExchangeCore
	cfg.Accounts, cfg.Orders, cfg.PriceRange = accounts, 100_000, 5_000
	return Generate(seed, n, cfg)
}

// generateWide is the same mix spread over symbols books of about 100
// orders over about 75 levels each (100,000 orders for 1,000 symbols),
// commands picking a symbol uniformly.
func generateWide(seed int64, n int, accounts int, symbols int) (warmup, cmds []matching.Command) {
	cfg := mixExchangeCore
	cfg.Accounts, cfg.Symbols, cfg.Orders, cfg.PriceRange = accounts, symbols, 100, 100
	return Generate(seed, n, cfg)
}

// generator keeps its own view of the open orders by running every command
// it makes through a matching engine, so that cancels and moves name live
// orders with their true side and quantity.
type generator struct {
	cfg    MixConfig
	r      *rand.Rand
	e      *matching.Engine
	out    []matching.Event
	nextID matching.OrderID
	seq    uint64
	mid    []int64
	live   [][]matching.OrderID // per symbol index, swap-removed
	pos    map[matching.OrderID]int
}

const midStart = 1_000_000

// Generate makes a warmup that fills every book and n commands of the mix
// described by cfg. The same seed and cfg give the same commands.
func Generate(seed int64, n int, cfg MixConfig) (warmup, cmds []matching.Command) {
	cfg.Symbols = max(cfg.Symbols, 1)
	cfg.Accounts = max(cfg.Accounts, 1)
	cfg.PriceRange = max(cfg.PriceRange, 1)
	g := &generator{
		cfg: cfg,
		r:   rand.New(rand.NewPCG(uint64(seed), 0x5eed)),
		e:   matching.New(matching.Config{Symbols: cfg.Symbols, OrdersHint: cfg.Symbols * cfg.Orders * 2}),
		mid: make([]int64, cfg.Symbols), live: make([][]matching.OrderID, cfg.Symbols),
		pos: make(map[matching.OrderID]int, cfg.Symbols*cfg.Orders*2), nextID: 1,
	}
	for i := range g.mid {
		g.mid[i] = midStart
	}
	warmup = make([]matching.Command, 0, cfg.Symbols*cfg.Orders)
	for s := 0; s < cfg.Symbols; s++ {
		for range cfg.Orders {
			warmup = append(warmup, g.emit(g.newOrder(s, matching.GTC, false)))
		}
	}
	cmds = make([]matching.Command, 0, n)
	for range n {
		cmds = append(cmds, g.emit(g.next()))
	}
	return warmup, cmds
}

// emit stamps c, runs it through the generator's engine and updates the view
// of live orders from the events.
func (g *generator) emit(c matching.Command) matching.Command {
	g.seq++
	c.Seq = g.seq
	c.TimeNs = int64(g.seq) * 1000
	g.out = g.e.Apply(&c, g.out[:0])
	for i := range g.out {
		ev := &g.out[i]
		switch {
		case ev.Kind == matching.EvAdded:
			g.add(int(ev.Symbol-1), ev.OrderID)
		case ev.Kind == matching.EvTrade && ev.MakerLeaves == 0:
			g.remove(int(ev.Symbol-1), ev.MakerOrderID)
		case ev.Kind == matching.EvCancelled && ev.Leaves == 0,
			ev.Kind == matching.EvReplaced && !ev.PriorityKept:
			g.remove(int(ev.Symbol-1), ev.OrderID) // a moved order is added back by its EvAdded
		}
	}
	return c
}

func (g *generator) add(s int, id matching.OrderID) {
	g.pos[id] = len(g.live[s])
	g.live[s] = append(g.live[s], id)
}

func (g *generator) remove(s int, id matching.OrderID) {
	i, ok := g.pos[id]
	if !ok {
		return
	}
	l := g.live[s]
	last := l[len(l)-1]
	l[i] = last
	g.pos[last] = i
	g.live[s] = l[:len(l)-1]
	delete(g.pos, id)
}

// price returns a price for an order of side: a resting price up to
// PriceRange ticks behind the mid, or, when cross, up to 3 ticks through the
// opposite touch so that it trades.
func (g *generator) price(s int, side matching.Side, cross bool) int64 {
	if cross {
		opp := matching.Sell
		if side == matching.Sell {
			opp = matching.Buy
		}
		touch := int64(0)
		g.e.Levels(matching.SymbolID(s+1), opp, func(p, _ int64, _ int) bool { touch = p; return false })
		if touch != 0 {
			if side == matching.Buy {
				return touch + g.r.Int64N(4)
			}
			return max(1, touch-g.r.Int64N(4))
		}
	}
	off := 1 + g.r.Int64N(g.cfg.PriceRange)
	if side == matching.Buy {
		return g.mid[s] - off
	}
	return g.mid[s] + off
}

func (g *generator) newOrder(s int, tif matching.TimeInForce, cross bool) matching.Command {
	side := matching.Side(1 + g.r.IntN(2))
	c := matching.Command{
		Kind: matching.CmdNew, OrderID: g.nextID, Account: matching.AccountID(1 + g.r.IntN(g.cfg.Accounts)),
		Symbol: matching.SymbolID(s + 1), Side: side, Type: matching.Limit, TIF: tif,
		Price: g.price(s, side, cross), Qty: 1 + g.r.Int64N(100),
	}
	g.nextID++
	return c
}

// dress makes a new GTC order a stop order or an iceberg, in the shares of
// cfg.StopPct and cfg.IcebergPct.
func (g *generator) dress(c matching.Command) matching.Command {
	p := g.r.IntN(100)
	switch {
	case p < g.cfg.StopPct:
		off := 1 + g.r.Int64N(10)
		if c.Side == matching.Sell {
			off = -off
		}
		c.StopPrice = g.mid[c.Symbol-1] + off
		c.Type, c.Price = matching.Stop, 0
		if g.r.IntN(2) == 0 {
			c.Type, c.Price = matching.StopLimit, c.StopPrice+off/2
		}
	case p < g.cfg.StopPct+g.cfg.IcebergPct && c.Qty >= 2:
		c.Display = max(1, c.Qty/5)
	}
	return c
}

func (g *generator) next() matching.Command {
	s := g.r.IntN(g.cfg.Symbols)
	if g.r.IntN(8) == 0 { // the mid wanders one tick at a time
		g.mid[s] += int64(g.r.IntN(3)) - 1
	}
	cross := g.r.IntN(100) < g.cfg.CrossPct
	p := g.r.IntN(100)
	live := len(g.live[s])
	switch {
	case p < g.cfg.NewPct+g.cfg.CancelPct:
		// New and cancel share a slot that steers the book toward its size.
		isNew := p < g.cfg.NewPct
		if live > g.cfg.Orders*11/10 {
			isNew = false
		} else if live < g.cfg.Orders*9/10 {
			isNew = true
		}
		if isNew || live == 0 {
			return g.dress(g.newOrder(s, matching.GTC, cross))
		}
		id := g.live[s][g.r.IntN(live)]
		o, _ := g.e.Order(id)
		return matching.Command{Kind: matching.CmdCancel, OrderID: id, Account: o.Account, Symbol: o.Symbol}
	case p < g.cfg.NewPct+g.cfg.CancelPct+g.cfg.IOCPct || live == 0:
		c := g.newOrder(s, matching.IOC, true)
		c.Qty = 1 + g.r.Int64N(30)
		return c
	default:
		id := g.live[s][g.r.IntN(live)]
		o, _ := g.e.Order(id)
		return matching.Command{Kind: matching.CmdReplace, OrderID: id, Account: o.Account, Symbol: o.Symbol,
			Price: g.price(s, o.Side, cross), Qty: o.Qty}
	}
}
