package marketdata

import (
	"math"
	"strconv"

	"github.com/shopspring/decimal"
)

// scale turns an int64 count of ticks or lots into its decimal value
// (count × unit) as text without allocating: unit = coef × 10^exp.
type scale struct {
	unit   decimal.Decimal
	coef   int64
	exp    int32
	digits int // fraction digits printed: max(0, -exp)
}

func newScale(unit decimal.Decimal) scale {
	s := scale{unit: unit, coef: 1}
	if unit.Sign() <= 0 || !unit.Coefficient().IsInt64() {
		return s // caller validated; keep something harmless
	}
	coef, exp := unit.Coefficient().Int64(), unit.Exponent()
	for exp < 0 && coef%10 == 0 {
		coef /= 10
		exp++
	}
	s.coef, s.exp = coef, exp
	if exp < 0 {
		s.digits = int(-exp)
	}
	return s
}

// appendValue appends n × unit as a plain decimal string ("100.50").
func (s *scale) appendValue(b []byte, n int64) []byte {
	if s.exp > 0 || s.digits > 18 || (n != 0 && (n > math.MaxInt64/s.coef || n < -math.MaxInt64/s.coef)) {
		return append(b, s.decimal(n).StringFixed(int32(s.digits))...)
	}
	v := n * s.coef
	if s.digits == 0 {
		return strconv.AppendInt(b, v, 10)
	}
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var tmp [24]byte
	d := strconv.AppendInt(tmp[:0], v, 10)
	for len(d) <= s.digits { // pad to at least "0.xx"
		d = append(d, 0)
		copy(d[1:], d)
		d[0] = '0'
	}
	cut := len(d) - s.digits
	b = append(b, d[:cut]...)
	b = append(b, '.')
	return append(b, d[cut:]...)
}

func (s *scale) string(n int64) string { return string(s.appendValue(nil, n)) }

// decimal returns n × unit as a decimal (allocates; for FIX and CSV edges).
func (s *scale) decimal(n int64) decimal.Decimal {
	return decimal.NewFromInt(n).Mul(s.unit)
}

// vwap returns notional/volume × unit rounded to four more digits than the
// tick, printed with at least the tick's digits ("100.00", "100.066667");
// "" when volume is 0.
func (s *scale) vwap(notional, volume int64) string {
	if volume == 0 {
		return ""
	}
	v := decimal.NewFromInt(notional).Mul(s.unit).
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
