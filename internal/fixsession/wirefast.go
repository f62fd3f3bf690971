package fixsession

import (
	"encoding/binary"
	"strconv"
	"sync/atomic"
	"time"
)

// The formatting helpers every outbound message and every checksum goes
// through, written for their cost: a FIX message of a few hundred bytes
// is a few dozen of these calls, on the report goroutine for every
// execution report.

// byteSum is the sum of b's bytes (the CheckSum's), eight at a time: the
// bytes of a word are added pairwise into 16-bit lanes (at most 510 a
// word), which cannot carry over for 128 words, then the lanes are summed. About four times fewer
// operations than a loop over the bytes.
func byteSum(b []byte) int {
	const lanes = 0x00ff00ff00ff00ff
	sum := 0
	for len(b) >= 8 {
		n := min(len(b)/8, 128)
		var acc uint64
		for i := 0; i < n; i++ {
			w := binary.LittleEndian.Uint64(b[i*8:])
			acc += w&lanes + w>>8&lanes
		}
		b = b[n*8:]
		acc = acc&0x0000ffff0000ffff + acc>>16&0x0000ffff0000ffff
		sum += int(acc&0xffffffff + acc>>32)
	}
	for _, c := range b {
		sum += int(c)
	}
	return sum
}

// appendTag appends tag= (tags of up to four digits without strconv).
func appendTag(dst []byte, tag int) []byte {
	switch {
	case tag >= 0 && tag < 10:
		return append(dst, byte('0'+tag), '=')
	case tag >= 10 && tag < 100:
		return append(dst, byte('0'+tag/10), byte('0'+tag%10), '=')
	case tag >= 100 && tag < 1000:
		return append(dst, byte('0'+tag/100), byte('0'+tag/10%10), byte('0'+tag%10), '=')
	case tag >= 1000 && tag < 10000:
		return append(dst, byte('0'+tag/1000), byte('0'+tag/100%10), byte('0'+tag/10%10), byte('0'+tag%10), '=')
	}
	return append(strconv.AppendInt(dst, int64(tag), 10), '=')
}

// uintDigits is the number of decimal digits of v.
func uintDigits(v uint64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}

// tsSecond is a second's "YYYYMMDD-HH:MM:SS", formatted once and shared:
// the timestamps of a busy second differ only in their fraction.
type tsSecond struct {
	unix int64
	text [17]byte
}

// tsCache holds the last seconds formatted, by second modulo its size: a
// message's SendingTime and the TransactTime it reports are usually in the
// same second or adjacent ones.
var tsCache [4]atomic.Pointer[tsSecond]

// appendSecond appends t's (UTC) "YYYYMMDD-HH:MM:SS" from the cache when
// t's second is in it. Safe for concurrent use; a second not in the cache
// costs its formatting and one small allocation.
func appendSecond(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	slot := &tsCache[uint64(sec)%uint64(len(tsCache))]
	if c := slot.Load(); c != nil && c.unix == sec {
		return append(dst, c.text[:]...)
	}
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	c := &tsSecond{unix: sec}
	b := c.text[:0]
	b = appendDigits(b, y, 4)
	b = appendDigits(b, int(mo), 2)
	b = appendDigits(b, d, 2)
	b = append(b, '-')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	slot.Store(c)
	return append(dst, b...)
}
