package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
	frames     int64
	bytes      int64
	outOfOrder int64
	// last is the sequence number last seen on each channel/symbol; key is
	// scratch space for its keys.
	last map[string]*uint64
	key  []byte
}

// WSResult is what the clients saw between Measure and Stop.
type WSResult struct {
	Clients int
	// Delay is trade timestamp -> arrival at a client, in ns, over every
	// trade of every client.
	Delay *hdrhistogram.Histogram
	// ClientP99Max is the worst of the clients' own p99 delays, in ns.
	ClientP99Max int64
	Messages     int64
	// Frames and Bytes count the WebSocket messages (each one update or an
	// array of several) and their payload bytes the clients read.
	Frames, Bytes int64
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
		cl := &wsClient{delay: hdrhistogram.New(1, int64(time.Minute), 2), last: map[string]*uint64{}}
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
		cl.msgs, cl.frames, cl.bytes = 0, 0, 0
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
		r.Frames += cl.frames
		r.Bytes += cl.bytes
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
	wsTimeKey   = []byte(`time_ns":`) // 't' is rarer than '"' in a trade
	wsSnapKey   = []byte(`"snapshot":true`)
	wsAsksKey   = []byte(`,"asks":[`)
	wsStatsKey  = []byte(`,"stats":`)
	wsEndKey    = []byte(`}`)
)

func (w *WSClients) read(ctx context.Context, c *websocket.Conn, cl *wsClient, snapshots int, ready chan<- error) {
	defer w.wg.Done()
	defer c.CloseNow()
	var buf []byte // one frame, reused: reading allocates nothing per frame
	for {
		var err error
		buf, err = readFrame(ctx, c, buf[:0])
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
		if measuring {
			cl.frames++
			cl.bytes += int64(len(buf))
		}
		got := cl.scan(buf, now, measuring)
		cl.mu.Unlock()
		if snapshots > 0 && got > 0 {
			if snapshots -= got; snapshots <= 0 {
				ready <- nil
			}
		}
	}
}

// readFrame appends the next message's payload to buf (grown as needed and
// kept by the caller for the next frame).
func readFrame(ctx context.Context, c *websocket.Conn, buf []byte) ([]byte, error) {
	_, r, err := c.Reader(ctx)
	if err != nil {
		return buf, err
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// scan checks and measures one frame: one message or a JSON array of
// several, each starting {"type":"..","symbol":"..","seq":N. Every message's
// sequence number must be above the last on its channel and symbol; while
// measuring, every update counts and every trades message's delay (from its
// time_ns to now) is recorded for each of its trades. It returns how many snapshots
// the frame held. It allocates only for a stream seen for the first time.
// cl.mu is held.
func (cl *wsClient) scan(data []byte, now int64, measuring bool) (snapshots int) {
	for rest := data; ; {
		i := bytes.Index(rest, wsTypeKey)
		if i < 0 {
			break
		}
		rest = rest[i+len(wsTypeKey):]
		typ, _, _ := bytes.Cut(rest, []byte(`"`))
		// A message's levels, trades or candles hold no brackets: the next
		// message is looked for past its arrays, not through them (a
		// search for {"type":" stops at every level's '{').
		body := 0
		switch string(typ) {
		case "book":
			body = skipArrays(rest, wsAsksKey, wsEndKey)
		case "trades":
			body = skipArrays(rest, wsStatsKey)
		case "candles":
			body = skipArrays(rest, wsEndKey)
		}
		next := bytes.Index(rest[body:], wsTypeKey)
		msg := rest
		if next >= 0 {
			next += body
			msg = rest[:next]
		}
		sym := fieldAfter(msg, wsSymbolKey, '"')
		seq := parseUint(fieldAfter(msg, wsSeqKey, ','))
		cl.key = append(append(append(cl.key[:0], typ...), '/'), sym...)
		if last := cl.last[string(cl.key)]; last == nil {
			v := new(uint64)
			*v = seq
			cl.last[string(cl.key)] = v
		} else {
			if seq <= *last {
				cl.outOfOrder++
			}
			*last = seq
		}
		snap := bytes.Contains(msg[:min(len(msg), 80)], wsSnapKey)
		if snap {
			snapshots++
		}
		if measuring && !snap {
			cl.msgs++
			if string(typ) == "trades" {
				m := msg
				if body > 0 {
					m = msg[:body] // the trades array, not the stats after it
				}
				// Each trade is an object {"id":N,"time_ns":T,...} with no
				// object inside: its time is looked for near its '{'.
				for {
					i := bytes.IndexByte(m, '{')
					if i < 0 {
						break
					}
					m = m[i+1:]
					j := bytes.Index(m[:min(len(m), 48)], wsTimeKey)
					if j < 0 {
						continue
					}
					m = m[j+len(wsTimeKey):]
					if t, n := leadingUint(m); n > 0 {
						_ = cl.delay.RecordValue(max(now-int64(t), 1))
						m = m[n:]
					}
				}
			}
		}
		if next < 0 {
			break
		}
		rest = rest[next:]
	}
	return snapshots
}

// skipArrays returns the offset just past a message's arrays: each ']' in
// turn must be followed by what follows[i] says comes after that array in
// the server's format; 0 when it is not so (then the caller searches the
// whole message).
func skipArrays(b []byte, follows ...[]byte) int {
	at := 0
	for _, f := range follows {
		i := bytes.IndexByte(b[at:], ']')
		if i < 0 || !bytes.HasPrefix(b[at+i+1:], f) {
			return 0
		}
		at += i + 1
	}
	return at
}

// leadingUint reads the decimal number b starts with and how many digits
// it had.
func leadingUint(b []byte) (v uint64, n int) {
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + uint64(b[n]-'0')
		n++
	}
	return v, n
}

// parseUint reads a decimal number without allocating (0: none, or not a
// number).
func parseUint(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0
		}
		v = v*10 + uint64(c-'0')
	}
	return v
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
