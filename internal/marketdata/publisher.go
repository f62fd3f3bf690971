package marketdata

import (
	"context"
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/matching"
	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"
)

// SymbolInfo is what the publisher knows of a symbol beyond its events: its
// name and the sizes of a tick and a lot, used only to print values.
type SymbolInfo struct {
	ID       matching.SymbolID
	Name     string
	TickSize decimal.Decimal
	LotSize  decimal.Decimal
}

// Config sizes a Publisher. Zero fields take the defaults shown.
type Config struct {
	Symbols []SymbolInfo
	// Listed, when set, describes a symbol listed at run time when its
	// EvSymbolAdded arrives (the configuration's symbol table).
	Listed func(matching.SymbolID) (SymbolInfo, bool)
	// RingEvents is the capacity of the queue between Publish and Run, rounded
	// up to a power of two (65536).
	RingEvents int
	// TradesMax is the length of each symbol's trade tape (1000).
	// CandlesMax is the number of candles kept per symbol and interval (1440).
	// Both rings grow as data comes, so a replay can set them high to keep a
	// whole session for WriteTradesCSV and WriteCandlesCSV.
	TradesMax  int
	CandlesMax int
	// SubscriberQueueMax is each subscriber's buffer, in messages (256).
	SubscriberQueueMax int
	// DepthDefault is the L2 depth served when a request names none (10).
	DepthDefault int
	// OrdersHint is the number of resting orders to make room for (1024).
	OrdersHint int
	// FlushInterval is the longest Run holds changes before sending them to
	// subscribers (10 ms: five times fewer, larger updates than at 2 ms,
	// which with a thousand WebSocket clients is what their cost follows);
	// negative flushes after every batch of events.
	FlushInterval time.Duration
	// WSWriteGap is the least time between two frames of updates to one
	// WebSocket client (25 ms); what comes in between is sent together in the
	// next frame. It bounds the wake-ups and writes per client whatever the
	// flush rate; negative sends as soon as an update is queued.
	WSWriteGap time.Duration
	// WSWritersMax, when positive, bounds the WebSocket frames being written
	// at once over every client, so that their writes leave cores to the
	// orders' path. Off by default: measured on a shared two-core machine, a
	// writer preempted while holding a slot held up every client behind it
	// (1,000 clients, one slot: trades seconds late, 3,000 resyncs).
	WSWritersMax int
	// Log receives one line per WebSocket connection closed, with its reason.
	// The zero Logger logs nothing.
	Log zerolog.Logger
}

// symState is everything the publisher keeps for one symbol.
type symState struct {
	info    SymbolInfo
	px, qty scale
	book    *book
	tape    tape
	candles [intervalCount]series
	stats   Stats

	// Since the last flush: trades printed, first trade time, queued for flush.
	newTrades   []Trade
	firstNewNs  int64
	haltChanged bool
	queued      bool
	// auction is the last auction uncrossed (EvUncross), whose trades follow.
	auction matching.Phase
	// ice holds the hidden reserve of each resting iceberg, so that the
	// book shows only its peak.
	ice map[matching.OrderID]int64
}

// Publisher rebuilds market data from engine events and publishes it. Publish
// is the engine's side; Run is the publisher's own goroutine; everything else
// may be called from any goroutine.
type Publisher struct {
	fixSend atomic.Pointer[FIXSender] // where FIX market data goes (SetFIXSender)
	// phaseFn hears every phase change (SetPhaseListener); phaseNotes
	// holds those applied under p.mu and not yet told.
	phaseFn    atomic.Pointer[func(matching.SymbolID, matching.Phase)]
	phaseNotes []phaseNote

	// The engine side: a single-producer single-consumer ring of events.
	ring     []matching.Event
	mask     uint64
	_        [64]byte
	head     atomic.Uint64 // next slot Publish writes; written only by Publish
	tailSeen uint64        // Publish's last look at tail, to spare the shared line
	_        [48]byte
	tail     atomic.Uint64 // next slot Run reads; written only by Run
	_        [56]byte
	sleeping atomic.Bool
	wake     chan struct{}

	overflows  atomic.Uint64
	applied    atomic.Uint64
	gaps       atomic.Uint64
	resyncs    atomic.Uint64 // slow-subscriber snapshots
	subscribed atomic.Int64
	needResync atomic.Bool
	closing    atomic.Bool   // Run has ended: WebSocket clients are being closed
	wsWriters  chan struct{} // tokens: WebSocket frames being written; nil: no bound

	cfg Config
	// hooks are set by this package's tests only, before the publisher
	// serves anyone; nil in production.
	hooks struct {
		beforeWSWrite func() // before each WebSocket write
		beforeFIXSend func() // before each FIX update is built and sent
	}
	// tab is the symbol table, replaced (copied on write) when a symbol is
	// listed at run time (listing.go), so readers need no lock.
	tab atomic.Pointer[symTable]

	mu        sync.RWMutex // guards everything below and all symState
	seq       uint64       // OutSeq of the last applied event
	dirtySyms []*symState
	subs      []*subscriber
	levelSeen map[levelKey]struct{}
	// stateVer counts changes to any symbol's state (events applied, halts,
	// Reset); a cached snapshot is current while it has not moved.
	stateVer  uint64
	snapCache map[feedKey]snapJSON

	fixMu       sync.Mutex
	fixSessions map[fixsession.SessionID]*fixSession
}

// ErrConfig reports an unusable Config.
var ErrConfig = errors.New("marketdata: bad config")

// New returns a Publisher for cfg.Symbols. It allocates every ring up front.
func New(cfg Config) (*Publisher, error) {
	if cfg.RingEvents <= 0 {
		cfg.RingEvents = 1 << 16
	}
	if cfg.TradesMax <= 0 {
		cfg.TradesMax = 1000
	}
	if cfg.CandlesMax <= 0 {
		cfg.CandlesMax = 1440
	}
	if cfg.SubscriberQueueMax <= 0 {
		cfg.SubscriberQueueMax = 256
	}
	if cfg.DepthDefault <= 0 {
		cfg.DepthDefault = 10
	}
	if cfg.OrdersHint <= 0 {
		cfg.OrdersHint = 1024
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = 10 * time.Millisecond
	}
	if cfg.WSWriteGap == 0 {
		cfg.WSWriteGap = 25 * time.Millisecond
	}
	ringLen := uint64(1) << bits.Len64(uint64(cfg.RingEvents-1))
	var wsWriters chan struct{}
	if cfg.WSWritersMax > 0 {
		wsWriters = make(chan struct{}, cfg.WSWritersMax)
	}
	p := &Publisher{
		ring:        make([]matching.Event, ringLen),
		mask:        ringLen - 1,
		wake:        make(chan struct{}, 1),
		cfg:         cfg,
		levelSeen:   make(map[levelKey]struct{}),
		snapCache:   make(map[feedKey]snapJSON),
		wsWriters:   wsWriters,
		fixSessions: make(map[fixsession.SessionID]*fixSession),
	}
	t := &symTable{byName: make(map[string]*symState, len(cfg.Symbols))}
	for _, si := range cfg.Symbols {
		if err := t.add(&p.cfg, si, max(1, len(cfg.Symbols))); err != nil {
			return nil, err
		}
	}
	p.tab.Store(t)
	return p, nil
}

// Publish hands a batch of engine events to the publisher. It is called on the
// engine goroutine, never blocks and never allocates: it copies the events into
// the ring. When the ring cannot take the whole batch, the batch is dropped,
// counted as an overflow, and NeedsResync reports true until Reset.
// Cost: one copy of the events, an atomic load and store of its own index, and
// a look at the consumer's index only when the ring seems full.
func (p *Publisher) Publish(evs []matching.Event) {
	n := uint64(len(evs))
	if n == 0 {
		return
	}
	head := p.head.Load()
	if head+n-p.tailSeen > uint64(len(p.ring)) {
		p.tailSeen = p.tail.Load()
		if head+n-p.tailSeen > uint64(len(p.ring)) {
			p.overflows.Add(n)
			p.needResync.Store(true)
			return
		}
	}
	i := head & p.mask
	c := copy(p.ring[i:], evs)
	copy(p.ring, evs[c:])
	p.head.Store(head + n)
	if p.sleeping.Load() {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// closeClients ends every WebSocket connection (each logs "server shutting
// down"): market data stops with Run.
func (p *Publisher) closeClients() {
	p.closing.Store(true)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, sub := range p.subs {
		if sub.cancel != nil {
			sub.cancel()
		}
	}
}

// NeedsResync reports that events were lost (ring overflow or a gap in OutSeq):
// the books are stale until the owner of the engine calls Reset.
func (p *Publisher) NeedsResync() bool { return p.needResync.Load() }

// Run applies published events and fans changes out until ctx ends. Exactly
// one Run may be active. Changes are flushed to subscribers at most every
// Config.FlushInterval, so a busy book costs a subscriber one message per
// channel per interval (with every trade, and each changed level once) rather
// than one per event.
func (p *Publisher) Run(ctx context.Context) error {
	const batchMax = 4096
	gap := p.cfg.FlushInterval
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	lastFlush := time.Now()
	pending := false
	flush := func(now time.Time) {
		p.mu.Lock()
		p.flush()
		p.mu.Unlock()
		pending, lastFlush = false, now
	}
	for {
		tail := p.tail.Load()
		head := p.head.Load()
		if head == tail {
			var wait time.Duration
			if pending {
				now := time.Now()
				if wait = gap - now.Sub(lastFlush); wait <= 0 {
					flush(now)
					continue
				}
			}
			p.sleeping.Store(true)
			if p.head.Load() == tail {
				var tc <-chan time.Time
				if pending {
					timer.Reset(wait)
					tc = timer.C
				}
				select {
				case <-ctx.Done():
					p.sleeping.Store(false)
					p.closeClients()
					return ctx.Err()
				case <-p.wake:
				case <-tc:
				}
				if pending && !timer.Stop() {
					select {
					case <-timer.C:
					default:
					}
				}
			}
			p.sleeping.Store(false)
			continue
		}
		n := min(head-tail, batchMax)
		applied := uint64(0)
		p.mu.Lock()
		for k := uint64(0); k < n; k++ {
			if p.apply(&p.ring[(tail+k)&p.mask]) {
				applied++
			}
		}
		notes := p.takePhaseNotes()
		p.mu.Unlock()
		p.tellPhases(notes)
		p.applied.Add(applied)
		p.tail.Store(tail + n)
		pending = true
		if now := time.Now(); now.Sub(lastFlush) >= gap {
			flush(now)
		}
		if ctx.Err() != nil {
			p.closeClients()
			return ctx.Err()
		}
	}
}

// Apply applies one event synchronously (for replay, or tests) and forwards
// the change to subscribers. It must not be mixed with a running Run.
func (p *Publisher) Apply(ev *matching.Event) {
	p.mu.Lock()
	if p.apply(ev) {
		p.applied.Add(1)
	}
	p.flush()
	notes := p.takePhaseNotes()
	p.mu.Unlock()
	p.tellPhases(notes)
}

// phaseNote is one phase change to tell the listener.
type phaseNote struct {
	sym   matching.SymbolID
	phase matching.Phase
}

// SetPhaseListener sets fn to hear every phase change, halt and resume
// (PhaseHalted), on the market data goroutine and outside its lock (the
// gateway's TradingSessionStatus).
func (p *Publisher) SetPhaseListener(fn func(matching.SymbolID, matching.Phase)) {
	p.phaseFn.Store(&fn)
}

// takePhaseNotes empties the notes; p.mu is held. It allocates only when
// there are some.
func (p *Publisher) takePhaseNotes() []phaseNote {
	if len(p.phaseNotes) == 0 {
		return nil
	}
	n := append([]phaseNote(nil), p.phaseNotes...)
	p.phaseNotes = p.phaseNotes[:0]
	return n
}

func (p *Publisher) tellPhases(notes []phaseNote) {
	if fn := p.phaseFn.Load(); fn != nil {
		for _, n := range notes {
			(*fn)(n.sym, n.phase)
		}
	}
}

// Reset replaces every book with orders, the engine's open orders as of its
// outbound sequence number outSeq, given in priority order within each side
// (as matching.Engine.Orders yields them). Events already queued with an
// OutSeq at or below outSeq are skipped when they come. The tape, candles and
// statistics are kept. Every subscriber is sent a fresh snapshot.
func (p *Publisher) Reset(outSeq uint64, orders []matching.OrderInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.symList() {
		s.book.clear()
	}
	for i := range orders {
		o := &orders[i]
		if s := p.sym(o.Symbol); s != nil && o.Price != 0 {
			// Market orders resting in a call (price 0) are on no level.
			s.book.add(o.ID, o.Side, o.Price, s.shown(o.ID, o.Leaves, icebergShown(o)))
		}
	}
	for _, s := range p.symList() {
		s.book.dirty = s.book.dirty[:0]
		s.newTrades = s.newTrades[:0]
		s.queued = false
	}
	p.dirtySyms = p.dirtySyms[:0]
	p.seq = outSeq
	p.stateVer++
	p.needResync.Store(false)
	for _, sub := range p.subs {
		p.markLagging(sub, false)
	}
}

func (p *Publisher) sym(id matching.SymbolID) *symState {
	if t := p.tab.Load(); int(id) < len(t.byID) {
		return t.byID[id]
	}
	return nil
}

// apply folds one event into the state and reports whether it counts as
// applied (false: covered by Reset). p.mu is held. The caller counts applied
// events, once per batch rather than with an atomic add per event.
func (p *Publisher) apply(ev *matching.Event) bool {
	if ev.OutSeq != 0 {
		if ev.OutSeq <= p.seq {
			return false // covered by Reset
		}
		if p.seq != 0 && ev.OutSeq != p.seq+1 {
			p.gaps.Add(1)
			p.needResync.Store(true)
		}
		p.seq = ev.OutSeq
	}
	if ev.Kind == matching.EvSymbolAdded {
		p.listed(ev.Symbol)
		return true
	}
	s := p.sym(ev.Symbol)
	if s == nil {
		return true
	}
	b := s.book
	switch ev.Kind {
	case matching.EvAdded:
		if ev.Price == 0 {
			return true // a market order resting in a call is on no level
		}
		b.add(ev.OrderID, ev.Side, ev.Price, s.shown(ev.OrderID, ev.Leaves, ev.Display()))
	case matching.EvRefilled:
		b.remove(ev.OrderID)
		b.add(ev.OrderID, ev.Side, ev.Price, s.shown(ev.OrderID, ev.Leaves, ev.Display()))
	case matching.EvTrade:
		b.reduce(ev.MakerOrderID, s.visible(ev.MakerOrderID, ev.MakerLeaves))
		// A taker that was already resting cannot trade, but keep the book honest
		// if the stream ever says so (an auction trade's buyer was resting).
		b.reduce(ev.OrderID, s.visible(ev.OrderID, ev.Leaves))
		tr := Trade{
			MatchID: ev.MatchID, OutSeq: ev.OutSeq, TimeNs: ev.TimeNs,
			Price: ev.Price, Qty: ev.Qty, TakerSide: ev.Side,
			TakerOrderID: ev.OrderID, MakerOrderID: ev.MakerOrderID,
			Auction: ev.Flags&matching.FlagAuction != 0,
		}
		if tr.Auction {
			tr.auction = s.auction
		}
		s.tape.add(tr)
		for iv := range s.candles {
			s.candles[iv].add(ev.TimeNs, ev.Price, ev.Qty)
		}
		s.stats.add(ev.Price, ev.Qty)
		if len(s.newTrades) == 0 {
			s.firstNewNs = ev.TimeNs
		}
		s.newTrades = append(s.newTrades, tr)
	case matching.EvCancelled:
		b.reduce(ev.OrderID, s.visible(ev.OrderID, ev.Leaves))
	case matching.EvReplaced:
		if ev.PriorityKept {
			b.reduce(ev.OrderID, s.shown(ev.OrderID, ev.Leaves, ev.Display()))
		} else {
			delete(s.ice, ev.OrderID)
			b.remove(ev.OrderID)
		}
	case matching.EvHalted, matching.EvResumed:
		s.stats.Halted = ev.Kind == matching.EvHalted
		s.haltChanged = true
		ph := s.stats.Phase
		if s.stats.Halted {
			ph = matching.PhaseHalted
		}
		p.phaseNotes = append(p.phaseNotes, phaseNote{ev.Symbol, ph})
	case matching.EvPhase:
		p.phaseNotes = append(p.phaseNotes, phaseNote{ev.Symbol, ev.Phase})
		if ev.Phase == matching.PhaseVolatilityAuction && s.stats.Phase != ev.Phase {
			s.stats.Interruptions++
		}
		s.stats.Phase = ev.Phase
		if !ev.Phase.IsCall() {
			s.stats.IndPrice, s.stats.IndQty, s.stats.ImbQty, s.stats.ImbSide = 0, 0, 0, 0
		}
		s.haltChanged = true
	case matching.EvIndicative:
		s.stats.IndPrice, s.stats.IndQty, s.stats.ImbQty, s.stats.ImbSide = ev.Price, ev.Qty, ev.Leaves, ev.Side
		s.haltChanged = true
	case matching.EvUncross:
		s.auction = ev.Phase
		switch {
		case ev.Qty == 0:
		case ev.Phase == matching.PhaseOpeningAuction:
			s.stats.OfficialOpen = ev.Price
		case ev.Phase == matching.PhaseClosingAuction:
			s.stats.OfficialEnd = ev.Price
		}
		s.haltChanged = true
	default:
		return true // accepted, rejected, mass-cancel summary: nothing to show
	}
	p.markDirty(s)
	return true
}

// icebergShown is what an iceberg shows (0 for any other order).
func icebergShown(o *matching.OrderInfo) int64 {
	if o.Display == 0 {
		return 0
	}
	return o.Shown
}

// shown notes an order's hidden reserve from an event that says what it
// shows (display, 0 for all of leaves) and returns what the book shows.
func (s *symState) shown(id matching.OrderID, leaves, display int64) int64 {
	if display == 0 {
		delete(s.ice, id)
		return leaves
	}
	if s.ice == nil {
		s.ice = make(map[matching.OrderID]int64)
	}
	s.ice[id] = leaves - display
	return display
}

// visible is what an order with leaves left shows: an iceberg's trades take
// its peak, so its reserve is unchanged (an iceberg reduced otherwise shows
// less, never its reserve). The order's entry goes when it does.
func (s *symState) visible(id matching.OrderID, leaves int64) int64 {
	h, ok := s.ice[id]
	if !ok {
		return leaves
	}
	if leaves == 0 {
		delete(s.ice, id)
		return 0
	}
	return max(leaves-h, 1)
}

// markDirty queues s for the next flush, once. p.mu is held.
func (p *Publisher) markDirty(s *symState) {
	p.stateVer++
	if !s.queued {
		s.queued = true
		p.dirtySyms = append(p.dirtySyms, s)
	}
}

// SetPhase records a symbol's phase, for use after Reset (the open orders
// do not say it; matching.Engine.Phase does). Halts are SetHalted's.
func (p *Publisher) SetPhase(sym matching.SymbolID, phase matching.Phase) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.sym(sym); s != nil && phase != matching.PhaseHalted && s.stats.Phase != phase {
		s.stats.Phase = phase
		s.haltChanged = true
		p.markDirty(s)
		p.flush()
	}
}

// SetHalted records a symbol's trading state, for use after Reset (the open
// orders do not say which symbols are halted; matching.Engine.Halted does).
func (p *Publisher) SetHalted(sym matching.SymbolID, halted bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.sym(sym); s != nil && s.stats.Halted != halted {
		s.stats.Halted = halted
		s.haltChanged = true
		p.markDirty(s)
		p.flush()
	}
}
