package matching

// The trading day's rules, as the engine applies them. The reference model
// (model_test.go) implements the same rules the slow and obvious way and the
// differential test holds the engine to it.
//
// # Phases
//
// Each symbol is in one Phase, set by CmdPhase (the scheduler's and the
// operators' command; Symbol 0 means every symbol that is not halted). The
// engine reads no clock: a phase lasts until the next CmdPhase. A halt
// (CmdHalt) lies over any phase; a halted symbol rejects CmdPhase
// (ReasonHalted).
//
//	phase                    new orders                        cancel  replace  trades
//	continuous               all but AtOpen/AtClose            yes     yes      on arrival
//	pre-open call            all but IOC/FOK/AtClose           yes     yes      no
//	closing call             all but IOC/FOK/AtOpen            yes     yes      no
//	volatility auction       all but IOC/FOK/AtOpen/AtClose    yes     yes      no
//	opening/closing auction  none                              yes     no       no
//	post-close, closed       none                              yes     no       no
//
// Refused commands are rejected with ReasonPhase. In a call an order rests at
// once, even where it crosses the other side, and post-only is not checked
// (nothing trades). A market order without a protection price rests in a
// queue of its own that ranks before every limit order; one with a
// protection price rests as a limit order at that price. Either way it is
// cancelled (ReasonAuctionRemainder) after the uncross, as are at-the-open
// and at-the-close orders: they take part in one auction only.
//
// During a call the engine keeps the indicative uncross (Engine.Indicative)
// current after every command that touches the book, and emits EvIndicative
// whenever its price, volume or imbalance changes.
//
// # The uncross
//
// A CmdPhase that leaves a call for a phase that is not a call (pre-open to
// continuous, closing call to post-close, a volatility auction back to
// continuous, or to any other phase) first uncrosses the book. The
// candidate prices are every limit price on the book and the reference
// price (the last trade price, 0 when there is none). At a candidate p the
// demand D(p) is every buy market order plus every buy limit at p or above,
// the supply S(p) every sell market order plus every sell limit at p or
// below (icebergs count with their reserve). The uncross price is chosen
// among the candidates by, in turn:
//
//  1. the largest executable volume min(D, S);
//  2. the smallest surplus |D - S|;
//  3. market pressure: when every remaining candidate has a buy surplus
//     (D > S) the highest; when every one has a sell surplus, the lowest;
//  4. otherwise the candidate closest to the reference price (with no
//     reference price, the lowest).
//
// When no volume executes (no crossing, or market orders alone and no
// reference price) nothing trades. Otherwise buy and sell orders are each
// taken in priority order (market orders, then price, then time, an iceberg
// with its whole quantity at its place) and matched pairwise; every trade
// prints at the uncross price with FlagAuction, the buy order as OrderID and
// the sell order as MakerOrderID. The last order filled on each side may be
// filled in part; an iceberg filled past its peak shows a new peak at the
// back of its level. Self-trade prevention does not apply in an auction. The
// uncross price becomes the last trade price and the last auction price.
//
// # Volatility interruptions
//
// A symbol may have a static band (StaticBps around the last auction price)
// and a dynamic band (DynamicBps around the last trade price before the
// incoming order). In continuous trading an order that reaches a price level
// outside a band does not trade there: the symbol enters
// PhaseVolatilityAuction (EvPhase with the order's command), the order keeps
// what it traded inside the bands and its remainder rests in the call (IOC
// and FOK remainders are cancelled; a fill-or-kill order counts only the
// quantity inside the bands). The next CmdPhase for the symbol ends the
// auction with an uncross.
//
// # Stop orders
//
// Stop and StopLimit orders are accepted in continuous trading and in calls
// and wait off the book (EvStopAdded), invisible to market data. A buy stop
// triggers when the last trade price is at or above its StopPrice, a sell
// stop when it is at or below. Triggers are checked only in continuous
// trading, after each command (and after the uncross that opens continuous
// trading). Every stop the last price reaches is queued: buy stops by rising
// stop price, then sell stops by falling stop price, the older first at equal
// prices. Queued stops enter one at a time, in queue order, behind the
// command that triggered them (EvTriggered, then trades and EvAdded or
// EvCancelled as for a new market or limit order of the same time in force);
// the stops a triggered order's trades reach join the back of the queue, and
// the cascade ends when the queue is empty. Cancel and replace work while a
// stop waits; a replace (which must carry a StopPrice) puts it behind the
// stops of its new stop price.
//
// # Icebergs
//
// A limit order with Display between 1 and Qty-1 shows only Display lots
// (its peak); the rest is hidden and never appears in Levels or in market
// data (EvAdded and EvRefilled carry the shown quantity in Display). A taker
// trades with the shown peak only; when the peak is gone and a reserve
// remains, a new peak is shown at the back of the same price level
// (EvRefilled), so the orders already waiting there go first. Fill-or-kill
// counts icebergs with their reserve. A replace that keeps priority keeps the
// peak (cut to the new leaves).
//
// # Expiry
//
// CmdExpire (end of day) cancels every Day order and every GTD order whose
// ExpireNs is at or before the command's TimeNs; CmdExpireGTD cancels only
// the GTD orders due. Both cover held stops too, report ReasonExpired and
// close with EvMassCancelled.
