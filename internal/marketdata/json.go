package marketdata

import (
	"strconv"
)

// The JSON forms are written by hand: one encoder serves HTTP replies and
// WebSocket messages, prices and quantities are decimal strings, and an update
// costs one pass over a buffer.

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func appendDec(b []byte, sc *scale, n int64) []byte {
	b = append(b, '"')
	b = sc.appendValue(b, n)
	return append(b, '"')
}

func appendLevelJSON(b []byte, s *symState, l Level) []byte {
	b = append(b, `{"price":`...)
	b = appendDec(b, &s.px, l.Price)
	b = append(b, `,"qty":`...)
	b = appendDec(b, &s.qty, l.Qty)
	b = append(b, `,"orders":`...)
	b = strconv.AppendInt(b, int64(l.Orders), 10)
	return append(b, '}')
}

func appendLevelsJSON(b []byte, s *symState, ls []Level) []byte {
	b = append(b, '[')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLevelJSON(b, s, l)
	}
	return append(b, ']')
}

func appendOrdersJSON(b []byte, s *symState, os []Order) []byte {
	b = append(b, '[')
	for i, o := range os {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendUint(b, uint64(o.ID), 10)
		b = append(b, `,"price":`...)
		b = appendDec(b, &s.px, o.Price)
		b = append(b, `,"qty":`...)
		b = appendDec(b, &s.qty, o.Qty)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendTradesJSON(b []byte, s *symState, ts []Trade) []byte {
	b = append(b, '[')
	for i, t := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendUint(b, t.MatchID, 10)
		b = append(b, `,"time_ns":`...)
		b = strconv.AppendInt(b, t.TimeNs, 10)
		b = append(b, `,"price":`...)
		b = appendDec(b, &s.px, t.Price)
		b = append(b, `,"qty":`...)
		b = appendDec(b, &s.qty, t.Qty)
		b = append(b, `,"side":"`...)
		b = append(b, t.TakerSide.String()...)
		b = append(b, '"')
		if t.Auction {
			b = append(b, `,"auction":true`...)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendCandlesJSON(b []byte, s *symState, cs []Candle) []byte {
	b = append(b, '[')
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"time":`...)
		b = strconv.AppendInt(b, c.StartNs/1e9, 10)
		b = append(b, `,"open":`...)
		b = appendDec(b, &s.px, c.Open)
		b = append(b, `,"high":`...)
		b = appendDec(b, &s.px, c.High)
		b = append(b, `,"low":`...)
		b = appendDec(b, &s.px, c.Low)
		b = append(b, `,"close":`...)
		b = appendDec(b, &s.px, c.Close)
		b = append(b, `,"volume":`...)
		b = appendDec(b, &s.qty, c.Volume)
		b = append(b, `,"vwap":`...)
		b = appendJSONString(b, s.px.vwap(c.Notional, c.Volume))
		b = append(b, `,"trades":`...)
		b = strconv.AppendInt(b, c.Trades, 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendStatsJSON(b []byte, s *symState, st Stats) []byte {
	b = append(b, `{"symbol":`...)
	b = appendJSONString(b, s.info.Name)
	for _, f := range []struct {
		name string
		v    int64
	}{{"open", st.Open}, {"high", st.High}, {"low", st.Low}, {"last", st.Last}} {
		b = append(b, `,"`...)
		b = append(b, f.name...)
		b = append(b, `":`...)
		if st.Trades == 0 {
			b = append(b, "null"...)
		} else {
			b = appendDec(b, &s.px, f.v)
		}
	}
	b = append(b, `,"volume":`...)
	b = appendDec(b, &s.qty, st.Volume)
	b = append(b, `,"vwap":`...)
	if st.Trades == 0 {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, s.px.vwap(st.Notional, st.Volume))
	}
	b = append(b, `,"trades":`...)
	b = strconv.AppendInt(b, st.Trades, 10)
	b = append(b, `,"halted":`...)
	b = strconv.AppendBool(b, st.Halted)
	if st.Halted && st.HaltReason != "" {
		b = append(b, `,"halt_reason":`...)
		b = appendJSONString(b, st.HaltReason)
	}
	b = append(b, `,"phase":"`...)
	b = append(b, st.Phase.String()...)
	b = append(b, '"')
	for _, f := range []struct {
		name string
		v    int64
	}{{"indicative_price", st.IndPrice}, {"official_open", st.OfficialOpen}, {"official_close", st.OfficialEnd}} {
		b = append(b, `,"`...)
		b = append(b, f.name...)
		b = append(b, `":`...)
		if f.v == 0 {
			b = append(b, "null"...)
		} else {
			b = appendDec(b, &s.px, f.v)
		}
	}
	b = append(b, `,"indicative_qty":`...)
	b = appendDec(b, &s.qty, st.IndQty)
	b = append(b, `,"imbalance_qty":`...)
	b = appendDec(b, &s.qty, st.ImbQty)
	if st.ImbSide != 0 {
		b = append(b, `,"imbalance_side":"`...)
		b = append(b, st.ImbSide.String()...)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendHeadJSON opens a feed message: {"type":..,"symbol":..,"seq":..
func appendHeadJSON(b []byte, typ string, s *symState, seq uint64, snap bool) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","symbol":`...)
	b = appendJSONString(b, s.info.Name)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	if snap {
		b = append(b, `,"snapshot":true`...)
	}
	return b
}

// appendFeedJSON writes one WebSocket message: a snapshot when snap is set,
// else an update (book levels are absolute; qty "0" removes a level).
func appendFeedJSON(b []byte, ch channel, s *symState, seq uint64, snap bool,
	iv Interval, bids, asks []Level, trades []Trade, st Stats, candles []Candle) []byte {
	switch ch {
	case chBook:
		b = appendHeadJSON(b, "book", s, seq, snap)
		b = append(b, `,"bids":`...)
		b = appendLevelsJSON(b, s, bids)
		b = append(b, `,"asks":`...)
		b = appendLevelsJSON(b, s, asks)
	case chTrades:
		b = appendHeadJSON(b, "trades", s, seq, snap)
		b = append(b, `,"trades":`...)
		b = appendTradesJSON(b, s, trades)
		b = append(b, `,"stats":`...)
		b = appendStatsJSON(b, s, st)
	case chCandles:
		b = appendHeadJSON(b, "candles", s, seq, snap)
		b = append(b, `,"interval":"`...)
		b = append(b, iv.String()...)
		b = append(b, `","candles":`...)
		b = appendCandlesJSON(b, s, candles)
	}
	return append(b, '}')
}

func appendUpdateJSON(b []byte, u *update) []byte {
	return appendFeedJSON(b, u.ch, u.s, u.seq, false, u.interval, u.bids, u.asks, u.trades, u.stats, u.candles)
}
