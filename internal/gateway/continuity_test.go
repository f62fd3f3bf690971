package gateway

import (
	"bytes"
	"testing"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
)

func TestMarksRecordRoundTrip(t *testing.T) {
	c := &continuity{sess: make([]coSession, 3)}
	if c.collect() != nil {
		t.Fatal("a record with nothing to publish")
	}
	c.sess[0].last, c.sess[0].lastVer, c.sess[0].lastDirty = markPair{7, 40}, 0, true
	c.sess[2].last, c.sess[2].lastVer, c.sess[2].lastDirty = markPair{9, 51}, 1, true
	b := append([]byte(nil), c.collect()...) // collect reuses its buffer
	type got struct {
		sess uint32
		ver  uint8
		p    markPair
	}
	var all []got
	if err := decodeMarks(b, func(s uint32, v uint8, p markPair) { all = append(all, got{s, v, p}) }); err != nil {
		t.Fatal(err)
	}
	want := []got{{1, 0, markPair{7, 40}}, {3, 1, markPair{9, 51}}}
	if len(all) != len(want) || all[0] != want[0] || all[1] != want[1] {
		t.Fatalf("decoded %v, want %v", all, want)
	}
	if c.collect() != nil {
		t.Error("published pairs published again")
	}
	// A record that failed to publish makes its sessions dirty again,
	// unless they moved on since.
	c.sess[2].last = markPair{10, 53}
	c.redirty(b)
	if !c.sess[0].lastDirty || c.sess[2].lastDirty {
		t.Errorf("after redirty: dirty %v %v, want true false", c.sess[0].lastDirty, c.sess[2].lastDirty)
	}
}

func FuzzDecodeMarks(f *testing.F) {
	f.Add([]byte{marksVersion, 0, 0})
	f.Add(appendMarksEntry([]byte{marksVersion, 1, 0}, 1, 0, markPair{3, 4}))
	f.Add(appendMarksEntry([]byte{marksVersion, 2, 0}, 1, 0, markPair{3, 4}))
	f.Add([]byte{2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var out []byte
		n := 0
		err := decodeMarks(b, func(s uint32, v uint8, p markPair) {
			out = appendMarksEntry(out, s, v, p)
			n++
		})
		if err != nil {
			return
		}
		re := append([]byte{marksVersion, byte(n), byte(n >> 8)}, out...)
		if !bytes.Equal(re, b) {
			t.Fatalf("decoded %x, encodes back as %x", b, re)
		}
	})
}

// TestSurelyHas maps a client's last MsgSeqNum to the last key it surely
// has, through the replicated pairs.
func TestSurelyHas(t *testing.T) {
	var cs coSession
	for _, p := range []markPair{{10, 100}, {20, 180}, {30, 260}} {
		cs.addPair(0, p)
	}
	cs.addPair(0, markPair{30, 260}) // published again: ignored
	for _, tc := range []struct {
		ver     uint8
		lastSeq uint64
		key     uint64
		ok      bool
	}{
		{0, 35, 260, true},
		{0, 30, 260, true},
		{0, 29, 180, true},
		{0, 10, 100, true},
		{0, 9, 0, true},  // nothing known, but nothing was trimmed: everything held goes
		{1, 35, 0, true}, // the pairs are of another version
	} {
		key, ok := cs.surelyHas(tc.ver, tc.lastSeq)
		if key != tc.key || ok != tc.ok {
			t.Errorf("surelyHas(%d, %d) = %d %v, want %d %v", tc.ver, tc.lastSeq, key, ok, tc.key, tc.ok)
		}
	}
	// Held reports trimmed below a floor: a client placed below it is
	// refused.
	cs.raiseFloor(150)
	if _, ok := cs.surelyHas(0, 15); ok {
		t.Error("a client behind the floor was placed")
	}
	if key, ok := cs.surelyHas(0, 25); !ok || key != 180 {
		t.Errorf("surelyHas(0, 25) = %d %v after the floor rose to 150", key, ok)
	}
	// A lower MsgSeqNum starts a new sequence: the old pairs are gone.
	cs.addPair(0, markPair{2, 300})
	if len(cs.pairs) != 1 {
		t.Errorf("%d pairs after a new sequence, want 1", len(cs.pairs))
	}
	// Pairs falling off the ring raise the floor to the oldest kept.
	var ring coSession
	for i := range uint64(pairsKept + 5) {
		ring.addPair(0, markPair{i + 1, 10 * (i + 1)})
	}
	if len(ring.pairs) != pairsKept || ring.floor != ring.pairs[0].key || ring.pairs[0].seq != 6 {
		t.Errorf("ring: %d pairs, oldest %v, floor %d", len(ring.pairs), ring.pairs[0], ring.floor)
	}
}

// TestHold checks which reports a cluster node holds: every report of the
// journal while it stands by, those of a session not yet logged on in its
// current leadership, none of an adopted session's, none at or below the
// floor, and at most heldMax.
func TestHold(t *testing.T) {
	var term uint64
	c := &continuity{o: Continuity{Term: func() uint64 { return term }}, sess: make([]coSession, 1)}
	st := &sessionState{cfg: &refdata.Session{ID: 1}}
	rep := func(id uint64) *ordermanager.Report {
		return &ordermanager.Report{Session: 1, ExecID: id, OutSeq: id / 2}
	}
	cs := &c.sess[0]
	if !c.hold(st, rep(4)) || len(cs.held) != 1 {
		t.Fatal("a standby's report not held")
	}
	if c.hold(st, &ordermanager.Report{Session: 1, ExecID: 9}) {
		t.Error("a report the journal cannot regenerate (OutSeq 0) held")
	}
	term = 3
	if !c.hold(st, rep(6)) || len(cs.held) != 2 {
		t.Fatal("a report for a session not logged on in this term not held")
	}
	cs.adopted = 3
	if c.hold(st, rep(8)) {
		t.Error("a report for an adopted session held")
	}
	term, cs.adopted = 0, 0
	cs.raiseFloor(5)
	if len(cs.held) != 1 || cs.held[0].ExecID != 6 {
		t.Fatalf("held after the floor rose to 5: %v", cs.held)
	}
	if !c.hold(st, rep(5)) || len(cs.held) != 1 {
		t.Error("a report at the floor kept")
	}
	for i := range uint64(heldMax) {
		c.hold(st, rep(10+2*i))
	}
	if len(cs.held) > heldMax || cs.floor < 10 {
		t.Errorf("%d held (max %d), floor %d", len(cs.held), heldMax, cs.floor)
	}
	if cs.held[0].ExecID <= cs.floor {
		t.Errorf("held report %d at or below the floor %d", cs.held[0].ExecID, cs.floor)
	}
}

// BenchmarkHoldAdopted is the steady-state cost Deliver pays per report on
// a cluster leader: the hold check of a session already logged on in this
// leadership.
func BenchmarkHoldAdopted(b *testing.B) {
	term := uint64(1)
	c := &continuity{o: Continuity{Term: func() uint64 { return term }}, sess: make([]coSession, 1)}
	c.sess[0].adopted = 1
	st := &sessionState{cfg: &refdata.Session{ID: 1}}
	rep := &ordermanager.Report{Session: 1, ExecID: 10, OutSeq: 5}
	b.ReportAllocs()
	for b.Loop() {
		if c.hold(st, rep) {
			b.Fatal("held")
		}
	}
}
