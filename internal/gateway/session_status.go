package gateway

import (
	"sync"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/fixsession/tag"
	"github.com/exchange-sim/exchange/matching"
)

// TradingSessionStatus (35=h) tells every session each symbol's phase: one
// message per symbol, TradingSessionID (336) the symbol's name,
// TradSesStatus (340) the FIX status of the phase, TradingSessionSubID (625)
// and Text (58) the phase by name. It goes to every logged-on session on
// each phase change, halt and resume, and answers a
// TradingSessionStatusRequest (35=g) with every symbol (or the one named in
// TradingSessionID).

// tradingStatus holds each symbol's last known phase.
type tradingStatus struct {
	mu     sync.Mutex
	phases map[matching.SymbolID]matching.Phase
}

// SetPhase records symbol sym's phase (matching.PhaseHalted while halted)
// and tells every logged-on session. Market data calls it for each phase
// event, outside its own lock.
func (g *Gateway) SetPhase(sym matching.SymbolID, p matching.Phase) {
	g.status.mu.Lock()
	if g.status.phases == nil {
		g.status.phases = make(map[matching.SymbolID]matching.Phase)
	}
	old, known := g.status.phases[sym]
	g.status.phases[sym] = p
	g.status.mu.Unlock()
	if known && old == p {
		return
	}
	var b fixBody
	g.sessionStatus(&b, sym, p)
	for _, st := range g.sessions {
		if fs := st.fs.Load(); fs != nil {
			_ = fs.SendBody("h", b.b)
		}
	}
}

func (g *Gateway) phaseOf(sym matching.SymbolID) matching.Phase {
	g.status.mu.Lock()
	defer g.status.mu.Unlock()
	return g.status.phases[sym]
}

// answerSessionStatus answers a TradingSessionStatusRequest.
func (g *Gateway) answerSessionStatus(m *fixsession.Message, fs *fixsession.Session) {
	want := ""
	for _, f := range m.Fields {
		if f.Tag == tag.TradingSessionID {
			want = string(f.Val)
		}
	}
	all := g.cfg.AllSymbols()
	var b fixBody
	for i := range all {
		sym := &all[i]
		if want == "" || want == sym.Name {
			b.reset()
			g.sessionStatus(&b, sym.ID, g.phaseOf(sym.ID))
			_ = fs.SendBody("h", b.b)
		}
	}
}

// sessionStatus appends the body of symbol sym's TradingSessionStatus (h)
// in phase p to b, its fields in tag order.
func (g *Gateway) sessionStatus(b *fixBody, sym matching.SymbolID, p matching.Phase) {
	name := "NONE"
	if s, ok := g.cfg.Symbol(sym); ok {
		name = s.Name
	}
	b.SetString(tag.Text, p.String())
	b.SetString(tag.TradingSessionID, name)
	b.SetInt(tag.TradSesStatus, tradSesStatus(p))
	b.SetString(tag.TradingSessionSubID, p.String())
}

// tradSesStatus is FIX TradSesStatus (340): 1 halted, 2 open, 3 closed,
// 4 pre-open, 5 pre-close.
func tradSesStatus(p matching.Phase) int {
	switch p {
	case matching.PhaseContinuous:
		return 2
	case matching.PhaseHalted, matching.PhaseVolatilityAuction:
		return 1
	case matching.PhasePreOpen, matching.PhaseOpeningAuction:
		return 4
	case matching.PhaseClosingCall, matching.PhaseClosingAuction:
		return 5
	}
	return 3
}
