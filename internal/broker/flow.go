package broker

import (
	"io"
	"math/rand/v2"
	"strconv"

	"github.com/shopspring/decimal"
)

// flowModel is the seeded order-flow model. It is an OrderSource whose sequence
// is a pure function of the seed, the sessions, the symbols and the mix: it
// never looks at the exchange's answers, so two runs with the same seed send
// the same requests in the same order. Cancels and replaces target orders the
// model itself believes live (plain limit orders it sent and has not
// cancelled); the runner skips those the exchange has since reported done.
//
// Next costs a few random draws and two decimal multiplications.
type flowModel struct {
	rng      *rand.Rand
	mix      Mix
	cum      [6]float64 // cumulative normalised mix weights
	sessions []string
	symbols  []flowSymbol
	live     []liveOrder
	n        int // intents produced
	count    int // 0: unlimited
}

type flowSymbol struct {
	Symbol
	midTicks int64
}

type liveOrder struct {
	ref      string
	session  string
	symbol   int
	side     FIXSide
	qtyLots  int64
	priceTck int64
}

// newFlow builds the model for the given sessions (SenderCompIDs) and
// symbols; count > 0 makes Next return io.EOF after count intents.
func newFlow(seed int64, mix Mix, sessions []string, symbols []Symbol, count int) *flowModel {
	f := &flowModel{
		rng:      rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15^uint64(seed))),
		mix:      mix,
		sessions: sessions,
		count:    count,
	}
	w := [6]float64{mix.Limit, mix.Market, mix.IOC, mix.FOK, mix.Cancel, mix.Replace}
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	acc := 0.0
	for i, x := range w {
		acc += x / sum
		f.cum[i] = acc
	}
	f.cum[5] = 1
	for _, s := range symbols {
		f.symbols = append(f.symbols, flowSymbol{Symbol: s, midTicks: s.Price.Div(s.Tick).IntPart()})
	}
	return f
}

const (
	pickLimit = iota
	pickMarket
	pickIOC
	pickFOK
	pickCancel
	pickReplace
)

// Next returns the next intent of the flow.
func (f *flowModel) Next() (Intent, error) {
	if f.count > 0 && f.n >= f.count {
		return Intent{}, io.EOF
	}
	f.n++
	u := f.rng.Float64()
	pick := 0
	for pick < 5 && u >= f.cum[pick] {
		pick++
	}
	if (pick == pickCancel || pick == pickReplace) && len(f.live) == 0 {
		pick = pickLimit
	}
	switch pick {
	case pickCancel:
		i := f.rng.IntN(len(f.live))
		o := f.live[i]
		f.live[i] = f.live[len(f.live)-1]
		f.live = f.live[:len(f.live)-1]
		s := &f.symbols[o.symbol]
		return Intent{Session: o.session, Kind: KindCancel, Ref: o.ref, Symbol: s.Name, Side: o.side, Type: FIXLimit,
			Price: f.price(s, o.priceTck), Qty: f.qty(s, o.qtyLots)}, nil
	case pickReplace:
		o := &f.live[f.rng.IntN(len(f.live))]
		s := &f.symbols[o.symbol]
		f.walk(s)
		o.priceTck = f.limitTicks(s, o.side, f.rng.Float64() < f.mix.Aggressiveness)
		o.qtyLots = f.sizeLots()
		return Intent{Session: o.session, Kind: KindReplace, Ref: o.ref, Symbol: s.Name, Side: o.side, Type: FIXLimit,
			Price: f.price(s, o.priceTck), Qty: f.qty(s, o.qtyLots)}, nil
	}
	si := f.rng.IntN(len(f.symbols))
	s := &f.symbols[si]
	f.walk(s)
	in := Intent{
		Session: f.sessions[f.rng.IntN(len(f.sessions))],
		Kind:    KindNew,
		Ref:     "o" + strconv.Itoa(f.n),
		Symbol:  s.Name,
		Side:    FIXBuy,
		Type:    FIXLimit,
	}
	if f.rng.IntN(2) == 1 {
		in.Side = FIXSell
	}
	lots := f.sizeLots()
	in.Qty = f.qty(s, lots)
	if pick == pickMarket {
		in.Type, in.TIF = FIXMarket, FIXIOC
		return in, nil
	}
	aggressive := f.rng.Float64() < f.mix.Aggressiveness
	ticks := f.limitTicks(s, in.Side, aggressive)
	in.Price = f.price(s, ticks)
	switch pick {
	case pickIOC:
		in.TIF = FIXIOC
	case pickFOK:
		in.TIF = FIXFOK
	default:
		in.PostOnly = !aggressive && f.mix.PostOnly > 0 && f.rng.Float64() < f.mix.PostOnly
		if f.mix.LiveOrdersMax <= 0 || len(f.live) < f.mix.LiveOrdersMax {
			f.live = append(f.live, liveOrder{ref: in.Ref, session: in.Session, symbol: si, side: in.Side, qtyLots: lots, priceTck: ticks})
		}
	}
	return in, nil
}

// walk moves the symbol's mid by -1, 0 or +1 tick, never below 10 ticks.
func (f *flowModel) walk(s *flowSymbol) {
	s.midTicks += int64(f.rng.IntN(3)) - 1
	if s.midTicks < 10 {
		s.midTicks = 10
	}
}

// limitTicks prices an order: through the mid by 1..3 ticks when
// aggressive, otherwise 1..DepthTicks ticks behind it.
func (f *flowModel) limitTicks(s *flowSymbol, side FIXSide, aggressive bool) int64 {
	var off int64
	if aggressive {
		off = 1 + f.rng.Int64N(3)
	} else {
		off = -1 - f.rng.Int64N(f.mix.DepthTicks)
	}
	if side == FIXSell {
		off = -off
	}
	p := s.midTicks + off
	if p < 1 {
		p = 1
	}
	return p
}

func (f *flowModel) sizeLots() int64 {
	return f.mix.SizeMinLots + f.rng.Int64N(f.mix.SizeMaxLots-f.mix.SizeMinLots+1)
}

func (f *flowModel) price(s *flowSymbol, ticks int64) decimal.Decimal {
	return s.Tick.Mul(decimal.NewFromInt(ticks))
}

func (f *flowModel) qty(s *flowSymbol, lots int64) decimal.Decimal {
	return s.Lot.Mul(decimal.NewFromInt(lots))
}
