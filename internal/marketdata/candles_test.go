package marketdata

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/matching"
)

const t0 = int64(1_700_000_000) * 1e9 // November 2023, not on an hour boundary

// trade builds an EvTrade at time t (ns) for symbol 1.
func trade(seq uint64, t int64, price, qty int64) matching.Event {
	return matching.Event{Kind: matching.EvTrade, OutSeq: seq, TimeNs: t, Symbol: 1, Side: matching.Buy,
		OrderID: matching.OrderID(1000 + seq), MakerOrderID: 1, MakerLeaves: 100, Price: price, Qty: qty, MatchID: seq}
}

func TestCandleArithmetic(t *testing.T) {
	hour := int64(time.Hour)
	base := (t0/hour + 1) * hour // a whole hour, so every interval starts here
	sec := int64(time.Second)
	p := newTestPublisher(t, Config{})
	evs := []matching.Event{
		trade(1, base, 10000, 2),             // 1s bucket base
		trade(2, base+sec-1, 10010, 3),       // last ns of the same second
		trade(3, base+sec, 9990, 5),          // next second exactly
		trade(4, base+5*sec+sec/2, 10020, 1), // seconds 2..4 empty
		trade(5, base+60*sec, 10000, 4),      // next minute
		trade(6, base+5*60*sec, 10100, 10),   // next 5 minutes
		trade(7, base+hour+7*sec, 10050, 1),  // next hour
		trade(8, base-1, 9000, 1),            // time running backwards folds into the newest candle
	}
	for i := range evs {
		p.Apply(&evs[i])
	}
	all := func(iv Interval) []Candle { return p.Candles(1, iv, -1<<63, 1<<63-1, nil) }

	s1 := all(Interval1s)
	want1 := []Candle{
		{StartNs: base, Open: 10000, High: 10010, Low: 10000, Close: 10010, Volume: 5, Notional: 10000*2 + 10010*3, Trades: 2},
		{StartNs: base + sec, Open: 9990, High: 9990, Low: 9990, Close: 9990, Volume: 5, Notional: 9990 * 5, Trades: 1},
		{StartNs: base + 5*sec, Open: 10020, High: 10020, Low: 10020, Close: 10020, Volume: 1, Notional: 10020, Trades: 1},
		{StartNs: base + 60*sec, Open: 10000, High: 10000, Low: 10000, Close: 10000, Volume: 4, Notional: 40000, Trades: 1},
		{StartNs: base + 300*sec, Open: 10100, High: 10100, Low: 10100, Close: 10100, Volume: 10, Notional: 101000, Trades: 1},
		{StartNs: base + hour + 7*sec, Open: 10050, High: 10050, Low: 9000, Close: 9000, Volume: 2, Notional: 10050 + 9000, Trades: 2},
	}
	if len(s1) != len(want1) {
		t.Fatalf("1s candles: got %d %+v, want %d", len(s1), s1, len(want1))
	}
	for i := range want1 {
		if s1[i] != want1[i] {
			t.Errorf("1s candle %d:\n got %+v\nwant %+v", i, s1[i], want1[i])
		}
	}

	m1 := all(Interval1m)
	if len(m1) != 4 || m1[0].StartNs != base || m1[0].Trades != 4 || m1[0].Volume != 11 ||
		m1[0].High != 10020 || m1[0].Low != 9990 || m1[0].Close != 10020 || m1[1].StartNs != base+60*sec {
		t.Errorf("1m candles %+v", m1)
	}
	m5 := all(Interval5m)
	if len(m5) != 3 || m5[0].Trades != 5 || m5[1].StartNs != base+300*sec || m5[2].StartNs != base+hour {
		t.Errorf("5m candles %+v", m5)
	}
	h1 := all(Interval1h)
	if len(h1) != 2 || h1[0].Trades != 6 || h1[0].Volume != 25 || h1[0].Open != 10000 || h1[0].Close != 10100 {
		t.Errorf("1h candles %+v", h1)
	}

	// Range query: [from, to] on candle start.
	if got := p.Candles(1, Interval1s, base+sec, base+60*sec, nil); len(got) != 3 {
		t.Errorf("range query: %d candles, want 3", len(got))
	}

	// VWAP of the first second: (100.00*2 + 100.10*3)/5 = 100.06.
	sym := p.sym(1)
	if v := sym.px.vwap(s1[0].Notional, s1[0].Volume); v != "100.06" {
		t.Errorf("vwap %q, want 100.06", v)
	}
	if v := sym.px.vwap(10001, 3); v != "33.336667" {
		t.Errorf("vwap rounding %q, want 33.336667", v)
	}

	st := p.Stats(1)
	want := Stats{Open: 10000, High: 10100, Low: 9000, Last: 9000, Volume: 27, Trades: 8,
		Notional: 20000 + 30030 + 49950 + 10020 + 40000 + 101000 + 10050 + 9000}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}

	var buf bytes.Buffer
	if err := p.WriteCandlesCSV(&buf, Interval1s); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 7 || lines[1] != "AAPL,1s,"+time.Unix(0, base).UTC().Format(time.RFC3339)+",100.00,100.10,100.00,100.10,5,100.06,2" {
		t.Errorf("candles CSV:\n%s", buf.String())
	}
	buf.Reset()
	if err := p.WriteTradesCSV(&buf); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 9 || !strings.HasSuffix(lines[1], ",100.00,2,buy,1001,1") {
		t.Errorf("trades CSV:\n%s", buf.String())
	}
}

func TestCandleRingBounded(t *testing.T) {
	p := newTestPublisher(t, Config{CandlesMax: 3, TradesMax: 2})
	for i := int64(0); i < 10; i++ {
		ev := trade(uint64(i+1), i*int64(time.Second), 100+i, 1)
		p.Apply(&ev)
	}
	cs := p.Candles(1, Interval1s, -1<<63, 1<<63-1, nil)
	if len(cs) != 3 || cs[0].Open != 107 || cs[2].Open != 109 {
		t.Fatalf("bounded candles %+v", cs)
	}
	if ts := p.Trades(1, 0, nil); len(ts) != 2 || ts[0].Price != 108 || ts[1].Price != 109 {
		t.Fatalf("bounded tape %+v", ts)
	}
	if ts := p.Trades(1, 1, nil); len(ts) != 1 || ts[0].Price != 109 {
		t.Fatalf("tape limit %+v", ts)
	}
}

func TestNegativeTimeBuckets(t *testing.T) {
	s := newSeries(time.Second, 4)
	if b := s.bucket(-1); b != -int64(time.Second) {
		t.Fatalf("bucket(-1) = %d", b)
	}
}

func TestScaleFormatting(t *testing.T) {
	for _, c := range []struct {
		unit string
		n    int64
		want string
	}{
		{"0.01", 10050, "100.50"}, {"0.01", 5, "0.05"}, {"0.01", -5, "-0.05"}, {"0.01", 0, "0.00"},
		{"0.05", 3, "0.15"}, {"10", 7, "70"}, {"0.001", 1234, "1.234"}, {"0.5", 3, "1.5"},
		{"1", 42, "42"}, {"0.010", 7, "0.07"}, {"100", 3, "300"},
		{"0.01", 1 << 62, "46116860184273879.04"},
	} {
		sc := newScale(mustDec(c.unit))
		if got := sc.string(c.n); got != c.want {
			t.Errorf("%s × %d = %q, want %q", c.unit, c.n, got, c.want)
		}
	}
}

func TestVWAPFormatting(t *testing.T) {
	for _, c := range []struct {
		unit             string
		notional, volume int64
		want             string
	}{
		{"0.01", 10000, 1, "100.00"}, {"0.01", 30020, 3, "100.066667"}, {"1", 10, 4, "2.5"},
		{"1", 12, 4, "3"}, {"1", 10, 3, "3.3333"}, {"0.5", 3, 1, "1.5"}, {"0.01", 0, 0, ""},
	} {
		sc := newScale(mustDec(c.unit))
		if got := sc.vwap(c.notional, c.volume); got != c.want {
			t.Errorf("vwap(%s, %d/%d) = %q, want %q", c.unit, c.notional, c.volume, got, c.want)
		}
	}
}
