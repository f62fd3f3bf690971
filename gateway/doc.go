// Package gateway is the exchange's FIX client gateway: a FIX 4.4 (and FIX 4.2)
// acceptor whose sessions are generated from the exchange configuration.
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
//   - OrderMassStatusRequest (AF) supports 585=7 (all open orders) and 585=1
//     (by symbol): one ExecutionReport (150=I) per order with 584, 911, 912
//     (massstatus.go).
//   - A report for a session that is not logged on is sequenced and stored
//     in its FIX store and reaches the broker at its next logon, through the
//     resend its sequence gap asks for (deliver_offline.go and
//     fixsession.Session.Deliver); nothing is dropped for being offline.
//   - Rejects echo only values a FIX dictionary defines (echo.go); the
//     engine's own cancels carry a Text and, on FIX 4.4, 378=8.
//
// The sessions run on the exchange's own session layer (internal/fixsession),
// not QuickFIX/Go's session loop: QuickFIX/Go v0.9.7 writes one message per
// system call through an unbuffered channel, spinning while its writer is
// busy, adds several system calls per message in its file store, and panics
// on some malformed input (quickfixgo/quickfix#678); together that capped the
// FIX round trip near 4k orders/s on two cores. The session layer frames
// every inbound byte strictly (the first malformed message closes the
// connection), processes every message of a read in turn on the connection's
// reader goroutine, and writes whatever accumulated with one system call.
// QuickFIX/Go is still the reference: its tag and message types are used at
// the edges (rejects, market data, Logon checks), and every end-to-end test
// drives the gateway with a QuickFIX/Go initiator.
//
// Inbound order messages are normalized straight from the framed fields;
// reports are encoded straight into wire form by Deliver, on the pipeline's
// report goroutine, and each session's batch is handed to its writer with one
// lock and one wake-up.
//
// Nothing here logs per message at the default level.
package gateway
