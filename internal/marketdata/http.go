package marketdata

import (
	"embed"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"strconv"
)

//go:embed web
var webFiles embed.FS

// Handler serves the HTTP JSON API, the WebSocket feed and the web page:
//
//	GET /api/symbols
//	GET /api/book/{symbol}?level=1|2|3&depth=N     (depth 0 = all)
//	GET /api/trades/{symbol}?limit=N
//	GET /api/candles/{symbol}?interval=1s|1m|5m|1h&from=&to=   (Unix seconds)
//	GET /api/stats/{symbol}
//	GET /ws                                         (WebSocket, see serveWS)
//	GET /                                           (the web page)
//
// Prices and quantities are decimal strings. A bad request gets a 4xx reply
// {"error": "...", "param": "..."} naming the parameter at fault.
func (p *Publisher) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/symbols", p.serveSymbols)
	mux.HandleFunc("GET /api/book/{symbol}", p.serveBook)
	mux.HandleFunc("GET /api/trades/{symbol}", p.serveTrades)
	mux.HandleFunc("GET /api/candles/{symbol}", p.serveCandles)
	mux.HandleFunc("GET /api/stats/{symbol}", p.serveStats)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, http.StatusMethodNotAllowed, "method", "only GET is served")
			return
		}
		writeError(w, http.StatusNotFound, "path", "no such API endpoint: "+r.URL.Path)
	})
	mux.HandleFunc("GET /ws", p.serveWS)
	web, _ := fs.Sub(webFiles, "web")
	files := http.FileServerFS(web)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, http.StatusMethodNotAllowed, "method", "only GET is served")
			return
		}
		files.ServeHTTP(w, r)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

func writeError(w http.ResponseWriter, status int, param, msg string) {
	b := append([]byte(`{"error":`), appendJSONString(nil, msg)...)
	b = append(b, `,"param":`...)
	b = appendJSONString(b, param)
	writeJSON(w, status, append(b, "}\n"...))
}

// paramError is a request parameter that could not be used.
type paramError struct {
	param, msg string
	status     int
}

func (e *paramError) write(w http.ResponseWriter) { writeError(w, e.status, e.param, e.msg) }

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int64) (int64, *paramError) {
	s, ok := q[name]
	if !ok || len(s) == 0 || s[0] == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s[0], 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, &paramError{name, name + " must be an integer from " + strconv.FormatInt(lo, 10) +
			" to " + strconv.FormatInt(hi, 10), http.StatusBadRequest}
	}
	return v, nil
}

func (p *Publisher) symbolParam(r *http.Request) (*symState, *paramError) {
	name := r.PathValue("symbol")
	if s := p.symNamed(name); s != nil {
		return s, nil
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return nil, &paramError{"symbol", "unknown symbol " + strconv.Quote(name), http.StatusNotFound}
}

func (p *Publisher) serveSymbols(w http.ResponseWriter, r *http.Request) {
	b := []byte{'['}
	for i, s := range p.symList() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"symbol":`...)
		b = appendJSONString(b, s.info.Name)
		b = append(b, `,"id":`...)
		b = strconv.AppendUint(b, uint64(s.info.ID), 10)
		b = append(b, `,"tick_size":`...)
		b = appendJSONString(b, s.info.TickSize.String())
		b = append(b, `,"lot_size":`...)
		b = appendJSONString(b, s.info.LotSize.String())
		b = append(b, '}')
	}
	writeJSON(w, http.StatusOK, append(b, "]\n"...))
}

// bookRequest is a parsed /api/book query.
type bookRequest struct {
	level, depth int
}

func (p *Publisher) parseBookQuery(q url.Values) (bookRequest, *paramError) {
	lv, perr := intParam(q, "level", 2, 1, 3)
	if perr != nil {
		return bookRequest{}, perr
	}
	def := int64(p.cfg.DepthDefault)
	if lv == 3 {
		def = 0
	}
	d, perr := intParam(q, "depth", def, 0, 100000)
	if perr != nil {
		return bookRequest{}, perr
	}
	return bookRequest{int(lv), int(d)}, nil
}

func (p *Publisher) serveBook(w http.ResponseWriter, r *http.Request) {
	s, perr := p.symbolParam(r)
	if perr == nil {
		var req bookRequest
		if req, perr = p.parseBookQuery(r.URL.Query()); perr == nil {
			writeJSON(w, http.StatusOK, append(p.appendBookJSON(nil, s, req), '\n'))
			return
		}
	}
	perr.write(w)
}

// appendBookJSON writes one consistent view of a book (one read lock).
func (p *Publisher) appendBookJSON(b []byte, s *symState, req bookRequest) []byte {
	p.mu.RLock()
	defer p.mu.RUnlock()
	b = append(b, `{"symbol":`...)
	b = appendJSONString(b, s.info.Name)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, p.seq, 10)
	b = append(b, `,"level":`...)
	b = strconv.AppendInt(b, int64(req.level), 10)
	switch req.level {
	case 1:
		for _, side := range []struct {
			name string
			l    *level
		}{{"bid", s.book.bids.best()}, {"ask", s.book.asks.best()}} {
			b = append(b, `,"`...)
			b = append(b, side.name...)
			b = append(b, `":`...)
			if side.l == nil {
				b = append(b, "null"...)
			} else {
				b = appendLevelJSON(b, s, side.l.agg())
			}
		}
	case 2:
		b = append(b, `,"bids":`...)
		b = appendLevelsJSON(b, s, appendLevels(nil, &s.book.bids, req.depth))
		b = append(b, `,"asks":`...)
		b = appendLevelsJSON(b, s, appendLevels(nil, &s.book.asks, req.depth))
	default:
		b = append(b, `,"bids":`...)
		b = appendOrdersJSON(b, s, appendOrders(nil, &s.book.bids, req.depth))
		b = append(b, `,"asks":`...)
		b = appendOrdersJSON(b, s, appendOrders(nil, &s.book.asks, req.depth))
	}
	return append(b, '}')
}

func (p *Publisher) serveTrades(w http.ResponseWriter, r *http.Request) {
	s, perr := p.symbolParam(r)
	if perr != nil {
		perr.write(w)
		return
	}
	limit, perr := intParam(r.URL.Query(), "limit", 100, 1, int64(p.cfg.TradesMax))
	if perr != nil {
		perr.write(w)
		return
	}
	ts := p.Trades(s.info.ID, int(limit), nil)
	b := append([]byte(`{"symbol":`), appendJSONString(nil, s.info.Name)...)
	b = append(b, `,"trades":`...)
	b = appendTradesJSON(b, s, ts)
	writeJSON(w, http.StatusOK, append(b, "}\n"...))
}

// candleQuery is a parsed /api/candles query; from and to in ns.
type candleQuery struct {
	iv       Interval
	from, to int64
}

func parseCandleQuery(q url.Values) (candleQuery, *paramError) {
	cq := candleQuery{iv: Interval1m}
	if s := q.Get("interval"); s != "" {
		iv, ok := ParseInterval(s)
		if !ok {
			return cq, &paramError{"interval", "interval must be one of 1s, 1m, 5m, 1h", http.StatusBadRequest}
		}
		cq.iv = iv
	}
	const secMax = math.MaxInt64 / 1_000_000_000
	from, perr := intParam(q, "from", -secMax, -secMax, secMax)
	if perr != nil {
		return cq, perr
	}
	to, perr := intParam(q, "to", secMax, -secMax, secMax)
	if perr != nil {
		return cq, perr
	}
	if to < from {
		return cq, &paramError{"to", "to must not be before from", http.StatusBadRequest}
	}
	cq.from, cq.to = from*1e9, to*1e9
	return cq, nil
}

func (p *Publisher) serveCandles(w http.ResponseWriter, r *http.Request) {
	s, perr := p.symbolParam(r)
	if perr != nil {
		perr.write(w)
		return
	}
	cq, perr := parseCandleQuery(r.URL.Query())
	if perr != nil {
		perr.write(w)
		return
	}
	cs := p.Candles(s.info.ID, cq.iv, cq.from, cq.to, nil)
	b := append([]byte(`{"symbol":`), appendJSONString(nil, s.info.Name)...)
	b = append(b, `,"interval":"`...)
	b = append(b, cq.iv.String()...)
	b = append(b, `","candles":`...)
	b = appendCandlesJSON(b, s, cs)
	writeJSON(w, http.StatusOK, append(b, "}\n"...))
}

func (p *Publisher) serveStats(w http.ResponseWriter, r *http.Request) {
	s, perr := p.symbolParam(r)
	if perr != nil {
		perr.write(w)
		return
	}
	writeJSON(w, http.StatusOK, append(appendStatsJSON(nil, s, p.Stats(s.info.ID)), '\n'))
}
