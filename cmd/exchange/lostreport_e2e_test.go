package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestE2EReportsLostAtKillRedelivered: the venue is killed after the
// journal holds a trade but before the fills reached the FIX stores (made
// deterministic by the test hook loseReportsEnv, which loses every fill
// between journal and store). At the restart, recovery regenerates the
// fills from the journal and stores them; ALPHA and BRAVO log on again with
// their stores and each receives its fill, once. A second kill and restart
// regenerates them again, and they are not stored (or sent) a second time:
// every ExecID reaches its session exactly once.
func TestE2EReportsLostAtKillRedelivered(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process; runs in the full suite")
	}
	dir := t.TempDir()
	fix := freePort(t)
	start := func(env ...string) *exec.Cmd {
		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(append(os.Environ(), env...), crashChildEnv+"="+joinArgs("serve", "--data", dir, "--fix", fix, "--http", freePort(t), "--admin", "127.0.0.1:0",
			"--durability", "batch", "--log-level", "error"))
		child.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
		waitListening(t, fix, 15*time.Second)
		return child
	}
	kill := func(child *exec.Cmd) {
		t.Helper()
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = child.Wait()
	}
	ao, bo := defaultOpts("ALPHA"), defaultOpts("BRAVO")
	ao.storeDir, ao.noReset = t.TempDir(), true
	bo.storeDir, bo.noReset = t.TempDir(), true
	// seen counts, per session, the ExecutionReports received by ExecID.
	seen := map[string]map[string]int{"ALPHA": {}, "BRAVO": {}}
	note := func(comp string, m fixMsg) fixMsg {
		seen[comp][m.get(17)]++
		return m
	}

	child := start(loseReportsEnv + "=F")
	a := logon(t, fix, ao)
	a.limit(t, "A1", "AAPL", "1", "10", "190.00")
	oid := note("ALPHA", a.expectExec(t, "A1", "0")).get(37)
	b := logon(t, fix, bo)
	b.limit(t, "B1", "AAPL", "2", "10", "190.00")
	// B1's acceptance comes from the same journaled command as the trade:
	// once it is here, the fills were generated, and lost by the hook.
	note("BRAVO", b.expectExec(t, "B1", "0"))
	a.noMore(t, 200*time.Millisecond, "8", "150=F")
	b.noMore(t, 0, "8", "150=F")
	a.stop()
	b.stop()
	kill(child)

	child = start()
	a = logon(t, fix, ao)
	b = logon(t, fix, bo)
	fa := note("ALPHA", a.expectExec(t, "A1", "F"))
	check(t, "A1 fill regenerated after the kill", fa, "37="+oid, "39=2", "32=10", "31=190", "14=10", "151=0", "43=Y")
	fb := note("BRAVO", b.expectExec(t, "B1", "F"))
	check(t, "B1 fill regenerated after the kill", fb, "39=2", "32=10", "14=10", "151=0", "43=Y")
	a.noMore(t, 300*time.Millisecond, "8")
	b.noMore(t, 0, "8")
	a.stop()
	b.stop()
	kill(child)

	// The fills are in the stores now: the next recovery regenerates them
	// and leaves them there.
	start()
	a = logon(t, fix, ao)
	b = logon(t, fix, bo)
	a.noMore(t, 500*time.Millisecond, "8")
	b.noMore(t, 0, "8")
	for comp, ids := range seen {
		for id, n := range ids {
			if n != 1 {
				t.Errorf("%s received ExecID %s %d times", comp, id, n)
			}
		}
	}
	if len(seen["ALPHA"]) != 2 || len(seen["BRAVO"]) != 2 {
		t.Errorf("ExecIDs received: %v, want two per session (ack and fill)", seen)
	}
}
