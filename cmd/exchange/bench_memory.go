package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/exchange-sim/exchange/internal/bench"
)

// benchMemory builds books of resting orders (100 k and 1 M; 100 k with
// --quick; EXCHANGE_BENCH_MEMORY_ORDERS=a,b,... for others, e.g. 5000000)
// and reports, per stage, the live heap and resident set each resting order
// costs, the entry rate at the end of the build against its start, the
// longest stall, and recovery from a snapshot against journal replay.
func benchMemory(tmp string, quick bool, stderr io.Writer) ([]benchRow, error) {
	sizes := []int{100_000, 1_000_000}
	if quick {
		sizes = sizes[:1]
	}
	if env := os.Getenv("EXCHANGE_BENCH_MEMORY_ORDERS"); env != "" {
		sizes = nil
		for _, f := range filepath.SplitList(env) {
			for _, s := range splitComma(f) {
				n, err := strconv.Atoi(s)
				if err != nil || n <= 0 {
					return nil, fmt.Errorf("EXCHANGE_BENCH_MEMORY_ORDERS: %q is not a count", s)
				}
				sizes = append(sizes, n)
			}
		}
	}
	var rows []benchRow
	for _, n := range sizes {
		fmt.Fprintf(stderr, "running memory %d resting...\n", n)
		dir := filepath.Join(tmp, fmt.Sprintf("memory-%d", n))
		r, err := bench.RunMemory(dir, n)
		if err != nil {
			return nil, err
		}
		_ = os.RemoveAll(dir)
		k := rateShort(float64(n))
		rows = append(rows,
			benchRow{name: "resting " + k + ": per order", ops: strconv.Itoa(n), rate: "-",
				note: fmt.Sprintf("live heap B/order: engine %.0f, order manager %.0f, market data %.0f (total %.0f); RSS B/order: engine %.0f, order manager %.0f, market data %.0f; sequencer keeps none",
					r.EngineHeap, r.ManagerHeap, r.MarketDataHeap, r.EngineHeap+r.ManagerHeap+r.MarketDataHeap, r.EngineRSS, r.ManagerRSS, r.MarketDataRSS)},
			benchRow{name: "resting " + k + ": entry", ops: strconv.Itoa(n), rate: rateStr(r.RateLast, "orders/s"),
				note: fmt.Sprintf("last tenth %s orders/s vs first tenth %s (%.0f%%); longest order %s (longest call: order manager %s, engine %s), %d over 10 ms (order manager + engine, no I/O); most thread CPU in %d orders %s",
					rateShort(r.RateLast), rateShort(r.RateFirst), 100*r.RateLast/r.RateFirst, durStr(int64(r.StallMax)),
					durStr(int64(r.StallManager)), durStr(int64(r.StallEngine)), r.StallsOver10ms, bench.StallWindow, durStr(int64(r.StallWindowCPU)))},
			benchRow{name: "resting " + k + ": recovery", ops: strconv.Itoa(n), rate: rateStr(r.ReplayCmdsPerSec, "cmds/s replay"),
				note: fmt.Sprintf("snapshot %.0f MB written in %s, recovered in %s (CPU %s); journal replay %s (CPU %s): snapshot %.1fx faster by wall time, %.1fx by CPU",
					float64(r.SnapshotBytes)/1e6, durStr(int64(r.SnapshotWrite)), durStr(int64(r.SnapshotRecover)), durStr(int64(r.SnapshotRecoverCPU)),
					durStr(int64(r.Replay)), durStr(int64(r.ReplayCPU)), r.RecoverSpeedup, r.ReplayCPU.Seconds()/max(r.SnapshotRecoverCPU.Seconds(), 1e-9))})
	}
	return rows, nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
