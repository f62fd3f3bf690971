package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/exchange-sim/exchange/internal/refdata"
)

// tokenMax bounds the bearer token bcrypt is asked to check (bcrypt itself
// refuses more than 72 bytes).
const tokenMax = 72

// bcryptsMax bounds the bcrypt checks running at once, so a storm of wrong
// tokens costs the venue at most this many cores.
const bcryptsMax = 2

// authenticator checks bearer tokens against the configured bcrypt hashes.
// A token that passed bcrypt is remembered as an HMAC under a per-process
// random key, so a console polling with the right token pays one bcrypt per
// process, while a wrong token always pays the full price (one bcrypt per
// configured token). Tokens are never logged or kept in the clear.
type authenticator struct {
	tokens []refdata.AdminToken
	key    [32]byte
	sem    chan struct{}

	mu    sync.Mutex
	known map[[32]byte]int // HMAC of a verified token -> index into tokens
}

func newAuthenticator(tokens []refdata.AdminToken) (*authenticator, error) {
	a := &authenticator{tokens: tokens, sem: make(chan struct{}, bcryptsMax), known: map[[32]byte]int{}}
	if _, err := rand.Read(a.key[:]); err != nil {
		return nil, err
	}
	return a, nil
}

// bearer returns the token of an Authorization header ("" when absent or
// not a bearer token).
func bearer(h string) string {
	const p = "Bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return ""
	}
	return strings.TrimSpace(h[len(p):])
}

// check returns the token's configuration entry, or ok false.
func (a *authenticator) check(token string) (t refdata.AdminToken, ok bool) {
	if token == "" || len(token) > tokenMax {
		return t, false
	}
	mac := hmac.New(sha256.New, a.key[:])
	mac.Write([]byte(token))
	var sum [32]byte
	mac.Sum(sum[:0])
	a.mu.Lock()
	i, hit := a.known[sum]
	a.mu.Unlock()
	if hit {
		return a.tokens[i], true
	}
	a.sem <- struct{}{}
	defer func() { <-a.sem }()
	for i := range a.tokens {
		if bcrypt.CompareHashAndPassword([]byte(a.tokens[i].Hash), []byte(token)) == nil {
			a.mu.Lock()
			a.known[sum] = i
			a.mu.Unlock()
			return a.tokens[i], true
		}
	}
	return t, false
}
