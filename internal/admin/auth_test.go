package admin

import (
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/exchange-sim/exchange/internal/refdata"
)

func testTokens(t testing.TB) []refdata.AdminToken {
	t.Helper()
	var out []refdata.AdminToken
	for _, x := range []struct {
		name, token string
		role        refdata.AdminRole
	}{{"op", "op-secret", refdata.RoleOperator}, {"view", "view-secret", refdata.RoleViewer}} {
		h, err := bcrypt.GenerateFromPassword([]byte(x.token), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, refdata.AdminToken{Name: x.name, Role: x.role, Hash: string(h)})
	}
	return out
}

// TestAuthCache: a verified token is remembered, and the cache never lets
// a wrong token through: not a prefix, an extension, another case, nor
// anything after the right one was seen.
func TestAuthCache(t *testing.T) {
	a, err := newAuthenticator(testTokens(t))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second round is served from the cache
		if tok, ok := a.check("op-secret"); !ok || tok.Name != "op" || tok.Role != refdata.RoleOperator {
			t.Fatalf("operator token: %+v %v", tok, ok)
		}
		if tok, ok := a.check("view-secret"); !ok || tok.Role != refdata.RoleViewer {
			t.Fatalf("viewer token: %+v %v", tok, ok)
		}
	}
	if len(a.known) != 2 {
		t.Fatalf("%d cached tokens", len(a.known))
	}
	for _, bad := range []string{"", "op-secre", "op-secret ", "op-secretx", "OP-SECRET", "view-secret\x00", string(make([]byte, 200))} {
		if tok, ok := a.check(bad); ok {
			t.Fatalf("%q accepted as %+v", bad, tok)
		}
	}
	if len(a.known) != 2 {
		t.Fatal("a wrong token was cached")
	}
	for _, h := range []struct{ in, want string }{
		{"Bearer abc", "abc"}, {"bearer abc ", "abc"}, {"Basic abc", ""}, {"Bearer ", ""}, {"", ""}, {"Bearerabc", ""},
	} {
		if got := bearer(h.in); got != h.want {
			t.Fatalf("bearer(%q) = %q, want %q", h.in, got, h.want)
		}
	}
}

// BenchmarkAuth: what a request pays for its token, cached and wrong.
func BenchmarkAuth(b *testing.B) {
	toks := testTokens(b)
	for i := range toks { // the cost a real configuration uses
		h, _ := bcrypt.GenerateFromPassword([]byte([]string{"op-secret", "view-secret"}[i]), bcrypt.DefaultCost)
		toks[i].Hash = string(h)
	}
	a, err := newAuthenticator(toks)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		a.check("op-secret")
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := a.check("op-secret"); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("wrong", func(b *testing.B) {
		for b.Loop() {
			if _, ok := a.check("nope"); ok {
				b.Fatal("accepted")
			}
		}
	})
}
