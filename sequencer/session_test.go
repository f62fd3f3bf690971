package sequencer

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/exchange-sim/exchange/matching"
)

// session generates a random but reproducible trading session: new orders
// (limit, market, IOC, FOK, post-only) around a mid price, cancels and
// replaces of earlier orders, and now and then a mass cancel, halt or expiry.
type session struct {
	rng     *rand.Rand
	symbols int
	nextID  matching.OrderID
	live    []sessionOrder
}

type sessionOrder struct {
	id      matching.OrderID
	symbol  matching.SymbolID
	account matching.AccountID
}

func newSession(seed uint64, symbols int) *session {
	return &session{rng: rand.New(rand.NewPCG(seed, 7)), symbols: symbols, nextID: 1}
}

func (s *session) next() matching.Command {
	r := s.rng
	sym := matching.SymbolID(1 + r.IntN(s.symbols))
	acct := matching.AccountID(1 + r.IntN(20))
	switch p := r.IntN(100); {
	case p < 15 && len(s.live) > 0:
		i := r.IntN(len(s.live))
		o := s.live[i]
		s.live[i] = s.live[len(s.live)-1]
		s.live = s.live[:len(s.live)-1]
		return matching.Command{Kind: matching.CmdCancel, OrderID: o.id, Symbol: o.symbol, Account: o.account}
	case p < 25 && len(s.live) > 0:
		o := s.live[r.IntN(len(s.live))]
		return matching.Command{Kind: matching.CmdReplace, OrderID: o.id, Symbol: o.symbol, Account: o.account,
			Price: 1000 + int64(r.IntN(41)) - 20, Qty: 1 + int64(r.IntN(60))}
	case p < 26:
		return matching.Command{Kind: matching.CmdMassCancel, Account: acct, Symbol: sym}
	case p == 26:
		return matching.Command{Kind: matching.CmdHalt + matching.CommandKind(r.IntN(2)), Symbol: sym}
	case p == 27:
		return matching.Command{Kind: matching.CmdExpire, Symbol: sym}
	}
	c := matching.Command{Kind: matching.CmdNew, OrderID: s.nextID, Symbol: sym, Account: acct,
		Side: matching.Side(1 + r.IntN(2)), Type: matching.Limit, TIF: matching.GTC,
		Price: 1000 + int64(r.IntN(41)) - 20, Qty: 1 + int64(r.IntN(50))}
	s.nextID++
	switch q := r.IntN(20); q {
	case 0:
		c.Type, c.TIF, c.Price = matching.Market, matching.IOC, 0
	case 1:
		c.TIF = matching.IOC
	case 2:
		c.TIF = matching.FOK
	case 3:
		c.PostOnly = true
	case 4:
		c.TIF = matching.Day
	case 5:
		c.STP = matching.STPCancelOldest
	}
	if r.IntN(4) != 0 {
		s.live = append(s.live, sessionOrder{c.OrderID, c.Symbol, c.Account})
	}
	if len(s.live) > 4096 {
		s.live = s.live[1:]
	}
	return c
}

// engineStage is what the lead's engine goroutine does with sequenced
// commands: apply, hash the events, and checkpoint.
type engineStage struct {
	e    *matching.Engine
	h    matching.Hasher
	out  []matching.Event
	evts uint64
}

func newEngineStage(symbols int) *engineStage {
	return &engineStage{e: matching.New(matching.Config{Symbols: symbols, OrdersHint: 1 << 16}),
		h: matching.NewHasher(), out: make([]matching.Event, 0, 1024)}
}

func (st *engineStage) apply(c *matching.Command) {
	st.out = st.e.Apply(c, st.out[:0])
	for i := range st.out {
		st.h.Add(&st.out[i])
	}
	st.evts += uint64(len(st.out))
}

// snapshotBody is what the test stores in a snapshot: the running event hash
// and the engine's own snapshot.
func (st *engineStage) snapshotBody() []byte {
	b := binary.LittleEndian.AppendUint64(nil, st.h.Sum())
	return st.e.AppendSnapshot(b)
}

func restoreEngineStage(body []byte) (*engineStage, error) {
	e, err := matching.Restore(body[8:])
	if err != nil {
		return nil, err
	}
	st := &engineStage{e: e, h: matching.NewHasher(), out: make([]matching.Event, 0, 1024)}
	st.h.SetSum(binary.LittleEndian.Uint64(body))
	return st, nil
}
