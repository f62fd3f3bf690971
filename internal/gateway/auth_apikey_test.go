package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/refdata"
)

const testAPIKey = "k3y-0f-thirty-two-random-bytes-base64url-xyz"

// TestAuthenticateAPIKey: a session whose credential is an API key's
// SHA-256 logs on with the key and no bcrypt; a wrong key gets the very
// Logout text a wrong bcrypt password gets and throttles the session's next
// check like one.
func TestAuthenticateAPIKey(t *testing.T) {
	cfg := stormConfigHash(t, "127.0.0.1:1", 1, refdata.APIKeyHashOf(testAPIKey))
	g, err := New(Options{Ref: cfg.Registry, Settings: testSettings(cfg), Submitter: newFakeOM()})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	sid := fixsession.SessionID{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "STORM1"}
	st := g.sessions[cfg.SessionByCompID("STORM1")-1]
	for _, tc := range []struct {
		name, user, pw string
		throttled      bool // a failure came just before
		want, result   string
	}{
		{"right key", "u1", testAPIKey, false, "", ""},
		{"right key again", "u1", testAPIKey, false, "", ""},
		{"wrong key", "u1", testAPIKey + "x", false, `bad password for user "u1"`, "bad_password"},
		{"right key right after a wrong one", "u1", testAPIKey, true, "too many failed logons", "throttled"},
		{"the key's hash as password", "u1", refdata.APIKeyHashOf(testAPIKey)[len(refdata.APIKeyPrefix):], false, `bad password for user "u1"`, "bad_password"},
		{"a prefix of the key", "u1", testAPIKey[:10], false, `bad password for user "u1"`, "bad_password"},
		{"wrong username", "u2", testAPIKey, false, `bad username for SenderCompID "STORM1"`, "bad_username"},
		{"right key after the wait", "u1", testAPIKey, false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.throttled {
				// The throttle's wait has passed (not slept: set back).
				st.lastFailNs.Store(0)
			}
			reason, result := g.authenticateQF(build(t, "35=A", "553="+tc.user, "554="+tc.pw), sid)
			if tc.want == "" && reason != "" || !strings.Contains(reason, tc.want) || result != tc.result {
				t.Fatalf("reason %q result %q, want %q %q", reason, result, tc.want, tc.result)
			}
			if strings.Contains(reason, testAPIKey) {
				t.Fatalf("the Logout text repeats the key: %q", reason)
			}
		})
	}
	if n := g.hashing.checks.Load(); n != 0 {
		t.Fatalf("%d bcrypt checks for an API key session", n)
	}
}

// TestAuthenticateAPIKeyParseError: a session whose key hash is malformed
// (the configuration refuses one; a session made some other way might not)
// lets nobody in.
func TestAuthenticateAPIKeyParseError(t *testing.T) {
	st := sessionState{cfg: &refdata.Session{Username: "u1"}}
	key, isKey, err := refdata.ParseAPIKeyHash("sha256:0011")
	if !isKey || err == nil {
		t.Fatalf("isKey %v err %v", isKey, err)
	}
	if reason, _ := checkAPIKey(&st, &key, err, []byte("")); !strings.Contains(reason, "bad password") {
		t.Fatalf("malformed hash: %q", reason)
	}
}

// TestLogonStormAPIKeys: 200 sessions with API keys log on at once, every
// one in, without a single bcrypt check.
func TestLogonStormAPIKeys(t *testing.T) {
	const n = 200
	addr := freeAddr(t)
	cfg := stormConfigHash(t, addr, n, refdata.APIKeyHashOf(testAPIKey))
	g := startGateway(t, cfg, newFakeOM())
	start := time.Now()
	conns := stormWith(t, addr, n, testAPIKey)
	t.Logf("%d sessions with API keys logged on in %v", n, time.Since(start))
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if got := g.hashing.checks.Load(); got != 0 {
		t.Fatalf("%d bcrypt checks for API key sessions", got)
	}
	for i := 1; i <= n; i++ { // marked live just after the answer is queued
		id := cfg.SessionByCompID(fmt.Sprintf("STORM%d", i))
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			if _, live := g.LiveSession(id); live {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("STORM%d is not live after its Logon was answered", i)
			}
		}
	}
}
