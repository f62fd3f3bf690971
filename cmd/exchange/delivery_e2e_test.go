package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/config"
)

// relay forwards loopback TCP connections to a venue; cut closes them all at
// once, as a broker process killed without a Logout would.
type relay struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func startRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, target: target}
	go r.serve()
	t.Cleanup(func() { _ = ln.Close(); r.cut() })
	return r
}

func (r *relay) addr() string { return r.ln.Addr().String() }

func (r *relay) serve() {
	for {
		in, err := r.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", r.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		r.mu.Lock()
		r.conns = append(r.conns, in, out)
		r.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); _ = out.Close() }()
		go func() { _, _ = io.Copy(in, out); _ = in.Close() }()
	}
}

// cut closes every relayed connection: both ends see the connection drop
// with no Logout.
func (r *relay) cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		_ = c.Close()
	}
	r.conns = nil
}

// waitCut waits until the test broker has seen its connection drop, so that
// stopping it sends nothing more (a killed process sends nothing; a Logout
// written into the dead connection would move the broker's sequence number
// past the venue's, and both sides would then ask for resends at once, the
// case the session layer's conformance work covers).
func waitCut(t *testing.T, c *fixClient) {
	t.Helper()
	deadline := time.Now().Add(waitMax)
	for {
		c.mu.Lock()
		on := c.loggedOn
		c.mu.Unlock()
		if !on {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still logged on after its connection was cut", c.opts.comp)
		}
		c.wait(deadline)
	}
}

// waitOffline waits until the venue no longer sees comp logged on.
func waitOffline(t *testing.T, v *venue, comp string) {
	t.Helper()
	id := v.cfg.SessionByCompID(comp)
	deadline := time.Now().Add(waitMax)
	for {
		if _, on := v.gw.LiveSession(id); !on {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still logged on after its connection was cut", comp)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestE2EFillWhileDisconnected: ALPHA rests a buy, its connection dies
// without a Logout, BRAVO's sell fills the order, ALPHA logs on again with
// its file store and receives the fill, once, as a resend (PossDupFlag=Y);
// and the same with a restart of the exchange between the fill and the
// reconnect.
func TestE2EFillWhileDisconnected(t *testing.T) {
	for _, restart := range []bool{false, true} {
		name := "no restart"
		if restart {
			name = "exchange restarted between the fill and the reconnect"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			v := startTestVenue(t, config.Default(), dir, "", "batch")
			fix := v.cfg.ListenFIX
			r := startRelay(t, fix)
			ao := defaultOpts("ALPHA")
			ao.storeDir, ao.noReset = t.TempDir(), true
			a := logon(t, r.addr(), ao)
			a.limit(t, "A1", "AAPL", "1", "10", "190.00")
			oid := a.expectExec(t, "A1", "0").get(37)

			r.cut()
			waitOffline(t, v, "ALPHA")
			waitCut(t, a)
			a.stop() // disconnected: nothing more is sent

			b := logon(t, fix, defaultOpts("BRAVO"))
			b.limit(t, "B1", "AAPL", "2", "10", "190.00")
			b.expectExec(t, "B1", "F", "39=2")
			b.stop()

			if restart {
				waitOffline(t, v, "BRAVO")
				stopTestVenue(t, v)
				v = startTestVenue(t, config.Default(), dir, fix, "batch")
			}
			a = logon(t, fix, ao)
			check(t, "A1 fill after the reconnect", a.expectExec(t, "A1", "F"),
				"37="+oid, "39=2", "32=10", "31=190", "14=10", "151=0", "43=Y")
			a.noMore(t, 500*time.Millisecond, "8", "11=A1", "150=F")
			if s := v.gw.Stats(); !restart && s.ReportsQueued == 0 {
				t.Errorf("the fill was not counted as queued: %+v", s)
			}
		})
	}
}

// TestE2ERefusedLogonKeepsSequence: a Logon for ALPHA with a wrong password
// is refused without using up ALPHA's outbound MsgSeqNum, so ALPHA's next
// logon (continuing its sequence numbers) meets no gap: the venue's Logon
// answer is the very number ALPHA expects.
func TestE2ERefusedLogonKeepsSequence(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	fix := v.cfg.ListenFIX
	ao := defaultOpts("ALPHA")
	ao.storeDir, ao.noReset = t.TempDir(), true
	a := logon(t, fix, ao)
	a.stop()
	waitOffline(t, v, "ALPHA")
	before := sessionSeqs(t, ao.storeDir)

	bad := defaultOpts("ALPHA")
	bad.pass = "wrong"
	bc := newClient(t, fix, bad)
	if got := bc.expectLogout(t); got != `bad password for user "alpha"` {
		t.Fatalf("refused logon: Logout Text %q", got)
	}
	bc.stop()

	a = logon(t, fix, ao)
	a.settle(t)
	a.stop()
	after := sessionSeqs(t, ao.storeDir)
	// The Logon answer and the Logout's answer: two messages, no gap fill.
	if after[1] != before[1]+2 {
		t.Errorf("ALPHA expects MsgSeqNum %d after a logon and logout, was %d before: the refused logon used up numbers", after[1], before[1])
	}
	a.mu.Lock()
	asked := a.resendAsked
	a.mu.Unlock()
	if asked != 0 {
		t.Errorf("the venue asked ALPHA for %d resends", asked)
	}
}

// TestE2EFillSurvivesKill: as TestE2EFillWhileDisconnected, with the venue
// killed (SIGKILL, no clean stop) once the fill for the disconnected ALPHA
// is in ALPHA's FIX store, and started again on the same data folder: ALPHA
// logs on and receives the fill, once.
func TestE2EFillSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process; runs in the full suite")
	}
	dir := t.TempDir()
	start := func(fixAddr string) *exec.Cmd {
		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), crashChildEnv+"="+joinArgs("serve", "--data", dir, "--fix", fixAddr, "--http", freePort(t), "--admin", "127.0.0.1:0",
			"--durability", "batch", "--log-level", "error"))
		child.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
		waitListening(t, fixAddr, 15*time.Second)
		return child
	}
	fix := freePort(t)
	child := start(fix)
	r := startRelay(t, fix)
	ao := defaultOpts("ALPHA")
	ao.storeDir, ao.noReset = t.TempDir(), true
	a := logon(t, r.addr(), ao)
	a.limit(t, "A1", "AAPL", "1", "10", "190.00")
	oid := a.expectExec(t, "A1", "0").get(37)
	r.cut()
	waitCut(t, a)
	a.stop()

	b := logon(t, fix, defaultOpts("BRAVO"))
	b.limit(t, "B1", "AAPL", "2", "10", "190.00")
	b.expectExec(t, "B1", "F", "39=2")
	store := filepath.Join(dir, "fix-sessions", "FIX.4.4-EXCHANGE-ALPHA.msgs")
	deadline := time.Now().Add(waitMax)
	for {
		raw, _ := os.ReadFile(store)
		if bytes.Contains(raw, []byte("\x0111=A1\x01")) && bytes.Contains(raw, []byte("\x01150=F\x01")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fill for ALPHA is not in its store %s", store)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.stop()
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	start(fix)
	a = logon(t, fix, ao)
	check(t, "A1 fill after the kill and restart", a.expectExec(t, "A1", "F"),
		"37="+oid, "39=2", "32=10", "14=10", "151=0", "43=Y")
	a.noMore(t, 500*time.Millisecond, "8", "11=A1", "150=F")
}
