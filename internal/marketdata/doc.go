// Package marketdata owns the views people and brokers watch, rebuilt from the
// matching engine's events alone: per symbol the L1, L2 and L3 books, the trade
// tape, candlesticks (1 s, 1 min, 5 min, 1 h) and session statistics. It publishes
// them over FIX (MarketDataRequest), HTTP JSON, WebSocket and an embedded web page.
//
// It is downstream of the engine and never feeds anything back into it. The engine
// hands events over with Publisher.Publish, which copies them into a preallocated
// ring and returns at once; a full ring is counted and flagged for a resync, never
// waited on. The publisher's own goroutine (Run) applies the events and fans the
// changes out to subscribers, each with a bounded queue: a subscriber that falls
// behind is sent a fresh snapshot instead of the updates it missed.
//
// For replay the same state is driven synchronously with Publisher.Apply.
//
// Wiring, in exchange serve:
//
//	pub, err := marketdata.New(marketdata.Config{Symbols: infos})
//	pub.Reset(eng.OutSeq(), openOrders) // after recovery, on the engine goroutine
//	go pub.Run(ctx)
//	// engine goroutine, after each Apply:  out = eng.Apply(&cmd, out[:0]); pub.Publish(out)
//	// and when pub.NeedsResync(): pub.Reset(eng.OutSeq(), openOrders) there too
//	http.Handle("/", pub.Handler())
//	// gateway FromApp, MsgType V: return pub.OnMarketDataRequest(msg, sid)
//	// gateway OnLogout:            pub.OnLogout(sid)
//
// and in exchange replay: Apply each event, then WriteCandlesCSV / WriteTradesCSV.
package marketdata
