package broker

import (
	"strconv"
	"testing"

	"github.com/exchange-sim/exchange/internal/fixsession"
)

func execMsg(fields string) *fixsession.Message {
	raw := []byte("8=FIX.4.4\x0135=8\x01" + fields + "10=000\x01")
	return &fixsession.Message{Raw: raw, Fields: fixsession.Scan(raw, nil), MsgType: []byte("8")}
}

// TestExecSeen: a flagged report whose ExecID the session had is dropped;
// a first sighting (flagged or not) and an unflagged repeat are not.
func TestExecSeen(t *testing.T) {
	s := newExecSeen()
	for i, tc := range []struct {
		fields string
		dup    bool
	}{
		{"17=10\x01", false},
		{"97=Y\x0117=10\x01", true},
		{"43=Y\x0117=10\x01", true},
		{"97=Y\x0117=12\x01", false}, // missed before: taken as new
		{"17=12\x01", false},         // an unflagged repeat counts (the venue's fault)
		{"97=N\x0117=10\x01", false},
		{"97=Y\x0117=abc\x01", false}, // not one of the venue's numeric ExecIDs
		{"97=Y\x01", false},
	} {
		if got := s.dup(execMsg(tc.fields)); got != tc.dup {
			t.Errorf("%d %q: dup %v, want %v", i, tc.fields, got, tc.dup)
		}
	}
	if s.dups != 2 {
		t.Errorf("dups %d, want 2", s.dups)
	}
	// Bounded: the oldest ExecIDs are forgotten.
	for id := range uint64(execSeenMax + 1) {
		s.dup(execMsg("17=" + strconv.FormatUint(1000+id, 10) + "\x01"))
	}
	if len(s.set) != execSeenMax || len(s.ring) != execSeenMax {
		t.Errorf("%d remembered, ring %d, want %d", len(s.set), len(s.ring), execSeenMax)
	}
	if s.dup(execMsg("97=Y\x0117=1000\x01")) {
		t.Error("the oldest ExecID is still remembered")
	}
}
