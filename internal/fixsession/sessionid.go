package fixsession

// SessionID names a FIX session from one side's view: SenderCompID is us,
// TargetCompID the counterparty. The exchange's sessions carry no SubIDs,
// LocationIDs or qualifiers (third-party routing travels in the messages,
// route.go in the gateway), so the three fields are the whole identity. It
// is comparable and serves as a map key.
type SessionID struct {
	BeginString  string
	SenderCompID string
	TargetCompID string
}

// String is "BeginString:SenderCompID->TargetCompID", the form QuickFIX
// engines log a session under (so logs read the same whichever engine
// wrote them). It allocates the result.
func (id SessionID) String() string {
	b := make([]byte, 0, len(id.BeginString)+len(id.SenderCompID)+len(id.TargetCompID)+3)
	b = append(b, id.BeginString...)
	b = append(b, ':')
	b = append(b, id.SenderCompID...)
	b = append(b, "->"...)
	b = append(b, id.TargetCompID...)
	return string(b)
}

// FIX versions the session layer speaks.
const (
	BeginStringFIX42 = "FIX.4.2"
	BeginStringFIX44 = "FIX.4.4"
)
