package gateway

// sortFields puts the fields of f.b[start:] in ascending tag order, equal
// tags keeping their order: the order QuickFIX/Go writes a message body in.
// The gateway's own rejects, mass-status rejects and TradingSessionStatus
// were built with QuickFIX/Go's message type before they were built in a
// fixBody like the reports, and keep the field order brokers have seen
// from them since. Cost: one pass to find the fields, an insertion sort of
// them (a reject has at most about 20) and one copy through the free end
// of f.b; no allocation once f.b has grown.
func (f *fixBody) sortFields(start int) {
	type span struct{ tag, from, to int }
	var arr [32]span
	spans := arr[:0]
	for i := start; i < len(f.b); {
		t, j := 0, i
		for j < len(f.b) && f.b[j] != '=' {
			t = t*10 + int(f.b[j]-'0')
			j++
		}
		for j < len(f.b) && f.b[j] != 0x01 {
			j++
		}
		spans = append(spans, span{t, i, min(j+1, len(f.b))})
		i = j + 1
	}
	for i := 1; i < len(spans); i++ {
		for j := i; j > 0 && spans[j].tag < spans[j-1].tag; j-- {
			spans[j], spans[j-1] = spans[j-1], spans[j]
		}
	}
	end := len(f.b)
	for _, s := range spans {
		f.b = append(f.b, f.b[s.from:s.to]...)
	}
	copy(f.b[start:], f.b[end:])
	f.b = f.b[:end]
}
