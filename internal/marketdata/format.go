package marketdata

import (
	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/internal/units"
)

// scale turns an int64 count of ticks or lots into its decimal value
// (count × unit) as text, with the unit's fraction digits ("100.50"), through
// internal/units, the exchange's one fixed-point conversion.
type scale struct {
	u      units.Unit
	digits int // fraction digits printed: the unit's
}

func newScale(unit decimal.Decimal) scale {
	u := units.New(unit, "unit")
	return scale{u: u, digits: int(u.Digits())}
}

// appendValue appends n × unit as a plain decimal string ("100.50"); it does
// not allocate.
func (s *scale) appendValue(b []byte, n int64) []byte { return s.u.AppendFixed(b, n) }

func (s *scale) string(n int64) string { return string(s.appendValue(nil, n)) }

// decimal returns n × unit as a decimal (allocates; for FIX and CSV edges).
func (s *scale) decimal(n int64) decimal.Decimal { return s.u.Decimal(n) }

// vwap returns notional/volume × unit rounded to four more digits than the
// tick, printed with at least the tick's digits ("100.00", "100.066667");
// "" when volume is 0.
func (s *scale) vwap(notional, volume int64) string {
	if volume == 0 {
		return ""
	}
	v := s.u.Decimal(notional).
		DivRound(decimal.NewFromInt(volume), int32(s.digits+4)).StringFixed(int32(s.digits + 4))
	// Keep at least the tick's digits, drop trailing zeros beyond them.
	keep := len(v) - 4
	if s.digits == 0 {
		keep-- // and the point
	}
	for len(v) > keep && (v[len(v)-1] == '0' || v[len(v)-1] == '.') {
		v = v[:len(v)-1]
	}
	return v
}
