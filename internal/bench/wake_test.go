package bench

import (
	"testing"
	"time"
)

func TestRunWake(t *testing.T) {
	r := RunWake(200)
	if n := r.Latency.TotalCount(); n != 200 {
		t.Fatalf("%d wake-ups recorded, want 200", n)
	}
	// Positive and below a second: a clock or accounting mistake (a
	// negative value clamped to 1 ns everywhere, a missed send) shows.
	if min, max := r.Latency.Min(), r.Latency.Max(); min < 100 || max >= int64(time.Second) {
		t.Fatalf("wake-up latencies from %d ns to %d ns: not a plausible thread wake-up", min, max)
	}
	t.Logf("thread wake-up p50 %v p99 %v", time.Duration(r.Latency.ValueAtQuantile(50)), time.Duration(r.Latency.ValueAtQuantile(99)))
}
