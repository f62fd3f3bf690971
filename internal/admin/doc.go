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
// Forcing a trading phase (ActPhase) journals the note and the scheduler's
// phase command; ending the day (ActExpire) the scheduler's expiry command. Listing a symbol (ActListSymbol) journals the note and one
// matching.CmdAddSymbol carrying the symbol: the order manager registers it
// in the reference data's run-time symbol table (refdata.Registry.RegisterSymbol) as it
// applies the command, the engine and market data open its book on the
// command and its EvSymbolAdded event, in sequence, live and in replay.
package admin
