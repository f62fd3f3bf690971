package main

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/matching"
)

// TestE2ETradingDay runs a trading day over FIX, its phases sent as the
// scheduler sends them: pre-open orders and the opening price checked
// against a hand computation, a stop triggered, an iceberg refilled, a
// fat-finger order causing a volatility auction, the closing auction, DAY
// and GTD expiry; then a replay of the journal reproduces the same hashes.
func TestE2ETradingDay(t *testing.T) {
	cfg := config.Default()
	aapl := cfg.SymbolByName("AAPL")
	cfg.Symbols[aapl-1].DynamicBandBps = 100 // 1%
	dir := t.TempDir()
	v := startTestVenue(t, cfg, dir, "", "batch")
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("BRAVO"))
	a, b := cs[0], cs[1]
	phase := func(p matching.Phase) {
		t.Helper()
		if !v.x.Submit(&ordermanager.Request{Kind: ordermanager.ReqPhase, Symbol: aapl, Phase: p}) {
			t.Fatal("phase request refused")
		}
	}

	phase(matching.PhasePreOpen)
	a.expect(t, "h", "336=AAPL", "340=4", "625=pre_open")
	a.send(t, "g", "335=q1", "336=AAPL")
	a.expect(t, "h", "336=AAPL", "340=4")
	// Pre-open: 189.90: D10 S4; 190.00: D10 S4; 191.00: D0 S11. The most
	// volume (4) at 189.90 and 190.00 with the same buy surplus (6): buy
	// pressure takes the higher, 190.00.
	a.limit(t, "A1", "AAPL", "1", "10", "190.00")
	a.expectExec(t, "A1", "0")
	b.limit(t, "B1", "AAPL", "2", "4", "189.90")
	b.expectExec(t, "B1", "0")
	b.limit(t, "B2", "AAPL", "2", "7", "191.00", "59=1")
	b.expectExec(t, "B2", "0")
	b.send(t, "D", "11=B0", "55=AAPL", "54=2", "38=1", "40=2", "44=190", "59=3")
	check(t, "IOC in a call", b.expectExec(t, "B0", "8"), "103=2", "58=not accepted in the symbol's current trading phase")

	phase(matching.PhaseContinuous)
	check(t, "opening fill", a.expectExec(t, "A1", "F"), "31=190", "32=4", "851=4", "39=1")
	check(t, "opening fill", b.expectExec(t, "B1", "F"), "31=190", "32=4", "851=4", "39=2")
	b.expect(t, "h", "336=AAPL", "340=2", "625=continuous")

	// A buy stop at 190.50 waits; a trade at 190.50 triggers it (150=L) and
	// it buys B2's 191.00 offer.
	a.send(t, "D", "11=S1", "55=AAPL", "54=1", "38=2", "40=3", "99=190.50", "59=1")
	a.expectExec(t, "S1", "0")
	b.limit(t, "B3", "AAPL", "2", "1", "190.50")
	b.expectExec(t, "B3", "0")
	a.send(t, "D", "11=A2", "55=AAPL", "54=1", "38=1", "40=2", "44=190.50", "59=3")
	a.expectExec(t, "A2", "F", "31=190.5")
	a.expectExec(t, "S1", "L")
	check(t, "stop fill", a.expectExec(t, "S1", "F"), "31=191", "32=2", "39=2")

	// An iceberg of 20 showing 5: a buy of 6 takes the peak, then 1 of the
	// refilled peak.
	b.send(t, "D", "11=B4", "55=AAPL", "54=2", "38=20", "40=2", "44=191.50", "59=1", "111=5")
	b.expectExec(t, "B4", "0")
	a.send(t, "D", "11=A3", "55=AAPL", "54=1", "38=6", "40=2", "44=191.50", "59=3")
	a.expectExec(t, "A3", "F", "32=5")
	check(t, "after the refill", a.expectExec(t, "A3", "F", "32=1"), "39=2")
	b.send(t, "F", "11=B4X", "41=B4", "55=AAPL", "54=2")
	b.expectExec(t, "B4X", "4")

	// A fat finger: 195.00 is more than 1% from 191.50. No trade: a
	// volatility auction, ended by the next phase command with an uncross.
	b.limit(t, "B5", "AAPL", "2", "5", "195.00", "59=1")
	b.expectExec(t, "B5", "0")
	a.limit(t, "A4", "AAPL", "1", "5", "195.00")
	a.expectExec(t, "A4", "0")
	a.expect(t, "h", "336=AAPL", "340=1", "625=volatility_auction")
	a.noMore(t, 100*time.Millisecond, "8", "11=A4", "150=F")
	phase(matching.PhaseContinuous)
	check(t, "volatility auction fill", a.expectExec(t, "A4", "F"), "31=195", "32=5", "851=4")

	// Orders to expire: a DAY order, and a GTD order due in a moment.
	a.limit(t, "A5", "AAPL", "1", "2", "180.00")
	a.expectExec(t, "A5", "0")
	due := time.Now().Add(300 * time.Millisecond).UTC()
	a.send(t, "D", "11=A6", "55=AAPL", "54=1", "38=1", "40=2", "44=181", "59=6", "126="+due.Format("20060102-15:04:05.000"))
	a.expectExec(t, "A6", "0")

	// The closing call: an at-the-close sell and a DAY buy uncross at 195.
	phase(matching.PhaseClosingCall)
	b.limit(t, "B6", "AAPL", "2", "3", "195.00", "59=7")
	b.expectExec(t, "B6", "0")
	a.limit(t, "A7", "AAPL", "1", "3", "195.00")
	a.expectExec(t, "A7", "0")
	phase(matching.PhasePostClose)
	check(t, "closing fill", b.expectExec(t, "B6", "F"), "31=195", "32=3", "851=4", "59=7")
	a.expect(t, "h", "336=AAPL", "340=3", "625=post_close")

	for time.Now().Before(due.Add(10 * time.Millisecond)) {
		time.Sleep(10 * time.Millisecond) // the GTD order's wall-clock expiry
	}
	if !v.x.Submit(&ordermanager.Request{Kind: ordermanager.ReqExpire}) {
		t.Fatal("expire refused")
	}
	a.expectExec(t, "A5", "C", "39=C")
	a.expectExec(t, "A6", "C", "39=C")

	quiesce(v)
	for _, c := range cs {
		c.stop()
	}
	quiesce(v)
	stopTestVenue(t, v)
	live := v.x.State()
	st, _, err := pipeline.Rebuild(cfg.Registry, pipeline.RebuildOptions{Dir: dir, IgnoreSnapshots: true, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if st.Engine.StateHash() != live.Engine.StateHash() || st.Manager.StateHash() != live.Manager.StateHash() || st.Hasher.Sum() != live.Hasher.Sum() {
		t.Fatal("the replayed day differs from the live one")
	}
}
