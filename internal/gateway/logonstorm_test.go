package gateway

import (
	"bufio"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"
	"golang.org/x/crypto/bcrypt"

	"github.com/exchange-sim/exchange/internal/config"
)

// stormConfig is n firms of one session each (STORM1..STORMn, user uN), all
// with the password "pw-storm" hashed at bcrypt's least cost.
func stormConfig(t testing.TB, addr string, n int) *config.Config {
	h, err := bcrypt.GenerateFromPassword([]byte("pw-storm"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return stormConfigHash(t, addr, n, string(h))
}

// stormConfigHash is stormConfig with every session's password_hash h.
func stormConfigHash(t testing.TB, addr string, n int, h string) *config.Config {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: {fix: %q}\ndata_dir: %q\ncurrency: {code: USD, minor_units: 2}\n", addr, t.TempDir())
	b.WriteString("symbols:\n  - {name: AAPL, tick_size: \"0.01\", lot_size: \"1\"}\ngateway: {target_comp_id: EXCHANGE}\nfirms:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - name: F%d\n    sessions: [{sender_comp_id: STORM%d, username: u%d, password_hash: %q}]\n    accounts: [{name: A%d}]\n", i, i, i, h, i)
	}
	c, err := config.Parse([]byte(b.String()), "storm")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stormLogon logs session i on over a raw connection (141=Y, so that every
// storm starts both sides at 1) and returns the connection once the answer
// is a Logon; the caller closes it.
func stormLogon(addr string, i int, pw string) (net.Conn, error) {
	m := quickfix.NewMessage()
	m.Header.SetString(8, "FIX.4.4")
	m.Header.SetString(tag.MsgType, "A")
	m.Header.SetString(49, fmt.Sprintf("STORM%d", i))
	m.Header.SetString(56, "EXCHANGE")
	m.Header.SetInt(tag.MsgSeqNum, 1)
	m.Header.SetField(52, quickfix.FIXUTCTimestamp{Time: time.Now()})
	m.Body.SetString(98, "0")
	m.Body.SetString(108, "30")
	m.Body.SetString(141, "Y")
	m.Body.SetString(tag.Username, fmt.Sprintf("u%d", i))
	m.Body.SetString(tag.Password, pw)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(m.Bytes()); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(conn)
	var got []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("session %d: %w after %q", i, err, got)
		}
		got = append(got, b)
		if strings.Contains(string(got), "\x0135=A\x01") {
			return conn, nil
		}
		if strings.Contains(string(got), "\x0135=5\x01") && strings.HasSuffix(string(got), "\x0110=") {
			conn.Close()
			return nil, fmt.Errorf("session %d: refused: %q", i, got)
		}
	}
}

// storm logs sessions 1..n on at once with the password "pw-storm" and
// returns their connections.
func storm(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	return stormWith(t, addr, n, "pw-storm")
}

// stormWith is storm with password pw.
func stormWith(t *testing.T, addr string, n int, pw string) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := stormLogon(addr, i, pw)
			if err != nil {
				errs <- err
				return
			}
			conns[i-1] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	return conns
}

// TestLogonStorm: 200 sessions log on at once and all get in; the bcrypt
// checks never run more than a slot per core at once; and when they all
// reconnect at once, no password is hashed again, while a wrong password
// still is, and is refused.
func TestLogonStorm(t *testing.T) {
	const n = 200
	addr := freeAddr(t)
	cfg := stormConfig(t, addr, n)
	g := startGateway(t, cfg, newFakeOM())

	start := time.Now()
	conns := storm(t, addr, n)
	t.Logf("first storm: %d sessions logged on in %v, %d bcrypt checks, at most %d at once",
		n, time.Since(start), g.hashing.checks.Load(), g.hashing.runningMax.Load())
	if got := g.hashing.checks.Load(); got != n {
		t.Fatalf("%d bcrypt checks for %d sessions", got, n)
	}
	if m, c := g.hashing.runningMax.Load(), runtime.NumCPU(); m > int64(c) {
		t.Fatalf("%d bcrypt checks ran at once, slots %d", m, c)
	}
	for _, c := range conns {
		c.Close()
	}
	for i := 1; i <= n; i++ { // every session seen gone before the next storm
		id := cfg.SessionByCompID(fmt.Sprintf("STORM%d", i))
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
			if _, live := g.LiveSession(id); !live {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("session %d still live after its connection closed", i)
			}
		}
	}

	start = time.Now()
	conns = storm(t, addr, n)
	t.Logf("reconnect storm: %d sessions logged on in %v", n, time.Since(start))
	if got := g.hashing.checks.Load(); got != n {
		t.Fatalf("a reconnect storm of verified sessions ran %d more bcrypt checks", got-n)
	}
	// A wrong password for a session whose right one is cached: hashed in
	// full, refused with the same text as ever.
	conns[0].Close()
	id := cfg.SessionByCompID("STORM1")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		if _, live := g.LiveSession(id); !live {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("STORM1 still live")
		}
	}
	if c, err := stormLogon(addr, 1, "wrong"); err == nil || !strings.Contains(err.Error(), `58=bad password for user \"u1\"`) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("wrong password after a cached success: %v", err)
	}
	if got := g.hashing.checks.Load(); got != n+1 {
		t.Fatalf("the wrong password ran %d bcrypt checks, want 1", got-n)
	}
	for _, c := range conns[1:] {
		c.Close()
	}
}
