// Package gateway is the exchange's FIX client gateway: a QuickFIX/Go acceptor
// for FIX 4.4 (and FIX 4.2) sessions generated from the exchange configuration.
//
// It owns the FIX sessions, authentication at Logon (Username 553 / Password 554
// against a bcrypt hash), the per-session token-bucket rate limit, validation
// and normalization of inbound orders (FIX text and decimals → an
// ordermanager.Request with int64 ticks and lots), and the mapping of the order
// manager's Reports back to FIX (ExecutionReport, OrderCancelReject,
// OrderMassCancelReport, BusinessMessageReject). It holds no order state of its
// own: whether an order exists, belongs to the firm or may be replaced is the
// order manager's business.
//
// FIX choices worth knowing:
//   - Prices (44) must be a whole number of ticks and quantities (38) a whole
//     number of lots of the symbol; nothing is rounded.
//   - TimeInForce (59): 0 Day (default), 1 GTC, 3 IOC, 4 FOK.
//   - ExecInst (18) containing the value 6 (participate, don't initiate) makes
//     an order post-only.
//   - Self-trade prevention is chosen per order with the user-defined tag
//     7928 (TagSTPMode): 0 none, 1 cancel newest, 2 cancel oldest, 3 cancel
//     both, 4 decrement and cancel (matching.STPMode).
//   - A market order (40=1) may carry a protection price in 44.
//   - OrderMassCancelRequest (q) supports 530=1 (by symbol) and 530=7 (all).
//
// Brokers connect to a guard on the configured address that frames every
// inbound message strictly (see guard.go) before it reaches the acceptor on a
// private loopback port: QuickFIX/Go v0.9.7 panics on some malformed input in
// goroutines that do not recover, which would end the whole exchange.
//
// Reports go out through one outbox per session (outbox.go): Deliver only
// queues, and each session's goroutine hands its reports to QuickFIX/Go one
// at a time, when the previous one has been written (the guard counts the
// bytes), because QuickFIX/Go v0.9.7's session loop busy-spins while a
// queued message waits for a busy writer.
//
// Nothing here logs per message at the default level; QuickFIX/Go's own
// message logs go to zerolog at trace level, its session events at info.
package gateway
