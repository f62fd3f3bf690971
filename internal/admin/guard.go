package admin

import (
	"fmt"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/refdata"
)

// Guard puts an HTTP handler that is not part of the admin API (the cluster
// membership endpoints, /cluster on a node's HTTP listener) behind the same
// bearer tokens and roles: reads (GET, HEAD) need any valid token, every
// other method a token with role operator. Refusals are answered as the
// admin API answers them: 401 with WWW-Authenticate, or 403, and a JSON
// {"error": ...}.
type Guard struct {
	auth *authenticator
	log  zerolog.Logger
}

// NewGuard checks tokens as the admin API configured with them would.
func NewGuard(tokens []refdata.AdminToken, log zerolog.Logger) (*Guard, error) {
	a, err := newAuthenticator(tokens)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	return &Guard{auth: a, log: log.With().Str("component", "admin").Logger()}, nil
}

// Wrap returns h behind the tokens.
func (g *Guard) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role := refdata.RoleOperator
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			role = refdata.RoleViewer
		}
		if _, ok := authorize(g.auth, g.log, w, r, role); ok {
			h.ServeHTTP(w, r)
		}
	})
}

// authorize checks r's bearer token for role; when it fails it has
// answered 401 or 403 and logged why.
func authorize(a *authenticator, log zerolog.Logger, w http.ResponseWriter, r *http.Request, role refdata.AdminRole) (refdata.AdminToken, bool) {
	tok, ok := a.check(bearer(r.Header.Get("Authorization")))
	if !ok {
		log.Warn().Str("remote", r.RemoteAddr).Str("path", r.URL.Path).Msg("admin request refused: no or wrong token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="exchange-admin"`)
		writeJSON(w, http.StatusUnauthorized, &apiError{Msg: "a valid bearer token is required (Authorization: Bearer TOKEN)"})
		return tok, false
	}
	if role == refdata.RoleOperator && tok.Role != refdata.RoleOperator {
		log.Warn().Str("remote", r.RemoteAddr).Str("path", r.URL.Path).Str("who", tok.Name).Msg("admin request refused: viewer token asked for an action")
		writeJSON(w, http.StatusForbidden, &apiError{Msg: fmt.Sprintf("token %q has role %s: actions need role operator", tok.Name, tok.Role)})
		return tok, false
	}
	return tok, true
}
