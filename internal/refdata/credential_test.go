package refdata

import (
	"strings"
	"testing"
)

func TestParseAPIKeyHash(t *testing.T) {
	good := APIKeyHashOf("a-key")
	for _, tc := range []struct {
		hash         string
		isKey, valid bool
	}{
		{good, true, true},
		{strings.ToUpper(good[:7]) + good[7:], false, true}, // "SHA256:" is not the prefix: a bcrypt check refuses it later
		{"sha256:" + strings.ToUpper(good[7:]), true, true},
		{"$2a$10$abc", false, true},
		{"", false, true},
		{"sha256:", true, false},
		{good[:len(good)-1], true, false},
		{good + "0", true, false},
		{"sha256:" + strings.Repeat("g", 64), true, false},
		{"sha256: " + good[8:], true, false},
	} {
		sum, isKey, err := ParseAPIKeyHash(tc.hash)
		if isKey != tc.isKey || (err == nil) != tc.valid {
			t.Errorf("%q: isKey %v err %v, want isKey %v valid %v", tc.hash, isKey, err, tc.isKey, tc.valid)
		}
		if isKey && err == nil && !sum.Matches([]byte("a-key")) {
			t.Errorf("%q: the key does not match its own hash", tc.hash)
		}
	}
	sum, _, _ := ParseAPIKeyHash(good)
	for _, k := range []string{"", "a-ke", "a-key ", "A-key", good} {
		if sum.Matches([]byte(k)) {
			t.Errorf("%q matches the hash of %q", k, "a-key")
		}
	}
}

func FuzzParseAPIKeyHash(f *testing.F) {
	for _, s := range []string{APIKeyHashOf("x"), "sha256:", "sha256:zz", "$2a$10$x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sum, isKey, err := ParseAPIKeyHash(s)
		if isKey != strings.HasPrefix(s, APIKeyPrefix) {
			t.Fatalf("%q: isKey %v", s, isKey)
		}
		if isKey && err == nil && !strings.EqualFold(APIKeyPrefix+hexOf(sum), s) {
			t.Fatalf("%q parsed to %x", s, sum)
		}
	})
}

func hexOf(s APIKeyHash) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 2*len(s))
	for _, c := range s {
		b = append(b, digits[c>>4], digits[c&15])
	}
	return string(b)
}
