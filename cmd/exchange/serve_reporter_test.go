package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/matching"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeReporter: inside serve the reporter follows the journal into
// DATA/reports.db, its lag is a metric, the data service answers from the
// database, and the history survives a restart of the venue.
func TestServeReporter(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t)
	cfg.DataDir, cfg.ListenFIX, cfg.ListenHTTP = dir, "127.0.0.1:0", "127.0.0.1:0"
	start := func() *venue {
		v, err := startVenue(cfg, venueOptions{dataDir: dir, reporter: true}, testLogger())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	caughtUp := func(v *venue) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			durable := v.x.Stats().Sequencer.DurableSeq
			if rep, err := v.rep.current(); err != nil {
				t.Fatal(err)
			} else if rep != nil && durable > 0 && rep.Stats().AppliedSeq == durable {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the reporter did not catch up with seq %d", durable)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	v := start()
	for i, px := range []int64{19000, 19010, 19005} {
		buy := newRequest(cfg, "ALPHA", "b"+string(rune('0'+i)), matching.Buy, px)
		sell := newRequest(cfg, "BRAVO", "s"+string(rune('0'+i)), matching.Sell, px)
		if !v.x.Submit(&buy) || !v.x.Submit(&sell) {
			t.Fatal("submit refused")
		}
	}
	caughtUp(v)
	base := "http://" + v.httpAddr
	code, body := httpGet(t, base+"/api/history/trades/AAPL")
	var trades []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &trades) != nil || len(trades) != 3 || trades[0]["price"] != "190.00" || trades[2]["price"] != "190.05" {
		t.Fatalf("trades: %d %s", code, body)
	}
	code, body = httpGet(t, base+"/api/history/candles/AAPL?interval=1m")
	var candles []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &candles) != nil || len(candles) < 1 || candles[len(candles)-1]["close"] != "190.05" {
		t.Fatalf("candles: %d %s", code, body)
	}
	if code, body = httpGet(t, base+"/api/history/candles/NOPE"); code != 404 || !strings.Contains(body, `"param":"symbol"`) {
		t.Fatalf("unknown symbol: %d %s", code, body)
	}
	if code, body = httpGet(t, base+"/api/history/candles/AAPL?interval=7m"); code != 400 || !strings.Contains(body, `"param":"interval"`) {
		t.Fatalf("bad interval: %d %s", code, body)
	}
	_, metrics := httpGet(t, base+"/metrics")
	for _, m := range []string{"exchange_reporter_up 1", "exchange_reporter_lag_records 0", "exchange_reporter_applied_seq "} {
		if !strings.Contains(metrics, m) {
			t.Fatalf("/metrics lacks %q", m)
		}
	}
	if err := v.stop(); err != nil {
		t.Fatal(err)
	}
	// After a restart the history is there before anything new trades.
	v = start()
	defer v.stop()
	caughtUp(v)
	if code, body = httpGet(t, "http://"+v.httpAddr+"/api/history/trades/AAPL"); code != 200 || strings.Count(body, "match_id") != 3 {
		t.Fatalf("after restart: %d %s", code, body)
	}
}
