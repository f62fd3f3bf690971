package gateway

import "testing"

// TestMarksState: the records MarksState returns give a gateway that has no
// marks every session's newest pair (what a node installing a raft snapshot
// needs), and a gateway without continuity returns none.
func TestMarksState(t *testing.T) {
	newGW := func() *Gateway {
		cfg := testConfig(t, freeAddr(t), t.TempDir())
		g, err := New(Options{Ref: cfg.Registry, Settings: testSettings(cfg), Submitter: newFakeOM(), Log: testLog(),
			Continuity: &Continuity{Term: func() uint64 { return 1 }}})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	src := newGW()
	if len(src.co.sess) < 2 {
		t.Fatalf("%d sessions configured, want two at least", len(src.co.sess))
	}
	if recs := src.MarksState(); len(recs) != 0 {
		t.Fatalf("no marks yet, but %d records", len(recs))
	}
	src.ApplyMarks(appendMarksEntry([]byte{marksVersion, 1, 0}, 1, 0, markPair{10, 4}))
	src.ApplyMarks(appendMarksEntry(appendMarksEntry([]byte{marksVersion, 2, 0}, 1, 0, markPair{20, 8}), 2, 1, markPair{5, 3}))
	dst := newGW()
	for _, b := range src.MarksState() {
		dst.ApplyMarks(b)
	}
	for i, want := range []struct {
		ver uint8
		p   markPair
	}{{0, markPair{20, 8}}, {1, markPair{5, 3}}} {
		cs := &dst.co.sess[i]
		if n := len(cs.pairs); n == 0 || cs.ver != want.ver || cs.pairs[n-1] != want.p {
			t.Errorf("session %d: version %d pairs %v, want newest %v of version %d", i+1, cs.ver, cs.pairs, want.p, want.ver)
		}
		if key, _ := cs.surelyHas(want.ver, want.p.seq); key != want.p.key {
			t.Errorf("session %d: surelyHas(%d) = %d, want %d", i+1, want.p.seq, key, want.p.key)
		}
	}
	if got := (&Gateway{}).MarksState(); got != nil {
		t.Errorf("a gateway without continuity: %d records", len(got))
	}
}
