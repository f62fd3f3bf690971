package fixsession

// Checking a message against its version's data dictionary: the
// session-level Reject reasons (SessionRejectReason, 373) of FIX 4.2/4.4
// that a dictionary decides. It walks the fields once, with array and map
// look-ups and a bitset on the stack: no allocation.
//
// How strict, by message:
//   - administrative messages (Heartbeat, TestRequest, ResendRequest,
//     Reject, SequenceReset, Logout): every check, including undefined
//     tags (0), tags not defined for the message type (2) and missing
//     required fields (1);
//   - Logon: the same, except that tags the dictionary does not define for
//     it pass (FIX 4.2's Logon has no Username 553 / Password 554, which
//     the exchange reads);
//   - application messages: header fields (required, order: 14), tag
//     numbers below 5000 that the version does not define (0), repeated
//     tags outside repeating groups (13), values: enumerations (5) and data
//     formats (6), repeating groups: the count (16) and the first field of
//     each entry (15). Tags from 5000 on are user-defined (FIX reserves
//     them for bilateral use): they pass to the application, which reads
//     the ones it knows. Required body fields and tags defined elsewhere
//     than for the message type are left to the application, which answers
//     them with its own business reject naming the field.

// userTagMin is the first user-defined tag number.
const userTagMin = 5000

// invalid is why a message fails its dictionary: a SessionRejectReason, the
// tag concerned (0: none) and the Text of the Reject.
type invalid struct {
	reason int
	tag    int
	text   string
}

// Texts of the session-level Rejects, as FIX names the reasons.
const (
	txtInvalidTag      = "Invalid tag number"
	txtRequiredMissing = "Required tag missing"
	txtNotForMsgType   = "Tag not defined for this message type"
	txtOutOfRange      = "Value is incorrect (out of range) for this tag"
	txtDataFormat      = "Incorrect data format for value"
	txtInvalidMsgType  = "Invalid MsgType"
	txtRepeated        = "Tag appears more than once"
	txtOutOfOrder      = "Tag specified out of required order"
	txtGroupOrder      = "Repeating group fields out of order"
	txtGroupCount      = "Incorrect NumInGroup count for repeating group"
	txtSendingTime     = "SendingTime accuracy problem"
	txtCompID          = "CompID problem"
)

// validate checks a framed message's fields (8 and 9 first, 10 last).
func (d *dictionary) validate(fs []Field) (invalid, bool) {
	mt, _ := Get(fs, 35)
	var md *msgDef
	if len(mt) == 1 && mt[0] < 128 {
		md = d.msgs1[mt[0]]
	} else {
		md = d.msgs[string(mt)]
	}
	if md == nil {
		return invalid{11, 35, txtInvalidMsgType}, false
	}
	strict := md.admin && string(mt) != "A"
	var seen [16]uint64 // tags below 1024 met outside repeating groups
	inBody := false
	end := len(fs) - 1
	for i := 2; i < end; i++ {
		t, v := fs[i].Tag, fs[i].Val
		k := kindUndefined
		if t < len(d.kind) {
			k = d.kind[t]
		}
		if k == kindUndefined {
			if strict || t < userTagMin && string(mt) != "A" {
				return invalid{0, t, txtInvalidTag}, false
			}
			continue
		}
		hdr := d.header.has(t)
		switch {
		case hdr:
			if inBody {
				return invalid{14, t, txtOutOfOrder}, false
			}
		case d.trailer.has(t):
		default:
			inBody = true
			if strict && !md.tags.has(t) {
				return invalid{2, t, txtNotForMsgType}, false
			}
		}
		if t < 1024 {
			if seen[t/64]&(1<<(uint(t)%64)) != 0 {
				return invalid{13, t, txtRepeated}, false
			}
			seen[t/64] |= 1 << (uint(t) % 64)
		}
		if r, ok := d.checkValue(t, k, v); !ok {
			return r, false
		}
		var g *groupDef
		if k == kindUint && d.numInGroup.has(t) { // a map look-up only for a NumInGroup
			if hdr {
				g = d.hdrGrp[t]
			} else {
				g = md.groups[t]
			}
		}
		if g != nil {
			j, r, ok := d.checkGroup(fs, i, end, g)
			if !ok {
				return r, false
			}
			i = j - 1
		}
	}
	for _, t := range d.hdrReq {
		if seen[t/64]&(1<<(uint(t)%64)) == 0 {
			if t == 34 && string(mt) == "4" {
				if gf, _ := Get(fs, 123); string(gf) != "Y" {
					continue // a SequenceReset-Reset's MsgSeqNum is ignored
				}
			}
			return invalid{1, t, txtRequiredMissing}, false
		}
	}
	if md.admin {
		for _, t := range md.required {
			if t < 1024 && seen[t/64]&(1<<(uint(t)%64)) == 0 {
				return invalid{1, t, txtRequiredMissing}, false
			}
		}
	}
	return invalid{}, true
}

// checkGroup checks the entries of the group whose NumInGroup is fs[i] and
// returns the index of the first field after them.
func (d *dictionary) checkGroup(fs []Field, i, end int, g *groupDef) (int, invalid, bool) {
	n, _ := ParseUint(fs[i].Val) // its format is checked already
	j := i + 1
	if n > 0 && (j >= end || fs[j].Tag != g.delim) {
		if j < end && g.members.has(fs[j].Tag) {
			return 0, invalid{15, fs[j].Tag, txtGroupOrder}, false
		}
		return 0, invalid{16, fs[i].Tag, txtGroupCount}, false
	}
	count := uint64(0)
	for j < end && g.members.has(fs[j].Tag) {
		t := fs[j].Tag
		if t == g.delim {
			count++
		}
		if r, ok := d.checkValue(t, d.kind[t], fs[j].Val); !ok {
			return 0, r, false
		}
		if ng := g.nested[t]; ng != nil {
			jj, r, ok := d.checkGroup(fs, j, end, ng)
			if !ok {
				return 0, r, false
			}
			j = jj
			continue
		}
		j++
	}
	if count != n {
		return 0, invalid{16, fs[i].Tag, txtGroupCount}, false
	}
	return j, invalid{}, true
}

// checkValue checks a value's data format, then its enumeration.
func (d *dictionary) checkValue(t int, k fieldKind, v []byte) (invalid, bool) {
	if !formatOK(k, v) {
		return invalid{6, t, txtDataFormat}, false
	}
	if k == kindChar {
		if set := d.charEnum[t]; set != nil && set[v[0]/64]&(1<<(v[0]%64)) == 0 {
			return invalid{5, t, txtOutOfRange}, false
		}
		return invalid{}, true
	}
	e := d.enum[t]
	if e == nil {
		return invalid{}, true
	}
	if k == kindMulti {
		for len(v) > 0 {
			w := v
			for i, c := range v {
				if c == ' ' {
					w = v[:i]
					break
				}
			}
			if _, ok := e[string(w)]; !ok {
				return invalid{5, t, txtOutOfRange}, false
			}
			if len(w) == len(v) {
				break
			}
			v = v[len(w)+1:]
		}
		return invalid{}, true
	}
	if _, ok := e[string(v)]; !ok {
		return invalid{5, t, txtOutOfRange}, false
	}
	return invalid{}, true
}

func formatOK(k fieldKind, v []byte) bool {
	switch k {
	case kindInt, kindUint:
		if k == kindInt && len(v) > 1 && v[0] == '-' {
			v = v[1:]
		}
		return allDigits(v)
	case kindFloat:
		if len(v) > 1 && v[0] == '-' {
			v = v[1:]
		}
		digits, dots := 0, 0
		for _, c := range v {
			switch {
			case c >= '0' && c <= '9':
				digits++
			case c == '.':
				dots++
			default:
				return false
			}
		}
		return digits > 0 && dots <= 1
	case kindChar:
		return len(v) == 1
	case kindBool:
		return len(v) == 1 && (v[0] == 'Y' || v[0] == 'N')
	case kindTimestamp:
		return timestampOK(v)
	case kindDate:
		return len(v) == 8 && allDigits(v)
	case kindTimeOnly:
		return len(v) >= 8 && v[2] == ':' && v[5] == ':' && allDigits(v[0:2]) && allDigits(v[3:5]) && allDigits(v[6:8])
	}
	return true
}

func allDigits(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// timestampOK checks a UTCTimestamp's syntax and ranges (what
// ParseTimestamp accepts) without building a time.Time.
func timestampOK(v []byte) bool {
	if len(v) < 17 || len(v) == 18 || len(v) > 27 || v[8] != '-' || v[11] != ':' || v[14] != ':' {
		return false
	}
	if !allDigits(v[0:8]) || !allDigits(v[9:11]) || !allDigits(v[12:14]) || !allDigits(v[15:17]) {
		return false
	}
	two := func(b []byte) int { return int(b[0]-'0')*10 + int(b[1]-'0') }
	if mo, d := two(v[4:6]), two(v[6:8]); mo < 1 || mo > 12 || d < 1 || d > 31 {
		return false
	}
	if two(v[9:11]) > 23 || two(v[12:14]) > 59 || two(v[15:17]) > 60 {
		return false
	}
	return len(v) == 17 || v[17] == '.' && allDigits(v[18:])
}
