package bench

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/coder/websocket"
)

// WSClients is a crowd of WebSocket market-data clients on one venue, each
// subscribed to the book and trades of the same symbols. Every client
// measures, for each trade message it gets, the delay from the trade's
// engine timestamp to its arrival, and checks that sequence numbers go up on
// each channel of each symbol. Readers scan frames for the few fields they
// need instead of decoding them: a thousand clients share the venue's cores.
type WSClients struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	clients []*wsClient
	closed  atomic.Int64 // connections that ended before Stop
	measure atomic.Bool
}

type wsClient struct {
	mu         sync.Mutex
	delay      *hdrhistogram.Histogram
	msgs       int64
	outOfOrder int64
	last       map[string]uint64
}

// WSResult is what the clients saw between Measure and Stop.
type WSResult struct {
	Clients int
	// Delay is trade timestamp -> arrival at a client, in ns, over every
	// trade message of every client (a message's oldest trade counts).
	Delay *hdrhistogram.Histogram
	// ClientP99Max is the worst of the clients' own p99 delays, in ns.
	ClientP99Max int64
	Messages     int64
	// OutOfOrder counts messages whose sequence number was not above the
	// previous one on the same channel and symbol (over the whole run).
	OutOfOrder int64
	// Closed counts connections that ended before Stop.
	Closed int64
}

// DialWSClients connects n clients to ws://addr/ws and subscribes each to
// the book and trades of symbols; it returns once every client has its
// first snapshots.
func DialWSClients(addr string, n int, symbols []string) (*WSClients, error) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &WSClients{cancel: cancel}
	q := strings.Join(symbols, `","`)
	sub := []byte(`{"op":"subscribe","channels":["book","trades"],"symbols":["` + q + `"]}`)
	ready := make(chan error, n)
	for i := 0; i < n; i++ {
		dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
		c, _, err := websocket.Dial(dctx, "ws://"+addr+"/ws", nil)
		dcancel()
		if err != nil {
			w.Stop()
			return nil, fmt.Errorf("websocket client %d: %w", i, err)
		}
		c.SetReadLimit(1 << 24)
		if err := c.Write(ctx, websocket.MessageText, sub); err != nil {
			c.CloseNow()
			w.Stop()
			return nil, fmt.Errorf("websocket client %d: subscribe: %w", i, err)
		}
		cl := &wsClient{delay: hdrhistogram.New(1, int64(time.Minute), 2), last: map[string]uint64{}}
		w.clients = append(w.clients, cl)
		w.wg.Add(1)
		go w.read(ctx, c, cl, 2*len(symbols), ready)
	}
	for i := 0; i < n; i++ {
		select {
		case err := <-ready:
			if err != nil {
				w.Stop()
				return nil, err
			}
		case <-time.After(60 * time.Second):
			w.Stop()
			return nil, fmt.Errorf("websocket clients: no snapshots after 60 s")
		}
	}
	return w, nil
}

// Measure starts (or restarts) counting delays and messages.
func (w *WSClients) Measure() {
	for _, cl := range w.clients {
		cl.mu.Lock()
		cl.delay.Reset()
		cl.msgs = 0
		cl.mu.Unlock()
	}
	w.measure.Store(true)
}

// Stop closes every client and returns what they saw since Measure.
func (w *WSClients) Stop() WSResult {
	w.measure.Store(false)
	closedEarly := w.closed.Load()
	w.cancel()
	w.wg.Wait()
	r := WSResult{Clients: len(w.clients), Delay: hdrhistogram.New(1, int64(time.Minute), 2), Closed: closedEarly}
	for _, cl := range w.clients {
		r.Delay.Merge(cl.delay)
		r.Messages += cl.msgs
		r.OutOfOrder += cl.outOfOrder
		if cl.delay.TotalCount() > 0 {
			r.ClientP99Max = max(r.ClientP99Max, cl.delay.ValueAtQuantile(99))
		}
	}
	return r
}

var (
	wsTypeKey   = []byte(`{"type":"`)
	wsSymbolKey = []byte(`"symbol":"`)
	wsSeqKey    = []byte(`"seq":`)
	wsTimeKey   = []byte(`"time_ns":`)
	wsSnapKey   = []byte(`"snapshot":true`)
)

func (w *WSClients) read(ctx context.Context, c *websocket.Conn, cl *wsClient, snapshots int, ready chan<- error) {
	defer w.wg.Done()
	defer c.CloseNow()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.closed.Add(1)
			}
			if snapshots > 0 {
				ready <- fmt.Errorf("websocket client: %w", err)
			}
			return
		}
		now := time.Now().UnixNano()
		measuring := w.measure.Load()
		cl.mu.Lock()
		// One frame holds one message or a JSON array of several; each
		// starts with {"type":"..","symbol":"..","seq":N.
		for rest := data; ; {
			i := bytes.Index(rest, wsTypeKey)
			if i < 0 {
				break
			}
			rest = rest[i+len(wsTypeKey):]
			next := bytes.Index(rest, wsTypeKey)
			msg := rest
			if next >= 0 {
				msg = rest[:next]
			}
			typ, _, _ := bytes.Cut(msg, []byte(`"`))
			sym := fieldAfter(msg, wsSymbolKey, '"')
			seq, _ := strconv.ParseUint(string(fieldAfter(msg, wsSeqKey, ',')), 10, 64)
			k := string(typ) + "/" + string(sym)
			if last, ok := cl.last[k]; ok && seq <= last {
				cl.outOfOrder++
			}
			cl.last[k] = seq
			snap := bytes.Contains(msg[:min(len(msg), 80)], wsSnapKey)
			if snap && snapshots > 0 {
				if snapshots--; snapshots == 0 {
					ready <- nil
				}
			}
			if measuring && !snap {
				cl.msgs++
				if string(typ) == "trades" {
					if t, err := strconv.ParseInt(string(fieldAfter(msg, wsTimeKey, ',')), 10, 64); err == nil && t > 0 {
						_ = cl.delay.RecordValue(max(now-t, 1))
					}
				}
			}
			if next < 0 {
				break
			}
			rest = rest[next:]
		}
		cl.mu.Unlock()
	}
}

// fieldAfter returns the bytes after key up to end (or the message's end).
func fieldAfter(msg, key []byte, end byte) []byte {
	i := bytes.Index(msg, key)
	if i < 0 {
		return nil
	}
	v := msg[i+len(key):]
	if j := bytes.IndexByte(v, end); j >= 0 {
		v = v[:j]
	}
	return bytes.TrimRight(v, "}]")
}
