// Package matching owns the order books, the matching rules, the order types and
// the engine's events. It is a pure state machine: a Command goes in, Events come
// out. It does no I/O, reads no clock, starts no goroutines and uses no floats or
// decimals; prices are int64 ticks and quantities int64 lots. Time arrives on the
// Command (the sequencer's stamp), so the same Commands always give the same Events.
package matching

// SymbolID is the small integer a symbol is known by inside the exchange. IDs are
// dense and start at 1; 0 means "no symbol" (or "every symbol" where a command
// says so).
type SymbolID uint32

// AccountID is the small integer an account is known by inside the exchange.
type AccountID uint32

// OrderID is the exchange's own order identifier. The order manager assigns it
// (strictly increasing); the engine refuses an ID it already knows.
type OrderID uint64

// Side of an order.
type Side uint8

const (
	Buy  Side = 1
	Sell Side = 2
)

// String is "buy" or "sell" ("" for any other value).
func (s Side) String() string {
	switch s {
	case Buy:
		return "buy"
	case Sell:
		return "sell"
	}
	return ""
}

// OrderType of a new order.
type OrderType uint8

const (
	// Limit orders trade at their price or better and may rest.
	Limit OrderType = 1
	// Market orders never rest: what cannot trade at once is cancelled. A market
	// order's Price, when non-zero, is a protection price beyond which it does not
	// trade. In a call a market order rests until the uncross (see the package
	// doc in rules.go).
	Market OrderType = 2
	// Stop orders wait off the book, invisible, until the last trade price
	// reaches StopPrice (a buy stop: at or above it; a sell stop: at or
	// below), then enter as market orders (Price is the protection price).
	Stop OrderType = 3
	// StopLimit orders wait like Stop orders and enter as limit orders at
	// Price.
	StopLimit OrderType = 4
)

// String names the type: "limit", "market", "stop" or "stop_limit" (""
// for any other value).
func (t OrderType) String() string {
	switch t {
	case Limit:
		return "limit"
	case Market:
		return "market"
	case Stop:
		return "stop"
	case StopLimit:
		return "stop_limit"
	}
	return ""
}

// TimeInForce of an order.
type TimeInForce uint8

const (
	// GTC rests until cancelled.
	GTC TimeInForce = 1
	// Day rests until cancelled or until an Expire command for its symbol.
	Day TimeInForce = 2
	// IOC trades what it can at once; the remainder is cancelled.
	IOC TimeInForce = 3
	// FOK trades its whole quantity at once or does nothing at all.
	FOK TimeInForce = 4
	// GTD rests until cancelled or until an expiry command whose time is at or
	// after the order's ExpireNs.
	GTD TimeInForce = 5
	// AtOpen orders take part only in the opening auction; what is left after
	// it is cancelled. They are accepted in the pre-open call only.
	AtOpen TimeInForce = 6
	// AtClose orders take part only in the closing auction; what is left after
	// it is cancelled. They are accepted in the closing call only.
	AtClose TimeInForce = 7
)

// String names the time in force: "gtc", "day", "ioc", "fok", "gtd",
// "at_open" or "at_close" ("" for any other value).
func (t TimeInForce) String() string {
	switch t {
	case GTC:
		return "gtc"
	case Day:
		return "day"
	case IOC:
		return "ioc"
	case FOK:
		return "fok"
	case GTD:
		return "gtd"
	case AtOpen:
		return "at_open"
	case AtClose:
		return "at_close"
	}
	return ""
}

// Phase is a symbol's trading phase. The zero value is continuous trading,
// so an engine that is never sent a phase command trades all day.
type Phase uint8

const (
	// PhaseContinuous matches every order on arrival.
	PhaseContinuous Phase = 0
	// PhaseClosed accepts cancels only.
	PhaseClosed Phase = 1
	// PhasePreOpen is the opening call: orders and cancels are accepted and
	// rest (the book may cross); nothing trades.
	PhasePreOpen Phase = 2
	// PhaseOpeningAuction follows the opening uncross: cancels only.
	PhaseOpeningAuction Phase = 3
	// PhaseClosingCall is the closing call, like PhasePreOpen.
	PhaseClosingCall Phase = 4
	// PhaseClosingAuction follows the closing uncross: cancels only.
	PhaseClosingAuction Phase = 5
	// PhasePostClose accepts cancels only.
	PhasePostClose Phase = 6
	// PhaseVolatilityAuction is a call that an order trading outside a price
	// band started; it ends with an uncross when the next phase command for
	// the symbol arrives.
	PhaseVolatilityAuction Phase = 7
	// PhaseHalted is never stored: Engine.Phase reports it for a halted
	// symbol, whatever phase lies under the halt.
	PhaseHalted Phase = 8
)

// String names the phase as the configuration and market data do
// ("pre_open", "continuous", ...).
func (p Phase) String() string {
	switch p {
	case PhaseContinuous:
		return "continuous"
	case PhaseClosed:
		return "closed"
	case PhasePreOpen:
		return "pre_open"
	case PhaseOpeningAuction:
		return "opening_auction"
	case PhaseClosingCall:
		return "closing_call"
	case PhaseClosingAuction:
		return "closing_auction"
	case PhasePostClose:
		return "post_close"
	case PhaseVolatilityAuction:
		return "volatility_auction"
	case PhaseHalted:
		return "halted"
	}
	return "unknown"
}

// IsCall reports whether p is a call phase: orders rest without trading and
// an indicative uncross is kept.
func (p Phase) IsCall() bool {
	return p == PhasePreOpen || p == PhaseClosingCall || p == PhaseVolatilityAuction
}

// STPMode is the self-trade prevention mode chosen by the incoming (taker) order.
// Two orders are "self" when they have the same account, or when both carry the
// same non-zero STPGroup.
type STPMode uint8

const (
	// STPNone lets an account trade with itself.
	STPNone STPMode = 0
	// STPCancelNewest cancels the incoming order's remainder.
	STPCancelNewest STPMode = 1
	// STPCancelOldest cancels the resting order and goes on matching.
	STPCancelOldest STPMode = 2
	// STPCancelBoth cancels the resting order and the incoming remainder.
	STPCancelBoth STPMode = 3
	// STPDecrementCancel reduces both orders by the smaller remaining quantity;
	// an order reduced to zero is cancelled.
	STPDecrementCancel STPMode = 4
)

// CommandKind says what a Command asks the engine to do.
type CommandKind uint8

const (
	// CmdNew enters a new order (OrderID, Account, STPGroup, Symbol, Side, Type,
	// TIF, STP, PostOnly, Price, Qty).
	CmdNew CommandKind = 1
	// CmdCancel cancels the rest of OrderID (Symbol must match the order's).
	CmdCancel CommandKind = 2
	// CmdReplace amends OrderID: Price is the new limit price and Qty the new
	// total order quantity (filled quantity included, as FIX OrderQty is).
	CmdReplace CommandKind = 3
	// CmdMassCancel cancels every open order of Account, in Symbol only when
	// Symbol is non-zero.
	CmdMassCancel CommandKind = 4
	// CmdHalt stops trading in Symbol: new orders and replaces are rejected;
	// cancels still work.
	CmdHalt CommandKind = 5
	// CmdResume lifts a halt.
	CmdResume CommandKind = 6
	// CmdExpire cancels every Day order in Symbol (every symbol when Symbol is 0)
	// with reason ReasonExpired.
	CmdExpire CommandKind = 7
	// CmdAdmin carries state changes for other stages (for example an account's
	// kill switch) through the sequencer and journal. The engine produces no
	// event for it and does not change.
	CmdAdmin CommandKind = 8
	// CmdPhase moves Symbol (every symbol when 0) to Phase. Leaving a call
	// for a phase that is not a call uncrosses the book first (see rules.go).
	CmdPhase CommandKind = 9
	// CmdExpireGTD cancels the GTD orders of Symbol (every symbol when 0)
	// whose ExpireNs is at or before the command's TimeNs, with reason
	// ReasonExpired, and closes with EvMassCancelled.
	CmdExpireGTD CommandKind = 10
	// CmdAddSymbol lists a new symbol from this command on: Symbol must be
	// the next ID (Engine.Symbols()+1); Price and StopPrice carry its static
	// and dynamic band in bps (0: none). It emits EvSymbolAdded; the symbol
	// trades continuously until a CmdPhase says otherwise. Up to SymbolsMax
	// symbols in all.
	CmdAddSymbol CommandKind = 32
)

// Command is one input to the engine. It is a fixed-size value so it can travel
// through ring buffers and the journal without allocation. Fields a kind does not
// use must be zero.
type Command struct {
	Kind CommandKind
	Side Side
	Type OrderType
	TIF  TimeInForce
	STP  STPMode
	// PostOnly orders are rejected (ReasonPostOnlyWouldTrade) if they would take
	// liquidity on arrival.
	PostOnly bool

	// Seq is the sequencer's gap-free inbound sequence number.
	Seq uint64
	// TimeNs is the sequencer's timestamp, Unix nanoseconds. The engine copies it
	// onto its events and never reads a clock.
	TimeNs int64

	Symbol   SymbolID
	Account  AccountID
	STPGroup uint32
	OrderID  OrderID
	// Price is in ticks: the limit price, or a market order's protection price
	// (0 = none).
	Price int64
	// Qty is in lots: the order quantity (new) or new total quantity (replace).
	Qty int64
	// StopPrice is a Stop or StopLimit order's trigger price in ticks (new,
	// replace).
	StopPrice int64
	// Display is an iceberg's peak in lots: the quantity shown at a time (0:
	// all of it). Only limit orders that may rest can be icebergs.
	Display int64
	// ExpireNs is a GTD order's expiry, Unix nanoseconds.
	ExpireNs int64
	// Phase is the target of CmdPhase.
	Phase Phase
}

// EventKind says what an Event reports.
type EventKind uint8

const (
	// EvAccepted: a new order passed the engine's checks (Price, Qty = order
	// quantity, Leaves = Qty). It is not on the book yet: trades may follow, then
	// EvAdded if a remainder rests or EvCancelled for a remainder that may not.
	EvAccepted EventKind = 1
	// EvRejected: the command was refused (Reason, Cmd say which and why); the
	// engine's state did not change.
	EvRejected EventKind = 2
	// EvTrade: OrderID (taker, Side is the taker's side) traded Qty at Price with
	// MakerOrderID. Leaves and MakerLeaves are what remains open on each; a maker
	// with MakerLeaves 0 has left the book.
	EvTrade EventKind = 3
	// EvAdded: OrderID now rests on the book at Price with Leaves lots, at the back
	// of that level's queue.
	EvAdded EventKind = 4
	// EvCancelled: OrderID lost Qty lots for Reason; Leaves is what remains open
	// (0: the order is gone; more than 0: it was reduced in place and keeps its
	// queue position, as with STPDecrementCancel).
	EvCancelled EventKind = 5
	// EvReplaced: OrderID was amended to Price and total quantity Qty, with Leaves
	// lots open. With PriorityKept the order stays in its place on the book with
	// the smaller Leaves. Without it the order has left the book; trades and then
	// EvAdded (or EvCancelled) follow as for a new order.
	EvReplaced EventKind = 6
	// EvHalted and EvResumed report a symbol's trading state.
	EvHalted  EventKind = 7
	EvResumed EventKind = 8
	// EvMassCancelled closes a mass cancel or an expiry: Qty is the number of
	// orders cancelled (their EvCancelled events came before it).
	EvMassCancelled EventKind = 9
	// EvPhase: Symbol entered Phase. A volatility interruption is an EvPhase
	// with PhaseVolatilityAuction caused by a new order, replace or trigger.
	EvPhase EventKind = 10
	// EvIndicative: during a call, the uncross the book would give now
	// changed: Price (0: none), Qty the executable volume, Leaves the
	// imbalance (surplus) on Side (0: none).
	EvIndicative EventKind = 11
	// EvUncross opens an auction's result: Qty lots execute at Price (0 and 0
	// when nothing crosses); the EvTrade events that follow carry
	// FlagAuction. Phase is the auction's phase.
	EvUncross EventKind = 12
	// EvTriggered: stop order OrderID was triggered; it now enters as a
	// market (Price: protection) or limit order, and trades and EvAdded or
	// EvCancelled follow as for a new order.
	EvTriggered EventKind = 13
	// EvRefilled: iceberg OrderID showed a new peak of Display lots (Leaves
	// in all) at the back of its price level.
	EvRefilled EventKind = 14
	// EvStopAdded: stop order OrderID waits off the book (Price, StopPrice,
	// Leaves). Market data does not show it.
	EvStopAdded EventKind = 15
	// EvSymbolAdded: Symbol was listed by CmdAddSymbol; its book is empty.
	EvSymbolAdded EventKind = 32
)

// Event flags.
const (
	// FlagAuction marks an EvTrade printed by an uncross. In it OrderID is
	// the buy order and MakerOrderID the sell order.
	FlagAuction uint8 = 1
)

// Reason explains a rejection or a cancellation.
type Reason uint8

const (
	ReasonNone Reason = 0
	// Rejections.
	ReasonUnknownSymbol      Reason = 1
	ReasonUnknownOrder       Reason = 2
	ReasonDuplicateOrderID   Reason = 3
	ReasonInvalidQty         Reason = 4
	ReasonInvalidPrice       Reason = 5
	ReasonInvalidSide        Reason = 6
	ReasonInvalidType        Reason = 7
	ReasonInvalidTIF         Reason = 8
	ReasonInvalidSTP         Reason = 9
	ReasonHalted             Reason = 10
	ReasonPostOnlyWouldTrade Reason = 11
	ReasonInvalidCommand     Reason = 12
	ReasonWrongAccount       Reason = 13
	ReasonNotReplaceable     Reason = 14
	// ReasonPhase: the symbol's phase does not accept this (see rules.go).
	ReasonPhase Reason = 15
	// ReasonInvalidStopPrice: a stop order's StopPrice is missing or out of
	// range.
	ReasonInvalidStopPrice Reason = 16
	// ReasonInvalidDisplay: an iceberg's Display is negative, not below Qty,
	// or on an order that may not rest.
	ReasonInvalidDisplay Reason = 17
	// ReasonInvalidExpiry: a GTD order without ExpireNs, or one already due.
	ReasonInvalidExpiry Reason = 18
	// Cancellations.
	ReasonUser              Reason = 32
	ReasonIOCRemainder      Reason = 33
	ReasonFOKUnfilled       Reason = 34
	ReasonMarketNoLiquidity Reason = 35
	ReasonSelfTrade         Reason = 36
	ReasonExpired           Reason = 37
	ReasonMassCancel        Reason = 38
	ReasonReplacedToFilled  Reason = 39
	// ReasonAuctionRemainder: what was left of a market, at-the-open or
	// at-the-close order after its auction.
	ReasonAuctionRemainder Reason = 40
)

// Event is one output of the engine. Like Command it is a fixed-size value
// (104 bytes); fields a kind does not use are zero.
//
// MakerLeaves and MatchID belong to EvTrade. Every other kind keeps its stop
// price and iceberg display in the same two words (no event has both), read
// with StopPrice and Display and written with SetStopPrice and SetDisplay; so
// read MakerLeaves and MatchID only on an EvTrade. The binary form
// (AppendBinary) and the Hasher see the four values as they were when each
// had its own field, so journals and checkpoints written before still verify.
type Event struct {
	Kind   EventKind
	Cmd    CommandKind // the kind of command that caused the event
	Side   Side        // the side of OrderID
	Reason Reason
	// PriorityKept is set on EvReplaced when the order kept its queue position.
	PriorityKept bool
	// Flags holds FlagAuction.
	Flags uint8
	// Phase is set on EvPhase and EvUncross.
	Phase Phase

	// OutSeq is the engine's gap-free outbound sequence number (the first event
	// ever is 1). InSeq and TimeNs are copied from the causing command.
	OutSeq uint64
	InSeq  uint64
	TimeNs int64

	Symbol  SymbolID
	Account AccountID
	OrderID OrderID
	Price   int64
	Qty     int64
	Leaves  int64

	// Trade fields: the resting side of an EvTrade and the trade's own ID.
	// On other kinds MakerLeaves and MatchID hold StopPrice and Display.
	MakerOrderID OrderID
	MakerAccount AccountID
	MakerLeaves  int64
	MatchID      uint64
}

// StopPrice is the stop price on EvStopAdded, EvTriggered and a held stop's
// EvReplaced; 0 on an EvTrade.
func (e *Event) StopPrice() int64 {
	if e.Kind == EvTrade {
		return 0
	}
	return e.MakerLeaves
}

// Display is an iceberg's shown quantity on EvAdded, EvRefilled and
// EvReplaced (0: not an iceberg); 0 on an EvTrade.
func (e *Event) Display() int64 {
	if e.Kind == EvTrade {
		return 0
	}
	return int64(e.MatchID)
}

// SetStopPrice sets what StopPrice returns on an event that is not an
// EvTrade.
func (e *Event) SetStopPrice(p int64) { e.MakerLeaves = p }

// SetDisplay sets what Display returns on an event that is not an EvTrade.
func (e *Event) SetDisplay(q int64) { e.MatchID = uint64(q) }
