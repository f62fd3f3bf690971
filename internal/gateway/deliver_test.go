package gateway

import (
	"strconv"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
)

// TestDeliverOrder: reports delivered in many batches, for two sessions
// interleaved, reach each broker all and in order, and the ones Deliver got
// before Stop go out before the Logout.
func TestDeliverOrder(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	g := startGateway(t, cfg, newFakeOM())
	alpha := dial(t, addr, quickfix.BeginStringFIX44, "ALPHA", "EXCHANGE", "alpha", "pw-alpha")
	alpha.waitLogon()
	bravo := dial(t, addr, quickfix.BeginStringFIX44, "BRAVO", "EXCHANGE", "bravo", "pw-bravo")
	bravo.waitLogon()
	a, b := cfg.SessionByCompID("ALPHA"), cfg.SessionByCompID("BRAVO")
	waitLive(t, g, a)
	waitLive(t, g, b)
	const n = 300
	for i := 0; i < n; i += 20 {
		batch := make([]ordermanager.Report, 0, 40)
		for j := 0; j < 20; j++ {
			for _, id := range []refdata.SessionID{a, b} {
				batch = append(batch, ordermanager.Report{Kind: ordermanager.RepExec, Session: id, ExecID: uint64(i + j + 1), OrderID: 1, Symbol: 1})
			}
		}
		g.Deliver(batch)
	}
	g.Stop()
	for _, c := range []*client{alpha, bravo} {
		for i := 1; i <= n; i++ {
			if got := field(c.recv("8"), tag.ExecID); got != strconv.Itoa(i) {
				t.Fatalf("report %d has ExecID %s", i, got)
			}
		}
		c.waitLogout()
	}
	if s := g.Stats(); s.ReportsQueued != 0 || s.ReportsDropped["send_failed"] != 0 {
		t.Fatalf("dropped %v", s.ReportsDropped)
	}
}

// TestDeliverWhileLoggedOff: a report for a session that is not logged on
// is sequenced and stored, not dropped, and reaches the broker at its logon
// as a resend (PossDupFlag=Y), once; a report for an unknown session is
// counted as dropped.
func TestDeliverWhileLoggedOff(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	g := startGateway(t, cfg, newFakeOM())
	id := cfg.SessionByCompID("ALPHA")
	g.Deliver([]ordermanager.Report{
		{Kind: ordermanager.RepExec, Session: id, ExecID: 1, OrderID: 7, Symbol: 1},
		{Kind: ordermanager.RepExec, Session: 99, ExecID: 2, Symbol: 1},
		{Kind: ordermanager.RepExec, Session: id, ExecID: 3, OrderID: 7, Symbol: 1},
	})
	s := g.Stats()
	if s.ReportsQueued != 2 || s.ReportsDropped["unknown_session"] != 1 || s.MessagesOut["8"] != 0 {
		t.Fatalf("queued %d, dropped %v", s.ReportsQueued, s.ReportsDropped)
	}
	alpha := dial(t, addr, quickfix.BeginStringFIX44, "ALPHA", "EXCHANGE", "alpha", "pw-alpha")
	alpha.waitLogon()
	for _, want := range []string{"1", "3"} {
		m := alpha.recv("8")
		if got := field(m, tag.ExecID); got != want {
			t.Fatalf("report with ExecID %s, want %s", got, want)
		}
		if pd, _ := m.Header.GetBytes(tag.PossDupFlag); string(pd) != "Y" {
			t.Fatalf("report %s not marked as a resend (PossDupFlag %q)", want, pd)
		}
	}
	select {
	case m := <-alpha.in:
		if m.IsMsgTypeOf("8") {
			t.Fatalf("report delivered twice: %v", m)
		}
	case <-time.After(300 * time.Millisecond):
	}
}
