package reporter

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/bench"
)

// BenchmarkLivePipeline runs the exchange-core mix through the in-process
// pipeline (bench.RunPipeline, journal durability none) with and without a
// reporter following its journal into SQLite, and reports the pipeline's
// throughput. With REPORTER_BENCH_RATE it offers that many orders per
// second open-loop. With the reporter on it reports the lag: for every
// commit, how long after its sequencer stamp the batch's oldest command
// became visible in the database (percentiles over commits), and how long
// the reporter needed after the last order to catch up.
func BenchmarkLivePipeline(b *testing.B) {
	orders := 300_000
	if v, err := strconv.Atoi(os.Getenv("REPORTER_BENCH_LIVE_ORDERS")); err == nil && v > 0 {
		orders = v
	}
	rate, _ := strconv.ParseFloat(os.Getenv("REPORTER_BENCH_RATE"), 64)
	// "child" is the reporter as its own process at nice 19, or
	// REPORTER_BENCH_NICE (`exchange reporter --nice N`), lag measured by
	// polling its database.
	for _, mode := range []string{"off", "on", "child"} {
		on := mode == "on"
		b.Run("reporter="+mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				dir := b.TempDir()
				var (
					wg   sync.WaitGroup
					mu   sync.Mutex
					lags []time.Duration // per commit: the age of its oldest command
					rep  *Reporter
				)
				ctx, cancel := context.WithCancel(context.Background())
				if on {
					cfg, err := bench.BenchConfig(1000)
					if err != nil {
						b.Fatal(err)
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						// The pipeline creates the journal; follow it once it exists.
						for {
							if _, err := os.Stat(filepath.Join(dir, "journal")); err == nil {
								break
							}
							select {
							case <-ctx.Done():
								return
							case <-time.After(time.Millisecond):
							}
						}
						r, err := Open(ctx, Config{Venue: cfg.Registry, DataDir: dir, DB: OpenOptions{Path: filepath.Join(dir, "reports.db")}, Log: zerolog.Nop(),
							OnCommit: func(_ uint64, firstNs, _ int64) {
								mu.Lock()
								lags = append(lags, time.Since(time.Unix(0, firstNs)))
								mu.Unlock()
							}})
						if err != nil {
							b.Error(err)
							return
						}
						rep = r
						if err := r.Run(ctx); err != nil {
							b.Error(err)
						}
					}()
				}
				var child *childReporter
				if mode == "child" {
					nice := 19
					if v, err := strconv.Atoi(os.Getenv("REPORTER_BENCH_NICE")); err == nil {
						nice = v
					}
					c, err := startChildReporter(dir, 1000, nice)
					if err != nil {
						b.Fatal(err)
					}
					child = c
				}
				res, err := bench.RunPipeline(bench.PipelineOptions{Dir: dir, Durability: "none", Orders: orders, Rate: rate, Seed: 1})
				if err != nil {
					cancel()
					wg.Wait()
					if child != nil {
						child.close()
					}
					b.Fatal(err)
				}
				if child != nil {
					t0 := time.Now()
					child.waitSeq(res.Stats.Sequencer.DurableSeq, t0.Add(5*time.Minute))
					b.ReportMetric(time.Since(t0).Seconds(), "catchup-after-s")
					mu.Lock()
					lags = child.close()
					mu.Unlock()
				}
				b.ReportMetric(res.Throughput, "orders/s")
				b.ReportMetric(float64(res.Latency.ValueAtQuantile(99))/1e3, "p99-µs")
				if on {
					// How long the reporter needs after the last order.
					t0 := time.Now()
					deadline := t0.Add(5 * time.Minute)
					for rep != nil && rep.Stats().AppliedSeq < res.Stats.Sequencer.DurableSeq && time.Now().Before(deadline) {
						time.Sleep(10 * time.Millisecond)
					}
					b.ReportMetric(time.Since(t0).Seconds(), "catchup-after-s")
				}
				cancel()
				wg.Wait()
				if rep != nil {
					rep.Close()
				}
				mu.Lock()
				got := append([]time.Duration(nil), lags...)
				mu.Unlock()
				if lags := got; len(lags) > 0 {
					sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
					b.ReportMetric(lags[len(lags)*50/100].Seconds(), "lag-p50-s")
					b.ReportMetric(lags[len(lags)*99/100].Seconds(), "lag-p99-s")
					b.ReportMetric(lags[len(lags)-1].Seconds(), "lag-max-s")
				}
			}
		})
	}
}
