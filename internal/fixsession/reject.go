package fixsession

// RejectError is an App's refusal of an inbound application message, which
// the session answers (rejectErr): a session-level Reject (35=3) carrying
// SessionRejectReason (373), RefTagID (371) and Text (58), or, when
// Business, a BusinessMessageReject (35=j) carrying BusinessRejectReason
// (380) and Text. Both name the refused message by RefSeqNum (45) and
// RefMsgType (372). A nil *RejectError is no refusal.
type RejectError struct {
	// Text is the answer's Text (58) and the error's message.
	Text string
	// Reason is SessionRejectReason (373), or BusinessRejectReason (380)
	// for a business reject.
	Reason int
	// RefTagID is the tag the refusal is about (371), sent when HasRefTag
	// (tag 0 is a tag here: an invalid tag number 0 is named in its Reject).
	RefTagID  int
	HasRefTag bool
	// Business makes the answer a BusinessMessageReject (35=j).
	Business bool
}

// Error returns Text.
func (e *RejectError) Error() string { return e.Text }

// SessionRejectReason (373) values Apps answer with.
const (
	ReasonRequiredTagMissing  = 1
	ReasonValueIncorrect      = 5
	ReasonIncorrectDataFormat = 6
	ReasonTagRepeated         = 13
	ReasonIncorrectNumInGroup = 16
)

// RejectTag is a session-level Reject (35=3) with reason and text about
// tag (RefTagID 371).
func RejectTag(reason, tag int, text string) *RejectError {
	return &RejectError{Text: text, Reason: reason, RefTagID: tag, HasRefTag: true}
}

// BusinessReject is a BusinessMessageReject (35=j) with reason (380) and
// text.
func BusinessReject(reason int, text string) *RejectError {
	return &RejectError{Text: text, Reason: reason, Business: true}
}

// RequiredTagMissing is the Reject of a message without the required tag
// (373=1), with QuickFIX's Text.
func RequiredTagMissing(tag int) *RejectError {
	return RejectTag(ReasonRequiredTagMissing, tag, txtRequiredMissing)
}

// ValueIsIncorrect is the Reject of a value out of range for tag (373=5),
// with QuickFIX's Text.
func ValueIsIncorrect(tag int) *RejectError {
	return RejectTag(ReasonValueIncorrect, tag, txtOutOfRange)
}

// IncorrectDataFormat is the Reject of a value of tag that is not of the
// tag's type (373=6), with QuickFIX's Text.
func IncorrectDataFormat(tag int) *RejectError {
	return RejectTag(ReasonIncorrectDataFormat, tag, txtDataFormat)
}
