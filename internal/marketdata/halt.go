package marketdata

import "github.com/exchange-sim/exchange/matching"

// SetHaltReason records why sym is halted (an operator's reason; "" clears
// it). The statistics carry it as halt_reason while the symbol is halted, so
// the web page shows it; subscribers get the change at once.
func (p *Publisher) SetHaltReason(sym matching.SymbolID, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.sym(sym); s != nil && s.stats.HaltReason != reason {
		s.stats.HaltReason = reason
		s.haltChanged = true
		p.markDirty(s)
		p.flush()
	}
}
