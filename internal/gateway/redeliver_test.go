package gateway

import (
	"testing"

	"github.com/exchange-sim/exchange/internal/ordermanager"
)

// TestUnstored: only the journal's reports (OutSeq set) beyond their
// session's mark are kept; a session without a known mark gets nothing.
func TestUnstored(t *testing.T) {
	marks := ReportMarks{10, noMark, 0}
	reps := []ordermanager.Report{
		{Session: 1, ExecID: 10, OutSeq: 5}, // stored
		{Session: 1, ExecID: 11, OutSeq: 5}, // a maker's, not stored
		{Session: 1, ExecID: 99, OutSeq: 0}, // a reject: not the journal's
		{Session: 2, ExecID: 12, OutSeq: 6}, // unknown mark
		{Session: 3, ExecID: 12, OutSeq: 6}, // mark 0: nothing stored yet
		{Session: 4, ExecID: 14, OutSeq: 7}, // no such session
		{Session: 0, ExecID: 14, OutSeq: 7}, // none
		{Session: 1, ExecID: 16, OutSeq: 8}, // not stored
	}
	got := marks.Unstored(reps, nil)
	want := []uint64{11, 12, 16}
	if len(got) != len(want) {
		t.Fatalf("kept %+v, want ExecIDs %v", got, want)
	}
	for i, r := range got {
		if r.ExecID != want[i] {
			t.Fatalf("kept %+v, want ExecIDs %v", got, want)
		}
	}
}
