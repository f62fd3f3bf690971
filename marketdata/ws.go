package marketdata

import (
	"context"
	"encoding/json"
	"net/http"
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
	wsBatchBytes   = 64 << 10 // updates coalesced into one frame, at most
)

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
		s := p.byName[name]
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
			e.chans |= chans
			if chans&chCandles != 0 {
				e.interval = iv
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
// updates that were waiting together.
func (p *Publisher) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has replied
	}
	defer c.CloseNow()
	c.SetReadLimit(wsReadMax)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	sub := newSubscriber(p.cfg.SubscriberQueueMax)
	p.addSubscriber(sub)
	defer p.removeSubscriber(sub)

	replies := make(chan []byte, 4)
	go func() {
		defer cancel()
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			req, chans, iv, syms, perr := p.parseWSRequest(data)
			if perr != nil {
				b := append([]byte(`{"type":"error","error":`), appendJSONString(nil, perr.msg)...)
				b = append(b, `,"param":`...)
				b = appendJSONString(b, perr.param)
				select {
				case replies <- append(b, '}'):
				default: // a client flooding bad requests loses replies
				}
				continue
			}
			p.updateSubscriptions(sub, req.Op == "subscribe", chans, iv, syms)
		}
	}()

	write := func(b []byte) bool {
		if p.hooks.beforeWSWrite != nil {
			p.hooks.beforeWSWrite()
		}
		wctx, wcancel := context.WithTimeout(ctx, wsWriteTimeout)
		defer wcancel()
		return c.Write(wctx, websocket.MessageText, b) == nil
	}
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-replies:
			if !write(b) {
				return
			}
		case <-sub.kick:
			for _, sn := range p.resnapshot(sub, snapshotTradesMax) {
				for _, ch := range []channel{chBook, chTrades, chCandles} {
					if sn.e.chans&ch == 0 {
						continue
					}
					buf = appendFeedJSON(buf[:0], ch, sn.e.s, sn.seq, true, sn.e.interval,
						sn.bids, sn.asks, sn.trades, sn.stats, sn.candles)
					if !write(buf) {
						return
					}
				}
			}
		case u := <-sub.q:
			// Whatever else is already queued goes in the same frame, as a
			// JSON array: one write instead of several when the client lags
			// a little.
			first := u.JSON()
			buf = append(buf[:0], '[')
			buf = append(buf, first...)
			n := 1
		more:
			for len(buf) < wsBatchBytes {
				select {
				case u := <-sub.q:
					buf = append(append(buf, ','), u.JSON()...)
					n++
				default:
					break more
				}
			}
			msg := first
			if n > 1 {
				msg = append(buf, ']')
			}
			if !write(msg) {
				return
			}
		}
	}
}
