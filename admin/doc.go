// Package admin is the operator console: an HTTP API on its own listener
// (JSON in and out, paths under /admin/v1/), bearer tokens with roles
// (viewer reads, operator acts) checked against bcrypt hashes from the
// configuration, and the client behind `exchange admin`.
//
// Every action goes through the sequencer: the order manager turns it into
// a journaled note (who, why, what) and the commands that carry it out
// (pipeline.Exchange.Operate), so replay reproduces it and lists it. Actions
// whose effect is outside the journaled state (disconnecting a FIX session,
// refusing a firm's logons) are journaled the same way before the gateway
// carries them out; a restarted venue re-applies the blocks from the
// replayed state. The package changes no state except through the
// sequencer, and reads state only on the order manager's goroutine
// (pipeline.Exchange.Inspect).
//
// Not yet here: forcing a trading-day phase change (start or end a call,
// end the day). The phases belong to the trading-day work in matching; once
// they exist, a "phase" action is one more OperatorAction whose commands
// are the scheduler's phase commands. Nor adding a symbol at run time: the
// engine, the order manager, the gateway and market data size their
// per-symbol tables from the configuration at start, and the configuration is
// shared read-only; a journaled "list symbol" command needs each of them to
// grow a table (and the configuration a copy-on-write symbol list) first.
package admin
