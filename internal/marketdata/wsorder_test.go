package marketdata

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/matching"
)

// seqChecker is a client's view of one connection's sequence numbers: on
// each channel of each symbol every message, snapshot or update, must carry
// a sequence number above the previous one, and no trade may come twice
// outside a snapshot.
type seqChecker struct {
	t      *testing.T
	last   map[string]uint64
	trades map[uint64]bool
	n      int
}

func newSeqChecker(t *testing.T) *seqChecker {
	return &seqChecker{t: t, last: map[string]uint64{}, trades: map[uint64]bool{}}
}

func (c *seqChecker) check(m *wsMsg) {
	c.t.Helper()
	if m.Type == "error" {
		c.t.Fatalf("error message %+v", m)
	}
	c.n++
	k := m.Type + "/" + m.Symbol
	if last, ok := c.last[k]; ok && m.Seq <= last {
		c.t.Errorf("%s: seq %d (snapshot %v) after %d", k, m.Seq, m.Snapshot, last)
	}
	c.last[k] = m.Seq
	if m.Type == "trades" {
		for _, tr := range m.Trades {
			if c.trades[tr.ID] && !m.Snapshot {
				c.t.Errorf("trade %d sent twice (seq %d)", tr.ID, m.Seq)
			}
			c.trades[tr.ID] = true
		}
	}
}

// TestWebSocketSeqAfterResnapshot: a snapshot taken between the events'
// apply and their flush already holds those events; the flush that follows
// must not send them again under the same sequence number.
func TestWebSocketSeqAfterResnapshot(t *testing.T) {
	p := newTestPublisher(t, Config{})
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := dialWS(t, ctx, srv)
	defer c.c.CloseNow()
	sub := `{"op":"subscribe","channels":["book","trades"],"symbols":["AAPL"]}`
	c.send(ctx, t, sub)
	chk := newSeqChecker(t)
	for i := 0; i < 2; i++ {
		m, err := c.read(5 * time.Second)
		if err != nil || !m.Snapshot {
			t.Fatalf("want snapshot, got %+v %v", m, err)
		}
		chk.check(m)
	}

	// Events applied as Run applies them, without their flush yet: a resting
	// sell and a buy that trades with it.
	p.mu.Lock()
	for i, ev := range []matching.Event{
		{Kind: matching.EvAdded, OutSeq: 1, Symbol: 1, Side: matching.Sell, OrderID: 1, Price: 100, Leaves: 5},
		{Kind: matching.EvTrade, OutSeq: 2, Symbol: 1, Side: matching.Buy, OrderID: 2, MakerOrderID: 1,
			MatchID: 1, Price: 100, Qty: 2, MakerLeaves: 3, TimeNs: 1},
	} {
		if !p.apply(&ev) {
			t.Fatalf("event %d not applied", i)
		}
	}
	p.mu.Unlock()

	// Subscribing again asks for fresh snapshots, taken now.
	c.send(ctx, t, sub)
	for got := 0; got < 2; {
		m, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		chk.check(m)
		if m.Snapshot {
			got++
		}
	}
	// The flush Run would do next, then one more event.
	p.mu.Lock()
	p.flush()
	p.mu.Unlock()
	p.Apply(&matching.Event{Kind: matching.EvTrade, OutSeq: 3, Symbol: 1, Side: matching.Buy, OrderID: 3, MakerOrderID: 1,
		MatchID: 2, Price: 100, Qty: 1, MakerLeaves: 2, TimeNs: 2})
	for {
		m, err := c.read(300 * time.Millisecond)
		if err == errIdle {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		chk.check(m)
	}
	if chk.last["trades/AAPL"] != 3 || !chk.trades[2] {
		t.Fatalf("the last trade never arrived: %v", chk.last)
	}
}

// syncBuffer is a log sink safe for the connections' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitLog polls the log until it holds want.
func waitLog(t *testing.T, log *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q; it holds:\n%s", want, log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWebSocketCloseLogged: every connection that ends is logged with why,
// whether the client left or the server stopped, and a server stop sends the
// client a close frame with the reason.
func TestWebSocketCloseLogged(t *testing.T) {
	var log syncBuffer
	p := newTestPublisher(t, Config{Log: zerolog.New(&log)})
	runCtx, stopRun := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() { p.Run(runCtx); close(runDone) }()
	defer func() { stopRun(); <-runDone }()
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	a := dialWS(t, ctx, srv)
	a.send(ctx, t, `{"op":"subscribe","channels":["book"],"symbols":["AAPL"]}`)
	if m, err := a.read(5 * time.Second); err != nil || !m.Snapshot {
		t.Fatalf("want snapshot, got %+v %v", m, err)
	}
	a.c.Close(websocket.StatusNormalClosure, "bye")
	waitLog(t, &log, `"reason":"client closed (status 1000)"`)

	b := dialWS(t, ctx, srv)
	b.send(ctx, t, `{"op":"subscribe","channels":["book"],"symbols":["AAPL"]}`)
	if m, err := b.read(5 * time.Second); err != nil || !m.Snapshot {
		t.Fatalf("want snapshot, got %+v %v", m, err)
	}
	stopRun()
	<-runDone
	waitLog(t, &log, `"reason":"server shutting down"`)
	select {
	case err := <-b.errs:
		if websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Fatalf("client saw %v, want a going-away close", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client was never closed")
	}
	if n := strings.Count(log.String(), `"message":"websocket closed"`); n != 2 {
		t.Fatalf("%d close lines, want 2:\n%s", n, log.String())
	}
}

// TestWebSocketSlowClientSeq: a client whose writer stalls while a busy
// session runs (queue overflows, resyncs, Run's own flushing) still sees
// sequence numbers go only up on each stream, and ends with the right book.
func TestWebSocketSlowClientSeq(t *testing.T) {
	var stall sync.RWMutex
	p := newTestPublisher(t, Config{SubscriberQueueMax: 8, FlushInterval: -1})
	p.hooks.beforeWSWrite = func() {
		stall.RLock()
		defer stall.RUnlock() // a write waits while the test holds the lock
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() { p.Run(runCtx); close(runDone) }()
	defer func() { stopRun(); <-runDone }()
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := dialWS(t, ctx, srv)
	defer c.c.CloseNow()
	c.send(ctx, t, `{"op":"subscribe","channels":["book","trades","candles"],"symbols":["AAPL","MSFT"],"interval":"1s"}`)
	chk := newSeqChecker(t)
	s := newSession(11, 2)
	for round := 0; round < 9; round++ {
		if round%3 == 1 {
			stall.Lock()
		}
		for i := 0; i < 150; i++ { // one flush per command
			p.Publish(s.next())
			for p.tail.Load() != p.head.Load() {
				time.Sleep(50 * time.Microsecond)
			}
		}
		if round%3 == 1 {
			stall.Unlock()
		}
		for {
			m, err := c.read(30 * time.Millisecond)
			if err == errIdle {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			chk.check(m)
		}
	}
	if p.resyncs.Load() == 0 {
		t.Fatal("the stalled client never fell behind; the test did not test resyncs")
	}
	t.Logf("%d messages, %d resyncs", chk.n, p.resyncs.Load())
}
