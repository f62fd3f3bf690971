package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/gateway"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/matching"
)

// crashChildEnv makes the test binary run `exchange serve` instead of the
// tests: the crash test's victim.
const crashChildEnv = "EXCHANGE_CRASH_CHILD_ARGS"

func TestMain(m *testing.M) {
	// serve starts its reporter child as this binary with the reporter's
	// arguments (reporterCommand).
	if len(os.Args) > 1 && os.Args[1] == "reporter" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	if args := os.Getenv(crashChildEnv); args != "" {
		os.Exit(runWith(runHooks{gateway: loseReportsHook}, splitArgs(args), os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func splitArgs(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\x1f' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// TestCrashKillMidTrading runs `exchange serve` as a child process, sends it
// orders over FIX, and SIGKILLs it at a random moment while orders are in
// flight, several times on the same data folder. After each kill the journal
// must hold every order the venue had acknowledged (an ExecutionReport is only
// sent once its command is durable), and the next start must recover.
func TestCrashKillMidTrading(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; runs in the full suite")
	}
	dir := t.TempDir()
	cfg := config.Default()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	acked := map[matching.OrderID]string{} // over all rounds
	for round := 0; round < 3; round++ {
		fixAddr, httpAddr := freePort(t), freePort(t)
		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), crashChildEnv+"="+joinArgs("serve", "--data", dir, "--fix", fixAddr, "--http", httpAddr, "--admin", "127.0.0.1:0",
			"--durability", "batch", "--log-level", "error"))
		child.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		waitListening(t, fixAddr, 15*time.Second)
		c := logon(t, fixAddr, defaultOpts("ALPHA"))

		// Send resting buys (below the market, never filled) and collect the
		// acknowledgements while the child is killed at a random moment.
		killAt := time.Now().Add(time.Duration(200+rng.IntN(600)) * time.Millisecond)
		sent := 0
		for time.Now().Before(killAt) {
			cl := fmt.Sprintf("r%d-%d", round, sent)
			px := fmt.Sprintf("%d.%02d", 175+sent%10, sent%100)
			c.send(t, "D", "11="+cl, "55=AAPL", "54=1", "38=1", "40=2", "44="+px, "59=1")
			sent++
			if sent%20 == 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = child.Wait()
		// The client has handled every report the child wrote once its
		// session has seen the disconnect (QuickFIX/Go handles a
		// connection's messages in order, the disconnect last).
		for deadline := time.Now().Add(waitMax); ; c.wait(deadline) {
			c.mu.Lock()
			on := c.loggedOn
			c.mu.Unlock()
			if !on {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the client never saw the killed venue disconnect")
			}
		}
		n := c.collectAcks(t, acked)
		c.stop()
		t.Logf("round %d: sent %d orders, %d acknowledged before the kill", round, sent, n)
		if n == 0 {
			t.Fatalf("round %d: no order was acknowledged in %d sent; the test proves nothing", round, sent)
		}

		// Rebuild what the journal holds, as the next start will.
		st, rs, err := pipeline.Rebuild(cfg.Registry, pipeline.RebuildOptions{Dir: dir, Log: zerolog.Nop()})
		if err != nil {
			t.Fatalf("round %d: rebuild after SIGKILL: %v", round, err)
		}
		for id, cl := range acked {
			o, ok := st.Engine.Order(id)
			if !ok || o.Leaves != 1 {
				t.Fatalf("round %d: acknowledged order %d (%s) missing after the crash (found %v, %+v); journal last seq %d",
					round, id, cl, ok, o, rs.LastSeq)
			}
		}
	}
	// A last clean start over the crashed journal must come up.
	fixAddr, httpAddr := freePort(t), freePort(t)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildEnv+"="+joinArgs("serve", "--data", dir, "--fix", fixAddr, "--http", httpAddr, "--admin", "127.0.0.1:0", "--log-level", "error"))
	child.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	waitListening(t, fixAddr, 15*time.Second)
	_ = child.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("clean shutdown after recovery: %v", err)
		}
	case <-time.After(20 * time.Second):
		_ = child.Process.Kill()
		t.Fatal("no clean shutdown within 20 s of SIGTERM")
	}
}

func joinArgs(a ...string) string {
	s := ""
	for i, x := range a {
		if i > 0 {
			s += "\x1f"
		}
		s += x
	}
	return s
}

func waitListening(t *testing.T, addr string, max time.Duration) {
	t.Helper()
	deadline := time.Now().Add(max)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening after %s: %v", addr, max, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loseReportsEnv tells a serve child (TestMain) to lose reports: with it
// set to a list of ExecTypes ("F" for fills), the gateway neither sends nor
// stores the journal's execution reports of those types, as if the process
// were killed between the journal write and the FIX store write.
const loseReportsEnv = "EXCHANGE_TEST_LOSE_REPORTS"

func loseReportsHook(o *gateway.Options) {
	types := os.Getenv(loseReportsEnv)
	if types == "" {
		return
	}
	o.LoseReports = func(rep *ordermanager.Report) bool {
		return rep.Kind == ordermanager.RepExec && strings.IndexByte(types, rep.ExecType) >= 0
	}
}
