package gateway

import (
	"fmt"
	"time"

	"github.com/exchange-sim/exchange/internal/refdata"
)

// checkAPIKey checks the Password (554) of a session whose configured
// credential is an API key's SHA-256 (parseErr is what parsing it said; the
// configuration refuses a malformed one, so it is nil unless the session came
// from elsewhere). A key is 32 random bytes, so one SHA-256 and a
// constant-time compare are enough: no bcrypt slot, no cache. What a wrong
// key gets is what a wrong bcrypt password gets: the same "bad password"
// Logout, and the session's next check no sooner than logonRetryMin after.
// The key is never logged.
func checkAPIKey(st *sessionState, key *refdata.APIKeyHash, parseErr error, pw []byte) (reason, result string) {
	now := time.Now().UnixNano()
	if last := st.lastFailNs.Load(); last != 0 && now-last < int64(logonRetryMin) {
		return fmt.Sprintf("too many failed logons for user %q: wait %s between attempts", st.cfg.Username, logonRetryMin), "throttled"
	}
	if parseErr != nil || !key.Matches(pw) {
		st.lastFailNs.Store(now)
		return fmt.Sprintf("bad password for user %q", st.cfg.Username), "bad_password"
	}
	return "", ""
}
