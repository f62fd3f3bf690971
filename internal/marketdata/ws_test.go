package marketdata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/exchange-sim/exchange/matching"
)

type wsLevel struct {
	Price  string `json:"price"`
	Qty    string `json:"qty"`
	Orders int    `json:"orders"`
}

type wsMsg struct {
	Type     string    `json:"type"`
	Symbol   string    `json:"symbol"`
	Seq      uint64    `json:"seq"`
	Snapshot bool      `json:"snapshot"`
	Bids     []wsLevel `json:"bids"`
	Asks     []wsLevel `json:"asks"`
	Trades   []struct {
		ID     uint64 `json:"id"`
		TimeNs int64  `json:"time_ns"`
		Price  string `json:"price"`
	} `json:"trades"`
	Candles []struct {
		Time   int64  `json:"time"`
		Close  string `json:"close"`
		Volume string `json:"volume"`
	} `json:"candles"`
	Interval string `json:"interval"`
	Error    string `json:"error"`
	Param    string `json:"param"`
}

// wsBook is the client's copy of one symbol, rebuilt from snapshots and updates.
type wsBook struct {
	bids, asks     map[string]wsLevel
	trades         map[uint64]bool
	candles        map[int64]string // time → volume
	snapshots      map[string]int   // per channel
	lastBookSeq    uint64
	updatesApplied int
}

func newWSBook() *wsBook {
	return &wsBook{bids: map[string]wsLevel{}, asks: map[string]wsLevel{}, trades: map[uint64]bool{},
		candles: map[int64]string{}, snapshots: map[string]int{}}
}

func (b *wsBook) apply(t *testing.T, m *wsMsg) {
	if m.Snapshot {
		b.snapshots[m.Type]++
	} else {
		b.updatesApplied++
	}
	switch m.Type {
	case "book":
		if m.Seq < b.lastBookSeq {
			t.Errorf("book seq went back from %d to %d", b.lastBookSeq, m.Seq)
		}
		b.lastBookSeq = m.Seq
		if m.Snapshot {
			clear(b.bids)
			clear(b.asks)
		}
		for _, side := range []struct {
			ls []wsLevel
			m  map[string]wsLevel
		}{{m.Bids, b.bids}, {m.Asks, b.asks}} {
			for _, l := range side.ls {
				if l.Qty == "0" {
					delete(side.m, l.Price)
				} else {
					side.m[l.Price] = l
				}
			}
		}
	case "trades":
		for _, tr := range m.Trades {
			if b.trades[tr.ID] && !m.Snapshot {
				t.Errorf("trade %d sent twice", tr.ID)
			}
			b.trades[tr.ID] = true
		}
	case "candles":
		if m.Snapshot {
			clear(b.candles)
		}
		for _, c := range m.Candles {
			b.candles[c.Time] = c.Volume
		}
	}
}

// equalBook compares the client's book with the publisher's full L2.
func (b *wsBook) equalBook(p *Publisher, sym matching.SymbolID) string {
	s := p.sym(sym)
	for _, side := range []struct {
		sd matching.Side
		m  map[string]wsLevel
	}{{matching.Buy, b.bids}, {matching.Sell, b.asks}} {
		want := p.Depth(sym, side.sd, 0, nil)
		if len(want) != len(side.m) {
			return "level count differs"
		}
		for _, l := range want {
			got := side.m[s.px.string(l.Price)]
			if got.Qty != s.qty.string(l.Qty) || got.Orders != l.Orders {
				return "level " + s.px.string(l.Price) + " differs"
			}
		}
	}
	return ""
}

// wsClient reads messages on its own goroutine: coder/websocket closes the
// connection when a Read's context ends, so reads cannot time out one by one.
type wsClient struct {
	c      *websocket.Conn
	msgs   chan *wsMsg
	errs   chan error
	arrays atomic.Int64 // frames holding several messages
}

func dialWS(t *testing.T, ctx context.Context, srv *httptest.Server) *wsClient {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 24)
	wc := &wsClient{c: c, msgs: make(chan *wsMsg, 1<<16), errs: make(chan error, 1)}
	go func() {
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				wc.errs <- err
				return
			}
			var ms []*wsMsg
			if len(data) > 0 && data[0] == '[' {
				wc.arrays.Add(1)
				err = json.Unmarshal(data, &ms)
			} else {
				var m wsMsg
				err = json.Unmarshal(data, &m)
				ms = append(ms, &m)
			}
			if err != nil {
				wc.errs <- err
				return
			}
			for _, m := range ms {
				wc.msgs <- m
			}
		}
	}()
	return wc
}

func (wc *wsClient) send(ctx context.Context, t *testing.T, msg string) {
	t.Helper()
	if err := wc.c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

var errIdle = errors.New("idle")

func (wc *wsClient) read(idle time.Duration) (*wsMsg, error) {
	select {
	case m := <-wc.msgs:
		return m, nil
	case err := <-wc.errs:
		return nil, err
	case <-time.After(idle):
		return nil, errIdle
	}
}

// drainUntil applies the client's messages to b until pending reports
// nothing left to wait for (""), failing after 10 s with what was pending.
func drainUntil(t *testing.T, wc *wsClient, b *wsBook, pending func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for d := pending(); d != ""; d = pending() {
		m, err := wc.read(time.Until(deadline))
		if err == errIdle {
			t.Fatalf("timed out: %s", d)
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Symbol != "AAPL" {
			t.Fatalf("message for %q, subscribed to AAPL only", m.Symbol)
		}
		b.apply(t, m)
	}
}

func TestWebSocketFeed(t *testing.T) {
	// The subscriber's queue holds every update this test makes, so the
	// client never falls behind, however slow the machine, and the final
	// comparison runs every time.
	p := newTestPublisher(t, Config{TradesMax: 100000, SubscriberQueueMax: 1 << 16})
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := dialWS(t, ctx, srv)
	defer c.c.CloseNow()

	// Bad requests get an error naming the field; the connection stays up.
	for _, bad := range []struct{ msg, param string }{
		{`{"op":"subscribe","channels":["book"],"symbols":["NOPE"]}`, "symbols"},
		{`{"op":"dance"}`, "op"},
		{`{"op":"subscribe","channels":["book"],"symbols":["AAPL"],"interval":"7m"}`, "interval"},
		{`not json`, "message"},
	} {
		c.send(ctx, t, bad.msg)
		m, err := c.read(5 * time.Second)
		if err != nil || m.Type != "error" || m.Param != bad.param {
			t.Fatalf("%s: got %+v, %v; want an error naming %q", bad.msg, m, err, bad.param)
		}
	}

	s := newSession(3, 2)
	for i := 0; i < 300; i++ { // some state before subscribing
		for _, ev := range s.next() {
			p.Apply(&ev)
		}
	}
	sub := `{"op":"subscribe","channels":["book","trades","candles"],"symbols":["AAPL"],"interval":"1s"}`
	c.send(ctx, t, sub)
	b := newWSBook()
	for i := 0; i < 3; i++ { // snapshots come first, one per channel
		m, err := c.read(5 * time.Second)
		if err != nil || !m.Snapshot {
			t.Fatalf("want snapshot %d, got %+v, %v", i, m, err)
		}
		b.apply(t, m)
	}
	if d := b.equalBook(p, 1); d != "" {
		t.Fatalf("snapshot: %s", d)
	}
	for i := 0; i < 1500; i++ {
		for _, ev := range s.next() {
			p.Apply(&ev)
		}
	}
	tape := p.Trades(1, 0, nil)
	cs := p.Candles(1, Interval1s, -1<<63, 1<<63-1, nil)
	drainUntil(t, c, b, func() string {
		if d := b.equalBook(p, 1); d != "" {
			return "book: " + d
		}
		if len(b.trades) != len(tape) {
			return fmt.Sprintf("client saw %d trades, tape has %d", len(b.trades), len(tape))
		}
		if len(b.candles) != len(cs) || b.candles[cs[len(cs)-1].StartNs/1e9] != p.sym(1).qty.string(cs[len(cs)-1].Volume) {
			return fmt.Sprintf("client has %d candles, publisher %d", len(b.candles), len(cs))
		}
		return ""
	})
	if n := p.resyncs.Load(); n != 0 {
		t.Fatalf("the client fell behind %d times with a queue for every update", n)
	}
	if b.updatesApplied == 0 {
		t.Fatal("no updates received")
	}
}

// TestWebSocketSlowSubscriber stalls the server's writer so the subscriber's
// queue overflows: it must be counted, the publisher must not wait, and the
// client must then get a fresh snapshot that matches the book.
func TestWebSocketSlowSubscriber(t *testing.T) {
	var stall gate
	p := newTestPublisher(t, Config{SubscriberQueueMax: 4})
	p.hooks.beforeWSWrite = stall.pass
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := dialWS(t, ctx, srv)
	defer c.c.CloseNow()
	c.send(ctx, t, `{"op":"subscribe","channels":["book","trades"],"symbols":["AAPL"]}`)
	b := newWSBook()
	for i := 0; i < 2; i++ {
		m, err := c.read(5 * time.Second)
		if err != nil || !m.Snapshot {
			t.Fatalf("want snapshot, got %+v %v", m, err)
		}
		b.apply(t, m)
	}

	stall.shut()
	s := newSession(5, 1)
	start := time.Now()
	for i := 0; i < 2000; i++ {
		for _, ev := range s.next() {
			p.Apply(&ev)
		}
	}
	applyTime := time.Since(start)
	if p.resyncs.Load() == 0 {
		stall.open()
		t.Fatal("a stalled subscriber was never marked as lagging")
	}
	stall.open()
	drainUntil(t, c, b, func() string {
		if b.snapshots["book"] < 2 || b.snapshots["trades"] < 2 {
			return fmt.Sprintf("no fresh snapshot after lagging: %v", b.snapshots)
		}
		if d := b.equalBook(p, 1); d != "" {
			return "after resync: " + d
		}
		return ""
	})
	t.Logf("2000 commands applied in %v with a stalled subscriber; %d resyncs", applyTime, p.resyncs.Load())
}

func TestCounters(t *testing.T) {
	p := newTestPublisher(t, Config{RingEvents: 2})
	p.Publish([]matching.Event{{Kind: matching.EvAdded, Symbol: 1}})
	p.Publish(make([]matching.Event, 2))
	if c := p.Counters(); c.EventsPublished != 1 || c.EventsOverflowed != 2 {
		t.Fatalf("counters %+v", c)
	}
}

// TestWebSocketCoalescing: updates queued while the writer is busy go out
// together in one frame, those of one stream merged into one message that
// carries each level once, as the newest update left it, under the newest
// sequence number.
func TestWebSocketCoalescing(t *testing.T) {
	var stall gate
	writing := make(chan struct{}, 1) // the writer is about to write (and stall)
	p := newTestPublisher(t, Config{})
	p.hooks.beforeWSWrite = func() {
		select {
		case writing <- struct{}{}:
		default:
		}
		stall.pass()
	}
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := dialWS(t, ctx, srv)
	defer c.c.CloseNow()
	c.send(ctx, t, `{"op":"subscribe","channels":["book"],"symbols":["AAPL"]}`)
	if m, err := c.read(5 * time.Second); err != nil || !m.Snapshot {
		t.Fatalf("want snapshot, got %+v %v", m, err)
	}
	<-writing // the snapshot's write
	stall.shut()
	for i := 1; i <= 5; i++ {
		p.Apply(&matching.Event{Kind: matching.EvAdded, OutSeq: uint64(i), Symbol: 1, Side: matching.Buy,
			OrderID: matching.OrderID(i), Price: int64(100 + i), Leaves: 1})
		if i == 1 {
			<-writing // the writer took the first and stalls; the rest queue up behind it
		}
	}
	// Order 3 leaves: its level changes a second time in the queue.
	p.Apply(&matching.Event{Kind: matching.EvCancelled, OutSeq: 6, Symbol: 1, Side: matching.Buy, OrderID: 3, Price: 103})
	stall.open()
	if m, err := c.read(5 * time.Second); err != nil || m.Seq != 1 || len(m.Bids) != 1 {
		t.Fatalf("update 1: %+v %v", m, err)
	}
	m, err := c.read(5 * time.Second)
	if err != nil || m.Seq != 6 || len(m.Bids) != 4 {
		t.Fatalf("merged updates 2-6: %+v %v", m, err)
	}
	got := map[string]string{}
	for _, l := range m.Bids {
		if _, dup := got[l.Price]; dup {
			t.Fatalf("level %s twice in %+v", l.Price, m.Bids)
		}
		got[l.Price] = l.Qty
	}
	want := map[string]string{"1.02": "1", "1.03": "0", "1.04": "1", "1.05": "1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("merged levels %v, want %v", got, want)
	}
	if c.arrays.Load() != 0 {
		t.Fatal("one stream's queued updates came as an array, not merged")
	}
}
