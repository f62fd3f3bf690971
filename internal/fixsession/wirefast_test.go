package fixsession

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestByteSum: the word-at-a-time sum equals the plain one, for every
// length and offset around the word and block boundaries, with bytes that
// would overflow a lane if the blocks were too long.
func TestByteSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 8*600+17)
	for i := range buf {
		buf[i] = byte(rng.UintN(256))
		if i%3 == 0 {
			buf[i] = 0xff
		}
	}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 128 * 8, 128*8 + 1, 129 * 8, 255 * 8, 256 * 8, 510*8 + 3, len(buf) - 3} {
		for off := 0; off < 3; off++ {
			b := buf[off : off+n]
			want := 0
			for _, c := range b {
				want += int(c)
			}
			if got := byteSum(b); got != want {
				t.Fatalf("len %d off %d: %d, want %d", n, off, got, want)
			}
		}
	}
}

// TestAppendTag: the digits of every tag as strconv writes them.
func TestAppendTag(t *testing.T) {
	for _, tag := range []int{0, 1, 9, 10, 35, 99, 100, 150, 999, 1000, 7928, 9999, 10000, 123456, -1} {
		want := strconv.Itoa(tag) + "="
		if got := string(appendTag(nil, tag)); got != want {
			t.Fatalf("tag %d: %q, want %q", tag, got, want)
		}
	}
}

// TestAppendTimestampCached: timestamps from the per-second cache equal
// time's own formatting, across second, day and year boundaries and in
// any order.
func TestAppendTimestampCached(t *testing.T) {
	base := time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		tm := base.Add(time.Duration(rng.Int64N(int64(4 * time.Second))))
		if i%7 == 0 {
			tm = tm.In(time.FixedZone("X", 3600)) // not UTC: formatted in UTC all the same
		}
		if got, want := string(AppendTimestamp(nil, tm)), tm.UTC().Format("20060102-15:04:05.000000"); got != want {
			t.Fatalf("%v: %q, want %q", tm, got, want)
		}
		if got, want := string(appendTimestampMillis(nil, tm)), tm.UTC().Format("20060102-15:04:05.000"); got != want {
			t.Fatalf("%v: %q, want %q", tm, got, want)
		}
	}
}

// TestAppendMessageFrames: a message built with its BodyLength computed up
// front frames and checks out, for both timestamp widths, with and without
// a resend's fields and routing.
func TestAppendMessageFrames(t *testing.T) {
	for _, begin := range []string{"FIX.4.4", "FIX.4.2", "FIXT.1.1"} {
		h := Header{BeginString: begin, SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}
		for _, seq := range []uint64{1, 9, 10, 12345, 1<<64 - 1} {
			for _, orig := range [][]byte{nil, []byte("20261203-10:00:00.000")} {
				m := appendMessageRouted(nil, &h, "8", seq, time.Now(), orig, []byte("128=CLIENT\x01"), []byte("11=A\x0117=5\x01"))
				n, err := Frame(m)
				if err != nil || n != len(m) || !checksumOK(m) {
					t.Fatalf("%s seq %d: %q: framed %d of %d, %v, checksum %v", begin, seq, m, n, len(m), err, checksumOK(m))
				}
			}
		}
	}
}

// BenchmarkAppendMessage measures one ExecutionReport-sized message's
// header, timestamp and checksum.
func BenchmarkAppendMessage(b *testing.B) {
	h := Header{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}
	body := []byte("37=12345\x0111=order-123456\x0117=99\x01150=F\x0139=1\x0155=AAPL\x0154=1\x0140=2\x0144=190.25\x0159=0\x0138=100\x0114=40\x01151=60\x016=190.25\x0131=190.25\x0132=40\x0112=3.81\x0113=3\x0160=20261203-10:00:00.123456\x011=ALPHA-1\x01")
	var out []byte
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		out = AppendMessage(out[:0], &h, "8", 123456, now, nil, body)
	}
}
