package fixsession

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// msgBytesMax bounds one inbound FIX message (header, body and trailer).
const msgBytesMax = 64 << 10

// ErrIncomplete is returned by Frame when more bytes are needed.
var ErrIncomplete = errors.New("incomplete message")

// ErrTooLarge is wrapped by Frame's error for a message whose BodyLength is
// above msgBytesMax: it may be well framed, but it is refused unread.
var ErrTooLarge = errors.New("message too large")

// Frame checks that b starts with one whole, well-formed FIX message and
// returns its length. It returns ErrIncomplete when more bytes are needed,
// and another error when the bytes can never become a valid message:
//
//	8=<BeginString>␁9=<BodyLength>␁<BodyLength bytes of tag=value␁ fields>10=<3 digits>␁
//
// Every field is tag=value␁ with a tag of 1 to 9 digits and a value without
// SOH. An empty value frames (the session answers that message with a
// Reject, SessionRejectReason 4, see EmptyField). XmlData (212/213) and other length-prefixed binary fields are
// refused: nothing this exchange accepts carries them. The checksum's value
// is not checked here (see checksumOK): a garbled message is dropped, not a
// reason to close the connection.
func Frame(b []byte) (int, error) {
	n, _, err := frame(b, nil, false)
	return n, err
}

// frameFields is Frame that also returns the message's fields, as Scan
// would, appended to dst[:0]: the framing check already walks every field,
// so the reader does not walk them again. The values point into b.
func frameFields(b []byte, dst []Field) (int, []Field, error) {
	return frame(b, dst[:0], true)
}

func frame(b []byte, dst []Field, scan bool) (int, []Field, error) {
	if len(b) < 2 {
		return 0, dst, ErrIncomplete
	}
	if b[0] != '8' || b[1] != '=' {
		return 0, dst, errors.New("message does not start with 8=")
	}
	i := bytes.IndexByte(b, 0x01)
	if i < 0 {
		if len(b) > 32 {
			return 0, dst, errors.New("BeginString too long")
		}
		return 0, dst, ErrIncomplete
	}
	if i == 2 || i > 32 {
		return 0, dst, errors.New("bad BeginString")
	}
	rest := b[i+1:]
	if len(rest) < 2 {
		return 0, dst, ErrIncomplete
	}
	if rest[0] != '9' || rest[1] != '=' {
		return 0, dst, errors.New("BodyLength (9) must be the second field")
	}
	bodyLen, j := 0, 2
	for ; j < len(rest) && rest[j] != 0x01; j++ {
		c := rest[j]
		if c < '0' || c > '9' {
			return 0, dst, errors.New("bad BodyLength")
		}
		if j > 10 {
			// Ten digits and more: no FIX message, and past what an int
			// counts safely; said as too large rather than as malformed.
			return 0, dst, fmt.Errorf("%w: BodyLength of more than 9 digits, the limit is %d bytes", ErrTooLarge, msgBytesMax)
		}
		bodyLen = bodyLen*10 + int(c-'0')
	}
	if j == len(rest) {
		return 0, dst, ErrIncomplete
	}
	if bodyLen > msgBytesMax {
		return 0, dst, fmt.Errorf("%w: BodyLength %d exceeds the limit of %d bytes", ErrTooLarge, bodyLen, msgBytesMax)
	}
	if j == 2 || bodyLen == 0 {
		return 0, dst, fmt.Errorf("BodyLength %d outside 1..%d", bodyLen, msgBytesMax)
	}
	start := i + 1 + j + 1 // first body byte
	total := start + bodyLen + len("10=000\x01")
	if len(b) < total {
		// A BodyLength too large for its message would hold the stream
		// until it filled; a message that starts inside the claimed body
		// shows it is wrong (tag 8 is not allowed in a body).
		if bytes.Contains(b[start:], []byte("\x018=")) {
			return 0, dst, errors.New("BodyLength does not match the message (a new message starts inside it)")
		}
		return 0, dst, ErrIncomplete
	}
	if scan {
		dst = append(dst, Field{Tag: 8, Val: b[2:i]}, Field{Tag: 9, Val: rest[2:j]})
	}
	dst, err := checkFields(b[start:start+bodyLen], dst, scan)
	if err != nil {
		return 0, dst, err
	}
	tr := b[start+bodyLen : total]
	if tr[0] != '1' || tr[1] != '0' || tr[2] != '=' || tr[6] != 0x01 ||
		tr[3] < '0' || tr[3] > '9' || tr[4] < '0' || tr[4] > '9' || tr[5] < '0' || tr[5] > '9' {
		return 0, dst, errors.New("CheckSum (10) does not follow the body")
	}
	if scan {
		dst = append(dst, Field{Tag: 10, Val: tr[3:6]})
	}
	return total, dst, nil
}

// checkFields checks that body is a sequence of tag=value␁ fields and,
// with scan, appends them to dst.
func checkFields(body []byte, dst []Field, scan bool) ([]Field, error) {
	if body[len(body)-1] != 0x01 {
		return dst, errors.New("body does not end with SOH")
	}
	if len(body) < 4 || body[0] != '3' || body[1] != '5' || body[2] != '=' {
		return dst, errors.New("MsgType (35) must be the third field")
	}
	for len(body) > 0 {
		eq := bytes.IndexByte(body, '=')
		soh := bytes.IndexByte(body, 0x01)
		switch {
		case eq < 0 || soh < eq:
			return dst, fmt.Errorf("field %q has no '='", clipField(body[:soh]))
		case eq == 0:
			return dst, fmt.Errorf("field %q has no tag", clipField(body[:soh]))
		case eq > 9:
			return dst, fmt.Errorf("tag %q is longer than 9 digits", clipField(body[:eq]))
		}
		tag := 0
		for _, c := range body[:eq] {
			if c < '0' || c > '9' {
				return dst, fmt.Errorf("tag %q is not a number", clipField(body[:eq]))
			}
			tag = tag*10 + int(c-'0')
		}
		if body[0] == '0' && eq > 1 {
			// Tag 0 itself frames: it is an invalid tag number, which
			// the session answers with a Reject (SessionRejectReason 0).
			return dst, fmt.Errorf("tag %q starts with 0", clipField(body[:eq]))
		}
		switch tag {
		case 212, 213, 8, 9, 10, 89, 90, 91, 93, 95, 96:
			return dst, fmt.Errorf("tag %d not allowed in the body", tag)
		}
		if scan {
			dst = append(dst, Field{Tag: tag, Val: body[eq+1 : soh]})
		}
		body = body[soh+1:]
	}
	return dst, nil
}

// clipField shortens a field quoted in an error to 32 bytes.
func clipField(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// checksumOK reports whether the CheckSum (10) of a framed message matches
// its bytes.
func checksumOK(msg []byte) bool {
	n := len(msg) - len("10=000\x01")
	sum := byteSum(msg[:n])
	t := msg[n+3:]
	return int(t[0]-'0')*100+int(t[1]-'0')*10+int(t[2]-'0') == sum%256
}

// Field is one tag=value of a message; Val points into the message's bytes.
type Field struct {
	Tag int
	Val []byte
}

// Scan appends the fields of a framed message to dst (BeginString,
// BodyLength and CheckSum included) and returns it.
func Scan(msg []byte, dst []Field) []Field {
	for len(msg) > 0 {
		eq := bytes.IndexByte(msg, '=')
		soh := bytes.IndexByte(msg, 0x01)
		if eq <= 0 || soh < eq {
			return dst
		}
		tag := 0
		for _, c := range msg[:eq] {
			tag = tag*10 + int(c-'0')
		}
		dst = append(dst, Field{Tag: tag, Val: msg[eq+1 : soh]})
		msg = msg[soh+1:]
	}
	return dst
}

// EmptyField returns the first tag whose value is empty.
func EmptyField(fs []Field) (int, bool) {
	for i := range fs {
		if len(fs[i].Val) == 0 {
			return fs[i].Tag, true
		}
	}
	return 0, false
}

// Get returns the value of the first field with tag.
func Get(fs []Field, tag int) ([]byte, bool) {
	for i := range fs {
		if fs[i].Tag == tag {
			return fs[i].Val, true
		}
	}
	return nil, false
}

// ParseUint parses a sequence number or other non-negative integer field.
func ParseUint(v []byte) (uint64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// AppendTimestamp appends t in UTC as a UTCTimestamp with microseconds
// (20060102-15:04:05.000000), as SendingTime (52) and TransactTime (60) are
// written, without allocating.
func AppendTimestamp(dst []byte, t time.Time) []byte {
	dst = appendSecond(dst, t)
	dst = append(dst, '.')
	return appendDigits(dst, t.Nanosecond()/1000, 6)
}

// appendTimestampMillis appends t in UTC as YYYYMMDD-HH:MM:SS.sss, the
// finest UTCTimestamp FIX 4.2 and 4.4 allow.
func appendTimestampMillis(dst []byte, t time.Time) []byte {
	dst = appendSecond(dst, t)
	dst = append(dst, '.')
	return appendDigits(dst, t.Nanosecond()/1e6, 3)
}

// microsAllowed reports whether the version's UTCTimestamp takes
// microseconds (FIX 5.0 and later, over FIXT); FIX 4.x takes at most
// milliseconds.
func microsAllowed(beginString string) bool {
	return len(beginString) >= 4 && beginString[:4] == "FIXT" || len(beginString) >= 5 && beginString[:5] == "FIX.5"
}

// appendSessionTimestamp appends t as the session's version writes
// SendingTime and OrigSendingTime: milliseconds on FIX 4.x, microseconds
// where the version allows them.
func appendSessionTimestamp(dst []byte, beginString string, t time.Time) []byte {
	if microsAllowed(beginString) {
		return AppendTimestamp(dst, t)
	}
	return appendTimestampMillis(dst, t)
}

func appendDigits(dst []byte, v, n int) []byte {
	var b [10]byte
	for i := n - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[:n]...)
}

// ParseTimestamp parses a UTCTimestamp, YYYYMMDD-HH:MM:SS with an optional
// fraction of 1 to 9 digits, without allocating (it runs for every inbound
// application message when SendingTime is checked).
func ParseTimestamp(v []byte) (time.Time, bool) {
	if len(v) < 17 || len(v) == 18 || len(v) > 27 || v[8] != '-' || v[11] != ':' || v[14] != ':' {
		return time.Time{}, false
	}
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(v[0:4])
	mo, ok2 := num(v[4:6])
	d, ok3 := num(v[6:8])
	h, ok4 := num(v[9:11])
	mi, ok5 := num(v[12:14])
	sec, ok6 := num(v[15:17])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 {
		return time.Time{}, false
	}
	ns := 0
	if len(v) > 17 {
		if v[17] != '.' {
			return time.Time{}, false
		}
		frac, ok := num(v[18:])
		if !ok {
			return time.Time{}, false
		}
		ns = frac
		for i := len(v) - 18; i < 9; i++ {
			ns *= 10
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC), true
}

// Header is a session's identity as the standard header of its outbound
// messages carries it (SessionID under the name the wire functions use).
type Header = SessionID

// AppendField appends tag=value␁.
func AppendField(dst []byte, tag int, val []byte) []byte {
	dst = appendTag(dst, tag)
	dst = append(dst, val...)
	return append(dst, 0x01)
}

// AppendString appends tag=value␁.
func AppendString(dst []byte, tag int, val string) []byte {
	dst = appendTag(dst, tag)
	dst = append(dst, val...)
	return append(dst, 0x01)
}

// AppendInt appends tag=value␁ for an integer value.
func AppendInt(dst []byte, tag int, val int64) []byte {
	dst = appendTag(dst, tag)
	dst = strconv.AppendInt(dst, val, 10)
	return append(dst, 0x01)
}

// AppendMessage appends one whole message: the standard header (8, 9, 35,
// 49, 56, 34, 52, and 43/122 when origSendingTime is given, for a resend),
// body (complete tag=value␁ fields), and the CheckSum.
func AppendMessage(dst []byte, h *Header, msgType string, seq uint64, sendingTime time.Time, origSendingTime []byte, body []byte) []byte {
	return appendMessageRouted(dst, h, msgType, seq, sendingTime, origSendingTime, nil, body)
}

// appendMessageRouted is AppendMessage with route (complete tag=value␁
// header fields: DeliverToCompID and the like) after the standard header.
func appendMessageRouted(dst []byte, h *Header, msgType string, seq uint64, sendingTime time.Time, origSendingTime, route, body []byte) []byte {
	start := len(dst)
	// BodyLength is known before anything is written (every part's length
	// is), so the header goes out in order, without moving the message.
	tsLen := len("YYYYMMDD-HH:MM:SS.sss")
	if microsAllowed(h.BeginString) {
		tsLen += 3
	}
	bodyLen := len("35=\x01") + len(msgType) + len("49=\x01") + len(h.SenderCompID) + len("56=\x01") + len(h.TargetCompID) +
		len("34=\x01") + uintDigits(seq) + len("52=\x01") + tsLen + len(route) + len(body)
	if origSendingTime != nil {
		bodyLen += len("43=Y\x01122=\x01") + len(origSendingTime)
	}
	dst = append(dst, "8="...)
	dst = append(dst, h.BeginString...)
	dst = append(dst, "\x019="...)
	dst = strconv.AppendInt(dst, int64(bodyLen), 10)
	dst = append(dst, 0x01)
	dst = AppendString(dst, 35, msgType)
	dst = AppendString(dst, 49, h.SenderCompID)
	dst = AppendString(dst, 56, h.TargetCompID)
	dst = strconv.AppendUint(append(dst, "34="...), seq, 10)
	dst = append(dst, "\x0152="...)
	dst = appendSessionTimestamp(dst, h.BeginString, sendingTime)
	dst = append(dst, 0x01)
	if origSendingTime != nil {
		dst = append(dst, "43=Y\x01"...)
		dst = AppendField(dst, 122, origSendingTime)
	}
	// The routing fields of the message answered, reversed (third-party
	// addressing), are header fields too.
	dst = append(dst, route...)
	dst = append(dst, body...)
	sum := byteSum(dst[start:]) % 256
	return append(dst, '1', '0', '=', byte('0'+sum/100), byte('0'+sum/10%10), byte('0'+sum%10), 0x01)
}

// bodyOf returns the fields of a message built by AppendMessage after its
// standard header, up to the CheckSum.
func bodyOf(msg []byte) (msgType, sendingTime, body []byte) {
	rest := msg
	for len(rest) > 0 {
		eq := bytes.IndexByte(rest, '=')
		soh := bytes.IndexByte(rest, 0x01)
		if eq <= 0 || soh < eq {
			break
		}
		tag, _ := strconv.Atoi(string(rest[:eq]))
		switch tag {
		case 8, 9, 49, 56, 34, 43, 122:
		case 35:
			msgType = rest[eq+1 : soh]
		case 52:
			sendingTime = rest[eq+1 : soh]
		default:
			end := len(msg) - len("10=000\x01")
			off := len(msg) - len(rest)
			return msgType, sendingTime, msg[off:end]
		}
		rest = rest[soh+1:]
	}
	return msgType, sendingTime, nil
}
