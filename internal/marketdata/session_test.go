package marketdata

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/exchange-sim/exchange/matching"
	"github.com/shopspring/decimal"
)

// testSymbols are three symbols with different tick and lot sizes.
func testSymbols() []SymbolInfo {
	return []SymbolInfo{
		{ID: 1, Name: "AAPL", TickSize: decimal.RequireFromString("0.01"), LotSize: decimal.RequireFromString("1")},
		{ID: 2, Name: "MSFT", TickSize: decimal.RequireFromString("0.05"), LotSize: decimal.RequireFromString("10")},
		{ID: 3, Name: "BTC-USD", TickSize: decimal.RequireFromString("0.5"), LotSize: decimal.RequireFromString("0.001")},
	}
}

func newTestPublisher(t testing.TB, cfg Config) *Publisher {
	t.Helper()
	if cfg.Symbols == nil {
		cfg.Symbols = testSymbols()
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// session drives the real engine with random commands: limit, market, IOC,
// FOK, post-only and Day orders with every STP mode, cancels, replaces, mass
// cancels, halts and expiries, around a price that drifts.
type session struct {
	rng     *rand.Rand
	eng     *matching.Engine
	nextID  matching.OrderID
	seq     uint64
	timeNs  int64
	mid     [8]int64
	live    []matching.OrderID
	out     []matching.Event
	symbols int
	noHalt  bool // leave out halts (for a lively demo)
}

func newSession(seed uint64, symbols int) *session {
	s := &session{
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		eng:     matching.New(matching.Config{Symbols: symbols, OrdersHint: 1024}),
		timeNs:  1_700_000_000_000_000_000,
		symbols: symbols,
	}
	for i := range s.mid {
		s.mid[i] = 10000
	}
	return s
}

// next applies one random command and returns its events (valid until the
// next call).
func (s *session) next() []matching.Event {
	r := s.rng
	s.seq++
	s.timeNs += int64(r.IntN(300_000_000)) // up to 0.3 s between commands
	sym := matching.SymbolID(1 + r.IntN(s.symbols))
	c := matching.Command{Seq: s.seq, TimeNs: s.timeNs, Symbol: sym, Account: matching.AccountID(1 + r.IntN(5))}
	s.mid[sym] += int64(r.IntN(5)) - 2
	if s.mid[sym] < 100 {
		s.mid[sym] = 100
	}
	switch k := r.IntN(100); {
	case k < 60 || len(s.live) == 0:
		s.nextID++
		c.Kind, c.OrderID, c.Type, c.TIF = matching.CmdNew, s.nextID, matching.Limit, matching.GTC
		c.Side = matching.Side(1 + r.IntN(2))
		off := int64(r.IntN(12)) - 3
		if c.Side == matching.Buy {
			c.Price = s.mid[sym] - off
		} else {
			c.Price = s.mid[sym] + off
		}
		c.Qty = int64(1 + r.IntN(20))
		switch r.IntN(12) {
		case 0:
			c.Type, c.Price = matching.Market, 0
			c.TIF = matching.IOC
		case 1:
			c.TIF = matching.IOC
		case 2:
			c.TIF = matching.FOK
		case 3:
			c.TIF = matching.Day
		case 4:
			c.PostOnly = true
		}
		c.STP = matching.STPMode(r.IntN(5))
		s.live = append(s.live, c.OrderID)
	case k < 80:
		i := r.IntN(len(s.live))
		c.Kind, c.OrderID = matching.CmdCancel, s.live[i]
		s.live[i] = s.live[len(s.live)-1]
		s.live = s.live[:len(s.live)-1]
		s.fixSymbol(&c)
	case k < 95:
		c.Kind, c.OrderID = matching.CmdReplace, s.live[r.IntN(len(s.live))]
		s.fixSymbol(&c)
		c.Price = s.mid[c.Symbol] + int64(r.IntN(9)) - 4
		c.Qty = int64(1 + r.IntN(25))
	case k < 97:
		c.Kind = matching.CmdMassCancel
		if r.IntN(2) == 0 {
			c.Symbol = 0
		}
	case k < 98 && s.noHalt:
		c.Kind = matching.CmdExpire
	case k < 98:
		c.Kind = matching.CmdHalt
		if r.IntN(2) == 0 {
			c.Kind = matching.CmdResume
		}
	default:
		c.Kind = matching.CmdExpire
	}
	s.out = s.eng.Apply(&c, s.out[:0])
	return s.out
}

// fixSymbol gives a cancel or replace the order's own symbol and account
// when the engine still knows the order.
func (s *session) fixSymbol(c *matching.Command) {
	if o, ok := s.eng.Order(c.OrderID); ok {
		c.Symbol, c.Account = o.Symbol, o.Account
	}
}

func mustDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// gate holds the goroutines that pass it while it is shut (a test hook's
// stall); open releases them.
type gate struct {
	mu sync.Mutex
	ch chan struct{} // nil while open
}

func (g *gate) shut() {
	g.mu.Lock()
	g.ch = make(chan struct{})
	g.mu.Unlock()
}

func (g *gate) open() {
	g.mu.Lock()
	close(g.ch)
	g.ch = nil
	g.mu.Unlock()
}

// pass returns at once while the gate is open, else once it opens.
func (g *gate) pass() {
	g.mu.Lock()
	ch := g.ch
	g.mu.Unlock()
	if ch != nil {
		<-ch
	}
}
