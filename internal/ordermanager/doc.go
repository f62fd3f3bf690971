// Package ordermanager owns accounts, wallets, reservations, risk limits, the
// order lifecycle and the content of execution reports. It is the pipeline
// stage between the gateway and the sequencer and the first consumer of the
// engine's events. It is a pure state machine: one goroutine calls it, it
// takes no locks, does no I/O and parses no FIX. The only goroutines it
// starts touch no state it is using: one allocates a table's next growth
// slots (spare.go), and a restore bulk-loads the order index on one before
// it returns the manager (snapshot.go).
//
// # Flow
//
// Submit takes a Request, runs the risk checks and either appends a reject
// Report or appends the Pending commands (Command plus opaque meta bytes) for
// the sequencer, after applying their state change (order record,
// reservation, ClOrdID) with the same function ApplySequenced uses in
// replay. OnEvent takes the engine's events and settles wallets, advances
// orders and appends the execution reports. Rejected requests are not
// journaled and change no replayed state.
//
// # Determinism
//
// Live, requests are submitted ahead of the events of earlier commands; in
// replay every command's events follow it at once. The state is the same
// either way because every change made at Submit is a function of the
// command and its meta alone (the hold of a replace is computed live and
// carried in the meta), every change made by an event depends only on state
// that the events themselves order, and ClOrdIDs are registered in command
// order and retired in event order. ExecIDs of event reports are derived
// from OutSeq (taker or order ×2, maker ×2+1); ExecIDs of rejects and
// status answers come from a separate counter with the top bit set.
//
// # Money and rounding
//
// Notional = price (ticks) × quantity (lots) × Symbol.CashPerTickLot, in
// minor units, checked for overflow and bounded by the account's
// MaxOrderNotional (at most 2^50).
//
//   - Fee on a fill = notional × bps / 10000 truncated toward zero: a
//     charge is rounded down, a maker rebate (negative bps) is rounded toward
//     zero. The taker pays the firm's TakerBps, the maker its MakerBps. Fees
//     go to the exchange fee account (FeesCollected), so the cash of all
//     accounts plus FeesCollected never changes.
//   - A buy reserves need(leaves, price) = N + ceil(N × R / 10000) with
//     N = leaves × price × CashPerTickLot and R = max(0, MakerBps,
//     TakerBps) of its firm; a market buy uses its protection price. After
//     every event the reservation is exactly need(leaves, price), so a fill
//     at a better price releases the improvement, and because
//     ceil(a+b) - ceil(a) >= floor(b) the release of a fill always covers
//     its cost plus fee: free cash never drops on a fill.
//   - A sell reserves its leaves in lots. Without AllowShort free holdings
//     must cover it; with it, holdings minus reservations may go down to
//     -ShortLimitLots. A sale's fee is taken from its proceeds.
//   - AvgPx is exact: reports carry CumTicksLots = Σ fill price × fill qty,
//     and AvgPx = CumTicksLots / CumQty ticks.
//   - A market order without a protection price gets the band edge
//     reference × (1 ± PriceBandBps/10000), rounded toward the reference and
//     at least one tick, written into its Command; with the band disabled
//     or no reference price it is rejected. The reference is the symbol's
//     last trade price, else its configured reference price.
//   - A replace holds, until the engine answers, the most the new
//     reservation can exceed the previous one (the order's, or the previous
//     replace's in its chain) whatever fills happen in between (see
//     holdFor), plus one minor unit for fee rounding; at the answer the
//     reservation becomes need(new leaves, new price) exactly.
//   - A stop or stop-limit order is reserved and banded around its stop
//     price, when new and when replaced before its trigger (a replace then
//     carries the new stop price; a stop order's replace without a price
//     takes the band edge around it, as a new one does). Once triggered it
//     is a market or limit order, and the engine refuses a replace that
//     still carries a stop price.
//
// # Order lifecycle
//
// New (EvAccepted) -> partially filled / filled (EvTrade) -> cancelled
// (user, IOC/FOK remainder, market without liquidity, self-trade, mass
// cancel), expired (Day orders at CmdExpire), replaced (EvReplaced; the
// order keeps its OrderID and takes the replace's ClOrdID), or rejected by
// the engine (post-only would trade). A self-trade decrement that leaves the
// order open is reported as ExecRestated. A replace to a quantity at or
// below the filled quantity closes the order: ExecReplaced, OrdStatus
// filled.
//
// # Chained amends
//
// A cancel or replace may be sent while earlier ones of the same order are
// still in flight (accepted here, not yet answered by the engine): it joins
// the order's amend chain and is sequenced behind them, and the engine,
// which handles an order's commands in order, answers them in order. The
// rules:
//
//   - The request may name the order by any ClOrdID it has had that is
//     still remembered (normally the latest: the ClOrdID of the last
//     replace in flight), or by OrderID; it always joins the end of the
//     chain. Its OrigClOrdID, on its reports, is the latest ClOrdID of the
//     chain (the previous link's), which the order carries when the link
//     applies, just as a request naming a superseded ClOrdID after its
//     replace has completed reports the order's current ClOrdID.
//   - Nothing may follow a cancel: RejCancelPending (CxlRejReason 3).
//   - At most AmendsInFlightMax links per order; one more is refused with
//     RejPending (CxlRejReason 3).
//   - A replace's risk checks and hold are computed against the previous
//     link (its price and quantity), with the fills so far: it holds what
//     it needs on top of what the previous link leaves reserved, worst case
//     over fills in between, checked against free cash (or holdings) net of
//     the holds of the links before it.
//   - Each link's hold is released when its own answer arrives (EvReplaced,
//     EvCancelled with ReasonUser or ReasonReplacedToFilled, EvRejected),
//     and the reservation is then exactly need(leaves, price) plus the
//     holds of the links still behind it (none once the chain is empty). One
//     exception: a link the engine rejects hands its hold on to the next
//     link, which now applies to the order as the link before left it (a
//     replace rejected because the symbol halted in between, say) and needs
//     up to both holds; the last link releases everything.
//   - A link the engine rejects gets its own OrderCancelReject; later links
//     get the engine's answer for themselves: applied to the order as it
//     is, or rejected as unknown (too late) once it is closed, with the
//     order's final OrdStatus. A cancel in a chain cancels whatever the
//     order is when the engine reaches it.
//
// Chains change nothing in replay: links are appended in command order and
// resolved in event order, and each link's state is a function of its
// command and meta (the hold is carried in the meta). Live, Submit sees the
// chain; in replay a command's events follow it at once and the chain has
// at most one link.
//
// # Limits
//
// ClOrdIDs are unique per session among the accepted requests remembered:
// those of open orders and requests in flight, plus the last
// ClOrdIDsRetained retired ones (closed orders, superseded ClOrdIDs,
// resolved cancels and mass cancels). Older ones are forgotten and may be
// reused; the book costs about 80 bytes per remembered ClOrdID. At most
// massCancelsPendingMax client mass cancels per account may be in flight.
//
// A link of an amend chain that the engine rejects because its order has
// closed reports the final OrdStatus remembered for its OrigClOrdID (the
// previous link's ClOrdID, which takes it on in turn); when that previous
// link was itself rejected while the order was still open, nothing
// remembers the final status under its ClOrdID and the reject says
// canceled (4), whatever closed the order.
//
// Closed orders are remembered in full, for status requests and too-late
// rejects, in closedOrdersRetained slots by OrderID (closed.go); they are
// rebuilt by replay but not kept in snapshots. A mass status request lists
// at most MassStatusReportsMax open orders (massstatus.go). The engine's own
// cancels carry a CancelReason naming why (cancels.go).
//
// Cancel-on-disconnect sends one mass cancel per account the session has
// open orders in, so it also cancels other sessions' orders in a shared
// account. Orders carry no STP group: self-trade prevention works per
// account. Reports that no engine event causes (rejects, status answers)
// carry TransactNs 0.
package ordermanager
