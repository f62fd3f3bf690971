package bench

import (
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

// stopsStream is the exchange-core mix with 10% of new GTC orders made stop
// orders and 10% icebergs.
var stopsStream = &stream{symbols: 1, generate: func() ([]matching.Command, []matching.Command) {
	cfg := mixExchangeCore
	cfg.StopPct, cfg.IcebergPct = 10, 10
	return Generate(1, 3_000_000, cfg)
}}

// BenchmarkEngineMixStopsIcebergs is BenchmarkEngineMix with 10% of new
// orders stop orders and 10% icebergs.
func BenchmarkEngineMixStopsIcebergs(b *testing.B) { runThroughput(b, stopsStream) }

// TestStopsIcebergsMixExercises checks that the mix really holds, triggers
// and refills (the benchmark would measure nothing new otherwise).
func TestStopsIcebergsMixExercises(t *testing.T) {
	cfg := mixExchangeCore
	cfg.StopPct, cfg.IcebergPct = 10, 10
	warmup, cmds := Generate(1, 200_000, cfg)
	e := warmEngine(1, warmup)
	n := map[matching.EventKind]int{}
	var out []matching.Event
	for i := range cmds {
		out = e.Apply(&cmds[i], out[:0])
		for _, ev := range out {
			n[ev.Kind]++
		}
	}
	for _, k := range []matching.EventKind{matching.EvStopAdded, matching.EvTriggered, matching.EvRefilled, matching.EvTrade} {
		if n[k] == 0 {
			t.Errorf("the mix never produced event kind %d: %v", k, n)
		}
	}
	t.Logf("%v", n)
}
