package reporter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Candle is one interval of trades of one symbol, from the trades table.
type Candle struct {
	StartNs                                  int64
	Open, High, Low, Close, Volume, Notional int64
	Trades                                   int64
}

// candlesMax caps the candles one request returns.
const candlesMax = 10_000

// Candles aggregates the trades of symbol in [fromNs, toNs) into candles of
// interval iv, oldest first (at most max). Cost: one indexed range scan of
// the trades table.
func (db *DB) Candles(ctx context.Context, symbolID, fromNs, toNs int64, iv time.Duration, max int) ([]Candle, error) {
	rs, err := db.sql.QueryContext(ctx, db.d.rebind(`SELECT time_ns, price, qty FROM trades WHERE symbol_id = ? AND time_ns >= ? AND time_ns < ? ORDER BY time_ns, out_seq`),
		symbolID, fromNs, toNs)
	if err != nil {
		return nil, fmt.Errorf("reporter database %s: candles: %w", db.where, err)
	}
	defer rs.Close()
	var out []Candle
	step := int64(iv)
	for rs.Next() {
		var t, px, qty int64
		if err := rs.Scan(&t, &px, &qty); err != nil {
			return nil, err
		}
		start := t - t%step
		if n := len(out); n == 0 || out[n-1].StartNs != start {
			if n == max {
				break
			}
			out = append(out, Candle{StartNs: start, Open: px, High: px, Low: px})
		}
		c := &out[len(out)-1]
		c.High, c.Low, c.Close = maxInt(c.High, px), minInt(c.Low, px), px
		c.Volume += qty
		c.Notional += px * qty
		c.Trades++
	}
	return out, rs.Err()
}

func maxInt(a, b int64) int64 { return max(a, b) }
func minInt(a, b int64) int64 { return min(a, b) }

// lastTradeNs is the time of symbol's last stored trade (0 when none).
func (db *DB) lastTradeNs(ctx context.Context, symbolID int64) (int64, error) {
	var t *int64
	err := db.sql.QueryRowContext(ctx, db.d.rebind(`SELECT MAX(time_ns) FROM trades WHERE symbol_id = ?`), symbolID).Scan(&t)
	if err != nil || t == nil {
		return 0, err
	}
	return *t, nil
}

// Handler serves the data service from db:
//
//	GET /api/history/candles/{symbol}?interval=1m&from=&to=
//	GET /api/history/trades/{symbol}?from=&to=&limit=
//
// from and to are RFC 3339 times or Unix seconds; without them the answer
// is the newest candlesMax candles (or limit trades) up to the last trade.
// Errors are JSON {"error": ..., "param": ...} with status 400 or 404.
func (db *DB) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/history/candles/{symbol}", db.serveCandles)
	mux.HandleFunc("GET /api/history/trades/{symbol}", db.serveTrades)
	mux.HandleFunc("/api/history/", func(w http.ResponseWriter, r *http.Request) {
		httpError(w, http.StatusNotFound, "no such history endpoint (candles/{symbol}, trades/{symbol})", "path")
	})
	return mux
}

func httpError(w http.ResponseWriter, code int, msg, param string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"error": msg, "param": param})
	w.Write(append(b, '\n'))
}

// parseTimeParam reads an RFC 3339 time or Unix seconds.
func parseTimeParam(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		if v < 0 || v > 1<<33 {
			return 0, errors.New("out of range")
		}
		return v * int64(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, errors.New("not an RFC 3339 time or Unix seconds")
	}
	return t.UnixNano(), nil
}

// parseInterval reads a candle interval: 1s, 1m, 5m, 15m, 1h or 1d.
func parseInterval(s string) (time.Duration, bool) {
	switch s {
	case "1s":
		return time.Second, true
	case "1m", "":
		return time.Minute, true
	case "5m":
		return 5 * time.Minute, true
	case "15m":
		return 15 * time.Minute, true
	case "1h":
		return time.Hour, true
	case "1d":
		return 24 * time.Hour, true
	}
	return 0, false
}

type httpQuery struct {
	u      *units
	sym    int64
	fromNs int64
	toNs   int64
}

// parseQuery resolves the symbol and the from/to range; ok is false when an
// error was written. span is how far back an open range reaches.
func (db *DB) parseQuery(w http.ResponseWriter, r *http.Request, span time.Duration) (q httpQuery, ok bool) {
	ctx := r.Context()
	u, err := db.units(ctx)
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error(), "")
		return q, false
	}
	q.u = u
	name := r.PathValue("symbol")
	q.sym = -1
	for id, n := range u.name {
		if strings.EqualFold(n, name) {
			q.sym = id
		}
	}
	if q.sym < 0 {
		httpError(w, http.StatusNotFound, fmt.Sprintf("unknown symbol %q", name), "symbol")
		return q, false
	}
	if q.fromNs, err = parseTimeParam(r.URL.Query().Get("from")); err != nil {
		httpError(w, http.StatusBadRequest, "from: "+err.Error(), "from")
		return q, false
	}
	if q.toNs, err = parseTimeParam(r.URL.Query().Get("to")); err != nil {
		httpError(w, http.StatusBadRequest, "to: "+err.Error(), "to")
		return q, false
	}
	if q.toNs == 0 {
		last, err := db.lastTradeNs(ctx, q.sym)
		if err != nil {
			httpError(w, http.StatusInternalServerError, err.Error(), "")
			return q, false
		}
		q.toNs = last + 1
	}
	if q.fromNs == 0 && span > 0 {
		q.fromNs = max(0, q.toNs-int64(span))
	}
	if q.toNs <= q.fromNs {
		httpError(w, http.StatusBadRequest, "to must be after from", "to")
		return q, false
	}
	return q, true
}

func (db *DB) serveCandles(w http.ResponseWriter, r *http.Request) {
	iv, ok := parseInterval(r.URL.Query().Get("interval"))
	if !ok {
		httpError(w, http.StatusBadRequest, "interval must be one of 1s, 1m, 5m, 15m, 1h, 1d", "interval")
		return
	}
	q, ok := db.parseQuery(w, r, iv*candlesMax)
	if !ok {
		return
	}
	cs, err := db.Candles(r.Context(), q.sym, q.fromNs, q.toNs, iv, candlesMax)
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	b := []byte{'['}
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"time":%d,"open":%q,"high":%q,"low":%q,"close":%q,"volume":%q,"vwap":%q,"trades":%d}`,
			c.StartNs/int64(time.Second), q.u.px(q.sym, c.Open), q.u.px(q.sym, c.High), q.u.px(q.sym, c.Low), q.u.px(q.sym, c.Close),
			q.u.qty(q.sym, c.Volume), q.u.vwap(q.sym, c.Notional, c.Volume), c.Trades)
	}
	b = append(b, "]\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// TradesMax caps the trades one request returns.
const TradesMax = 100_000

func (db *DB) serveTrades(w http.ResponseWriter, r *http.Request) {
	limit := 1000
	if s := r.URL.Query().Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > TradesMax {
			httpError(w, http.StatusBadRequest, fmt.Sprintf("limit must be 1..%d", TradesMax), "limit")
			return
		}
		limit = v
	}
	q, ok := db.parseQuery(w, r, 0)
	if !ok {
		return
	}
	// The newest limit trades in the range, returned oldest first.
	rs, err := db.sql.QueryContext(r.Context(), db.d.rebind(`SELECT match_id, time_ns, price, qty, aggressor, seq, auction FROM trades
		WHERE symbol_id = ? AND time_ns >= ? AND time_ns < ? ORDER BY time_ns DESC, out_seq DESC LIMIT ?`), q.sym, q.fromNs, q.toNs, limit)
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	defer rs.Close()
	var items [][]byte
	for rs.Next() {
		var match, tns, px, qty, seq int64
		var agg string
		var auction bool
		if err := rs.Scan(&match, &tns, &px, &qty, &agg, &seq, &auction); err != nil {
			httpError(w, http.StatusInternalServerError, err.Error(), "")
			return
		}
		items = append(items, fmt.Appendf(nil, `{"match_id":%d,"time":%q,"price":%q,"qty":%q,"aggressor":%q,"seq":%d,"auction":%t}`,
			match, fmtTime(tns), q.u.px(q.sym, px), q.u.qty(q.sym, qty), agg, seq, auction))
	}
	if err := rs.Err(); err != nil {
		httpError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	b := []byte{'['}
	for i := len(items) - 1; i >= 0; i-- {
		b = append(b, items[i]...)
		if i > 0 {
			b = append(b, ',')
		}
	}
	b = append(b, "]\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
