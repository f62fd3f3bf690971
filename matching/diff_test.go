package matching

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// cmdGen makes random commands that mostly make sense (live order IDs,
// prices near the touch, owners that match) with a share of nonsense mixed
// in. It steers by the reference model's open orders, never the engine's.
type cmdGen struct {
	r      *rand.Rand
	ref    *refModel
	nextID OrderID
	seq    uint64
	mid    [4]int64
}

func newCmdGen(seed uint64, ref *refModel) *cmdGen {
	g := &cmdGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ref: ref, nextID: 1}
	for i := range g.mid {
		g.mid[i] = 1000
	}
	return g
}

func (g *cmdGen) pick(weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := g.r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return 0
}

func (g *cmdGen) symbol() SymbolID {
	if g.r.IntN(200) == 0 {
		return SymbolID(g.r.IntN(6)) // 0, unknown, or known
	}
	return SymbolID(1 + g.r.IntN(3))
}

func (g *cmdGen) live() *refOrder {
	if len(g.ref.open) == 0 {
		return nil
	}
	return g.ref.open[g.r.IntN(len(g.ref.open))]
}

func (g *cmdGen) next() Command {
	g.seq++
	c := Command{Seq: g.seq, TimeNs: int64(g.seq) * 1000}
	switch g.pick(420, 100, 300, 2, 1, 20, 1, 5, 10, 12, 2) {
	case 0:
		g.newOrder(&c)
	case 1:
		c.Kind = CmdCancel
		g.target(&c)
	case 2:
		c.Kind = CmdReplace
		g.target(&c)
		if o := g.ref.find(c.OrderID); o != nil {
			c.Price = max(1, o.price+int64(g.r.IntN(9))-4)
			switch g.pick(4, 3, 2, 1) {
			case 0:
				c.Qty = o.qty
			case 1:
				c.Qty = o.filled + 1 + g.r.Int64N(20)
			case 2:
				c.Qty = o.qty - g.r.Int64N(o.qty+1)
			default:
				c.Qty = g.r.Int64N(5) - 1
			}
			if g.r.IntN(3) == 0 {
				c.Price = o.price
			}
			if o.held {
				c.StopPrice = max(1, o.stopPx+int64(g.r.IntN(5))-2)
				if o.typ == Stop && g.r.IntN(2) == 0 {
					c.Price = 0
				}
			}
		} else {
			c.Price, c.Qty = 1000, 5
		}
		if g.r.IntN(100) == 0 {
			c.Price = []int64{0, -3, PriceMax + 1}[g.r.IntN(3)]
		}
	case 3:
		c.Kind = CmdMassCancel
		c.Account = AccountID(g.r.IntN(7))
		if g.r.IntN(2) == 0 {
			c.Symbol = g.symbol()
		}
	case 4:
		c.Kind = CmdHalt
		c.Symbol = g.symbol()
	case 5:
		c.Kind = CmdResume
		c.Symbol = g.symbol()
	case 6:
		c.Kind = CmdExpire
		if g.r.IntN(2) == 0 {
			c.Symbol = g.symbol()
		}
	case 7:
		c.Kind = CmdAdmin
		c.Account = AccountID(g.r.IntN(7))
	case 9:
		c.Kind = CmdPhase
		c.Symbol = g.symbol()
		if g.r.IntN(10) == 0 {
			c.Symbol = 0
		}
		// Mostly back to continuous trading, so that calls stay short.
		ps := []Phase{PhaseContinuous, PhaseContinuous, PhaseContinuous, PhaseContinuous, PhasePreOpen, PhasePreOpen,
			PhaseClosingCall, PhaseClosingCall, PhaseVolatilityAuction, PhaseOpeningAuction, PhaseClosingAuction,
			PhasePostClose, PhaseClosed, PhaseHalted, 200}
		c.Phase = ps[g.r.IntN(len(ps))]
	case 10:
		c.Kind = CmdExpireGTD
		if g.r.IntN(2) == 0 {
			c.Symbol = g.symbol()
		}
	default:
		c.Kind = CommandKind(g.r.IntN(256))
		c.Side, c.Type, c.TIF, c.STP = Side(g.r.IntN(4)), OrderType(g.r.IntN(4)), TimeInForce(g.r.IntN(6)), STPMode(g.r.IntN(6))
		c.Symbol, c.Account, c.OrderID = g.symbol(), AccountID(g.r.IntN(7)), OrderID(g.r.IntN(int(g.nextID)+1))
		c.Price, c.Qty = g.r.Int64N(2000)-10, g.r.Int64N(30)-5
	}
	return c
}

func (g *cmdGen) newOrder(c *Command) {
	c.Kind = CmdNew
	c.OrderID = g.nextID
	g.nextID++
	switch g.r.IntN(100) {
	case 0:
		c.OrderID = 0
	case 1, 2:
		if o := g.live(); o != nil {
			c.OrderID = o.id
		}
	}
	c.Symbol = g.symbol()
	c.Account = AccountID(1 + g.r.IntN(6))
	if g.r.IntN(4) == 0 {
		c.STPGroup = uint32(1 + g.r.IntN(2))
	}
	c.Side = Side(1 + g.r.IntN(2))
	c.Type = Limit
	switch g.r.IntN(40) {
	case 0, 1, 2, 3, 4:
		c.Type = Market
	case 5, 6:
		c.Type = Stop
	case 7, 8:
		c.Type = StopLimit
	}
	c.TIF = []TimeInForce{GTC, GTC, GTC, Day, Day, IOC, FOK, GTD, AtOpen, AtClose}[g.r.IntN(10)]
	if c.TIF == GTD {
		c.ExpireNs = c.TimeNs + 1000*int64(1+g.r.IntN(400))
	}
	if g.r.IntN(2) == 0 {
		c.STP = STPMode(1 + g.r.IntN(4))
	}
	c.PostOnly = g.r.IntN(12) == 0
	s := int(c.Symbol) % len(g.mid)
	g.mid[s] += int64(g.r.IntN(3)) - 1
	g.mid[s] = min(max(g.mid[s], 20), 5000)
	off := 1 + int64(g.r.IntN(25))
	if g.r.IntN(8) == 0 {
		off = -int64(g.r.IntN(6)) // aggressive
	}
	if c.Side == Buy {
		c.Price = g.mid[s] - off
	} else {
		c.Price = g.mid[s] + off
	}
	if c.Type == Market {
		c.Price = 0
		if g.r.IntN(2) == 0 {
			c.Price = g.mid[s] + int64(g.r.IntN(13)) - 6
		}
	}
	c.Qty = 1 + g.r.Int64N(20)
	if g.r.IntN(50) == 0 {
		c.Qty = 100 + g.r.Int64N(200)
	}
	if c.Type == Stop || c.Type == StopLimit {
		c.StopPrice = max(1, g.mid[s]+int64(g.r.IntN(13))-6)
		c.PostOnly = false
	}
	if c.Type == Limit && g.r.IntN(8) == 0 {
		c.Display = 1 + g.r.Int64N(c.Qty)
	}
	if g.r.IntN(20) == 0 {
		if g.r.IntN(2) == 0 {
			// A fat finger: far from the touch, into the bands.
			c.Price += []int64{-300, 300}[c.Side-1] * int64(1+g.r.IntN(3)) / 3 * -1
			c.Price = max(c.Price, 1)
		}
	}
	if g.r.IntN(100) == 0 {
		switch g.r.IntN(7) {
		case 0:
			c.Qty = []int64{0, -1, QtyMax + 1, QtyMax}[g.r.IntN(4)]
		case 1:
			c.Price = []int64{0, -1, PriceMax + 1, PriceMax}[g.r.IntN(4)]
		case 2:
			c.Side = Side(g.r.IntN(4))
		case 3:
			c.Type = OrderType(g.r.IntN(4))
		case 4:
			c.TIF = TimeInForce(g.r.IntN(6))
		case 5:
			c.STP = STPMode(g.r.IntN(7))
		case 6:
			c.PostOnly = true
		}
	}
	if g.r.IntN(200) == 0 {
		switch g.r.IntN(3) {
		case 0:
			c.StopPrice = []int64{-1, 5, PriceMax + 1}[g.r.IntN(3)]
		case 1:
			c.Display = []int64{-1, c.Qty, 1}[g.r.IntN(3)]
		case 2:
			c.ExpireNs = []int64{0, c.TimeNs, 5}[g.r.IntN(3)]
		}
	}
}

// target points c at a live order most of the time, with the right owner
// most of the time.
func (g *cmdGen) target(c *Command) {
	o := g.live()
	if o == nil || g.r.IntN(20) == 0 {
		c.OrderID = OrderID(g.r.IntN(int(g.nextID) + 1))
		c.Symbol = g.symbol()
		c.Account = AccountID(g.r.IntN(7))
		return
	}
	c.OrderID, c.Symbol, c.Account = o.id, o.symbol, o.account
	switch g.r.IntN(20) {
	case 0:
		c.Account = 0
	case 1:
		c.Account = AccountID(g.r.IntN(7))
	case 2:
		c.Symbol = g.symbol()
	case 3:
		c.Side = o.side
	case 4:
		c.Side = Side(g.r.IntN(4))
	}
}

// ledger follows open orders through the event stream alone and checks that
// every event's remaining quantities follow from the ones before it: the
// quantity an order is accepted or replaced with is exactly what trades,
// cancellations and what is left account for.
type ledger struct {
	leaves map[OrderID]int64
	sum    int64
}

func (l *ledger) set(id OrderID, v int64) {
	l.sum += v - l.leaves[id]
	if v == 0 {
		delete(l.leaves, id)
	} else {
		l.leaves[id] = v
	}
}

func (l *ledger) take(id OrderID, q, want int64) error {
	have, ok := l.leaves[id]
	if !ok || q <= 0 || have-q != want {
		return fmt.Errorf("order %d: %d open (known %v), loses %d, event says %d remain", id, have, ok, q, want)
	}
	l.set(id, want)
	return nil
}

func (l *ledger) apply(evs []Event) error {
	for i := range evs {
		ev := &evs[i]
		var err error
		switch ev.Kind {
		case EvAccepted:
			if _, ok := l.leaves[ev.OrderID]; ok || ev.Leaves != ev.Qty {
				return fmt.Errorf("bad accept %+v", ev)
			}
			l.set(ev.OrderID, ev.Leaves)
		case EvReplaced:
			if _, ok := l.leaves[ev.OrderID]; !ok || ev.Leaves <= 0 || ev.Leaves > ev.Qty {
				return fmt.Errorf("bad replace %+v", ev)
			}
			l.set(ev.OrderID, ev.Leaves)
		case EvTrade:
			if err = l.take(ev.OrderID, ev.Qty, ev.Leaves); err == nil {
				err = l.take(ev.MakerOrderID, ev.Qty, ev.MakerLeaves)
			}
		case EvCancelled:
			err = l.take(ev.OrderID, ev.Qty, ev.Leaves)
		case EvAdded:
			if l.leaves[ev.OrderID] != ev.Leaves {
				err = fmt.Errorf("added with %d, ledger has %d", ev.Leaves, l.leaves[ev.OrderID])
			}
		}
		if err != nil {
			return fmt.Errorf("event %+v: %w", ev, err)
		}
	}
	return nil
}

// bookTotal is the sum of every open order's leaves, on the book or held.
func bookTotal(e *Engine) int64 {
	var n int64
	for s := 1; s <= e.Symbols(); s++ {
		for _, side := range []Side{Buy, Sell} {
			e.Orders(SymbolID(s), side, func(o OrderInfo) bool { n += o.Leaves; return true })
			e.Stops(SymbolID(s), side, func(o OrderInfo) bool { n += o.Leaves; return true })
		}
	}
	return n
}

// sameState compares the engine's open orders with the model's.
func sameState(e *Engine, m *refModel) error {
	var got []OrderInfo
	for s := 1; s <= e.Symbols(); s++ {
		for _, side := range []Side{Buy, Sell} {
			e.Orders(SymbolID(s), side, func(o OrderInfo) bool { got = append(got, o); return true })
		}
		for _, side := range []Side{Buy, Sell} {
			e.Stops(SymbolID(s), side, func(o OrderInfo) bool { got = append(got, o); return true })
		}
	}
	var want []OrderInfo
	for _, o := range m.sorted() {
		want = append(want, OrderInfo{ID: o.id, Account: o.account, STPGroup: o.group, Symbol: o.symbol, Side: o.side, TIF: o.tif,
			STP: o.stp, PostOnly: o.postOnly, Price: o.price, Qty: o.qty, Filled: o.filled, Leaves: o.leaves,
			Type: o.typ, StopPrice: o.stopPx, Display: o.peak, Shown: o.visible(), ExpireNs: o.expireNs})
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("open orders differ:\nengine %+v\nmodel  %+v", got, want)
	}
	for s := 1; s <= e.Symbols(); s++ {
		if e.Halted(SymbolID(s)) != m.halted[s] {
			return fmt.Errorf("symbol %d halted %v, model %v", s, e.Halted(SymbolID(s)), m.halted[s])
		}
		if p := e.Phase(SymbolID(s)); !m.halted[s] && p != m.phase[s] {
			return fmt.Errorf("symbol %d phase %d, model %d", s, p, m.phase[s])
		}
		last, ref := e.LastPrice(SymbolID(s))
		p, q, imb, side := e.Indicative(SymbolID(s))
		if last != m.last[s] || ref != m.ref[s] || (indicative{p, q, imb, side}) != m.ind[s] {
			return fmt.Errorf("symbol %d last %d ref %d indicative %d %d %d %d, model %d %d %+v", s, last, ref, p, q, imb, side, m.last[s], m.ref[s], m.ind[s])
		}
	}
	return nil
}

// TestDifferential drives the engine and the reference model with the same
// random commands and requires identical event streams, with the engine's
// invariants and the event ledger checked after every command.
func TestDifferential(t *testing.T) {
	n := 100_000
	if testing.Short() || raceEnabled {
		n = 25_000
	}
	// Each seed keeps a different number of empty levels around, from
	// evicting almost at once to the default.
	for seed, emptyMax := range map[uint64]int{1: 1, 2: 16, 3: 200, 4: 0} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			runDifferential(t, seed, n, emptyMax)
		})
	}
}

func runDifferential(t *testing.T, seed uint64, n, emptyMax int) {
	bands := []Bands{{StaticBps: 1500, DynamicBps: 100}, {}, {StaticBps: 300}}
	ref := newRefModel(3, bands...)
	gen := newCmdGen(seed, ref)
	e := New(Config{Symbols: 3, OrdersHint: 64, Bands: bands})
	if emptyMax > 0 {
		e.emptyMax = emptyMax
	}
	led := ledger{leaves: map[OrderID]int64{}}
	var out []Event
	kinds := map[EventKind]int{}
	maxOpen := 0
	for i := 0; i < n; i++ {
		c := gen.next()
		want := ref.apply(c)
		out = e.Apply(&c, out[:0])
		if !slices.Equal(out, want) {
			t.Fatalf("command %d %+v:\nengine:%s\nmodel:%s", i, c, fmtEvents(out), fmtEvents(want))
		}
		if err := led.apply(out); err != nil {
			t.Fatalf("command %d %+v: %v", i, c, err)
		}
		checkInvariants(t, e)
		if len(led.leaves) != e.OpenOrders() || led.sum != bookTotal(e) {
			t.Fatalf("command %d: ledger has %d orders / %d lots, engine %d / %d", i, len(led.leaves), led.sum, e.OpenOrders(), bookTotal(e))
		}
		if i%97 == 0 {
			if err := sameState(e, ref); err != nil {
				t.Fatalf("command %d: %v", i, err)
			}
		}
		for _, ev := range out {
			kinds[ev.Kind]++
			if ev.Kind == EvCancelled || ev.Kind == EvRejected {
				kinds[EventKind(100+ev.Reason)]++
			}
			if ev.Kind == EvTrade && ev.Flags == FlagAuction {
				kinds[99]++
			}
			if ev.Kind == EvPhase && ev.Cmd != CmdPhase {
				kinds[98]++ // a volatility interruption
			}
		}
		maxOpen = max(maxOpen, e.OpenOrders())
	}
	if err := sameState(e, ref); err != nil {
		t.Fatal(err)
	}
	// The stream must exercise the rules, or agreeing proves little.
	want := []EventKind{EvAccepted, EvRejected, EvTrade, EvAdded, EvCancelled, EvReplaced, EvHalted, EvResumed, EvMassCancelled}
	want = append(want, EvPhase, EvIndicative, EvUncross, EvTriggered, EvRefilled, EvStopAdded)
	for _, r := range []Reason{ReasonSelfTrade, ReasonFOKUnfilled, ReasonMarketNoLiquidity, ReasonIOCRemainder, ReasonExpired,
		ReasonReplacedToFilled, ReasonPostOnlyWouldTrade, ReasonHalted, ReasonDuplicateOrderID, ReasonWrongAccount, ReasonMassCancel,
		ReasonPhase, ReasonAuctionRemainder, ReasonInvalidStopPrice, ReasonInvalidDisplay, ReasonInvalidExpiry} {
		want = append(want, EventKind(100+r))
	}
	want = append(want, 98, 99)
	for _, k := range want {
		if kinds[k] == 0 {
			t.Errorf("stream never produced event/reason %d", k)
		}
	}
	t.Logf("%d commands, %d events, up to %d open orders, counts %v", n, e.OutSeq(), maxOpen, kinds)
}
