package marketdata

import (
	"bytes"
	"errors"
	"strconv"
	"time"

	"github.com/quickfixgo/enum"
	"github.com/quickfixgo/field"
	"github.com/quickfixgo/fix44/marketdataincrementalrefresh"
	"github.com/quickfixgo/fix44/marketdatarequestreject"
	"github.com/quickfixgo/fix44/marketdatasnapshotfullrefresh"
	"github.com/quickfixgo/quickfix"
	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/matching"
)

// fixEntryTypes is the set of MDEntryTypes a request asked for.
type fixEntryTypes uint8

const (
	fixBid fixEntryTypes = 1 << iota
	fixOffer
	fixTrade
	fixOpening   // MDEntryType 4: official open, indicative in the pre-open call
	fixClosing   // MDEntryType 5: official close, indicative in the closing call
	fixImbalance // MDEntryType A: the call's imbalance
)

// fixDayTypes are the entry types of the trading day (fixday.go).
const fixDayTypes = fixOpening | fixClosing | fixImbalance

// FIX tags read from a MarketDataRequest.
const (
	tagSymbol          = 55
	tagMDReqID         = 262
	tagSubReqType      = 263
	tagMarketDepth     = 264
	tagMDUpdateType    = 265
	tagAggregatedBook  = 266
	tagNoMDEntryTypes  = 267
	tagMDEntryType     = 269
	tagNoRelatedSym    = 146
	fixSymbolsMax      = 100
	fixMDReqIDMax      = 64
	fixDepthMax        = 1000 // MarketDepth 0 (full book) sends at most this many levels a side
	fixSubscriptionMax = 256  // subscriptions per session
)

// mdRequest is a parsed MarketDataRequest.
type mdRequest struct {
	reqID      string
	subType    int
	depth      int
	updateType int // -1: absent
	aggregated string
	types      fixEntryTypes
	badType    string
	symbols    []string
}

// parseMDRequest reads a MarketDataRequest from its raw tag=value form. The
// acceptor runs without a data dictionary, so repeating groups arrive
// flattened: a NumInGroup field followed by its members in order. A message
// that is not well formed gets a session-level reject; one that asks for
// something unsupported is parsed fine and answered with a
// MarketDataRequestReject by the caller.
func parseMDRequest(raw []byte) (mdRequest, *fixsession.RejectError) {
	r := mdRequest{updateType: -1}
	var have [4]bool // 262, 263, 264, 267|146 seen
	nTypes, nSyms := -1, -1
	for len(raw) > 0 {
		var f []byte
		if i := bytes.IndexByte(raw, 1); i >= 0 {
			f, raw = raw[:i], raw[i+1:]
		} else {
			f, raw = raw, nil
		}
		eq := bytes.IndexByte(f, '=')
		if eq <= 0 {
			continue
		}
		tag, err := strconv.Atoi(string(f[:eq]))
		if err != nil {
			continue
		}
		v := f[eq+1:]
		num := func() (int, *fixsession.RejectError) {
			n, err := strconv.Atoi(string(v))
			if err != nil || len(v) > 9 {
				return 0, fixsession.IncorrectDataFormat(tag)
			}
			return n, nil
		}
		var rej *fixsession.RejectError
		switch tag {
		case tagMDReqID:
			r.reqID, have[0] = string(v), true
		case tagSubReqType:
			r.subType, rej = num()
			have[1] = true
		case tagMarketDepth:
			r.depth, rej = num()
			have[2] = true
		case tagMDUpdateType:
			r.updateType, rej = num()
		case tagAggregatedBook:
			r.aggregated = string(v)
		case tagNoMDEntryTypes:
			nTypes, rej = num()
		case tagMDEntryType:
			switch string(v) {
			case "0":
				r.types |= fixBid
			case "1":
				r.types |= fixOffer
			case "2":
				r.types |= fixTrade
			case "4":
				r.types |= fixOpening
			case "5":
				r.types |= fixClosing
			case "A":
				r.types |= fixImbalance
			default:
				if r.badType == "" {
					r.badType = string(v)
				}
			}
			nTypes--
			if nTypes < 0 {
				return r, fixsession.RejectTag(fixsession.ReasonIncorrectNumInGroup, tagNoMDEntryTypes, "MDEntryType outside its group")
			}
		case tagNoRelatedSym:
			nSyms, rej = num()
			if rej == nil && nSyms > fixSymbolsMax {
				return r, fixsession.ValueIsIncorrect(tagNoRelatedSym)
			}
		case tagSymbol:
			if nSyms <= 0 {
				return r, fixsession.RejectTag(fixsession.ReasonIncorrectNumInGroup, tagNoRelatedSym, "Symbol outside the NoRelatedSym group")
			}
			r.symbols = append(r.symbols, string(v))
			nSyms--
		}
		if rej != nil {
			return r, rej
		}
	}
	switch {
	case !have[0]:
		return r, fixsession.RequiredTagMissing(tagMDReqID)
	case !have[1]:
		return r, fixsession.RequiredTagMissing(tagSubReqType)
	case r.subType != 2 && !have[2]:
		return r, fixsession.RequiredTagMissing(tagMarketDepth)
	case nTypes > 0:
		return r, fixsession.RejectTag(fixsession.ReasonIncorrectNumInGroup, tagNoMDEntryTypes, "Incorrect NumInGroup count for repeating group")
	case nSyms > 0:
		return r, fixsession.RejectTag(fixsession.ReasonIncorrectNumInGroup, tagNoRelatedSym, "Incorrect NumInGroup count for repeating group")
	}
	return r, nil
}

// fixSession is one FIX session's market-data subscriber and its sender.
type fixSession struct {
	sid  fixsession.SessionID
	sub  *subscriber
	done chan struct{}
}

// OnMarketDataRequest handles a MarketDataRequest (35=V) from a FIX session;
// the gateway calls it from its FromApp. SubscriptionRequestType 0 answers with
// one MarketDataSnapshotFullRefresh (W) per symbol; 1 does the same and then
// streams MarketDataIncrementalRefresh (X) messages; 2 ends the subscription
// named by MDReqID. MarketDepth 0 is the full book (up to 1000 levels a side);
// MDEntryTypes 0 (bid), 1 (offer), 2 (trade), 4 (opening price), 5 (closing
// price) and A (imbalance) are supported (fixday.go), and every subscriber is
// told each symbol's phase with SecurityStatus (35=f). Unsupported
// requests, unknown symbols and a duplicate MDReqID are answered with a
// MarketDataRequestReject (Y) carrying MDReqRejReason and Text. A malformed
// message returns a RejectError for the session to send. raw is the whole
// request as received (header and trailer included), read during the call
// only.
//
// It never waits on the publisher: updates go through the session's bounded
// queue to its own sender goroutine, and a session that falls behind gets a
// fresh W instead of the updates it missed.
func (p *Publisher) OnMarketDataRequest(raw []byte, sid fixsession.SessionID) *fixsession.RejectError {
	r, rej := parseMDRequest(raw)
	if rej != nil {
		return rej
	}
	fix42 := sid.BeginString == fixsession.BeginStringFIX42
	reject := func(reason enum.MDReqRejReason, text string) *fixsession.RejectError {
		y := marketdatarequestreject.New(field.NewMDReqID(r.reqID))
		if reason != "" {
			y.SetMDReqRejReason(reason)
		}
		y.SetText(text)
		p.sendFIX(y, sid)
		return nil
	}
	switch {
	case r.reqID == "" || len(r.reqID) > fixMDReqIDMax:
		return fixsession.ValueIsIncorrect(tagMDReqID)
	case r.subType == 2:
		if !p.unsubscribeFIX(sid, r.reqID) {
			return reject("", "no subscription with MDReqID "+r.reqID)
		}
		return nil
	case r.subType != 0 && r.subType != 1:
		return reject(enum.MDReqRejReason_UNSUPPORTED_SUBSCRIPTIONREQUESTTYPE,
			"SubscriptionRequestType "+strconv.Itoa(r.subType)+" is not supported (0 snapshot, 1 snapshot+updates, 2 unsubscribe)")
	case r.depth < 0:
		return reject(enum.MDReqRejReason_UNSUPPORTED_MARKETDEPTH, "MarketDepth must be 0 (full book) or more")
	case r.subType == 1 && r.updateType != -1 && r.updateType != 1:
		return reject(enum.MDReqRejReason_UNSUPPORTED_MDUPDATETYPE, "only MDUpdateType 1 (incremental refresh) is supported")
	case r.aggregated == "N":
		return reject(enum.MDReqRejReason_UNSUPPORTED_AGGREGATEDBOOK, "only aggregated books (AggregatedBook Y) are supported over FIX")
	case r.badType != "" || r.types == 0:
		return reject(enum.MDReqRejReason_UNSUPPORTED_MDENTRYTYPE, "MDEntryType "+r.badType+" is not supported (0 bid, 1 offer, 2 trade, 4 opening, 5 closing, A imbalance)")
	case fix42 && r.types&fixDayTypes != 0:
		return reject(enum.MDReqRejReason_UNSUPPORTED_MDENTRYTYPE,
			"MDEntryTypes 4, 5 and A need FIX 4.4 (FIX 4.2 cannot tell an indicative price from an official one)")
	case len(r.symbols) == 0:
		return fixsession.RequiredTagMissing(tagSymbol)
	}
	syms := make([]*symState, 0, len(r.symbols))
	for _, name := range r.symbols {
		s := p.symNamed(name)
		if s == nil {
			return reject(enum.MDReqRejReason_UNKNOWN_SYMBOL, "unknown symbol "+name)
		}
		syms = append(syms, s)
	}
	depth := r.depth
	if depth == 0 || depth > fixDepthMax {
		depth = fixDepthMax
	}
	chans := chStatus // the phase goes to every subscriber
	if r.types&(fixBid|fixOffer) != 0 {
		chans |= chBook
	}
	if r.types&fixTrade != 0 {
		chans |= chTrades
	}
	if r.subType == 0 {
		for _, s := range syms {
			e := subscription{s: s, chans: chans, reqID: r.reqID, depth: depth, types: r.types, fix42: fix42}
			p.mu.RLock()
			sn := p.snapshotOf(e, 1)
			p.mu.RUnlock()
			p.sendFIX(buildW(&sn), sid)
			p.sendFIX(buildSecurityStatus(s, statusPhase(&sn.stats), fix42), sid)
		}
		return nil
	}
	fs := p.fixSessionFor(sid)
	p.mu.Lock()
	for _, e := range fs.sub.subs {
		if e.reqID == r.reqID {
			p.mu.Unlock()
			return reject(enum.MDReqRejReason_DUPLICATE_MDREQID, "MDReqID "+r.reqID+" is already subscribed")
		}
	}
	if len(fs.sub.subs)+len(syms) > fixSubscriptionMax {
		p.mu.Unlock()
		return reject(enum.MDReqRejReason_INSUFFICIENT_BANDWIDTH, "too many subscriptions on this session")
	}
	for _, s := range syms {
		fs.sub.subs = append(fs.sub.subs, subscription{s: s, chans: chans, reqID: r.reqID, depth: depth, types: r.types, fix42: fix42})
	}
	p.markLagging(fs.sub, false) // the sender sends W for each subscription, then X
	p.mu.Unlock()
	return nil
}

// OnLogout drops every market-data subscription of a FIX session; the gateway
// calls it from its OnLogout.
func (p *Publisher) OnLogout(sid fixsession.SessionID) {
	p.fixMu.Lock()
	fs := p.fixSessions[sid]
	delete(p.fixSessions, sid)
	p.fixMu.Unlock()
	if fs != nil {
		p.removeSubscriber(fs.sub)
		close(fs.done)
	}
}

func (p *Publisher) unsubscribeFIX(sid fixsession.SessionID, reqID string) bool {
	p.fixMu.Lock()
	fs := p.fixSessions[sid]
	p.fixMu.Unlock()
	if fs == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := fs.sub.subs[:0]
	for _, e := range fs.sub.subs {
		if e.reqID != reqID {
			kept = append(kept, e)
		}
	}
	found := len(kept) < len(fs.sub.subs)
	clear(fs.sub.subs[len(kept):])
	fs.sub.subs = kept
	return found
}

func (p *Publisher) fixSessionFor(sid fixsession.SessionID) *fixSession {
	p.fixMu.Lock()
	defer p.fixMu.Unlock()
	fs := p.fixSessions[sid]
	if fs == nil {
		fs = &fixSession{sid: sid, sub: newSubscriber(p.cfg.SubscriberQueueMax), done: make(chan struct{})}
		p.fixSessions[sid] = fs
		p.addSubscriber(fs.sub)
		go p.runFIXSession(fs)
	}
	return fs
}

// fixEntryKey names what a session was last sent for one request and symbol.
type fixEntryKey struct {
	reqID string
	s     *symState
}

// fixSent is the book a subscription's client holds: what W and X told it.
type fixSent struct {
	bids, asks []Level
	stats      []statEntry    // the trading day's entries (fixday.go)
	phase      matching.Phase // the phase last told with SecurityStatus
}

// runFIXSession is a session's sender: snapshots when kicked, else one X per
// subscription per update. Book changes are sent as the difference between
// what the client was last told and the book now (at the subscription's
// depth), so a burst of changes is conflated.
func (p *Publisher) runFIXSession(fs *fixSession) {
	sent := make(map[fixEntryKey]*fixSent)
	var entries []subscription
	for {
		select {
		case <-fs.done:
			return
		case <-fs.sub.kick:
			clear(sent)
			for _, sn := range p.resnapshot(fs.sub, 1) {
				ph := statusPhase(&sn.stats)
				sent[fixEntryKey{sn.e.reqID, sn.e.s}] = &fixSent{bids: sn.bids, asks: sn.asks,
					stats: statEntries(nil, &sn.stats, sn.e.types), phase: ph}
				if p.sendFIX(buildW(&sn), fs.sid) != nil || p.sendFIX(buildSecurityStatus(sn.e.s, ph, sn.e.fix42), fs.sid) != nil {
					p.OnLogout(fs.sid)
					return
				}
			}
		case u := <-fs.sub.q:
			if p.hooks.beforeFIXSend != nil {
				p.hooks.beforeFIXSend()
			}
			entries = entries[:0]
			var bids, asks []Level
			depth := 0 // the deepest entry's: buildBookX cuts to each entry's depth
			p.mu.RLock()
			for _, e := range fs.sub.subs {
				if e.s == u.s {
					entries = append(entries, e)
					depth = max(depth, e.depth)
				}
			}
			if u.ch == chBook && len(entries) > 0 {
				bids = appendLevels(nil, &u.s.book.bids, depth)
				asks = appendLevels(nil, &u.s.book.asks, depth)
			}
			p.mu.RUnlock()
			for _, e := range entries {
				last := sent[fixEntryKey{e.reqID, e.s}]
				if last == nil {
					continue // unsubscribed, or subscribed after this update was queued
				}
				var x *marketdataincrementalrefresh.MarketDataIncrementalRefresh
				var f *quickfix.Message
				switch {
				case u.ch == chBook && e.types&(fixBid|fixOffer) != 0:
					x = buildBookX(e, last, bids, asks)
				case u.ch == chTrades && e.types&fixTrade != 0 && len(u.trades) > 0:
					x = buildTradesX(e, u.trades)
				case u.ch == chStatus:
					if e.types&fixDayTypes != 0 {
						x = buildStatsX(e, last, &u.stats)
					}
					if ph := statusPhase(&u.stats); ph != last.phase {
						last.phase = ph
						f = buildSecurityStatus(e.s, ph, e.fix42)
					}
				}
				if x != nil && p.sendFIX(x, fs.sid) != nil {
					p.OnLogout(fs.sid)
					return
				}
				if f != nil && p.sendFIX(f, fs.sid) != nil {
					p.OnLogout(fs.sid)
					return
				}
			}
		}
	}
}

// snapshotOf takes one subscription's snapshot; p.mu is held.
func (p *Publisher) snapshotOf(e subscription, tradesMax int) snapshot {
	sn := snapshot{e: e, seq: p.seq, stats: e.s.stats}
	if e.chans&chBook != 0 {
		sn.bids = appendLevels(nil, &e.s.book.bids, e.depth)
		sn.asks = appendLevels(nil, &e.s.book.asks, e.depth)
	}
	if e.chans&chTrades != 0 {
		sn.trades = e.s.tape.appendRecent(nil, tradesMax)
	}
	if e.chans&chCandles != 0 {
		sn.candles = e.s.candles[e.interval].appendRange(nil, -1<<63, 1<<63-1)
	}
	return sn
}

func px(s *symState, n int64) (decimal.Decimal, int32)  { return s.px.decimal(n), int32(s.px.digits) }
func qty(s *symState, n int64) (decimal.Decimal, int32) { return s.qty.decimal(n), int32(s.qty.digits) }

func fixTime(ns int64) string { return time.Unix(0, ns).UTC().Format("15:04:05.000") }

// buildW is a MarketDataSnapshotFullRefresh of one subscription.
func buildW(sn *snapshot) marketdatasnapshotfullrefresh.MarketDataSnapshotFullRefresh {
	s := sn.e.s
	w := marketdatasnapshotfullrefresh.New()
	w.SetMDReqID(sn.e.reqID)
	w.SetSymbol(s.info.Name)
	g := marketdatasnapshotfullrefresh.NewNoMDEntriesRepeatingGroup()
	add := func(t enum.MDEntryType, ls []Level) {
		for _, l := range ls {
			en := g.Add()
			en.SetMDEntryType(t)
			en.SetMDEntryPx(px(s, l.Price))
			en.SetMDEntrySize(qty(s, l.Qty))
			en.SetNumberOfOrders(l.Orders)
		}
	}
	if sn.e.types&fixBid != 0 {
		add(enum.MDEntryType_BID, sn.bids)
	}
	if sn.e.types&fixOffer != 0 {
		add(enum.MDEntryType_OFFER, sn.asks)
	}
	if sn.e.types&fixTrade != 0 {
		for _, t := range sn.trades {
			en := g.Add()
			en.SetMDEntryType(enum.MDEntryType_TRADE)
			en.SetMDEntryPx(px(s, t.Price))
			en.SetMDEntrySize(qty(s, t.Qty))
			en.SetMDEntryTime(fixTime(t.TimeNs))
			if t.Auction && !sn.e.fix42 {
				cond, sub := auctionTags(t.auction)
				en.SetTradingSessionSubID(enum.TradingSessionSubID(sub))
				if cond != "" {
					en.SetTradeCondition(cond)
				}
			}
		}
	}
	addStatsW(g, s, statEntries(nil, &sn.stats, sn.e.types))
	w.SetNoMDEntries(g)
	return w
}

// buildBookX turns the difference between what the client holds and the book
// now (both best first) into an incremental refresh, and records the new
// state in last. It returns nil when nothing visible changed.
func buildBookX(e subscription, last *fixSent, bids, asks []Level) *marketdataincrementalrefresh.MarketDataIncrementalRefresh {
	s := e.s
	g := marketdataincrementalrefresh.NewNoMDEntriesRepeatingGroup()
	n := 0
	diff := func(t enum.MDEntryType, old, now []Level) []Level {
		if len(now) > e.depth {
			now = now[:e.depth]
		}
		// old and now are both best first, one level a price: a merge walk
		// finds each price's counterpart without building maps.
		better := func(a, b int64) bool {
			if t == enum.MDEntryType_BID {
				return a > b
			}
			return a < b
		}
		entry := func(a enum.MDUpdateAction, l Level) {
			en := g.Add()
			en.SetMDUpdateAction(a)
			en.SetMDEntryType(t)
			en.SetSymbol(s.info.Name)
			en.SetMDEntryPx(px(s, l.Price))
			if a != enum.MDUpdateAction_DELETE {
				en.SetMDEntrySize(qty(s, l.Qty))
				en.SetNumberOfOrders(l.Orders)
			}
			n++
		}
		j := 0
		for _, l := range old {
			for j < len(now) && better(now[j].Price, l.Price) {
				j++
			}
			if j == len(now) || now[j].Price != l.Price {
				entry(enum.MDUpdateAction_DELETE, l)
			}
		}
		j = 0
		for _, l := range now {
			for j < len(old) && better(old[j].Price, l.Price) {
				j++
			}
			if j == len(old) || old[j].Price != l.Price {
				entry(enum.MDUpdateAction_NEW, l)
			} else if old[j] != l {
				entry(enum.MDUpdateAction_CHANGE, l)
			}
		}
		return append(old[:0], now...)
	}
	if e.types&fixBid != 0 {
		last.bids = diff(enum.MDEntryType_BID, last.bids, bids)
	}
	if e.types&fixOffer != 0 {
		last.asks = diff(enum.MDEntryType_OFFER, last.asks, asks)
	}
	if n == 0 {
		return nil
	}
	x := marketdataincrementalrefresh.New()
	x.SetMDReqID(e.reqID)
	x.SetNoMDEntries(g)
	return &x
}

func buildTradesX(e subscription, trades []Trade) *marketdataincrementalrefresh.MarketDataIncrementalRefresh {
	s := e.s
	g := marketdataincrementalrefresh.NewNoMDEntriesRepeatingGroup()
	for _, t := range trades {
		en := g.Add()
		en.SetMDUpdateAction(enum.MDUpdateAction_NEW)
		en.SetMDEntryType(enum.MDEntryType_TRADE)
		en.SetMDEntryID(strconv.FormatUint(t.MatchID, 10))
		en.SetSymbol(s.info.Name)
		en.SetMDEntryPx(px(s, t.Price))
		en.SetMDEntrySize(qty(s, t.Qty))
		en.SetMDEntryTime(fixTime(t.TimeNs))
		if t.Auction && !e.fix42 {
			cond, sub := auctionTags(t.auction)
			en.SetTradingSessionSubID(enum.TradingSessionSubID(sub))
			if cond != "" {
				en.SetTradeCondition(cond)
			}
		}
	}
	x := marketdataincrementalrefresh.New()
	x.SetMDReqID(e.reqID)
	x.SetNoMDEntries(g)
	return &x
}

// FIXSender sends an application message, MsgType msgType and body its
// tag=value␁ fields after the standard header, to the FIX session sid
// (the gateway's Send).
type FIXSender func(sid fixsession.SessionID, msgType string, body []byte) error

// SetFIXSender routes the publisher's FIX messages (W, X, Y, f) through
// send, the gateway's session layer; until it is called they cannot be sent
// (errNoFIXSender, which ends the session's subscriptions as a failed send
// does).
func (p *Publisher) SetFIXSender(send FIXSender) { p.fixSend.Store(&send) }

var errNoFIXSender = errors.New("marketdata: no FIX sender (SetFIXSender)")

// sendFIX sends a message built with QuickFIX/Go's typed messages (the
// repeating groups of W and X are why they are built so: market data is
// where QuickFIX/Go's message types still serve, at the edge) as its body
// bytes.
func (p *Publisher) sendFIX(msg quickfix.Messagable, sid fixsession.SessionID) error {
	f := p.fixSend.Load()
	if f == nil {
		return errNoFIXSender
	}
	mt, body, err := bodyOf(msg.ToMessage())
	if err != nil {
		return err
	}
	return (*f)(sid, mt, body)
}

// bodyOf serializes a QuickFIX/Go message and returns its MsgType and the
// body fields (the header other than MsgType is the session layer's). The
// body is m's own, shared rather than copied: FieldMap.CopyInto keeps only
// the first entry of each tag, which would drop every repeating group's
// members but the count.
func bodyOf(m *quickfix.Message) (string, []byte, error) {
	mt, err := m.Header.GetBytes(35)
	if err != nil || len(mt) == 0 {
		return "", nil, errors.New("marketdata: message without MsgType")
	}
	var c quickfix.Message
	c.Header.Init()
	c.Trailer.Init()
	c.Header.SetBytes(35, mt)
	c.Body = m.Body
	raw := c.Bytes()
	// raw is 8=..␁9=..␁35=..␁<body>10=..␁
	i := bytes.Index(raw, []byte("\x0135="))
	if i < 0 {
		return "", nil, errors.New("marketdata: cannot serialize message")
	}
	j := bytes.IndexByte(raw[i+1:], 0x01)
	start := i + 1 + j + 1
	end := len(raw) - len("10=000\x01")
	if start > end {
		return "", nil, errors.New("marketdata: cannot serialize message")
	}
	return string(mt), raw[start:end], nil
}
