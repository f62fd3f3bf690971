// Package units is the exchange's one conversion between decimal text and the
// int64 units it computes in: ticks of a symbol's tick size, lots of its lot
// size, minor units of the quote currency. Every edge (configuration, FIX
// fields, JSON, CSV, the broker's orders) converts through it, so that a price
// is refused, printed and rounded by one set of rules.
//
// The rules: a value converts only if it is a whole, positive number of units
// no larger than Max; nothing is ever rounded. FromDecimal is the exact
// decimal path and has the final word and the error texts; a Unit adds an
// int64-only fast path (ParseFast, AppendFast) for the hot edges, which
// answers whenever it can answer exactly and otherwise says so.
//
// It lives under internal/ because it is a helper of this module's edges, not
// part of the exchange's API: the packages that expose prices expose them as
// ticks, lots and decimal.Decimal.
package units

import (
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/shopspring/decimal"
)

// Max bounds converted prices, quantities and amounts (2^50), well inside
// int64, so that products of a few of them can be checked for overflow
// cheaply.
const Max = int64(1) << 50

// FromDecimal returns v as a whole number of units of size unit (named
// unitName in errors, e.g. "tick size"). It refuses a value that is not
// positive, not a whole multiple of unit, or above Max.
func FromDecimal(v, unit decimal.Decimal, unitName string) (int64, error) {
	if !v.IsPositive() {
		return 0, fmt.Errorf("%s must be positive", v.String())
	}
	q := v.Div(unit)
	if !v.Equal(q.Truncate(0).Mul(unit)) || !q.Equal(q.Truncate(0)) {
		return 0, fmt.Errorf("%s is not a whole multiple of the %s %s", v.String(), unitName, unit.String())
	}
	if q.GreaterThan(decimal.NewFromInt(Max)) {
		return 0, fmt.Errorf("%s is too large", v.String())
	}
	return q.IntPart(), nil
}

// ToDecimal returns n units of size unit as a decimal (allocates).
func ToDecimal(n int64, unit decimal.Decimal) decimal.Decimal {
	return decimal.NewFromInt(n).Mul(unit)
}

// MinorFromDecimal returns an amount of money in minor units of a currency
// with the given number of decimal places, refusing fractions of a minor
// unit and amounts beyond ±Max. Unlike FromDecimal it accepts zero and
// negative amounts.
func MinorFromDecimal(v decimal.Decimal, places int32) (int64, error) {
	m := v.Shift(places)
	if !m.Equal(m.Truncate(0)) {
		return 0, fmt.Errorf("%s has more than %d decimal places", v.String(), places)
	}
	if m.Abs().GreaterThan(decimal.NewFromInt(Max)) {
		return 0, fmt.Errorf("%s is too large", v.String())
	}
	return m.IntPart(), nil
}

// MinorToDecimal returns m minor units as a decimal amount.
func MinorToDecimal(m int64, places int32) decimal.Decimal { return decimal.New(m, -places) }

// Unit is one size (a tick size, a lot size) prepared for int64 conversions:
// size = mant × 10^-scale. The zero Unit has no fast path: its ParseFast and
// AppendFast always say no, and Append and AppendFixed print plain integers.
type Unit struct {
	size  decimal.Decimal
	name  string
	mant  int64
	scale int32 // fraction digits of size as written, trailing zeros included
	fast  bool
	// coef × 10^exp is size with trailing zeros removed; digits is the
	// fraction digits AppendFixed prints: max(0, -exp).
	coef   int64
	exp    int32
	digits int32
}

// New prepares size (positive), named name in FromDecimal's errors.
func New(size decimal.Decimal, name string) Unit {
	u := Unit{size: size, name: name}
	if size.Sign() <= 0 {
		return u
	}
	// Fraction digits as people read the size: trailing zeros dropped.
	c, exp := size.Coefficient(), size.Exponent()
	ten, r := big.NewInt(10), new(big.Int)
	for exp < 0 {
		q, m := new(big.Int).QuoRem(c, ten, r)
		if m.Sign() != 0 {
			break
		}
		c, exp = q, exp+1
	}
	u.digits = max(0, -exp)
	if c.IsInt64() {
		u.coef, u.exp = c.Int64(), exp
	}
	c, exp = size.Coefficient(), size.Exponent()
	if !c.IsInt64() || exp < -18 || exp > 18 {
		return u
	}
	m := c.Int64()
	if exp >= 0 {
		var ok bool
		u.mant, ok = mulPow10(m, exp)
		u.fast = ok
		return u
	}
	u.mant, u.scale, u.fast = m, -exp, true
	return u
}

// Size is the unit's size.
func (u Unit) Size() decimal.Decimal { return u.size }

// Digits is the number of fraction digits of the size (0.01 → 2, 5 → 0).
func (u Unit) Digits() int32 { return u.digits }

// FromDecimal is FromDecimal with this unit's size and name.
func (u Unit) FromDecimal(v decimal.Decimal) (int64, error) { return FromDecimal(v, u.size, u.name) }

// Decimal returns n units as a decimal (allocates; for the rarer edges).
func (u Unit) Decimal(n int64) decimal.Decimal { return ToDecimal(n, u.size) }

// ParseFast converts decimal text (optional sign, digits, an optional point
// and digits) to a whole number of units with int64 arithmetic only. ok is
// false whenever it cannot answer exactly (not such text, more than 18
// significant digits, overflow, not a whole positive number of units, above
// Max): then FromDecimal has the final word and the error text. It does not
// allocate.
func (u Unit) ParseFast(text []byte) (n int64, ok bool) {
	if !u.fast {
		return 0, false
	}
	m, s, ok := parseFixed(text)
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
	if q > Max {
		return 0, false
	}
	return q, true
}

// AppendFast appends n units as decimal text in decimal.Decimal.String's form
// (no exponent, trailing fraction zeros trimmed: "100.5"); ok is false on
// overflow or without a fast path. It does not allocate.
func (u Unit) AppendFast(dst []byte, n int64) ([]byte, bool) {
	if !u.fast || (n != 0 && (n > math.MaxInt64/u.mant || n < math.MinInt64/u.mant)) {
		return dst, false
	}
	return AppendScaled(dst, n*u.mant, u.scale), true
}

// Append appends n units as AppendFast does, taking the decimal path when
// the fast one cannot answer.
func (u Unit) Append(dst []byte, n int64) []byte {
	if b, ok := u.AppendFast(dst, n); ok {
		return b
	}
	if u.size.Sign() <= 0 {
		return strconv.AppendInt(dst, n, 10)
	}
	return append(dst, u.Decimal(n).String()...)
}

// AppendFixed appends n units with exactly Digits() fraction digits
// ("100.50" for 10050 ticks of 0.01), as people read prices. It does not
// allocate unless the value is beyond int64's fast range.
func (u Unit) AppendFixed(dst []byte, n int64) []byte {
	if u.size.Sign() <= 0 {
		return strconv.AppendInt(dst, n, 10)
	}
	if u.coef == 0 || u.exp > 0 || u.digits > 18 || (n != 0 && (n > math.MaxInt64/u.coef || n < -math.MaxInt64/u.coef)) {
		return append(dst, u.Decimal(n).StringFixed(u.digits)...)
	}
	v := n * u.coef
	if u.digits == 0 {
		return strconv.AppendInt(dst, v, 10)
	}
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var tmp [24]byte
	d := strconv.AppendInt(tmp[:0], v, 10)
	for len(d) <= int(u.digits) { // pad to at least "0.xx"
		d = append(d, 0)
		copy(d[1:], d)
		d[0] = '0'
	}
	cut := len(d) - int(u.digits)
	dst = append(dst, d[:cut]...)
	dst = append(dst, '.')
	return append(dst, d[cut:]...)
}

// AppendScaled appends n × 10^-scale as decimal text, trailing fraction zeros
// trimmed (minor units of money: AppendScaled(dst, 1250, 2) is "12.5"). It
// does not allocate.
func AppendScaled(dst []byte, n int64, scale int32) []byte {
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
		if n != 0 {
			for range -scale {
				dst = append(dst, '0')
			}
		}
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

// AppendDecimal appends d in decimal.Decimal.String's form without
// allocating when its coefficient has at most 18 digits and its exponent is
// within ±18; it falls back to String otherwise.
func AppendDecimal(dst []byte, d decimal.Decimal) []byte {
	exp := d.Exponent()
	if d.NumDigits() > 18 || exp < -18 || exp > 18 {
		return append(dst, d.String()...)
	}
	return AppendScaled(dst, d.CoefficientInt64(), -exp)
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

// parseFixed reads decimal text as m × 10^-scale; ok is false for anything
// but an optional sign, digits and at most one point with a digit somewhere,
// and beyond 18 significant digits.
func parseFixed(v []byte) (m int64, scale int32, ok bool) {
	neg := false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg = v[0] == '-'
		v = v[1:]
	}
	digits, seen, point := 0, false, false
	for _, c := range v {
		switch {
		case c == '.' && !point:
			point = true
			continue
		case c < '0' || c > '9':
			return 0, 0, false
		}
		seen = true
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
	if !seen {
		return 0, 0, false
	}
	if neg {
		m = -m
	}
	return m, scale, true
}
