package pipeline

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
)

// Options.BatchDelay (journal.batch_delay, mapped by cmd/exchange's
// pipelineOptions) reaches the sequencer: with durability batch, a lone
// order waits the delay before its group commit, and the orders submitted
// while it waits share that commit.
func TestBatchDelayReachesSequencer(t *testing.T) {
	cfg := config.Default()
	const delay = 300 * time.Millisecond
	col := newCollector()
	x, _, err := Open(Options{Ref: cfg.Registry, Dir: t.TempDir(), Durability: "batch", BatchDelay: delay,
		Log: zerolog.Nop(), Reports: col.add})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()

	t0 := time.Now()
	first := newOrder(cfg, "ALPHA", clID(t, "d0"), 1, 1, 18000, 1)
	if !x.Submit(&first) {
		t.Fatal("Submit refused")
	}
	// The writer is now lingering on the first command: these join its batch.
	for i := 1; i < 20; i++ {
		r := newOrder(cfg, "ALPHA", clID(t, "d"+string(rune('a'+i))), 1, 1, 18000-int64(i), 1)
		if !x.Submit(&r) {
			t.Fatal("Submit refused")
		}
	}
	col.waitFor(t, "20 acks", func(reps []ordermanager.Report) bool { return len(reps) >= 20 })
	if took := time.Since(t0); took < delay {
		t.Fatalf("first ack after %s, before the configured batch_delay %s: the delay did not reach the sequencer", took, delay)
	}
	if st := x.Stats().Sequencer; st.Records != 20 || st.Batches > 2 {
		t.Fatalf("%d records in %d batches; want 20 in at most 2 with a %s batch delay", st.Records, st.Batches, delay)
	}
}
