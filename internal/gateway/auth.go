package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/fixsession/tag"
	"github.com/exchange-sim/exchange/internal/refdata"
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

// authenticate checks the Logon msg of sid, whose configured FIX session
// is fs (nil when none is): the session must be a configured one (known
// SenderCompID, our TargetCompID, a supported BeginString), not logged on
// already under the other BeginString, and Username/Password must match. It
// returns a reason for the Logout's Text and a metrics label, or "" when the
// logon may proceed. A session configured with an API key's SHA-256
// (refdata.APIKeyPrefix) is checked by checkAPIKey instead of bcrypt. A
// password that passed bcrypt is remembered as an HMAC
// under a per-process random key, so a reconnect storm with the right password
// costs one bcrypt per session, while a wrong password always pays the full
// bcrypt price. Passwords are never logged.
func (g *Gateway) authenticate(msg fields, sid fixsession.SessionID, fs *fixsession.Session) (reason, result string) {
	st := g.byFS[fs]
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
	user, ok := msg.Get(tag.Username)
	if !ok || len(user) == 0 {
		return "Username (553) is required", "bad_username"
	}
	if string(user) != st.cfg.Username {
		return fmt.Sprintf("bad username for SenderCompID %q", sid.TargetCompID), "bad_username"
	}
	pw, ok := msg.Get(tag.Password)
	if !ok || len(pw) == 0 {
		return "Password (554) is required", "bad_password"
	}
	if len(pw) > passwordMax {
		return fmt.Sprintf("bad password for user %q", st.cfg.Username), "bad_password"
	}
	if key, isKey, err := refdata.ParseAPIKeyHash(st.cfg.PasswordHash); isKey {
		return checkAPIKey(st, &key, err, pw)
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
	release := g.hashing.acquire()
	defer release()
	// While this logon waited for a slot, another may have verified the same
	// password for this session.
	st.mu.Lock()
	cached = st.authCache
	st.mu.Unlock()
	if cached != ([32]byte{}) && subtle.ConstantTimeCompare(cached[:], sum[:]) == 1 {
		return "", ""
	}
	if g.hashing.compare([]byte(st.cfg.PasswordHash), pw) != nil {
		st.lastFailNs.Store(time.Now().UnixNano())
		return fmt.Sprintf("bad password for user %q", st.cfg.Username), "bad_password"
	}
	st.mu.Lock()
	st.authCache = sum
	st.mu.Unlock()
	return "", ""
}

// hashSlots bounds the bcrypt checks running at once. A bcrypt check at cost
// 10 is tens of milliseconds of one core's time; a storm of hundreds of
// logons checked all at once shares the cores between all of them, so none
// finishes before nearly all do and clients time out together. With a slot
// per core they finish one after another at the machines's full rate, in the
// order they came (waiters on a channel are served first in, first out).
type hashSlots struct {
	slots chan struct{}
	// For tests and metrics: checks done, and the most seen running at once.
	checks, running, runningMax atomic.Int64
}

func newHashSlots(n int) hashSlots {
	return hashSlots{slots: make(chan struct{}, max(n, 1))}
}

// acquire waits for a slot; the caller calls the returned release.
func (h *hashSlots) acquire() (release func()) {
	h.slots <- struct{}{}
	return func() { <-h.slots }
}

// compare is bcrypt.CompareHashAndPassword, counted; it runs in a slot.
func (h *hashSlots) compare(hash, pw []byte) error {
	n := h.running.Add(1)
	for m := h.runningMax.Load(); n > m && !h.runningMax.CompareAndSwap(m, n); m = h.runningMax.Load() {
	}
	h.checks.Add(1)
	defer h.running.Add(-1)
	return bcrypt.CompareHashAndPassword(hash, pw)
}
