package units

import (
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseAndAppend(t *testing.T) {
	for _, tc := range []struct {
		size, in string
		units    int64
		ok       bool
		text     string // AppendFast of units
		fixed    string // AppendFixed of units
	}{
		{"0.01", "100.01", 10001, true, "100.01", "100.01"},
		{"0.01", "100.00", 10000, true, "100", "100.00"},
		{"0.01", "0.05", 5, true, "0.05", "0.05"},
		{"0.01", "100.005", 0, false, "", ""},
		{"0.05", "12.35", 247, true, "12.35", "12.35"},
		{"0.05", "12.36", 0, false, "", ""},
		{"0.050", "12.35", 247, true, "12.35", "12.35"},
		{"100", "300", 3, true, "300", "300"},
		{"100", "150", 0, false, "", ""},
		{"1", "007", 7, true, "7", "7"},
		{"0.0001", "1.5", 15000, true, "1.5", "1.5000"},
		{"0.01", "-1", 0, false, "", ""},
		{"0.01", "0", 0, false, "", ""},
		{"0.01", "1e3", 0, false, "", ""},
		{"0.01", "1.2.3", 0, false, "", ""},
		{"0.01", ".", 0, false, "", ""},
		{"0.01", "", 0, false, "", ""},
		{"0.01", "99999999999999999999", 0, false, "", ""},
		{"0.01", "11258999068426.24", 1 << 50, true, "11258999068426.24", "11258999068426.24"},
		{"0.01", "11258999068426.25", 0, false, "", ""}, // 2^50 + 1 ticks
	} {
		u := New(decimal.RequireFromString(tc.size), "tick size")
		got, ok := u.ParseFast([]byte(tc.in))
		if ok != tc.ok || got != tc.units {
			t.Errorf("%s in %s: %d %v, want %d %v", tc.in, tc.size, got, ok, tc.units, tc.ok)
		}
		if !tc.ok {
			continue
		}
		if b, _ := u.AppendFast(nil, got); string(b) != tc.text {
			t.Errorf("text of %d × %s = %q, want %q", got, tc.size, b, tc.text)
		}
		if b := u.Append(nil, got); string(b) != tc.text {
			t.Errorf("Append of %d × %s = %q, want %q", got, tc.size, b, tc.text)
		}
		if b := u.AppendFixed(nil, got); string(b) != tc.fixed {
			t.Errorf("AppendFixed of %d × %s = %q, want %q", got, tc.size, b, tc.fixed)
		}
	}
	for n, want := range map[int64]string{0: "0", 5: "0.00005", 120000: "1.2", -3: "-0.00003", 100000: "1"} {
		if got := string(AppendScaled(nil, n, 5)); got != want {
			t.Errorf("AppendScaled(%d, 5) = %q, want %q", n, got, want)
		}
	}
}

// FromDecimal's refusals name the value and the unit.
func TestFromDecimalErrors(t *testing.T) {
	tick := decimal.RequireFromString("0.01")
	for in, want := range map[string]string{
		"0":                 "0 must be positive",
		"-2":                "-2 must be positive",
		"1.005":             "1.005 is not a whole multiple of the tick size 0.01",
		"11258999068426.25": "11258999068426.25 is too large",
	} {
		_, err := FromDecimal(decimal.RequireFromString(in), tick, "tick size")
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
	if n, err := MinorFromDecimal(decimal.RequireFromString("-12.5"), 2); err != nil || n != -1250 {
		t.Errorf("MinorFromDecimal(-12.5, 2) = %d, %v", n, err)
	}
	if _, err := MinorFromDecimal(decimal.RequireFromString("0.001"), 2); err == nil {
		t.Error("a fraction of a cent was accepted")
	}
}

// The money text of a fee is what decimal.Decimal.String writes.
func TestAppendScaledMatchesDecimal(t *testing.T) {
	for _, places := range []int32{0, 2, 3, 8} {
		for _, n := range []int64{1, 5, 10, 150, 381, 100000, 123456789, -7, 0} {
			want := MinorToDecimal(n, places).String()
			if got := string(AppendScaled(nil, n, places)); got != want {
				t.Errorf("%d, %d places: %q, want %q", n, places, got, want)
			}
		}
	}
}

// AppendDecimal writes what decimal.Decimal.String writes.
func TestAppendDecimal(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "10", "189.5", "189.50", "0.01", "0.0005", "-0.0301", "421", "550.00",
		"1e3", "12.3e2", "123456789012345678", "1234567890123456789", "0.000000000000000000001", "99999999.99999999"} {
		d := decimal.RequireFromString(s)
		if got, want := string(AppendDecimal([]byte("x"), d)), "x"+d.String(); got != want {
			t.Errorf("%s: AppendDecimal %q, String %q", s, got, want)
		}
	}
	for _, v := range []int64{7, 100, 12345, -3} {
		for _, e := range []int32{-19, -4, -1, 0, 2, 19} {
			d := decimal.New(v, e)
			if got, want := string(AppendDecimal(nil, d)), d.String(); got != want {
				t.Errorf("New(%d, %d): AppendDecimal %q, String %q", v, e, got, want)
			}
		}
	}
}

// FuzzUnit checks every fast path against the decimal path: whenever
// ParseFast answers, FromDecimal agrees; the texts are decimal's texts.
func FuzzUnit(f *testing.F) {
	f.Add("0.01", "100.01", int64(10001))
	f.Add("0.05", "12.35", int64(-3))
	f.Add("100", "300", int64(7))
	f.Add("0.0001", "0.00010", int64(1<<40))
	f.Add("25", "1e3", int64(0))
	f.Add("0.010", "+.5", int64(-1<<62))
	f.Fuzz(func(t *testing.T, size, value string, n int64) {
		d, err := decimal.NewFromString(size)
		if err != nil || !d.IsPositive() || len(size) > 20 {
			return
		}
		u := New(d, "unit")
		if units, ok := u.ParseFast([]byte(value)); ok {
			slow, err := u.FromDecimal(decimal.RequireFromString(value))
			if err != nil || slow != units {
				t.Fatalf("%s in %s: fast %d, decimal %d %v", value, size, units, slow, err)
			}
		}
		want := u.Decimal(n)
		if txt, ok := u.AppendFast(nil, n); ok && string(txt) != want.String() {
			t.Fatalf("%d × %s: fast %q, decimal %q", n, size, txt, want.String())
		}
		if txt := u.Append(nil, n); string(txt) != want.String() {
			t.Fatalf("Append %d × %s: %q, decimal %q", n, size, txt, want.String())
		}
		if txt := u.AppendFixed(nil, n); string(txt) != want.StringFixed(u.Digits()) {
			t.Fatalf("AppendFixed %d × %s: %q, decimal %q", n, size, txt, want.StringFixed(u.Digits()))
		}
		if txt := AppendDecimal(nil, want); string(txt) != want.String() {
			t.Fatalf("AppendDecimal(%s) = %q", want.String(), txt)
		}
	})
}
