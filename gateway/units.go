package gateway

import (
	"math"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/internal/config"
)

// unitConv converts between FIX decimal text and int64 units (ticks or lots)
// of one size, mant × 10^-scale, with int64 arithmetic only. It is the fast
// path of config.Symbol's PriceToTicks/QtyToLots and TicksToPrice/LotsToQty:
// whenever it cannot answer exactly (overflow, a value that is not a whole
// number of units, an unusual size) it says so and the caller takes the
// decimal path, which has the final word and the error texts.
type unitConv struct {
	mant  int64
	scale int32
	ok    bool
}

// unitsMax is config's bound on converted prices and quantities (2^50).
const unitsMax = int64(1) << 50

func newUnitConv(d decimal.Decimal) unitConv {
	c, exp := d.Coefficient(), d.Exponent()
	if !c.IsInt64() || c.Int64() <= 0 || exp < -18 || exp > 18 {
		return unitConv{}
	}
	m := c.Int64()
	if exp >= 0 {
		m, ok := mulPow10(m, exp)
		return unitConv{mant: m, ok: ok}
	}
	return unitConv{mant: m, scale: -exp, ok: true}
}

// symUnits are the converters of one symbol.
type symUnits struct{ tick, lot unitConv }

// symbolUnits builds the converters of every symbol, indexed by SymbolID-1.
func symbolUnits(cfg *config.Config) []symUnits {
	out := make([]symUnits, len(cfg.Symbols))
	for i := range cfg.Symbols {
		out[i] = symUnits{tick: newUnitConv(cfg.Symbols[i].TickSize), lot: newUnitConv(cfg.Symbols[i].LotSize)}
	}
	return out
}

var pow10 = [19]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

func mulPow10(v int64, n int32) (int64, bool) {
	if n < 0 || n > 18 {
		return 0, false
	}
	p := pow10[n]
	if v > math.MaxInt64/p || v < math.MinInt64/p {
		return 0, false
	}
	return v * p, true
}

// parseFixed reads FIX float text (already checked by isFIXFloat) as
// m × 10^-scale; ok is false beyond 18 significant digits.
func parseFixed(v []byte) (m int64, scale int32, ok bool) {
	neg := false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg = v[0] == '-'
		v = v[1:]
	}
	digits, point := 0, false
	for _, c := range v {
		if c == '.' {
			point = true
			continue
		}
		if digits == 0 && c == '0' {
			if point {
				scale++
			}
			continue
		}
		digits++
		if digits > 18 {
			return 0, 0, false
		}
		m = m*10 + int64(c-'0')
		if point {
			scale++
		}
	}
	if neg {
		m = -m
	}
	return m, scale, true
}

// toUnits returns the whole number of units in v, or ok false when the fast
// path cannot say (then use the decimal path).
func (u unitConv) toUnits(v []byte) (int64, bool) {
	if !u.ok {
		return 0, false
	}
	m, s, ok := parseFixed(v)
	if !ok || m <= 0 {
		return 0, false
	}
	num, den := m, u.mant
	if d := u.scale - s; d >= 0 {
		if num, ok = mulPow10(num, d); !ok {
			return 0, false
		}
	} else if den, ok = mulPow10(den, -d); !ok {
		return 0, false
	}
	if num%den != 0 {
		return 0, false
	}
	q := num / den
	if q > unitsMax {
		return 0, false
	}
	return q, true
}

// appendText appends units × size as decimal text with trailing zeros
// trimmed; ok is false on overflow.
func (u unitConv) appendText(dst []byte, units int64) ([]byte, bool) {
	if !u.ok || (units != 0 && (units > math.MaxInt64/u.mant || units < math.MinInt64/u.mant)) {
		return dst, false
	}
	return appendScaled(dst, units*u.mant, u.scale), true
}

// appendScaled appends n × 10^-scale as decimal text, trailing zeros trimmed.
func appendScaled(dst []byte, n int64, scale int32) []byte {
	if n < 0 {
		if n == math.MinInt64 {
			return append(dst, decimal.New(n, -scale).String()...)
		}
		dst = append(dst, '-')
		n = -n
	}
	start := len(dst)
	dst = strconv.AppendInt(dst, n, 10)
	if scale <= 0 || n == 0 {
		return dst
	}
	digits := dst[start:]
	for int32(len(digits)) <= scale { // pad to at least one digit before the point
		dst = append(dst, 0)
		copy(dst[start+1:], dst[start:len(dst)-1])
		dst[start] = '0'
		digits = dst[start:]
	}
	point := start + len(digits) - int(scale)
	end := len(dst)
	for end > point && dst[end-1] == '0' {
		end--
	}
	if end == point {
		return dst[:point]
	}
	dst = append(dst[:end], 0)
	copy(dst[point+1:], dst[point:end])
	dst[point] = '.'
	return dst
}
