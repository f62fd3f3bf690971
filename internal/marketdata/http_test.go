package marketdata

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

// bookedPublisher has a small known book and two trades on AAPL.
func bookedPublisher(t *testing.T) *Publisher {
	p := newTestPublisher(t, Config{})
	evs := []matching.Event{
		{Kind: matching.EvAdded, Symbol: 1, Side: matching.Buy, OrderID: 1, Price: 10000, Leaves: 5},
		{Kind: matching.EvAdded, Symbol: 1, Side: matching.Buy, OrderID: 2, Price: 10000, Leaves: 3},
		{Kind: matching.EvAdded, Symbol: 1, Side: matching.Buy, OrderID: 3, Price: 9990, Leaves: 7},
		{Kind: matching.EvAdded, Symbol: 1, Side: matching.Sell, OrderID: 4, Price: 10010, Leaves: 4},
		{Kind: matching.EvAdded, Symbol: 1, Side: matching.Sell, OrderID: 5, Price: 10020, Leaves: 9},
		{Kind: matching.EvTrade, Symbol: 1, Side: matching.Sell, OrderID: 6, MakerOrderID: 1, MakerLeaves: 4,
			Price: 10000, Qty: 1, MatchID: 1, TimeNs: 1_700_000_000_500_000_000},
		{Kind: matching.EvTrade, Symbol: 1, Side: matching.Buy, OrderID: 7, MakerOrderID: 4, MakerLeaves: 2,
			Price: 10010, Qty: 2, MatchID: 2, TimeNs: 1_700_000_061_000_000_000},
	}
	for i := range evs {
		evs[i].OutSeq = uint64(i + 1)
		p.Apply(&evs[i])
	}
	return p
}

func get(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestHTTPAPI(t *testing.T) {
	h := bookedPublisher(t).Handler()
	for _, c := range []struct {
		target string
		status int
		want   string // exact body without the trailing newline, or a substring if prefixed "~"
	}{
		{"/api/symbols", 200, `[{"symbol":"AAPL","id":1,"tick_size":"0.01","lot_size":"1"},{"symbol":"MSFT","id":2,"tick_size":"0.05","lot_size":"10"},{"symbol":"BTC-USD","id":3,"tick_size":"0.5","lot_size":"0.001"}]`},
		{"/api/book/AAPL?level=1", 200, `{"symbol":"AAPL","seq":7,"level":1,"bid":{"price":"100.00","qty":"7","orders":2},"ask":{"price":"100.10","qty":"2","orders":1}}`},
		{"/api/book/AAPL", 200, `{"symbol":"AAPL","seq":7,"level":2,"bids":[{"price":"100.00","qty":"7","orders":2},{"price":"99.90","qty":"7","orders":1}],"asks":[{"price":"100.10","qty":"2","orders":1},{"price":"100.20","qty":"9","orders":1}]}`},
		{"/api/book/AAPL?level=2&depth=1", 200, `{"symbol":"AAPL","seq":7,"level":2,"bids":[{"price":"100.00","qty":"7","orders":2}],"asks":[{"price":"100.10","qty":"2","orders":1}]}`},
		{"/api/book/AAPL?level=3", 200, `{"symbol":"AAPL","seq":7,"level":3,"bids":[{"id":1,"price":"100.00","qty":"4"},{"id":2,"price":"100.00","qty":"3"},{"id":3,"price":"99.90","qty":"7"}],"asks":[{"id":4,"price":"100.10","qty":"2"},{"id":5,"price":"100.20","qty":"9"}]}`},
		{"/api/book/MSFT?level=1", 200, `{"symbol":"MSFT","seq":7,"level":1,"bid":null,"ask":null}`},
		{"/api/trades/AAPL?limit=1", 200, `{"symbol":"AAPL","trades":[{"id":2,"time_ns":1700000061000000000,"price":"100.10","qty":"2","side":"buy"}]}`},
		{"/api/candles/AAPL?interval=1m", 200, `{"symbol":"AAPL","interval":"1m","candles":[{"time":1699999980,"open":"100.00","high":"100.00","low":"100.00","close":"100.00","volume":"1","vwap":"100.00","trades":1},{"time":1700000040,"open":"100.10","high":"100.10","low":"100.10","close":"100.10","volume":"2","vwap":"100.10","trades":1}]}`},
		{"/api/candles/AAPL?interval=1s&from=1700000001&to=1700000100", 200, `~"candles":[{"time":1700000061,`},
		{"/api/candles/AAPL?interval=1h&from=1700000001&to=1700000002", 200, `~"candles":[]`},
		{"/api/stats/AAPL", 200, `{"symbol":"AAPL","open":"100.00","high":"100.10","low":"100.00","last":"100.10","volume":"3","vwap":"100.066667","trades":2,"halted":false,"phase":"continuous","indicative_price":null,"official_open":null,"official_close":null,"indicative_qty":"0","imbalance_qty":"0"}`},
		{"/api/stats/MSFT", 200, `{"symbol":"MSFT","open":null,"high":null,"low":null,"last":null,"volume":"0","vwap":null,"trades":0,"halted":false,"phase":"continuous","indicative_price":null,"official_open":null,"official_close":null,"indicative_qty":"0","imbalance_qty":"0"}`},

		{"/api/book/NOPE", 404, `~"param":"symbol"`},
		{"/api/book/AAPL?level=4", 400, `~"param":"level"`},
		{"/api/book/AAPL?level=x", 400, `~"param":"level"`},
		{"/api/book/AAPL?depth=-1", 400, `~"param":"depth"`},
		{"/api/book/AAPL?depth=99999999999999999999", 400, `~"param":"depth"`},
		{"/api/trades/AAPL?limit=0", 400, `~"param":"limit"`},
		{"/api/trades/NOPE", 404, `~"param":"symbol"`},
		{"/api/candles/AAPL?interval=2m", 400, `~"param":"interval"`},
		{"/api/candles/AAPL?from=abc", 400, `~"param":"from"`},
		{"/api/candles/AAPL?to=99999999999999", 400, `~"param":"to"`},
		{"/api/candles/AAPL?from=10&to=5", 400, `~"param":"to"`},
		{"/api/stats/" + url.PathEscape("<b>"), 404, `~"error":"unknown symbol \"\u003cb\u003e\""`},
		{"/api/nothing", 404, `~"param":"path"`},
	} {
		status, body := get(t, h, c.target)
		body = strings.TrimSuffix(body, "\n")
		ok := status == c.status
		if strings.HasPrefix(c.want, "~") {
			ok = ok && strings.Contains(body, c.want[1:])
		} else {
			ok = ok && body == c.want
		}
		if !ok {
			t.Errorf("GET %s: %d %s\nwant %d %s", c.target, status, body, c.status, c.want)
		}
		if !json.Valid([]byte(body)) {
			t.Errorf("GET %s: invalid JSON %s", c.target, body)
		}
	}
	for _, target := range []string{"/api/book/AAPL", "/api/symbols", "/"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", target, nil))
		if rec.Code != 405 || !strings.Contains(rec.Body.String(), `"param":"method"`) {
			t.Errorf("POST %s: %d %s", target, rec.Code, rec.Body.String())
		}
	}
	if status, body := get(t, h, "/"); status != 200 || !strings.Contains(body, "<html") {
		t.Errorf("GET /: %d %.100s", status, body)
	}
	if status, _ := get(t, h, "/vendor/lightweight-charts.standalone.production.js"); status != 200 {
		t.Errorf("vendored chart library: %d", status)
	}
}

// FuzzHTTPParams: no query string may panic the API or give a non-JSON reply.
func FuzzHTTPParams(f *testing.F) {
	p, err := New(Config{Symbols: testSymbols()})
	if err != nil {
		f.Fatal(err)
	}
	h := p.Handler()
	for _, s := range []string{"level=1", "level=3&depth=0", "interval=1s&from=1&to=2", "limit=5", "from=-9223372036&to=9223372036", "%zz"} {
		f.Add("AAPL", s)
	}
	f.Fuzz(func(t *testing.T, sym, query string) {
		for _, ep := range []string{"book", "trades", "candles", "stats"} {
			u := &url.URL{Path: "/api/" + ep + "/" + sym, RawQuery: query}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/", nil)
			req.URL = u
			req.RequestURI = u.RequestURI()
			h.ServeHTTP(rec, req)
			if ct := rec.Header().Get("Content-Type"); rec.Code != 301 && rec.Code != 307 && ct == "application/json" && !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s: invalid JSON %q", u, rec.Body.String())
			}
		}
	})
}

// FuzzWSRequest: no client message may panic the WebSocket request parser.
func FuzzWSRequest(f *testing.F) {
	p, err := New(Config{Symbols: testSymbols()})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"op":"subscribe","channels":["book","trades","candles"],"symbols":["AAPL"],"interval":"1s"}`)
	f.Add(`{"op":"unsubscribe","channels":["book"],"symbols":["MSFT"]}`)
	f.Add(`{"op":1}`)
	f.Fuzz(func(t *testing.T, msg string) {
		req, chans, iv, syms, perr := p.parseWSRequest([]byte(msg))
		if perr == nil && (chans == 0 || iv >= intervalCount || len(syms) != len(req.Symbols)) {
			t.Fatalf("accepted an invalid request %q", msg)
		}
		if perr != nil && perr.param == "" {
			t.Fatalf("error without a parameter name for %q", msg)
		}
	})
}
