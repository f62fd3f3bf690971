package marketdata

import (
	"bufio"
	"io"
	"strconv"
	"time"
)

// WriteCandlesCSV writes every kept candle of one interval, symbol by symbol
// in configuration order, oldest first, with a header row:
// symbol,interval,start,open,high,low,close,volume,vwap,trades (start in
// RFC 3339 UTC, engine time). For a replay that must cover a whole session,
// size Config.CandlesMax to hold it.
func (p *Publisher) WriteCandlesCSV(w io.Writer, iv Interval) error {
	if iv >= intervalCount {
		iv = Interval1m
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("symbol,interval,start,open,high,low,close,volume,vwap,trades\n")
	var b []byte
	var cs []Candle
	for _, s := range p.symList() {
		cs = p.Candles(s.info.ID, iv, -1<<63, 1<<63-1, cs[:0])
		for _, c := range cs {
			b = append(b[:0], s.info.Name...)
			b = append(b, ',')
			b = append(b, iv.String()...)
			b = append(b, ',')
			b = time.Unix(0, c.StartNs).UTC().AppendFormat(b, time.RFC3339)
			for _, v := range []int64{c.Open, c.High, c.Low, c.Close} {
				b = append(b, ',')
				b = s.px.appendValue(b, v)
			}
			b = append(b, ',')
			b = s.qty.appendValue(b, c.Volume)
			b = append(b, ',')
			b = append(b, s.px.vwap(c.Notional, c.Volume)...)
			b = append(b, ',')
			b = strconv.AppendInt(b, c.Trades, 10)
			b = append(b, '\n')
			if _, err := bw.Write(b); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// WriteTradesCSV writes the kept trade tape, symbol by symbol, oldest first,
// with a header row: symbol,match_id,out_seq,time,price,qty,taker_side,
// taker_order,maker_order (time in RFC 3339 UTC with nanoseconds). For a
// replay that must cover a whole session, size Config.TradesMax to hold it.
func (p *Publisher) WriteTradesCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("symbol,match_id,out_seq,time,price,qty,taker_side,taker_order,maker_order\n")
	var b []byte
	var ts []Trade
	for _, s := range p.symList() {
		ts = p.Trades(s.info.ID, 0, ts[:0])
		for _, t := range ts {
			b = append(b[:0], s.info.Name...)
			b = append(b, ',')
			b = strconv.AppendUint(b, t.MatchID, 10)
			b = append(b, ',')
			b = strconv.AppendUint(b, t.OutSeq, 10)
			b = append(b, ',')
			b = time.Unix(0, t.TimeNs).UTC().AppendFormat(b, time.RFC3339Nano)
			b = append(b, ',')
			b = s.px.appendValue(b, t.Price)
			b = append(b, ',')
			b = s.qty.appendValue(b, t.Qty)
			b = append(b, ',')
			b = append(b, t.TakerSide.String()...)
			b = append(b, ',')
			b = strconv.AppendUint(b, uint64(t.TakerOrderID), 10)
			b = append(b, ',')
			b = strconv.AppendUint(b, uint64(t.MakerOrderID), 10)
			b = append(b, '\n')
			if _, err := bw.Write(b); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}
