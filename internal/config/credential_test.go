package config

import (
	"strings"
	"testing"

	"github.com/exchange-sim/exchange/internal/refdata"
)

// TestPasswordHashForms: a session's password_hash is a bcrypt hash or an
// API key's "sha256:<64 hex>"; a malformed key hash is refused at load with
// the file and the field named, and without repeating the value.
func TestPasswordHashForms(t *testing.T) {
	const old = "password_hash: $2a$10$G8FuJp3tePxl/gQUF.Vlb.GtNoCV10wU1Or7nul.WAI6kodXbEUPK"
	key := refdata.APIKeyHashOf("k")
	for _, tc := range []struct {
		name, hash string
		ok         bool
	}{
		{"api key", key, true},
		{"api key, upper-case hex", "sha256:" + strings.ToUpper(key[7:]), true},
		{"short", key[:40], false},
		{"long", key + "ab", false},
		{"not hex", "sha256:" + strings.Repeat("zz", 32), false},
		{"empty key", `"sha256:"`, false},
		{"other digest", "sha512:" + key[7:], false},
		{"plain text", "hunter2-secret", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := string(DefaultYAML())
			y := strings.Replace(base, old, "password_hash: "+tc.hash, 1)
			if y == base {
				t.Fatal("ALPHA's password_hash not found in the default configuration")
			}
			c, err := Parse([]byte(y), "keys.yaml")
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if got := c.Sessions[0].PasswordHash; got != strings.Trim(tc.hash, `"`) {
					t.Fatalf("PasswordHash %q", got)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, "keys.yaml") || !strings.Contains(msg, "firms[0].sessions[0].password_hash") {
				t.Fatalf("%v: want the file and the field named", err)
			}
			if v := strings.Trim(tc.hash, `"`); len(v) > 8 && strings.Contains(msg, v[7:]) {
				t.Fatalf("%v: repeats the value", err)
			}
		})
	}
}
