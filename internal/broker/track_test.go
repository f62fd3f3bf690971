package broker

import (
	"testing"
	"time"
)

// The tracker's bookkeeping of order chains, table-driven over answer
// sequences: who is answered, rejected, filled, and whether the order is
// still a valid target afterwards.
func TestTrackerChains(t *testing.T) {
	type ans struct {
		kind                                     string // "8", "9", "j"
		clOrdID, execType, ordStatus, code, text string
	}
	cases := []struct {
		name                    string
		answers                 []ans
		acked, rejected, filled int64
		live                    bool   // order still targetable
		current                 string // ClOrdID in force
	}{
		{"ack", []ans{{"8", "t-1", "0", "0", "", ""}}, 1, 0, 0, true, "t-2"},
		{"reject new", []ans{{"8", "t-1", "8", "8", "3", "bad"}}, 0, 1, 0, false, "t-2"},
		{"fill then done", []ans{{"8", "t-1", "0", "0", "", ""}, {"8", "t-1", "F", "2", "", ""}}, 1, 0, 1, false, "t-2"},
		{"replace refused by 9", []ans{{"8", "t-1", "0", "0", "", ""}, {"9", "t-2", "", "", "0", "too late"}}, 1, 1, 0, true, "t-1"},
		{"replace refused by 8", []ans{{"8", "t-1", "0", "0", "", ""}, {"8", "t-2", "8", "0", "0", "no"}}, 1, 1, 0, true, "t-1"},
		{"replace acked then fill", []ans{{"8", "t-1", "0", "0", "", ""}, {"8", "t-2", "5", "0", "", ""}, {"8", "t-2", "F", "1", "", ""}}, 2, 0, 1, true, "t-2"},
		{"business reject", []ans{{"j", "t-1", "", "", "5", "unsupported"}}, 0, 1, 0, false, "t-2"},
	}
	for _, c := range cases {
		tr := newTracker(1, 0, "t")
		o := &order{ref: "a", clOrdID: "t-1", symbol: "AAPL", side: FIXBuy, typ: FIXLimit}
		now := time.Now()
		tr.register(&request{clOrdID: "t-1", id: 1, kind: KindNew, order: o, origin: now}, "a")
		rep := &request{clOrdID: "t-2", id: 2, kind: KindReplace, origin: now}
		if _, ok := tr.register(rep, "a"); !ok {
			t.Fatalf("%s: replace of a live order skipped", c.name)
		}
		for _, a := range c.answers {
			switch a.kind {
			case "8":
				tr.execReport(now, []byte(a.clOrdID), []byte(a.execType), []byte(a.ordStatus), []byte(a.code), []byte(a.text))
			case "9":
				tr.reject(now, []byte(a.clOrdID), "cancel-reject 102=", []byte(a.code), []byte(a.text))
			case "j":
				tr.reject(now, []byte(a.clOrdID), "business-reject 380=", []byte(a.code), []byte(a.text))
			}
		}
		if tr.acked != c.acked || tr.rejected != c.rejected || tr.filled != c.filled {
			t.Errorf("%s: acked %d rejected %d filled %d, want %d %d %d", c.name, tr.acked, tr.rejected, tr.filled, c.acked, c.rejected, c.filled)
		}
		live := tr.orders["a"] != nil && !tr.orders["a"].done
		if live != c.live || o.clOrdID != c.current {
			t.Errorf("%s: live %v current %s, want %v %s", c.name, live, o.clOrdID, c.live, c.current)
		}
		cancel := &request{clOrdID: "t-3", id: 3, kind: KindCancel, origin: now}
		if _, ok := tr.register(cancel, "a"); ok != c.live {
			t.Errorf("%s: cancel registered %v, want %v", c.name, ok, c.live)
		}
	}
}

// lookup finds a request only by this run's exact ClOrdID: another run's
// prefix, a leading zero, capitals, or a number beyond the map match none.
func TestTrackerLookup(t *testing.T) {
	tr := newTracker(1, 0, "ab3")
	o := &order{ref: "a", clOrdID: "ab3-z1", symbol: "AAPL", side: FIXBuy, typ: FIXLimit}
	r := &request{clOrdID: "ab3-z1", id: 35*36 + 1, kind: KindNew, order: o, origin: time.Now()}
	tr.register(r, "a")
	if got := lookup(tr, []byte("ab3-z1")); got != r {
		t.Fatalf("lookup of its own ClOrdID: %v", got)
	}
	if got := lookup(tr, "ab3-z1"); got != r {
		t.Fatalf("lookup by string: %v", got)
	}
	for _, id := range []string{"ab4-z1", "ab3-0z1", "ab3-Z1", "ab3-", "ab3", "ab3z1", "ab3-z2", "ab3-zzzzzzzzzzzzz", "-z1", ""} {
		if got := lookup(tr, []byte(id)); got != nil {
			t.Errorf("lookup(%q) found a request", id)
		}
	}
}
