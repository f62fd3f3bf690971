package broker

import (
	"net"
	"slices"
	"testing"
	"time"
)

// After a failover each request in flight is answered once by the status
// answers, however many of them name it: the mass status report, its own
// status request's answer, a status naming a later request of its order.
func TestTrackerResyncCountsOnce(t *testing.T) {
	now := time.Now()
	tr := newTracker(1, 0, "t")
	newOrder := func(ref, cl string, id uint64) *request {
		o := &order{ref: ref, clOrdID: cl, symbol: "AAPL", side: FIXBuy, typ: FIXLimit}
		r := &request{clOrdID: cl, id: id, kind: KindNew, order: o, origin: now}
		tr.register(r, ref)
		return r
	}
	acked := newOrder("a", "t-1", 1)                                       // answered before the drop
	open := newOrder("b", "t-2", 2)                                        // committed, ack lost
	lost := newOrder("c", "t-3", 3)                                        // never committed
	replaced := newOrder("d", "t-4", 4)                                    // committed, and its replace too
	rep := &request{clOrdID: "t-5", id: 5, kind: KindReplace, origin: now} // the replace of d
	cxl := &request{clOrdID: "t-6", id: 6, kind: KindCancel, origin: now}  // a cancel of b, never committed
	filled := newOrder("e", "t-7", 7)                                      // committed and filled meanwhile
	gone := newOrder("f", "t-8", 8)                                        // acked before the drop
	cxl2 := &request{clOrdID: "t-9", id: 9, kind: KindCancel, origin: now} // a cancel of f, committed
	tr.register(rep, "d")
	tr.register(cxl, "b")
	tr.register(cxl2, "f")
	tr.execReport(now, []byte("t-1"), []byte("0"), []byte("0"), nil, nil)
	tr.execReport(now, []byte("t-8"), []byte("0"), []byte("0"), nil, nil)
	if got := len(tr.inflight(0)); got != 7 {
		t.Fatalf("%d requests in flight, want 7", got)
	}
	mass := func(cl, st string) { tr.statusReport(now, 0, []byte(cl), []byte(st), nil, true) }
	status := func(cl, st string) { tr.statusReport(now, 0, []byte(cl), []byte(st), nil, false) }
	// The mass status lists the open orders (b under its own ClOrdID, d
	// under its replace's), some of another run.
	mass("t-1", "0")
	mass("t-2", "0")
	mass("t-5", "5")
	mass("zz-9", "0")
	// Then a status request for each request still unanswered, answered in
	// turn.
	rest := tr.unanswered(tr.inflight(0))
	slices.SortFunc(rest, func(a, b *request) int { return int(a.id) - int(b.id) })
	tr.ask(0, rest)
	for _, r := range rest {
		switch r {
		case lost, cxl:
			status(r.clOrdID, "8")
		case filled:
			status(r.clOrdID, "2")
		case cxl2:
			// The leader took the cancel: the order is cancelled, and
			// the answer names it by the ClOrdID it had.
			status("t-8", "4")
		default:
			t.Errorf("request %s still unanswered after the mass status", r.clOrdID)
		}
	}
	// Answers repeated change nothing; one naming a retired order (c,
	// rejected) is an unmatched answer, as for any other answer of a
	// forgotten request.
	mass("t-2", "0")
	status("t-3", "8")
	mass("t-5", "5")
	_, _, _, _ = acked, open, replaced, gone
	if tr.acked != 7 || tr.rejected != 2 || tr.resynced != 7 || tr.lost != 2 || tr.unmatchedN != 1 {
		t.Fatalf("acked %d rejected %d resynced %d lost %d unmatched %d; want 7 2 7 2 1", tr.acked, tr.rejected, tr.resynced, tr.lost, tr.unmatchedN)
	}
	if tr.outstanding() != 0 {
		t.Fatalf("%d outstanding", tr.outstanding())
	}
	if o := tr.orders["b"]; o == nil || o.done {
		t.Error("b is open: its cancel was lost, the order lives on")
	}
	if tr.orders["c"] != nil || tr.orders["e"] != nil || tr.orders["f"] != nil {
		t.Error("c (never committed), e (filled) and f (cancelled) are done")
	}
}

// LeaderFromLogout reads a Logout Text from the network: it never panics and
// only returns an address that parses as host:port.
func FuzzLeaderFromLogout(f *testing.F) {
	for _, s := range []string{
		"not the leader: connect to 127.0.0.1:9878 (node n1)",
		"not the leader: connect to [::1]:9878",
		"not the leader: connect to 127.0.0.1:9878).",
		"not the leader, and no leader is elected yet: retry shortly",
		"not the leader: connect to ",
		"not the leader: connect to nocolon",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		a, ok := LeaderFromLogout(text)
		if !ok {
			return
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			t.Fatalf("%q: returned %q, not host:port", text, a)
		}
	})
}

func TestLeaderFromLogout(t *testing.T) {
	for text, want := range map[string]string{
		"not the leader: connect to 127.0.0.1:9878 (node n1)":         "127.0.0.1:9878",
		"not the leader: connect to 10.0.0.2:1).":                     "10.0.0.2:1",
		"not the leader, and no leader is elected yet: retry shortly": "",
		"bad password": "",
	} {
		got, ok := LeaderFromLogout(text)
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v, want %q", text, got, ok, want)
		}
	}
}
