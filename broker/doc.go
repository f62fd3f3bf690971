// Package broker is the exchange's broker simulator: a FIX 4.4 initiator
// (QuickFIX/Go) that drives the exchange with a broker-like order flow and
// measures, for every request it sends, the time to its first answer and to
// its first fill.
//
// It owns the order-flow model (a seeded random walk per symbol and a mix of
// limit, market, IOC and FOK orders, cancels and replaces), the replay of a
// recorded order flow from a CSV or JSON-lines file, the open-loop and
// closed-loop load schedulers and the latency report (table, .hgrm text,
// SVG plot). It must not depend on the exchange's own packages: it talks to
// the exchange over FIX only, like any other broker.
//
// Open loop: request i has a scheduled send time fixed before the run starts
// (i/Rate, or the recorded offset of a replayed order), and latency is
// measured from that scheduled time, not from the moment the request was
// actually written. A stalled exchange therefore shows its stall in the
// percentiles instead of hiding it by slowing the sender (coordinated
// omission). Closed loop keeps Window requests in flight and measures from the
// actual send time, the way most naive load generators do.
//
// Only one Run may be active per set of FIX session IDs in a process:
// QuickFIX/Go keeps sessions in a process-wide registry.
package broker
