package marketdata

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// wsRequest is a client's message on /ws:
//
//	{"op":"subscribe","channels":["book","trades","candles"],"symbols":["AAPL"],"interval":"1s"}
//
// op is "subscribe" or "unsubscribe"; interval (default "1m") applies to the
// candles channel.
type wsRequest struct {
	Op       string   `json:"op"`
	Channels []string `json:"channels"`
	Symbols  []string `json:"symbols"`
	Interval string   `json:"interval"`
}

const (
	wsReadMax      = 4096
	wsSymbolsMax   = 256
	wsWriteTimeout = 10 * time.Second
	wsBatchBytes   = 64 << 10 // updates coalesced into one frame, at most (before merging)
	// wsWriteBuffer is each connection's write buffer: a frame up to this
	// size (header and payload) goes out in one write(2). With net/http's
	// 4 KB buffer the library wrote a frame of several KB in two: the
	// header and the buffer's first bytes, then the rest.
	wsWriteBuffer = 32 << 10
)

// wsResponseWriter hands websocket.Accept the connection with a write
// buffer of wsWriteBuffer bytes instead of net/http's 4 KB.
type wsResponseWriter struct{ http.ResponseWriter }

func (w wsResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	if err := brw.Writer.Flush(); err != nil { // nothing is buffered yet; if it were, it goes first
		c.Close()
		return nil, nil, err
	}
	brw.Writer = bufio.NewWriterSize(c, wsWriteBuffer)
	return c, brw, nil
}

// parseWSRequest validates a client message; the error names the field.
func (p *Publisher) parseWSRequest(data []byte) (req wsRequest, chans channel, iv Interval, syms []*symState, perr *paramError) {
	bad := func(param, msg string) *paramError { return &paramError{param, msg, http.StatusBadRequest} }
	if err := json.Unmarshal(data, &req); err != nil {
		return req, 0, 0, nil, bad("message", "message must be a JSON object: "+err.Error())
	}
	if req.Op != "subscribe" && req.Op != "unsubscribe" {
		return req, 0, 0, nil, bad("op", `op must be "subscribe" or "unsubscribe"`)
	}
	for _, c := range req.Channels {
		switch c {
		case "book":
			chans |= chBook
		case "trades":
			chans |= chTrades
		case "candles":
			chans |= chCandles
		default:
			return req, 0, 0, nil, bad("channels", `channels must be among "book", "trades", "candles"`)
		}
	}
	if chans == 0 {
		return req, 0, 0, nil, bad("channels", "channels must name at least one channel")
	}
	iv = Interval1m
	if req.Interval != "" {
		var ok bool
		if iv, ok = ParseInterval(req.Interval); !ok {
			return req, 0, 0, nil, bad("interval", "interval must be one of 1s, 1m, 5m, 1h")
		}
	}
	if len(req.Symbols) == 0 || len(req.Symbols) > wsSymbolsMax {
		return req, 0, 0, nil, bad("symbols", "symbols must name 1 to 256 symbols")
	}
	for _, name := range req.Symbols {
		s := p.symNamed(name)
		if s == nil {
			if len(name) > 64 {
				name = name[:64]
			}
			return req, 0, 0, nil, bad("symbols", "unknown symbol "+name)
		}
		syms = append(syms, s)
	}
	return req, chans, iv, syms, nil
}

// updateSubscriptions applies a (validated) subscribe or unsubscribe and asks
// the subscriber's goroutine for fresh snapshots, so that what it sends next
// is consistent with everything it is now subscribed to.
func (p *Publisher) updateSubscriptions(sub *subscriber, subscribe bool, chans channel, iv Interval, syms []*symState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range syms {
		i := 0
		for i < len(sub.subs) && sub.subs[i].s != s {
			i++
		}
		if i == len(sub.subs) {
			if !subscribe {
				continue
			}
			sub.subs = append(sub.subs, subscription{s: s})
		}
		e := &sub.subs[i]
		if subscribe {
			e.fresh |= chans &^ e.chans
			e.chans |= chans
			if chans&chCandles != 0 && e.interval != iv {
				e.interval = iv
				e.fresh |= chCandles
			}
		} else {
			e.chans &^= chans
		}
		if e.chans == 0 {
			sub.subs = append(sub.subs[:i], sub.subs[i+1:]...)
		}
	}
	p.markLagging(sub, false)
}

// serveWS runs one WebSocket connection: a reader goroutine for the client's
// requests and this goroutine writing snapshots and updates. The client gets
// a snapshot of each subscription first (messages with "snapshot":true), then
// updates; when it falls behind its queue is dropped and it gets snapshots
// again. Each frame holds one JSON message, or a JSON array of several
// that were waiting together, the updates of one stream merged into one
// message (wsmerge.go). On each channel of each symbol the sequence numbers
// a client sees only go up (wsConn.stale). Every close is logged with its
// reason. Frames are not compressed (permessage-deflate is not offered).
func (p *Publisher) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(wsResponseWriter{w}, r, nil)
	if err != nil {
		return // Accept has replied
	}
	c.SetReadLimit(wsReadMax)
	ctx, cancel := context.WithCancel(r.Context())
	// The reader's context is not the writer's: coder/websocket closes the
	// connection at once when a Read's context ends, which would beat the
	// close frame the writer sends with its reason. The reader ends when the
	// connection closes.
	wc := &wsConn{p: p, c: c, ctx: ctx, readCtx: r.Context(), sub: newSubscriber(p.cfg.SubscriberQueueMax),
		last: make(map[feedKey]uint64), replies: make(chan []byte, 4), opened: time.Now()}
	wc.sub.cancel = cancel
	p.addSubscriber(wc.sub)
	if p.closing.Load() {
		cancel()
	}
	go wc.readLoop(cancel)
	reason := wc.writeLoop()
	cancel()
	p.removeSubscriber(wc.sub)
	if wc.reason.Load() == nil {
		wc.reason.Store(&reason)
	}
	reason = *wc.reason.Load()
	if wc.status != 0 {
		_ = c.Close(wc.status, reason)
	} else {
		_ = c.CloseNow()
	}
	p.cfg.Log.Info().Str("remote", r.RemoteAddr).Str("reason", reason).Int64("frames", wc.frames).
		Int64("resyncs", wc.resyncs).Int64("merged", wc.merged).Dur("connected", time.Since(wc.opened)).Msg("websocket closed")
}

// feedKey names one stream a client follows: a channel of a symbol (and,
// for candles, an interval).
type feedKey struct {
	s        *symState
	ch       channel
	interval Interval
}

// snapJSON is an encoded WebSocket snapshot and the state version it shows.
type snapJSON struct {
	ver, seq uint64
	b        []byte
}

// wsFrame is one snapshot ready to send.
type wsFrame struct {
	key   feedKey
	seq   uint64
	fresh bool
	b     []byte
}

// wsConn is one WebSocket client's writer state; only serveWS's goroutine
// touches it, except reason.
type wsConn struct {
	p       *Publisher
	c       *websocket.Conn
	ctx     context.Context // the writer's: ends with the connection, Run, or the reader
	readCtx context.Context
	sub     *subscriber
	replies chan []byte
	// last is the sequence number last sent on each stream.
	last map[feedKey]uint64
	buf  []byte
	// Scratch space for sendUpdates: the frame's updates, those merged
	// already, one stream's group, the book levels met.
	pend  []*update
	done  []bool
	group []*update
	seen  priceSet

	opened          time.Time
	frames, resyncs int64
	merged          int64                  // updates merged into another of their stream
	reason          atomic.Pointer[string] // why the connection ends, first cause wins
	status          websocket.StatusCode   // the close frame to send, 0: none
}

func (wc *wsConn) setReason(s string) { wc.reason.CompareAndSwap(nil, &s) }

// readLoop reads the client's requests until the connection fails, then
// ends the writer through cancel.
func (wc *wsConn) readLoop(cancel context.CancelFunc) {
	defer cancel()
	p := wc.p
	for {
		_, data, err := wc.c.Read(wc.readCtx)
		if err != nil {
			switch st := websocket.CloseStatus(err); {
			case st != -1:
				wc.setReason(fmt.Sprintf("client closed (status %d)", st))
			case wc.ctx.Err() != nil:
				// the writer ended first and has its own reason
			case errors.Is(err, io.EOF):
				wc.setReason("client went away (EOF)")
			default:
				wc.setReason("read failed: " + err.Error())
			}
			return
		}
		req, chans, iv, syms, perr := p.parseWSRequest(data)
		if perr != nil {
			b := append([]byte(`{"type":"error","error":`), appendJSONString(nil, perr.msg)...)
			b = append(b, `,"param":`...)
			b = appendJSONString(b, perr.param)
			select {
			case wc.replies <- append(b, '}'):
			default: // a client flooding bad requests loses replies
			}
			continue
		}
		p.updateSubscriptions(wc.sub, req.Op == "subscribe", chans, iv, syms)
	}
}

// writeLoop sends replies, snapshots and updates until the connection ends,
// and returns why.
func (wc *wsConn) writeLoop() string {
	gap := wc.p.cfg.WSWriteGap
	var timer *time.Timer
	if gap > 0 {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
		defer timer.Stop()
	}
	rest := false
	var frameAt time.Time // when the last frame of updates was started
	for {
		// After a frame of updates the writer rests until the gap since
		// its start has passed: what the publisher queues meanwhile waits
		// in the queue (its sends find this goroutine asleep on the timer,
		// not on the queue, so they wake nothing) and goes out in one
		// frame. Under load that is one wake-up per frame, the timer's. A
		// writer behind (the write outlasted the gap, or the queue is half
		// full) does not rest.
		if wait := gap - time.Since(frameAt); rest && wait > 0 && len(wc.sub.q) < cap(wc.sub.q)/2 {
			timer.Reset(wait)
			select {
			case <-wc.ctx.Done():
				timer.Stop()
			case <-timer.C:
			}
		}
		rest = false
		select {
		case <-wc.ctx.Done():
			if wc.p.closing.Load() {
				wc.status = websocket.StatusGoingAway
				return "server shutting down"
			}
			return "connection ended: " + context.Cause(wc.ctx).Error()
		case b := <-wc.replies:
			if err := wc.write(b); err != nil {
				return wc.writeFailed(err)
			}
		case <-wc.sub.kick:
			if err := wc.sendSnapshots(); err != nil {
				return wc.writeFailed(err)
			}
		case u := <-wc.sub.q:
			select { // lagging meanwhile: the snapshot first, u is then stale
			case <-wc.sub.kick:
				if err := wc.sendSnapshots(); err != nil {
					return wc.writeFailed(err)
				}
			default:
			}
			frameAt = time.Now()
			wrote, err := wc.sendUpdates(u)
			if err != nil {
				return wc.writeFailed(err)
			}
			rest = wrote && gap > 0
		}
	}
}

func (wc *wsConn) writeFailed(err error) string {
	if wc.ctx.Err() != nil && wc.p.closing.Load() {
		wc.status = websocket.StatusGoingAway
		return "server shutting down"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("write timed out after %v: the client does not read", wsWriteTimeout)
	}
	return "write failed: " + err.Error()
}

// write sends one frame (with Config.WSWritersMax set, in one of that many
// slots shared by every client).
func (wc *wsConn) write(b []byte) error {
	if h := wc.p.hooks.beforeWSWrite; h != nil {
		h()
	}
	// The write's own deadline, not the connection's context: the library
	// drops the connection without a close frame when a write's context
	// ends, so a shutdown (which cancels wc.ctx) must not cut a frame in
	// half; the loop sees the shutdown at its next turn and closes with
	// the reason.
	wctx, wcancel := context.WithTimeout(context.Background(), wsWriteTimeout)
	defer wcancel()
	if slots := wc.p.wsWriters; slots != nil {
		select {
		case slots <- struct{}{}:
		case <-wc.ctx.Done():
			return wc.ctx.Err()
		case <-wctx.Done():
			return wctx.Err()
		}
		defer func() { <-slots }()
	}
	wc.frames++
	return wc.c.Write(wctx, websocket.MessageText, b)
}

// stale reports whether a message with seq on stream k would not be above
// what the client last got there (fresh: a new stream, always sent), and
// otherwise records seq as the last sent.
func (wc *wsConn) stale(k feedKey, seq uint64, fresh bool) bool {
	if last, ok := wc.last[k]; ok && seq <= last && !fresh {
		return true
	}
	wc.last[k] = seq
	return false
}

// sendUpdates sends first and whatever else is queued behind it, in one
// frame (a JSON array when there are several messages), leaving out updates
// the client already has from a snapshot. Each update's JSON is encoded once,
// by the first client that sends it, and copied into the others' frames;
// several updates of one stream in a frame are merged into one message
// (wsmerge.go). It reports whether it wrote a frame.
func (wc *wsConn) sendUpdates(first *update) (bool, error) {
	us := wc.pend[:0]
	size := 0
	add := func(u *update) {
		if wc.stale(feedKey{u.s, u.ch, u.interval}, u.seq, false) {
			return
		}
		us = append(us, u)
		size += len(u.JSON())
	}
	add(first)
more:
	for size < wsBatchBytes {
		select {
		case u := <-wc.sub.q:
			add(u)
		default:
			break more
		}
	}
	buf := append(wc.buf[:0], '[')
	n := 0
	// Each stream's message goes where its first update was; done marks the
	// updates already in a merged message.
	done := wc.done[:0]
	for range us {
		done = append(done, false)
	}
	for i, u := range us {
		if done[i] {
			continue
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
		group := append(wc.group[:0], u)
		if mergeable(u) {
			for j := i + 1; j < len(us); j++ {
				if v := us[j]; !done[j] && v.s == u.s && v.ch == u.ch {
					group = append(group, v)
					done[j] = true
				}
			}
		}
		if len(group) == 1 {
			buf = append(buf, u.JSON()...)
		} else {
			buf = appendMerged(buf, group, &wc.seen)
			wc.merged += int64(len(group) - 1)
		}
		clear(group)
		wc.group = group[:0]
	}
	clear(us)
	wc.pend, wc.done, wc.buf = us[:0], done[:0], buf
	switch n {
	case 0:
		return false, nil
	case 1:
		return true, wc.write(buf[1:])
	}
	return true, wc.write(append(buf, ']'))
}

// sendSnapshots answers a kick (a new subscription, or a queue that
// overflowed) with a snapshot of every stream the client follows, leaving
// out those it is already current on.
func (wc *wsConn) sendSnapshots() error {
	wc.resyncs++
	for _, f := range wc.p.wsSnapshots(wc.sub) {
		if wc.stale(f.key, f.seq, f.fresh) {
			continue
		}
		if err := wc.write(f.b); err != nil {
			return err
		}
	}
	return nil
}

// wsSnapshots restarts sub (see restart) and returns a snapshot of each of
// its streams, encoded. A snapshot is encoded once per state version and
// shared by every client that asks for it before the state moves on, so a
// thousand clients resynchronising at once cost one encoding, not a
// thousand; the encoding happens outside p.mu.
func (p *Publisher) wsSnapshots(sub *subscriber) []wsFrame {
	type miss struct {
		i  int
		sn snapshot
	}
	var out []wsFrame
	var misses []miss
	p.mu.Lock()
	p.restart(sub)
	ver := p.stateVer
	for j := range sub.subs {
		e := &sub.subs[j]
		for _, ch := range []channel{chBook, chTrades, chCandles} {
			if e.chans&ch == 0 {
				continue
			}
			k := feedKey{s: e.s, ch: ch}
			if ch == chCandles {
				k.interval = e.interval
			}
			f := wsFrame{key: k, seq: p.seq, fresh: e.fresh&ch != 0}
			if c, ok := p.snapCache[k]; ok && c.ver == ver {
				f.b = c.b
			} else {
				one := *e
				one.chans = ch
				misses = append(misses, miss{len(out), p.snapshotOf(one, snapshotTradesMax)})
			}
			out = append(out, f)
		}
		e.fresh = 0
	}
	p.mu.Unlock()
	if len(misses) == 0 {
		return out
	}
	for _, m := range misses {
		sn := &m.sn
		out[m.i].b = appendFeedJSON(nil, sn.e.chans, sn.e.s, sn.seq, true, sn.e.interval,
			sn.bids, sn.asks, sn.trades, sn.stats, sn.candles)
	}
	p.mu.Lock()
	for _, m := range misses {
		f := &out[m.i]
		if c, ok := p.snapCache[f.key]; !ok || c.ver < ver {
			p.snapCache[f.key] = snapJSON{ver: ver, seq: f.seq, b: f.b}
		}
	}
	p.mu.Unlock()
	return out
}
