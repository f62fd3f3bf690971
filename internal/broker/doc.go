// Package broker is the exchange's broker simulator: a FIX 4.4 initiator
// that drives the exchange with a broker-like order flow and measures, for
// every request it sends, the time to its first answer and to its first
// fill.
//
// It owns the order-flow model (a seeded random walk per symbol and a mix of
// limit, market, IOC and FOK orders, cancels and replaces), the replay of a
// recorded order flow from a CSV or JSON-lines file or from an exchange
// journal, the open-loop and closed-loop load schedulers and the latency
// report (table, .hgrm text, SVG plot). It talks to the exchange over FIX
// only, like any other broker; of the exchange's own packages it uses the
// FIX session layer (internal/fixsession) and, for the journal replay only
// (journal_source.go), the journal reader and configuration.
//
// Open loop: request i has a scheduled send time fixed before the run starts
// (i/Rate, or the recorded offset of a replayed order), and latency is
// measured from that scheduled time, not from the moment the request was
// actually written. Whatever holds the sender up (back-pressure from a
// stalled exchange, a GC pause) is charged to the requests scheduled
// meanwhile, so a stall shows in the percentiles instead of hiding behind a
// slowed sender (coordinated omission). Closed loop keeps Window requests in
// flight and measures from the actual send time, the way most naive load
// generators do: it sends nothing during a stall and hides it.
//
// Two FIX engines carry the requests (Options.Engine). The default, native,
// is internal/fixsession's initiator (native.go): the sender builds each
// request's body in a reused buffer (message.go) and hands a session's
// batch over with one lock and one wake-up of the connection's writer, which
// writes whatever accumulated with one system call; answers are read in
// place from the receive buffer, without a parse into a message type, so
// neither a request nor an answer allocates beyond the tracker's own
// bookkeeping. The other, quickfix, is QuickFIX/Go's initiator (fix.go),
// kept to prove interop with the reference engine. Both feed the same
// tracker, so every figure means the same with either.
//
// QuickFIX/Go v0.9.7's SendToTarget only queues a message; the session loop
// then retries the hand-over to the writer in a busy loop while the writer is
// busy, which starves a 2-core machine. With that engine, gate.go keeps at
// most one order request per session inside QuickFIX/Go, handed over only
// when the writer is free: each session connects through a loopback relay
// of its own (relay.go) that counts the bytes the writer wrote. This caps it
// at a few thousand requests a second.
//
// Against a cluster (Options.Failover: its nodes' FIX addresses), a native
// session that drops during the run logs on again to the leader and asks it
// for the fate of its requests in flight, with OrderMassStatusRequest and
// then one OrderStatusRequest per request still unanswered (failover.go):
// each is answered once, as acknowledged or, when the new leader does not
// know it (never committed), rejected; Result counts failovers, resynchronised
// and lost requests. The quickfix engine follows the leader only at start.
//
// Only one Run with the quickfix engine may be active per set of FIX
// session IDs in a process: QuickFIX/Go keeps sessions in a process-wide
// registry.
package broker
