package marketdata

import "github.com/exchange-sim/exchange/matching"

import "time"

// Interval is a candlestick width.
type Interval uint8

const (
	Interval1s Interval = iota
	Interval1m
	Interval5m
	Interval1h
	intervalCount
)

var intervalNames = [intervalCount]string{"1s", "1m", "5m", "1h"}
var intervalDurations = [intervalCount]time.Duration{time.Second, time.Minute, 5 * time.Minute, time.Hour}

// ParseInterval reads "1s", "1m", "5m" or "1h".
func ParseInterval(s string) (Interval, bool) {
	for i, n := range intervalNames {
		if n == s {
			return Interval(i), true
		}
	}
	return 0, false
}

func (iv Interval) String() string {
	if iv < intervalCount {
		return intervalNames[iv]
	}
	return "invalid"
}

// Duration is the interval's width.
func (iv Interval) Duration() time.Duration { return intervalDurations[iv] }

// Candle is one interval of trading, in ticks and lots. Only intervals with at
// least one trade have a candle: an empty interval is absent, not a flat bar.
type Candle struct {
	// StartNs is the interval's start, Unix nanoseconds of engine time (the
	// trades' TimeNs), a whole multiple of the interval.
	StartNs                int64
	Open, High, Low, Close int64
	// Volume is the lots traded; Notional the sum of price × qty (ticks × lots),
	// so VWAP = Notional / Volume ticks.
	Volume, Notional int64
	Trades           int64
}

// series is a bounded ring of one interval's candles, oldest first, growing
// up to max as candles come.
type series struct {
	widthNs int64
	buf     []Candle
	max     int
	start   int // index of the oldest candle
	n       int
}

func newSeries(width time.Duration, max int) series {
	return series{widthNs: int64(width), buf: make([]Candle, 0, min(max, 64)), max: max}
}

// bucket is the start of the interval holding t (floor, also for t < 0).
func (s *series) bucket(t int64) int64 {
	r := t % s.widthNs
	if r < 0 {
		r += s.widthNs
	}
	return t - r
}

func (s *series) at(i int) *Candle { return &s.buf[(s.start+i)%len(s.buf)] }

// last returns the newest candle or nil.
func (s *series) last() *Candle {
	if s.n == 0 {
		return nil
	}
	return s.at(s.n - 1)
}

// add folds a trade into its interval's candle and returns that candle. Time
// that runs backwards (it should not: the sequencer stamps in order) folds into
// the newest candle rather than rewriting history. The oldest candle is dropped
// when the ring is full. Cost: O(1); it allocates only while the ring grows.
func (s *series) add(timeNs, price, qty int64) *Candle {
	start := s.bucket(timeNs)
	c := s.last()
	if c == nil || start > c.StartNs {
		switch {
		case len(s.buf) < s.max:
			s.buf = append(s.buf, Candle{})
			s.n++
		default:
			s.start = (s.start + 1) % len(s.buf)
		}
		c = s.at(s.n - 1)
		*c = Candle{StartNs: start, Open: price, High: price, Low: price}
	}
	c.High = max(c.High, price)
	c.Low = min(c.Low, price)
	c.Close = price
	c.Volume += qty
	c.Notional += price * qty
	c.Trades++
	return c
}

// appendRange appends the candles with fromNs <= StartNs <= toNs, oldest first.
func (s *series) appendRange(dst []Candle, fromNs, toNs int64) []Candle {
	for i := 0; i < s.n; i++ {
		c := s.at(i)
		if c.StartNs >= fromNs && c.StartNs <= toNs {
			dst = append(dst, *c)
		}
	}
	return dst
}

// Stats are a symbol's session statistics since the publisher started (or the
// replay began). Prices are meaningless while Trades is 0.
type Stats struct {
	Open, High, Low, Last int64
	Volume, Notional      int64
	Trades                int64
	Halted                bool
	HaltReason            string // an operator's reason for the halt (SetHaltReason)

	// The trading day: the symbol's phase; during a call the indicative
	// uncross (price 0: none) and its imbalance; the official opening and
	// closing prices set by the auctions (0: not yet).
	Phase                     matching.Phase
	IndPrice, IndQty, ImbQty  int64
	ImbSide                   matching.Side
	OfficialOpen, OfficialEnd int64
	// Interruptions counts the volatility auctions the symbol entered.
	Interruptions int64
}

func (st *Stats) add(price, qty int64) {
	if st.Trades == 0 {
		st.Open, st.High, st.Low = price, price, price
	}
	st.High = max(st.High, price)
	st.Low = min(st.Low, price)
	st.Last = price
	st.Volume += qty
	st.Notional += price * qty
	st.Trades++
}
