package gateway

import (
	"github.com/exchange-sim/exchange/internal/units"
)

// symUnits are the converters of one symbol (internal/units: the int64 fast
// path, with refdata.Symbol's decimal path as the final word).
type symUnits struct{ tick, lot units.Unit }

// symbolUnits builds the converters of every symbol, indexed by SymbolID-1.
func symbolUnits(cfg *venueConfig) []symUnits {
	out := make([]symUnits, len(cfg.Symbols))
	for i := range cfg.Symbols {
		out[i] = symUnits{tick: units.New(cfg.Symbols[i].TickSize, "tick size"), lot: units.New(cfg.Symbols[i].LotSize, "lot size")}
	}
	return out
}
