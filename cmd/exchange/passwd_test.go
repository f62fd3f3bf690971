package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/refdata"
)

// TestPasswdAPIKey: `exchange passwd --api-key` prints a new key of 32
// random bytes and a password_hash line that the configuration accepts and
// that the key matches; two runs never print the same key.
func TestPasswdAPIKey(t *testing.T) {
	re := regexp.MustCompile(`(?m)^api key .*: ([A-Za-z0-9_-]{43})\npassword_hash: "(sha256:[0-9a-f]{64})"\n$`)
	keys := map[string]bool{}
	for range 2 {
		var out, errw bytes.Buffer
		if code := run([]string{"passwd", "--api-key"}, strings.NewReader(""), &out, &errw); code != 0 {
			t.Fatalf("exit %d: %s", code, errw.String())
		}
		m := re.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("output %q", out.String())
		}
		key, hash := m[1], m[2]
		if keys[key] {
			t.Fatal("the same key twice")
		}
		keys[key] = true
		sum, isKey, err := refdata.ParseAPIKeyHash(hash)
		if !isKey || err != nil || !sum.Matches([]byte(key)) {
			t.Fatalf("hash %q of key %q: isKey %v err %v", hash, key, isKey, err)
		}
		line := m[0][strings.Index(m[0], "password_hash: "):]
		y := strings.Replace(string(config.DefaultYAML()), "password_hash: $2a$10$G8FuJp3tePxl/gQUF.Vlb.GtNoCV10wU1Or7nul.WAI6kodXbEUPK",
			strings.TrimSuffix(line, "\n"), 1)
		c, err := config.Parse([]byte(y), "generated")
		if err != nil {
			t.Fatalf("the printed line is refused: %v", err)
		}
		if c.Sessions[0].PasswordHash != hash {
			t.Fatalf("ALPHA's password_hash is %q, want the printed %q", c.Sessions[0].PasswordHash, hash)
		}
	}
}
