package matching

import "github.com/google/btree"

// Limits on a command's values. They keep every sum of quantities and every
// price comparison far from int64 overflow.
const (
	QtyMax   int64 = 1 << 40
	PriceMax int64 = 1 << 50
	// SymbolsMax bounds Config.Symbols and a snapshot's symbol count.
	SymbolsMax = 1 << 20
	// SymbolsAddedMax bounds the symbols a venue lists at run time
	// (CmdAddSymbol), over its journal's life: the order manager refuses
	// more.
	SymbolsAddedMax = 256
	// ordersHintMax bounds what New allocates up front; pools grow past it
	// on demand.
	ordersHintMax = 1 << 24
)

// Config sizes an Engine.
type Config struct {
	// Symbols is the number of symbols; their IDs are 1..Symbols.
	Symbols int
	// OrdersHint is the number of open orders to allocate room for up front
	// (orders, levels, index and B-tree nodes), so that a book of that size
	// runs without allocating. More orders still work; the pools grow.
	OrdersHint int
	// Bands holds the volatility bands of symbol i+1 at index i; a symbol
	// without an entry (or with zeros) has none.
	Bands []Bands
}

// Bands are a symbol's volatility bands in basis points: an order that would
// trade further than StaticBps from the last auction price, or further than
// DynamicBps from the last trade price, starts a volatility auction instead
// (0: no such band). Values are clamped to 0..BandBpsMax.
type Bands struct {
	StaticBps, DynamicBps int64
}

// BandBpsMax bounds a band: 1,000,000 bps is a hundredfold move.
const BandBpsMax = 1_000_000

// Engine is the matching engine: one order book per symbol and an index of
// every open order. It is not safe for concurrent use; one goroutine owns it.
type Engine struct {
	books  []book
	index  table[order] // by OrderID
	orders orderPool
	levels levelPool
	nodes  *btree.FreeListG[*level]
	// empty holds the levels that emptied outside matching, oldest first;
	// beyond emptyMax the oldest leaves its tree.
	empty    levelList
	emptyMax int
	outSeq   uint64
	matchID  uint64

	scratch []*order // orders collected by mass cancel and expiry
	visit   func(*level) bool
	fok     fokScan
	snap    []byte

	// arrival numbers held stops; trig is the queue of triggered stops;
	// au is the uncross scan; stopNodes is the stop trees' free list.
	arrival   uint64
	trig      []*order
	au        auctionScan
	stopNodes *btree.FreeListG[*order]

	// touched keeps what restoreList's touches read, so that they are
	// not optimised away.
	touched uint64
}

// New returns an engine with cfg.Symbols empty, trading books. Symbols is
// clamped to 0..SymbolsMax.
func New(cfg Config) *Engine { return newEngine(cfg, -1) }

// restoreHeadroomLevels is how many levels' worth of B-tree nodes Restore
// prewarms: room for the books to grow after a restore without allocating,
// not for the levels the snapshot holds (those build their own nodes as they
// are restored, so prewarming them would build every node twice).
const restoreHeadroomLevels = 1 << 16

// newEngine is New with the levels prewarmed (B-tree nodes and the level
// slab) capped at prewarmMax when prewarmMax >= 0.
func newEngine(cfg Config, prewarmMax int) *Engine {
	n := min(max(cfg.Symbols, 0), SymbolsMax)
	hint := min(max(cfg.OrdersHint, 0), ordersHintMax)
	e := &Engine{
		books:    make([]book, n),
		index:    newTable[order](hint),
		emptyMax: max(hint, 4096),
	}
	// Levels: about one per two orders, plus as many empty ones kept around.
	// The node free list gets room for trees that hold them all, plus a few
	// nodes per book side for the small trees of many symbols. A small hint
	// gives a small engine, quick to build.
	levelsHint := hint/2 + min(e.emptyMax, hint)
	nodeLevels := levelsHint + min(64*2*n, hint, 1<<17)
	if prewarmMax >= 0 {
		nodeLevels = min(nodeLevels, prewarmMax)
	}
	e.nodes = btree.NewFreeListG[*level](nodeLevels/4 + 64)
	prewarmNodes(e.nodes, nodeLevels)
	perSide := min(levelsHint/max(2*n, 1), 1<<16)
	for i := range e.books {
		e.books[i] = newBook(SymbolID(i+1), e.nodes, perSide)
		e.books[i].initMarket()
		if i < len(cfg.Bands) {
			e.books[i].staticBps = min(max(cfg.Bands[i].StaticBps, 0), BandBpsMax)
			e.books[i].dynamicBps = min(max(cfg.Bands[i].DynamicBps, 0), BandBpsMax)
		}
	}
	e.orders.grow(max(hint, 64))
	if prewarmMax >= 0 {
		levelsHint = min(levelsHint, prewarmMax)
	}
	e.levels.grow(max(levelsHint, 64))
	e.visit = e.fok.visit
	e.au.init()
	e.stopNodes = btree.NewFreeListG[*order](64)
	return e
}

// prewarmNodes fills the shared B-tree node free list with the nodes (and
// their item slices at full size) that trees of about levels levels need, by
// building such a tree and clearing it into the list, so that books growing
// to that size do not allocate.
func prewarmNodes(fl *btree.FreeListG[*level], levels int) {
	// Inserting in a scrambled order (a multiplicative permutation, so
	// deterministic) grows nodes the way real books do: item and child
	// slices reach full size, which sequential inserts would not give.
	tmp := make([]level, levels)
	t := btree.NewWithFreeListG(btreeDegree, askLess, fl)
	for i := range tmp {
		tmp[i].price = int64((uint64(i) * 0x9e3779b97f4a7c15) >> 1)
		t.ReplaceOrInsert(&tmp[i])
	}
	t.Clear(true)
}

// Symbols returns the number of symbols; their IDs are 1..Symbols.
func (e *Engine) Symbols() int { return len(e.books) }

// OutSeq returns the OutSeq of the last event emitted (0 before the first).
func (e *Engine) OutSeq() uint64 { return e.outSeq }

// Halted reports whether symbol s is halted (false for an unknown symbol).
func (e *Engine) Halted(s SymbolID) bool {
	b := e.book(s)
	return b != nil && b.halted
}

func (e *Engine) book(s SymbolID) *book {
	if s == 0 || uint64(s) > uint64(len(e.books)) {
		return nil
	}
	return &e.books[s-1]
}

// Apply runs one command and appends its events to out, returning the
// extended slice. A command the engine cannot carry out yields exactly one
// EvRejected and leaves the state unchanged. Apply never panics on a command
// value and, once pools and out have grown to the working set, does not
// allocate. Cost: O(1) table lookups for the order and its level, O(log levels)
// when a level is created or leaves its tree, O(1) per order traded or
// cancelled; mass cancel and expiry walk the books they cover, O(orders).
func (e *Engine) Apply(cmd *Command, out []Event) []Event {
	n := len(out)
	switch cmd.Kind {
	case CmdNew:
		out = e.applyNew(cmd, out)
	case CmdCancel:
		out = e.applyCancel(cmd, out)
	case CmdReplace:
		out = e.applyReplace(cmd, out)
	case CmdMassCancel:
		out = e.applyMassCancel(cmd, out)
	case CmdHalt, CmdResume:
		out = e.applyHalt(cmd, out)
	case CmdExpire, CmdExpireGTD:
		out = e.applyExpire(cmd, out)
	case CmdPhase:
		out = e.applyPhase(cmd, out)
	case CmdAdmin:
	case CmdAddSymbol:
		out = e.applyAddSymbol(cmd, out)
	default:
		out = e.reject(cmd, out, ReasonInvalidCommand)
	}
	// Every event carries the engine's sequence number and the command's
	// stamp, written here once for all of them rather than by each emit.
	seq, in, ns, kind := e.outSeq, cmd.Seq, cmd.TimeNs, cmd.Kind
	evs := out[n:]
	for i := range evs {
		seq++
		ev := &evs[i]
		ev.OutSeq, ev.InSeq, ev.TimeNs, ev.Cmd = seq, in, ns, kind
	}
	e.outSeq = seq
	return out
}

// emit appends ev; Apply stamps it (OutSeq, InSeq, TimeNs, Cmd) before it
// returns.
func (e *Engine) emit(out []Event, ev Event) []Event {
	return append(out, ev)
}

// slot appends a zero event, which Apply stamps as it stamps emit's, and
// returns it for the caller to fill in place. The hot paths (orderEvent,
// addedEvent, trade) use it: an Event is 104 bytes, and building one on the
// stack to copy it into out cost about a tenth of a replace.
func (e *Engine) slot(out []Event) ([]Event, *Event) {
	out = append(out, Event{})
	return out, &out[len(out)-1]
}

// reject emits EvRejected for c, echoing its fields.
func (e *Engine) reject(c *Command, out []Event, r Reason) []Event {
	return e.emit(out, Event{
		Kind: EvRejected, Side: c.Side, Reason: r, Symbol: c.Symbol, Account: c.Account,
		OrderID: c.OrderID, Price: c.Price, Qty: c.Qty,
	})
}

// orderEvent emits an event of kind k about o.
func (e *Engine) orderEvent(out []Event, k EventKind, o *order, r Reason, qty, leaves int64) []Event {
	out, ev := e.slot(out)
	ev.Kind, ev.Side, ev.Reason, ev.Symbol, ev.Account = k, o.side, r, o.symbol, o.account
	ev.OrderID, ev.Price, ev.Qty, ev.Leaves = o.id, o.price, qty, leaves
	return out
}

// ValidEnums checks a new order's side, type, time in force and STP mode,
// in that order; it returns ReasonNone when they are all known values. The
// order manager checks them with it before an order reaches the journal.
func ValidEnums(side Side, typ OrderType, tif TimeInForce, stp STPMode) Reason {
	switch {
	case side != Buy && side != Sell:
		return ReasonInvalidSide
	case typ < Limit || typ > StopLimit:
		return ReasonInvalidType
	case tif < GTC || tif > AtClose:
		return ReasonInvalidTIF
	case stp > STPDecrementCancel:
		return ReasonInvalidSTP
	}
	return ReasonNone
}

// validNew checks a new order's fields; it returns ReasonNone when they are
// good.
func (e *Engine) validNew(c *Command) Reason {
	if c.OrderID == 0 {
		return ReasonInvalidCommand
	}
	if r := ValidEnums(c.Side, c.Type, c.TIF, c.STP); r != ReasonNone {
		return r
	}
	if c.Qty <= 0 || c.Qty > QtyMax {
		return ReasonInvalidQty
	}
	limit := c.Type == Limit || c.Type == StopLimit
	if c.Price < 0 || c.Price > PriceMax || (limit && c.Price == 0) {
		return ReasonInvalidPrice
	}
	stop := c.Type == Stop || c.Type == StopLimit
	if stop != (c.StopPrice != 0) || c.StopPrice < 0 || c.StopPrice > PriceMax {
		return ReasonInvalidStopPrice
	}
	if c.PostOnly && c.Type != Limit {
		return ReasonInvalidType
	}
	if c.PostOnly && (c.TIF == IOC || c.TIF == FOK || c.TIF == AtOpen || c.TIF == AtClose) {
		return ReasonInvalidTIF
	}
	if stop && (c.TIF == AtOpen || c.TIF == AtClose) {
		return ReasonInvalidTIF
	}
	if c.Display != 0 && (c.Display < 0 || c.Display >= c.Qty || c.Type != Limit ||
		(c.TIF != GTC && c.TIF != Day && c.TIF != GTD)) {
		return ReasonInvalidDisplay
	}
	if (c.TIF == GTD) != (c.ExpireNs != 0) || (c.TIF == GTD && c.ExpireNs <= c.TimeNs) {
		return ReasonInvalidExpiry
	}
	if e.index.get(uint64(c.OrderID)) != nil {
		return ReasonDuplicateOrderID
	}
	return ReasonNone
}

// admits reports whether b's phase accepts a new order with time in force
// tif (ReasonNone) or not (ReasonPhase). See rules.go.
func (b *book) admits(tif TimeInForce) Reason {
	switch b.phase {
	case PhaseContinuous:
		if tif == AtOpen || tif == AtClose {
			return ReasonPhase
		}
	case PhasePreOpen, PhaseClosingCall, PhaseVolatilityAuction:
		switch {
		case tif == IOC || tif == FOK:
			return ReasonPhase
		case tif == AtOpen && b.phase != PhasePreOpen:
			return ReasonPhase
		case tif == AtClose && b.phase != PhaseClosingCall:
			return ReasonPhase
		}
	default:
		return ReasonPhase
	}
	return ReasonNone
}

func (e *Engine) applyNew(c *Command, out []Event) []Event {
	b := e.book(c.Symbol)
	if b == nil {
		return e.reject(c, out, ReasonUnknownSymbol)
	}
	if r := e.validNew(c); r != ReasonNone {
		return e.reject(c, out, r)
	}
	if b.halted {
		return e.reject(c, out, ReasonHalted)
	}
	if r := b.admits(c.TIF); r != ReasonNone {
		return e.reject(c, out, r)
	}
	if c.PostOnly && b.phase == PhaseContinuous && e.wouldTrade(b.opposite(c.Side), c.Price) {
		return e.reject(c, out, ReasonPostOnlyWouldTrade)
	}
	o := e.orders.get()
	o.id, o.account, o.stpGroup, o.symbol = c.OrderID, c.Account, c.STPGroup, c.Symbol
	o.side, o.tif, o.stp, o.postOnly = c.Side, c.TIF, c.STP, c.PostOnly
	o.price, o.qty, o.leaves, o.typ = c.Price, c.Qty, c.Qty, c.Type
	if c.StopPrice|c.Display|c.ExpireNs != 0 {
		x := e.orders.ext(o)
		x.stopPx, x.peak, x.expireNs = c.StopPrice, c.Display, c.ExpireNs
		o.ice = c.Display > 0
	}
	out = e.orderEvent(out, EvAccepted, o, ReasonNone, o.qty, o.leaves)
	if o.typ == Stop || o.typ == StopLimit {
		out = e.hold(b, o, out)
	} else {
		out = e.enter(b, o, false, out)
	}
	return e.after(b, out)
}

// enter runs an accepted order (new, or a triggered stop, which indexed
// says is in the index already) under its book's phase: in continuous
// trading it matches and then rests or is cancelled by its type and time in
// force; in a call it rests at once. O(what match costs).
func (e *Engine) enter(b *book, o *order, indexed bool, out []Event) []Event {
	if b.phase == PhaseContinuous {
		opp := b.opposite(o.side)
		if o.tif == FOK && !e.fokFillable(b, opp, o) {
			out = e.orderEvent(out, EvCancelled, o, ReasonFOKUnfilled, o.leaves, 0)
			return e.discard(o, indexed, out)
		}
		out = e.match(b, opp, o, out)
		switch {
		case o.leaves == 0:
			return e.discard(o, indexed, out)
		case b.phase == PhaseContinuous && o.typ == Market:
			out = e.orderEvent(out, EvCancelled, o, ReasonMarketNoLiquidity, o.leaves, 0)
			return e.discard(o, indexed, out)
		}
	}
	if o.tif == IOC || o.tif == FOK {
		out = e.orderEvent(out, EvCancelled, o, ReasonIOCRemainder, o.leaves, 0)
		return e.discard(o, indexed, out)
	}
	e.rest(b, o)
	e.index.put(uint64(o.id), o)
	return e.addedEvent(out, o)
}

// discard returns an order that did not rest to the pool, taking it out of
// the index when it was there.
func (e *Engine) discard(o *order, indexed bool, out []Event) []Event {
	if indexed {
		e.index.del(uint64(o.id))
	}
	e.orders.put(o)
	return out
}

// addedEvent emits EvAdded for o, with an iceberg's shown peak.
func (e *Engine) addedEvent(out []Event, o *order) []Event {
	out, ev := e.slot(out)
	ev.Kind, ev.Side, ev.Symbol, ev.Account = EvAdded, o.side, o.symbol, o.account
	ev.OrderID, ev.Price, ev.Qty, ev.Leaves = o.id, o.price, o.qty, o.leaves
	if o.x != nil {
		ev.SetDisplay(o.x.shown)
	}
	return out
}

// after finishes a command on book b: in continuous trading it triggers the
// stops the last trade price reached; in a call it brings the indicative
// uncross up to date. The common case, continuous trading without stops,
// inlines to one test.
func (e *Engine) after(b *book, out []Event) []Event {
	if b.phase == PhaseContinuous && !b.stopTrees {
		return out
	}
	return e.afterSlow(b, out)
}

func (e *Engine) afterSlow(b *book, out []Event) []Event {
	if b.phase == PhaseContinuous && !b.halted && (b.stops[0] != nil || b.stops[1] != nil) {
		out = e.runTriggers(b, out)
	}
	if b.phase.IsCall() {
		out = e.indicate(b, out)
	}
	return out
}

// rest puts o at the back of the queue at its price. O(1) when the level
// exists (even empty), O(log levels) when it must be created.
func (e *Engine) rest(b *book, o *order) {
	if o.ice {
		o.x.shown = min(o.x.peak, o.leaves)
	}
	e.place(b, o)
}

// place is rest without showing an iceberg's new peak.
func (e *Engine) place(b *book, o *order) {
	bs := b.sideOf(o.side)
	if o.auctionOnly() {
		bs.auctionOnly++
	}
	if o.price == 0 { // a market order in a call
		b.mkt[o.side-1].pushBack(o)
		return
	}
	l := bs.byPrice.get(uint64(o.price))
	if l == nil {
		l = e.levels.get(o.price, bs)
		bs.levels.ReplaceOrInsert(l)
		bs.byPrice.put(uint64(o.price), l)
	} else if l.count == 0 {
		e.empty.remove(l)
	}
	l.pushBack(o)
}

// unrest takes o off its level. A level left empty stays where it is, on the
// empty list; when that list is over its limit its oldest level leaves the
// tree. O(1), plus O(log levels) for an eviction.
func (e *Engine) unrest(o *order) {
	l := o.lvl
	l.remove(o)
	if o.auctionOnly() {
		l.side.auctionOnly--
	}
	if l.count == 0 && l.price != 0 {
		e.empty.pushBack(l)
		if e.empty.n > e.emptyMax {
			old := e.empty.head
			e.empty.remove(old)
			e.dropLevel(old)
		}
	}
}

// dropLevel takes an empty level that is not on the empty list out of its
// tree and price table and recycles it. O(log levels).
func (e *Engine) dropLevel(l *level) {
	l.side.levels.Delete(l)
	l.side.byPrice.del(uint64(l.price))
	e.levels.put(l)
}

// best returns the best level of bs that holds orders, or nil, dropping the
// empty levels in front of it. O(log levels) per level dropped.
func (e *Engine) best(bs *bookSide) *level {
	for {
		l, ok := bs.levels.Min()
		if !ok || l.count > 0 {
			return l
		}
		e.empty.remove(l)
		e.dropLevel(l)
	}
}

// wouldTrade reports whether an order with limit price p would trade on
// arrival against opp, as a post-only order must not. It costs what best
// does.
func (e *Engine) wouldTrade(opp *bookSide, p int64) bool {
	l := e.best(opp)
	return l != nil && opp.crosses(l.price, p)
}

// drop removes an open order (resting, or a held stop) from its book and
// the index and returns it to the pool.
func (e *Engine) drop(o *order) {
	if o.held {
		e.books[o.symbol-1].stops[o.side-1].Delete(o)
	} else {
		e.unrest(o)
	}
	e.index.del(uint64(o.id))
	e.orders.put(o)
}

// lookup finds the open order a cancel or replace names and checks the
// command's symbol, side and account against it.
func (e *Engine) lookup(c *Command) (*book, *order, Reason) {
	b := e.book(c.Symbol)
	if b == nil {
		return nil, nil, ReasonUnknownSymbol
	}
	o := e.index.get(uint64(c.OrderID))
	if o == nil || o.symbol != c.Symbol {
		return nil, nil, ReasonUnknownOrder
	}
	if c.Side != 0 && c.Side != o.side {
		return nil, nil, ReasonInvalidSide
	}
	if c.Account != 0 && c.Account != o.account {
		return nil, nil, ReasonWrongAccount
	}
	return b, o, ReasonNone
}

func (e *Engine) applyCancel(c *Command, out []Event) []Event {
	b, o, r := e.lookup(c)
	if r != ReasonNone {
		return e.reject(c, out, r)
	}
	out = e.orderEvent(out, EvCancelled, o, ReasonUser, o.leaves, 0)
	e.drop(o)
	if b.phase.IsCall() {
		out = e.indicate(b, out)
	}
	return out
}

func (e *Engine) applyReplace(c *Command, out []Event) []Event {
	b, o, r := e.lookup(c)
	if r != ReasonNone {
		return e.reject(c, out, r)
	}
	if c.Qty <= 0 || c.Qty > QtyMax {
		return e.reject(c, out, ReasonInvalidQty)
	}
	if c.Price < 0 || c.Price > PriceMax || (c.Price == 0 && o.typ != Stop) {
		return e.reject(c, out, ReasonInvalidPrice)
	}
	if o.held != (c.StopPrice != 0) || c.StopPrice < 0 || c.StopPrice > PriceMax {
		return e.reject(c, out, ReasonInvalidStopPrice)
	}
	if o.typ == Market {
		return e.reject(c, out, ReasonNotReplaceable)
	}
	if b.halted {
		return e.reject(c, out, ReasonHalted)
	}
	call := b.phase.IsCall()
	if !call && b.phase != PhaseContinuous {
		return e.reject(c, out, ReasonPhase)
	}
	leaves := c.Qty - o.filled()
	if leaves <= 0 {
		out = e.orderEvent(out, EvCancelled, o, ReasonReplacedToFilled, o.leaves, 0)
		e.drop(o)
		return e.after(b, out)
	}
	if o.held {
		// A stop keeps nothing: it goes behind the stops of its new price.
		st := b.stops[o.side-1]
		st.Delete(o)
		o.price, o.qty, o.leaves, o.x.stopPx = c.Price, c.Qty, leaves, c.StopPrice
		e.arrival++
		o.x.arrival = e.arrival
		st.ReplaceOrInsert(o)
		ev := Event{
			Kind: EvReplaced, Side: o.side, Symbol: o.symbol, Account: o.account, OrderID: o.id,
			Price: o.price, Qty: o.qty, Leaves: o.leaves,
		}
		ev.SetStopPrice(o.x.stopPx)
		out = e.emit(out, ev)
		return e.after(b, out)
	}
	if c.Price == o.price && c.Qty <= o.qty {
		// Same price, no more quantity: the order keeps its place.
		o.lvl.set(o, leaves, min(o.shown(), leaves))
		o.qty = c.Qty
		ev := Event{
			Kind: EvReplaced, Side: o.side, PriorityKept: true, Symbol: o.symbol,
			Account: o.account, OrderID: o.id, Price: o.price, Qty: o.qty, Leaves: o.leaves,
		}
		ev.SetDisplay(o.shown())
		out = e.emit(out, ev)
		return e.after(b, out)
	}
	opp := b.opposite(o.side)
	if o.postOnly && !call && e.wouldTrade(opp, c.Price) {
		return e.reject(c, out, ReasonPostOnlyWouldTrade)
	}
	e.unrest(o)
	o.price, o.qty, o.leaves = c.Price, c.Qty, leaves
	out = e.orderEvent(out, EvReplaced, o, ReasonNone, o.qty, o.leaves)
	if !call {
		out = e.match(b, opp, o, out)
	}
	if o.leaves == 0 {
		e.index.del(uint64(o.id))
		e.orders.put(o)
		return e.after(b, out)
	}
	e.rest(b, o)
	out = e.addedEvent(out, o)
	return e.after(b, out)
}

func (e *Engine) applyHalt(c *Command, out []Event) []Event {
	b := e.book(c.Symbol)
	if b == nil {
		return e.reject(c, out, ReasonUnknownSymbol)
	}
	k := EvHalted
	b.halted = c.Kind == CmdHalt
	if !b.halted {
		k = EvResumed
	}
	return e.emit(out, Event{Kind: k, Symbol: c.Symbol})
}

// collect appends to e.scratch every order of b that keep accepts, bids best
// to worst and then asks, oldest first within a level. It costs
// O(orders in b).
func (e *Engine) collect(b *book, keep func(*order) bool) {
	for i, bs := range [2]*bookSide{&b.bids, &b.asks} {
		for o := b.mkt[i].head; o != nil; o = o.next {
			if keep(o) {
				e.scratch = append(e.scratch, o)
			}
		}
		bs.levels.Ascend(func(l *level) bool {
			for o := l.head; o != nil; o = o.next {
				if keep(o) {
					e.scratch = append(e.scratch, o)
				}
			}
			return true
		})
	}
	for _, st := range b.stops {
		if st != nil {
			st.Ascend(func(o *order) bool {
				if keep(o) {
					e.scratch = append(e.scratch, o)
				}
				return true
			})
		}
	}
}

// cancelAll cancels every order of the books selected by c.Symbol (0: all) that
// keep accepts, with reason r, and closes with EvMassCancelled.
func (e *Engine) cancelAll(c *Command, out []Event, keep func(*order) bool, r Reason) []Event {
	symbol := c.Symbol
	lo, hi := 0, len(e.books)
	if symbol != 0 {
		lo, hi = int(symbol-1), int(symbol)
	}
	var n int64
	for i := lo; i < hi; i++ {
		b := &e.books[i]
		e.scratch = e.scratch[:0]
		e.collect(b, keep)
		for _, o := range e.scratch {
			out = e.orderEvent(out, EvCancelled, o, r, o.leaves, 0)
			e.drop(o)
			n++
		}
		if len(e.scratch) > 0 && b.phase.IsCall() {
			out = e.indicate(b, out)
		}
	}
	e.scratch = e.scratch[:0]
	return e.emit(out, Event{Kind: EvMassCancelled, Symbol: symbol, Account: c.Account, Qty: n})
}

func (e *Engine) applyMassCancel(c *Command, out []Event) []Event {
	if c.Symbol != 0 && e.book(c.Symbol) == nil {
		return e.reject(c, out, ReasonUnknownSymbol)
	}
	if c.Account == 0 {
		return e.reject(c, out, ReasonWrongAccount)
	}
	acct := c.Account
	return e.cancelAll(c, out, func(o *order) bool { return o.account == acct }, ReasonMassCancel)
}

// applyExpire runs CmdExpire (Day orders, and GTD orders due by the
// command's time) and CmdExpireGTD (only the GTD orders due).
func (e *Engine) applyExpire(c *Command, out []Event) []Event {
	if c.Symbol != 0 && e.book(c.Symbol) == nil {
		return e.reject(c, out, ReasonUnknownSymbol)
	}
	day, now := c.Kind == CmdExpire, c.TimeNs
	return e.cancelAll(c, out, func(o *order) bool {
		return (day && o.tif == Day) || (o.tif == GTD && o.x.expireNs <= now)
	}, ReasonExpired)
}
