package main

import (
	"testing"

	"github.com/exchange-sim/exchange/internal/config"
)

// End-to-end tests: a real venue (pipeline, gateway, market data, HTTP) in
// this process on loopback ports, driven by QuickFIX/Go initiators over
// FIX 4.4. Run them with `go test ./cmd/exchange -run E2E`. QuickFIX/Go keeps
// sessions in a process-wide registry, so these tests never run in parallel.

// TestE2ELogon: a good logon; a bad password, a bad username and an unknown
// CompID are logged out with a Text that says why.
func TestE2ELogon(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	fix := v.cfg.ListenFIX

	// The refused logons run at once: QuickFIX/Go spends up to a second
	// before a session's first logon.
	refused := []struct {
		o    clientOpts
		want string
	}{
		{clientOpts{comp: "BRAVO", user: "bravo", pass: "demo-alpha"}, `bad password for user "bravo"`},
		{clientOpts{comp: "CHARLIE", user: "alpha", pass: "demo-charlie"}, `bad username for SenderCompID "CHARLIE"`},
		{clientOpts{comp: "ZULU", user: "zulu", pass: "demo-zulu"}, `unknown SenderCompID "ZULU"`},
		{clientOpts{comp: "MM", user: "mm"}, "Password (554) is required"},
	}
	cs := make([]*fixClient, len(refused))
	for i, r := range refused {
		cs[i] = newClient(t, fix, r.o)
	}
	for i, r := range refused {
		if got := cs[i].expectLogout(t); got != r.want {
			t.Errorf("%s logon: Logout Text %q, want %q", r.o.comp, got, r.want)
		}
		cs[i].stop()
		cs[i].mu.Lock()
		if n := cs[i].logons; n != 0 {
			t.Errorf("%s: logged on %d times, want refused", r.o.comp, n)
		}
		cs[i].mu.Unlock()
	}

	a := logon(t, fix, defaultOpts("ALPHA"))
	// The session works: an order is acknowledged.
	a.limit(t, "L1", "AAPL", "1", "1", "190.00")
	a.expectExec(t, "L1", "0", "39=0")
}

// TestE2EOrderLifecycle: ack, partial and full fills on both sides at the
// maker's price with CumQty, LeavesQty, AvgPx and fees exact, and an AvgPx
// that is not a whole number of ticks.
func TestE2EOrderLifecycle(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "batch")
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("BRAVO"))
	a, b := cs[0], cs[1]

	a.limit(t, "A1", "AAPL", "1", "10", "190.00")
	ack := a.expectExec(t, "A1", "0")
	check(t, "A1 ack", ack, "39=0", "55=AAPL", "54=1", "38=10", "40=2", "44=190", "59=0",
		"14=0", "151=10", "6=0", "1=ALPHA-1", "31=", "32=")
	if ack.get(37) == "" || ack.get(37) == "NONE" || ack.get(17) == "" {
		t.Errorf("A1 ack without OrderID or ExecID: %s", ack)
	}

	// A sell below the bid trades at the bid (the maker's price).
	b.limit(t, "B1", "AAPL", "2", "4", "189.90")
	check(t, "B1 ack", b.expectExec(t, "B1", "0"), "39=0", "44=189.9", "151=4")
	check(t, "B1 fill (taker)", b.expectExec(t, "B1", "F"),
		"39=2", "31=190", "32=4", "14=4", "151=0", "6=190", "12=0.22", "13=3", "1=BRAVO-1")
	mk := a.expectExec(t, "A1", "F")
	check(t, "A1 partial fill (maker)", mk,
		"39=1", "31=190", "32=4", "14=4", "151=6", "6=190", "38=10", "12=0.07", "13=3")
	if mk.get(37) != ack.get(37) {
		t.Errorf("A1 fill OrderID %q, ack had %q", mk.get(37), ack.get(37))
	}

	b.limit(t, "B2", "AAPL", "2", "6", "190.00")
	check(t, "B2 fill", b.expectExec(t, "B2", "F"), "39=2", "31=190", "32=6", "14=6", "151=0", "6=190")
	check(t, "A1 full fill", a.expectExec(t, "A1", "F"), "39=2", "31=190", "32=6", "14=10", "151=0", "6=190")

	// One buy takes two price levels: 3 at 190.00 and 7 at 190.01, an
	// average of 190.007 (not a whole number of ticks), exactly.
	b.limit(t, "B3", "AAPL", "2", "3", "190.00")
	b.expectExec(t, "B3", "0")
	b.limit(t, "B4", "AAPL", "2", "7", "190.01")
	b.expectExec(t, "B4", "0")
	a.limit(t, "A2", "AAPL", "1", "10", "190.01")
	a.expectExec(t, "A2", "0")
	check(t, "A2 first fill", a.expectExec(t, "A2", "F", "32=3"), "39=1", "31=190", "14=3", "151=7", "6=190")
	check(t, "A2 second fill", a.expectExec(t, "A2", "F", "32=7"), "39=2", "31=190.01", "14=10", "151=0", "6=190.007")
	check(t, "B3 fill", b.expectExec(t, "B3", "F"), "39=2", "31=190", "32=3")
	check(t, "B4 fill", b.expectExec(t, "B4", "F"), "39=2", "31=190.01", "32=7", "6=190.01")

	// 1 at 190.00 and 2 at 190.01: 190.00666…, rounded half-up at eight
	// digits beyond the tick's.
	b.limit(t, "B5", "AAPL", "2", "1", "190.00")
	b.expectExec(t, "B5", "0")
	b.limit(t, "B6", "AAPL", "2", "2", "190.01")
	b.expectExec(t, "B6", "0")
	a.limit(t, "A3", "AAPL", "1", "3", "190.01")
	check(t, "A3 last fill", a.expectExec(t, "A3", "F", "39=2"), "14=3", "151=0", "6=190.0066666667")
}
