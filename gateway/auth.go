package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"
	"golang.org/x/crypto/bcrypt"
)

// logonRetryMin is the least time between a failed password check and the
// next bcrypt for the same session: it keeps a storm of wrong passwords from
// spending the exchange's cores on bcrypt.
const logonRetryMin = 250 * time.Millisecond

// passwordMax bounds the password bcrypt is asked to check (bcrypt itself
// refuses more than 72 bytes).
const passwordMax = 72

func randomKey(b []byte) error {
	_, err := rand.Read(b)
	return err
}

// authenticate checks a Logon: the session must be a configured one (known
// SenderCompID, our TargetCompID, a supported BeginString), not logged on
// already under the other BeginString, and Username/Password must match. It
// returns a reason for the Logout's Text and a metrics label, or "" when the
// logon may proceed. A password that passed bcrypt is remembered as an HMAC
// under a per-process random key, so a reconnect storm with the right password
// costs one bcrypt per session, while a wrong password always pays the full
// bcrypt price. Passwords are never logged.
func (g *Gateway) authenticate(msg *quickfix.Message, sid quickfix.SessionID) (reason, result string) {
	st := g.bySID[sid]
	if st == nil {
		switch {
		case g.cfg.SessionByCompID(sid.TargetCompID) == 0:
			return fmt.Sprintf("unknown SenderCompID %q", sid.TargetCompID), "unknown_comp_id"
		case sid.SenderCompID != g.cfg.TargetCompID:
			return fmt.Sprintf("TargetCompID %q is wrong: this exchange is %q", sid.SenderCompID, g.cfg.TargetCompID), "bad_target"
		default:
			return fmt.Sprintf("BeginString %q is not supported: use FIX.4.4 or FIX.4.2", sid.BeginString), "bad_version"
		}
	}
	if fs := st.fs.Load(); fs != nil && fs.ID() != sid {
		return fmt.Sprintf("SenderCompID %q is already logged on (%s)", sid.TargetCompID, fs.ID().BeginString), "already_logged_on"
	}
	user, err := msg.Body.GetBytes(tag.Username)
	if err != nil || len(user) == 0 {
		return "Username (553) is required", "bad_username"
	}
	if string(user) != st.cfg.Username {
		return fmt.Sprintf("bad username for SenderCompID %q", sid.TargetCompID), "bad_username"
	}
	pw, err := msg.Body.GetBytes(tag.Password)
	if err != nil || len(pw) == 0 {
		return "Password (554) is required", "bad_password"
	}
	if len(pw) > passwordMax {
		return fmt.Sprintf("bad password for user %q", st.cfg.Username), "bad_password"
	}
	mac := hmac.New(sha256.New, g.authKey[:])
	mac.Write([]byte(st.cfg.PasswordHash))
	mac.Write([]byte{0})
	mac.Write(pw)
	var sum [32]byte
	mac.Sum(sum[:0])
	st.mu.Lock()
	cached := st.authCache
	st.mu.Unlock()
	if cached != ([32]byte{}) && subtle.ConstantTimeCompare(cached[:], sum[:]) == 1 {
		return "", ""
	}
	now := time.Now().UnixNano()
	if last := st.lastFailNs.Load(); last != 0 && now-last < int64(logonRetryMin) {
		return fmt.Sprintf("too many failed logons for user %q: wait %s between attempts", st.cfg.Username, logonRetryMin), "throttled"
	}
	if bcrypt.CompareHashAndPassword([]byte(st.cfg.PasswordHash), pw) != nil {
		st.lastFailNs.Store(time.Now().UnixNano())
		return fmt.Sprintf("bad password for user %q", st.cfg.Username), "bad_password"
	}
	st.mu.Lock()
	st.authCache = sum
	st.mu.Unlock()
	return "", ""
}
