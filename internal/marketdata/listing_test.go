package marketdata

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/matching"
)

// TestListedSymbol: EvSymbolAdded lists a symbol described by
// Config.Listed; it then trades, serves its book and appears in
// /api/symbols. An unknown listing changes nothing; AddSymbol is
// idempotent.
func TestListedSymbol(t *testing.T) {
	n := matching.SymbolID(len(testSymbols()))
	newco := SymbolInfo{ID: n + 1, Name: "NEWCO", TickSize: decimal.RequireFromString("0.05"), LotSize: decimal.NewFromInt(10)}
	p := newTestPublisher(t, Config{Listed: func(id matching.SymbolID) (SymbolInfo, bool) {
		return newco, id == newco.ID
	}})
	if _, ok := p.Lookup("NEWCO"); ok {
		t.Fatal("NEWCO before its listing")
	}
	evs := []matching.Event{
		{Kind: matching.EvSymbolAdded, OutSeq: 1, Symbol: n + 2}, // unknown to Listed
		{Kind: matching.EvSymbolAdded, OutSeq: 2, Symbol: n + 1},
		{Kind: matching.EvAdded, OutSeq: 3, Symbol: n + 1, Side: matching.Sell, OrderID: 7, Price: 400, Qty: 5, Leaves: 5},
		{Kind: matching.EvTrade, OutSeq: 4, Symbol: n + 1, Side: matching.Buy, OrderID: 8, MakerOrderID: 7, MakerLeaves: 3, Price: 400, Qty: 2, MatchID: 1},
	}
	for i := range evs {
		p.Apply(&evs[i])
	}
	if _, ok := p.Lookup("NEWCO"); !ok || len(p.Symbols()) != int(n)+1 {
		t.Fatalf("symbols after the listing: %+v", p.Symbols())
	}
	if tr := p.Trades(n+1, 0, nil); len(tr) != 1 || tr[0].Price != 400 {
		t.Fatalf("NEWCO trades %+v", tr)
	}
	if err := p.AddSymbol(newco); err != nil {
		t.Fatalf("AddSymbol again: %v", err)
	}
	dup := newco
	dup.ID = n + 3
	if err := p.AddSymbol(dup); err == nil {
		t.Fatal("a second NEWCO was listed")
	}
	ts := httptest.NewServer(p.Handler())
	defer ts.Close()
	// WebSocket: a subscription to NEWCO gets its book.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wc := dialWS(t, ctx, ts)
	wc.send(ctx, t, `{"op":"subscribe","channels":["book"],"symbols":["NEWCO"]}`)
	for {
		m, err := wc.read(5 * time.Second)
		if err != nil {
			t.Fatalf("WebSocket: %v", err)
		}
		if m.Type == "error" {
			t.Fatalf("WebSocket subscription refused: %+v", m)
		}
		if m.Symbol == "NEWCO" && len(m.Asks) == 1 && m.Asks[0].Price == "20.00" {
			break
		}
	}
	for path, want := range map[string]string{"/api/symbols": `"symbol":"NEWCO"`, "/api/book/NEWCO": `"price":"20.00","qty":"30"`} {
		resp, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
}
