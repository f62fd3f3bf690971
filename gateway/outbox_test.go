package gateway

import (
	"strconv"
	"testing"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"

	"github.com/exchange-sim/exchange/ordermanager"
)

func TestIsAppMessage(t *testing.T) {
	for raw, want := range map[string]bool{
		"8=FIX.4.4\x019=5\x0135=8\x0149=X\x01":   true,
		"8=FIX.4.4\x019=5\x0135=j\x0149=X\x01":   true,
		"8=FIX.4.4\x019=5\x0135=AE\x0149=X\x01":  true,
		"8=FIX.4.4\x019=5\x0135=0\x0149=X\x01":   false,
		"8=FIX.4.4\x019=5\x0135=5\x0149=X\x01":   false,
		"8=FIX.4.4\x019=5\x0135=A\x0149=X\x01":   false,
		"8=FIX.4.4\x019=5\x0149=X\x0156=Y\x01":   false,
		"8=FIX.4.4\x019=5\x01135=8\x0135=4\x01":  false,
		"8=FIX.4.4\x019=5\x0135=":                false,
		"":                                       false,
		"8=FIX.4.2\x019=5\x0135=3\x0158=txt\x01": false,
	} {
		if got := isAppMessage([]byte(raw)); got != want {
			t.Errorf("isAppMessage(%q) = %v, want %v", raw, got, want)
		}
	}
}

// TestOutboxOverflow: a session whose outbox is full is logged out and every
// report it could not take is counted, none dropped silently.
func TestOutboxOverflow(t *testing.T) {
	cfg := testConfig(t, freeAddr(t), t.TempDir())
	g, err := New(Options{Config: cfg, Submitter: newFakeOM()})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	id := cfg.SessionByCompID("ALPHA")
	st := g.session(id)
	sid := quickfix.SessionID{BeginString: quickfix.BeginStringFIX44, SenderCompID: cfg.TargetCompID, TargetCompID: "ALPHA"}
	st.live.Store(&sid) // logged on, but the outbox is not running: nothing drains it
	reps := make([]ordermanager.Report, outboxMax+7)
	for i := range reps {
		reps[i] = ordermanager.Report{Kind: ordermanager.RepExec, Session: id, ExecID: uint64(i + 1), Symbol: 1}
	}
	g.Deliver(reps)
	if n := g.Stats().ReportsDropped["outbox_full"]; n != 7 {
		t.Fatalf("outbox_full %d, want 7", n)
	}
	if !st.closing.Load() {
		t.Fatal("session not being logged out")
	}
	st.out.mu.Lock()
	queued := len(st.out.q)
	st.out.mu.Unlock()
	if queued != outboxMax {
		t.Fatalf("queued %d, want %d", queued, outboxMax)
	}
}

// TestOutboxOrder: reports delivered in many batches reach the broker all
// and in order, and the ones Deliver got before Stop go out before the
// Logout.
func TestOutboxOrder(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	g := startGateway(t, cfg, newFakeOM())
	c := dial(t, addr, quickfix.BeginStringFIX44, "ALPHA", "EXCHANGE", "alpha", "pw-alpha")
	c.waitLogon()
	id := cfg.SessionByCompID("ALPHA")
	waitLive(t, g, id)
	const n = 300
	for i := 0; i < n; i += 20 {
		batch := make([]ordermanager.Report, 20)
		for j := range batch {
			batch[j] = ordermanager.Report{Kind: ordermanager.RepExec, Session: id, ExecID: uint64(i + j + 1), OrderID: 1, Symbol: 1}
		}
		g.Deliver(batch)
	}
	g.Stop()
	for i := 1; i <= n; i++ {
		if got := field(c.recv("8"), tag.ExecID); got != strconv.Itoa(i) {
			t.Fatalf("report %d has ExecID %s", i, got)
		}
	}
	c.waitLogout()
}
