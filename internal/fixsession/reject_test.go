package fixsession

import (
	"fmt"
	"testing"

	"github.com/quickfixgo/quickfix"
	"github.com/rs/zerolog"
)

// TestRejectConstructors: each constructor carries what QuickFIX/Go's
// constructor of the same name does (the reference the session layer's
// answers were written against): Text, reason, RefTagID, business or not.
func TestRejectConstructors(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  *RejectError
		want quickfix.MessageRejectError
	}{
		{"required", RequiredTagMissing(11), quickfix.RequiredTagMissing(11)},
		{"value", ValueIsIncorrect(146), quickfix.ValueIsIncorrect(146)},
		{"format", IncorrectDataFormat(263), quickfix.IncorrectDataFormatForValue(263)},
		{"tag", RejectTag(16, 267, "Incorrect NumInGroup count for repeating group"), quickfix.NewMessageRejectError("Incorrect NumInGroup count for repeating group", 16, ptr(267))},
		{"tag 0", RejectTag(0, 0, "Invalid tag number"), quickfix.InvalidTagNumber(0)},
		{"no tag", &RejectError{Text: "Invalid MsgType", Reason: 11}, quickfix.InvalidMessageType()},
		{"business", BusinessReject(3, "Unsupported Message Type"), quickfix.UnsupportedMessageType()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, w := tc.got, tc.want
			if g.Error() != w.Error() || g.Text != w.Error() || g.Reason != w.RejectReason() || g.Business != w.IsBusinessReject() {
				t.Fatalf("%+v, want %q reason %d business %v", g, w.Error(), w.RejectReason(), w.IsBusinessReject())
			}
			if ref := w.RefTagID(); (ref != nil) != g.HasRefTag || ref != nil && int(*ref) != g.RefTagID {
				t.Fatalf("RefTagID %d (%v), want %v", g.RefTagID, g.HasRefTag, ref)
			}
		})
	}
}

func ptr(t quickfix.Tag) *quickfix.Tag { return &t }

// TestRejectWire: a RejectError is answered with the fields of its kind
// (Reject 3 with 373/371/58/372, BusinessMessageReject j with 380/58/372;
// FIX 4.2 leaves out reasons above 11), as the session writes them.
func TestRejectWire(t *testing.T) {
	for _, tc := range []struct {
		begin string
		rej   *RejectError
		mt    string
		body  string
	}{
		{"FIX.4.4", RequiredTagMissing(11), "3", "45=7|373=1|371=11|58=Required tag missing|372=D|"},
		{"FIX.4.4", RejectTag(13, 0, "x"), "3", "45=7|373=13|371=0|58=x|372=D|"},
		{"FIX.4.2", RejectTag(13, 54, "x"), "3", "45=7|371=54|58=x|372=D|"},
		{"FIX.4.4", &RejectError{Text: "bad", Reason: 6}, "3", "45=7|373=6|58=bad|372=D|"},
		{"FIX.4.0", RequiredTagMissing(11), "3", "45=7|58=Required tag missing (11)|"},
		{"FIX.4.4", BusinessReject(3, "Unsupported Message Type"), "j", "45=7|380=3|58=Unsupported Message Type|372=D|"},
	} {
		mt, body := rejectBody(t, tc.begin, tc.rej)
		if mt != tc.mt || body != tc.body {
			t.Errorf("%s %+v: %s %q, want %s %q", tc.begin, tc.rej, mt, body, tc.mt, tc.body)
		}
	}
}

// rejectBody answers a message D with MsgSeqNum 7 with rej on a session of
// version begin and returns the answer's MsgType and body, fields
// separated by |.
func rejectBody(t *testing.T, begin string, rej *RejectError) (string, string) {
	t.Helper()
	s, err := newSession(Settings{Header: SessionID{BeginString: begin, SenderCompID: "EXCH", TargetCompID: "ALPHA"}}, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := newConn(nil)
	c.sess = s
	c.rejectErr(&Message{MsgType: []byte("D"), SeqNum: 7}, rej)
	mt, body := "", ""
	for _, f := range Scan(c.out, nil) {
		switch f.Tag {
		case 8, 9, 49, 56, 34, 52, 10:
		case 35:
			mt = string(f.Val)
		default:
			body += fmt.Sprintf("%d=%s|", f.Tag, f.Val)
		}
	}
	return mt, body
}
