package marketdata

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/matching"
)

// TestUpdateJSONSpans: an update's JSON with its parts recorded is the same
// message appendUpdateJSON writes, and the spans point at its levels, trades
// and stats.
func TestUpdateJSONSpans(t *testing.T) {
	p := newTestPublisher(t, Config{})
	s := p.symNamed("AAPL")
	for _, u := range []*update{
		{s: s, seq: 7, ch: chBook, bids: []Level{{Price: 101, Qty: 3, Orders: 1}, {Price: 100, Qty: 0}}, asks: []Level{{Price: 105, Qty: 2, Orders: 2}}},
		{s: s, seq: 7, ch: chBook},
		{s: s, seq: 8, ch: chTrades, trades: []Trade{{MatchID: 1, TimeNs: 5, Price: 101, Qty: 1}, {MatchID: 2, TimeNs: 6, Price: 100, Qty: 2, Auction: true}},
			stats: Stats{Trades: 2, Last: 100, Volume: 3}},
		{s: s, seq: 9, ch: chTrades, stats: Stats{Halted: true}},
		{s: s, seq: 9, ch: chCandles, interval: Interval1s, candles: []Candle{{StartNs: 1e9, Open: 1, High: 1, Low: 1, Close: 1, Volume: 1}}},
	} {
		got, want := u.JSON(), appendUpdateJSON(nil, u)
		if !bytes.Equal(got, want) {
			t.Fatalf("JSON with spans:\n%s\nwant\n%s", got, want)
		}
		if !json.Valid(got) {
			t.Fatalf("not JSON: %s", got)
		}
		for i, sp := range u.spans.levels {
			l := append(u.bids[:len(u.bids):len(u.bids)], u.asks...)[i]
			if w := appendLevelJSON(nil, s, l); !bytes.Equal(got[sp.a:sp.b], w) {
				t.Fatalf("level span %d: %s, want %s", i, got[sp.a:sp.b], w)
			}
		}
		if u.ch == chTrades {
			if w := appendStatsJSON(nil, s, u.stats); !bytes.Equal(got[u.spans.stats.a:u.spans.stats.b], w) {
				t.Fatalf("stats span: %s", got[u.spans.stats.a:u.spans.stats.b])
			}
		}
	}
}

// TestMergeTrades: several trades updates of one symbol merge into one
// message with every trade in order, the newest statistics and the newest
// sequence number.
func TestMergeTrades(t *testing.T) {
	p := newTestPublisher(t, Config{})
	s := p.symNamed("AAPL")
	us := []*update{
		{s: s, seq: 3, ch: chTrades, trades: []Trade{{MatchID: 1, TimeNs: 10, Price: 100, Qty: 1, TakerSide: matching.Buy}}, stats: Stats{Trades: 1, Last: 100, Volume: 1}},
		{s: s, seq: 5, ch: chTrades, stats: Stats{Trades: 1, Last: 100, Volume: 1, Halted: true}},
		{s: s, seq: 9, ch: chTrades, trades: []Trade{{MatchID: 2, TimeNs: 20, Price: 101, Qty: 1}, {MatchID: 3, TimeNs: 30, Price: 102, Qty: 4}},
			stats: Stats{Trades: 3, Last: 102, Volume: 6, High: 102}},
	}
	b := appendMerged(nil, us, &priceSet{})
	var m struct {
		wsMsg
		Stats json.RawMessage `json:"stats"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if m.Type != "trades" || m.Seq != 9 || m.Symbol != "AAPL" || len(m.Trades) != 3 {
		t.Fatalf("merged: %s", b)
	}
	for i, tr := range m.Trades {
		if tr.ID != uint64(i+1) {
			t.Fatalf("trade %d is %d: %s", i, tr.ID, b)
		}
	}
	if w := appendStatsJSON(nil, s, us[2].stats); !bytes.Equal(m.Stats, w) {
		t.Fatalf("stats %s, want the newest %s", m.Stats, w)
	}
}

// countingListener counts the writes to the connections it accepts.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestWebSocketFrameOneWrite: a frame of some 12 KB reaches the socket in
// one write (net/http's 4 KB buffer made the library write it in two).
func TestWebSocketFrameOneWrite(t *testing.T) {
	p := newTestPublisher(t, Config{})
	srv := httptest.NewUnstartedServer(p.Handler())
	var writes atomic.Int64
	srv.Listener = countingListener{srv.Listener, &writes}
	srv.Start()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := dialWS(t, ctx, srv)
	defer c.c.CloseNow()
	c.send(ctx, t, `{"op":"subscribe","channels":["book"],"symbols":["AAPL"]}`)
	if m, err := c.read(5 * time.Second); err != nil || !m.Snapshot {
		t.Fatalf("want snapshot, got %+v %v", m, err)
	}
	before := writes.Load()
	const levels = 300
	p.mu.Lock()
	for i := 1; i <= levels; i++ {
		p.apply(&matching.Event{Kind: matching.EvAdded, OutSeq: uint64(i), Symbol: 1, Side: matching.Buy,
			OrderID: matching.OrderID(i), Price: int64(10000 + i), Leaves: 100})
	}
	p.flush()
	p.mu.Unlock()
	m, err := c.read(5 * time.Second)
	if err != nil || len(m.Bids) != levels {
		t.Fatalf("update: %v, %d levels", err, len(m.Bids))
	}
	if n := writes.Load() - before; n != 1 {
		t.Fatalf("a frame of %d levels took %d writes", levels, n)
	}
}

// TestMergeBook: book updates of one symbol merge into one message holding
// each level once per side, as the newest update left it.
func TestMergeBook(t *testing.T) {
	p := newTestPublisher(t, Config{})
	s := p.symNamed("AAPL")
	us := []*update{
		{s: s, seq: 3, ch: chBook, bids: []Level{{Price: 100, Qty: 1, Orders: 1}, {Price: 99, Qty: 5, Orders: 1}}, asks: []Level{{Price: 100, Qty: 7, Orders: 1}}},
		{s: s, seq: 4, ch: chBook, bids: []Level{{Price: 100, Qty: 2, Orders: 2}}},
		{s: s, seq: 6, ch: chBook, bids: []Level{{Price: 99, Qty: 0}}, asks: []Level{{Price: 101, Qty: 3, Orders: 1}, {Price: 100, Qty: 0}}},
	}
	seen := &priceSet{}
	for round := 0; round < 2; round++ { // the set is reused from frame to frame
		b := appendMerged(nil, us, seen)
		var m wsMsg
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		side := func(ls []wsLevel) map[string]string {
			out := map[string]string{}
			for _, l := range ls {
				if _, dup := out[l.Price]; dup {
					t.Fatalf("level %s twice: %s", l.Price, b)
				}
				out[l.Price] = l.Qty
			}
			return out
		}
		bids, asks := side(m.Bids), side(m.Asks)
		if m.Seq != 6 || len(bids) != 2 || bids["1.00"] != "2" || bids["0.99"] != "0" ||
			len(asks) != 2 || asks["1.00"] != "0" || asks["1.01"] != "3" {
			t.Fatalf("merged book: %s", b)
		}
	}
}

// TestPriceSet: prices are added once, a reset empties the set without
// clearing it, and the table grows when asked for more room.
func TestPriceSet(t *testing.T) {
	var ps priceSet
	for round := 0; round < 3; round++ {
		n := 10 + 100*round
		ps.reset(n)
		for i := 0; i < n; i++ {
			if !ps.add(int64(i * 7)) {
				t.Fatalf("round %d: %d reported present before it was added", round, i*7)
			}
		}
		for i := 0; i < n; i++ {
			if ps.add(int64(i * 7)) {
				t.Fatalf("round %d: %d added twice", round, i*7)
			}
		}
	}
	ps.gen = ^uint32(0) // the next reset wraps the generation
	ps.reset(1)
	if !ps.add(0) || ps.add(0) {
		t.Fatal("after the generation wrapped, the set was not empty or lost a price")
	}
}
