package marketdata

import (
	"sync"
	"time"

	"github.com/exchange-sim/exchange/matching"
)

// channel is a kind of data a subscription wants (bit set).
type channel uint8

const (
	chBook channel = 1 << iota
	chTrades
	chCandles
	// chStatus: the symbol's statistics changed (phase, halt, indicative,
	// official prices); FIX subscribers only.
	chStatus
)

// subscription is one symbol's worth of a subscriber's interest.
type subscription struct {
	s        *symState
	chans    channel
	interval Interval // candles
	// fresh are the channels subscribed since the last snapshot: their
	// snapshot starts a new stream and is sent whatever its sequence number.
	fresh channel
	// FIX only: the request it answers, its depth (0 = full) and entry types.
	reqID string
	depth int
	types fixEntryTypes
	// fix42: the session speaks FIX 4.2, which lacks TradingSessionSubID
	// and the day's entries (fixday.go).
	fix42 bool
}

// subscriber is one consumer of updates (a WebSocket connection or a FIX
// session) with a bounded queue. The publisher never waits on it: when the
// queue is full the subscriber is marked lagging, sent nothing more, and its
// own goroutine fetches a fresh snapshot (resnapshot) once it catches up.
type subscriber struct {
	q    chan *update
	kick chan struct{} // "you are lagging": wakes the subscriber's goroutine
	// cancel ends a WebSocket connection (nil for FIX); set before the
	// subscriber is added.
	cancel func()

	// Guarded by Publisher.mu.
	lagging bool
	subs    []subscription
}

// update is one flush's change to one symbol on one channel. It is shared by
// every subscriber it goes to and immutable once sent; its JSON form is built
// once, by the first subscriber goroutine that needs it.
type update struct {
	s        *symState
	seq      uint64
	ch       channel
	interval Interval
	// book: the levels that changed, absolute (Qty 0: the level is gone).
	bids, asks []Level
	// trades: the new prints and the statistics after them.
	trades []Trade
	stats  Stats
	// candles: the candles the new trades touched, oldest first.
	candles []Candle
	// sentNs is when the publisher queued it (wall clock), for latency figures.
	sentNs int64

	lastSub  *subscriber // the flush's de-duplication mark
	jsonOnce sync.Once
	json     []byte
	spans    updateSpans // where json's parts are, for merging (wsmerge.go)
}

func (u *update) JSON() []byte {
	u.jsonOnce.Do(func() { u.json = appendUpdateJSONSpans(nil, u, &u.spans) })
	return u.json
}

func newSubscriber(queueMax int) *subscriber {
	return &subscriber{q: make(chan *update, queueMax), kick: make(chan struct{}, 1)}
}

func (p *Publisher) addSubscriber(sub *subscriber) {
	p.mu.Lock()
	p.subs = append(p.subs, sub)
	p.mu.Unlock()
	p.subscribed.Add(1)
}

func (p *Publisher) removeSubscriber(sub *subscriber) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, s := range p.subs {
		if s == sub {
			p.subs = append(p.subs[:i], p.subs[i+1:]...)
			p.subscribed.Add(-1)
			return
		}
	}
}

// markLagging stops updates to sub until its goroutine takes a snapshot.
// p.mu is held.
func (p *Publisher) markLagging(sub *subscriber, slow bool) {
	if slow {
		p.resyncs.Add(1)
	}
	sub.lagging = true
	select {
	case sub.kick <- struct{}{}:
	default:
	}
}

// send queues u for sub without waiting. p.mu is held.
func (p *Publisher) send(sub *subscriber, u *update) bool {
	if u.lastSub == sub {
		return true
	}
	u.lastSub = sub
	select {
	case sub.q <- u:
		return true
	default:
		p.markLagging(sub, true)
		return false
	}
}

// flush turns what changed since the last flush into updates for the
// subscribers that want them, then forgets the changes. p.mu is held.
// Cost: O(subscribers × their subscriptions) per changed symbol; updates are
// built only when someone wants them.
func (p *Publisher) flush() {
	now := int64(0)
	for _, s := range p.dirtySyms {
		var bookU, tradesU, statusU *update
		var candleU [intervalCount]*update
		hasBook := len(s.book.dirty) > 0
		hasTrades := len(s.newTrades) > 0 || s.haltChanged
		hasCandles := len(s.newTrades) > 0
	subs:
		for _, sub := range p.subs {
			if sub.lagging {
				continue
			}
			for i := range sub.subs {
				e := &sub.subs[i]
				if e.s != s {
					continue
				}
				if now == 0 {
					now = time.Now().UnixNano()
				}
				if hasBook && e.chans&chBook != 0 {
					if bookU == nil {
						bookU = p.bookUpdate(s, now)
					}
					if !p.send(sub, bookU) {
						continue subs
					}
				}
				if hasTrades && e.chans&chTrades != 0 {
					if tradesU == nil {
						tradesU = &update{s: s, seq: p.seq, ch: chTrades, sentNs: now,
							trades: append([]Trade(nil), s.newTrades...), stats: s.stats}
					}
					if !p.send(sub, tradesU) {
						continue subs
					}
				}
				if s.haltChanged && e.chans&chStatus != 0 {
					if statusU == nil {
						statusU = &update{s: s, seq: p.seq, ch: chStatus, sentNs: now, stats: s.stats}
					}
					if !p.send(sub, statusU) {
						continue subs
					}
				}
				if hasCandles && e.chans&chCandles != 0 {
					iv := e.interval
					if candleU[iv] == nil {
						sr := &s.candles[iv]
						candleU[iv] = &update{s: s, seq: p.seq, ch: chCandles, interval: iv, sentNs: now,
							candles: sr.appendRange(nil, sr.bucket(s.firstNewNs), 1<<63-1)}
					}
					if !p.send(sub, candleU[iv]) {
						continue subs
					}
				}
			}
		}
		s.book.dirty = s.book.dirty[:0]
		s.newTrades = s.newTrades[:0]
		s.haltChanged = false
		s.queued = false
	}
	clear(p.dirtySyms)
	p.dirtySyms = p.dirtySyms[:0]
}

// bookUpdate collects the current aggregate of every level touched since the
// last flush, once each. p.mu is held.
func (p *Publisher) bookUpdate(s *symState, now int64) *update {
	u := &update{s: s, seq: p.seq, ch: chBook, sentNs: now}
	clear(p.levelSeen)
	for _, k := range s.book.dirty {
		if _, ok := p.levelSeen[k]; ok {
			continue
		}
		p.levelSeen[k] = struct{}{}
		qty, n := s.book.levelAt(k.side, k.price)
		l := Level{Price: k.price, Qty: qty, Orders: n}
		if k.side == matching.Buy {
			u.bids = append(u.bids, l)
		} else {
			u.asks = append(u.asks, l)
		}
	}
	return u
}

// snapshot is the full state behind one subscription, taken under p.mu.
type snapshot struct {
	e          subscription
	seq        uint64
	bids, asks []Level
	trades     []Trade
	stats      Stats
	candles    []Candle
}

// snapshotTradesMax is how many recent trades a WebSocket snapshot carries.
const snapshotTradesMax = 100

// resnapshot drops whatever sub has queued and returns a snapshot of each of
// its subscriptions, after which updates flow again. The subscriber's own
// goroutine calls it (when kicked, or on subscribing); encoding and sending the
// snapshots is left to it, outside the lock.
func (p *Publisher) resnapshot(sub *subscriber, tradesMax int) []snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.restart(sub)
	out := make([]snapshot, 0, len(sub.subs))
	for _, e := range sub.subs {
		out = append(out, p.snapshotOf(e, tradesMax))
	}
	return out
}

// restart readies sub for snapshots taken under the same hold of p.mu: it
// flushes what was applied but not yet sent (so that a snapshot never holds
// changes an update will carry again, under the same sequence number), drops
// sub's queue and its kick, and lets updates flow to it again. The flush goes
// to every other subscriber a little earlier than Run would have sent it.
// p.mu is held.
func (p *Publisher) restart(sub *subscriber) {
	if len(p.dirtySyms) > 0 {
		p.flush()
	}
	for len(sub.q) > 0 {
		<-sub.q
	}
	select { // the kick is answered by this snapshot
	case <-sub.kick:
	default:
	}
	sub.lagging = false
}
