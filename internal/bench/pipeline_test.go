package bench

import (
	"testing"
	"time"

	"github.com/exchange-sim/exchange/sequencer"
)

func reportPipeline(b *testing.B, r *PipelineResult) {
	b.ReportMetric(r.Throughput, "orders/s")
	b.ReportMetric(float64(r.Latency.ValueAtQuantile(50)), "p50-ns")
	b.ReportMetric(float64(r.Latency.ValueAtQuantile(99)), "p99-ns")
	b.ReportMetric(float64(r.Latency.ValueAtQuantile(99.9)), "p99.9-ns")
	b.ReportMetric(float64(r.Latency.Max()), "max-ns")
}

// BenchmarkPipeline pushes the exchange-core mix through order manager,
// sequencer (journal on disk), engine and back, as fast as the queue takes
// it. One iteration is one run of 1,000,000 requests.
func BenchmarkPipeline(b *testing.B) {
	for _, dur := range []sequencer.Durability{sequencer.DurabilityNone, sequencer.DurabilityBatch} {
		b.Run(dur.String(), func(b *testing.B) {
			for range b.N {
				r, err := RunPipeline(PipelineOptions{Dir: b.TempDir(), Durability: dur, Orders: 1_000_000, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				reportPipeline(b, r)
			}
		})
	}
}

// BenchmarkPipelineOpenLoop offers 100,000 requests/s for 3 s and reports
// latency from each request's scheduled time. Under batch durability every
// acknowledgement waits for its group's fsync, so its latency floor is the
// disk's fsync time.
func BenchmarkPipelineOpenLoop(b *testing.B) {
	for _, dur := range []sequencer.Durability{sequencer.DurabilityNone, sequencer.DurabilityBatch} {
		b.Run(dur.String(), func(b *testing.B) {
			for range b.N {
				r, err := RunPipeline(PipelineOptions{Dir: b.TempDir(), Durability: dur, Orders: 300_000, Rate: 100_000, Seed: 2})
				if err != nil {
					b.Fatal(err)
				}
				reportPipeline(b, r)
			}
		})
	}
}

// TestPipelineOpenLoopAccounting checks an open-loop run's accounting: every
// request answered once, and a lateness recorded for every one sent.
func TestPipelineOpenLoopAccounting(t *testing.T) {
	r, err := RunPipeline(PipelineOptions{Dir: t.TempDir(), Durability: "none", Orders: 5_000, Rate: 50_000, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r.Answered != 5_000 || r.Latency.TotalCount() != 5_000 || r.Service.TotalCount() != 5_000 || r.SendLate.TotalCount() != 5_000 {
		t.Fatalf("answered %d, histograms %d, %d, %d", r.Answered, r.Latency.TotalCount(), r.Service.TotalCount(), r.SendLate.TotalCount())
	}
}

// TestPipelineScenarioAnswersEverything is a small run of the scenario that
// checks its accounting, not its speed: every measured request is answered
// exactly once and every one of them reaches the sequencer (the order manager
// refuses none of the mix).
func TestPipelineScenarioAnswersEverything(t *testing.T) {
	r, err := RunPipeline(PipelineOptions{Dir: t.TempDir(), Durability: "none", Orders: 20_000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Answered != 20_000 || r.Latency.TotalCount() != 20_000 {
		t.Fatalf("answered %d, histogram %d", r.Answered, r.Latency.TotalCount())
	}
	if r.Stats.Commands < 20_000 {
		t.Fatalf("only %d commands sequenced: the order manager refused part of the mix (%+v)", r.Stats.Commands, r.Stats)
	}
	if r.Elapsed <= 0 || r.Elapsed > time.Minute {
		t.Fatalf("elapsed %v", r.Elapsed)
	}
}
