package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// A standby only applies the leader's log: a request or an operator action
// handed to it directly (the schedule's clock, the admin API of a node that
// is not the leader) is refused, and changes nothing. Before this was
// refused, the order manager took the change and the passthrough sequencer
// then failed on the unstamped command: the standby stopped, its state no
// longer the log's. Once it leads, the same request is taken.
func TestStandbyRefusesRequestsAndActions(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	app, _, err := sequencer.OpenAppender(dir, sequencer.DurabilityNone, 0, 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	lg := &failingLog{app: app, entered: make(chan struct{}, 1), release: make(chan struct{})}
	lg.okBatches.Store(1 << 30)
	col := newCollector()
	x, _, err := Open(Options{Ref: cfg.Registry, Dir: dir, Durability: "none", Log: zerolog.Nop(), Reports: col.add,
		ClusterLog: lg, NextSeq: 1, Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := newOrder(cfg, "ALPHA", clID(t, "s1"), 1, matching.Buy, 19000, 1)
	if x.Submit(&req) {
		t.Error("a standby took a request")
	}
	if _, err := x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActHalt, Symbol: 1, Who: "ops", Why: "test"}); !errors.Is(err, ErrStandby) {
		t.Errorf("Operate on a standby: %v, want ErrStandby", err)
	}
	if err := x.Inspect(ctx, func(*ordermanager.Manager) {}); err != nil {
		t.Errorf("Inspect on a standby: %v", err)
	}
	// Nothing reached the sequencer, and the standby still runs.
	time.Sleep(20 * time.Millisecond)
	if st := x.Stats(); st.Commands != 0 || x.Closed() {
		t.Fatalf("standby after refusals: %d commands, closed %v", st.Commands, x.Closed())
	}
	if err := x.Lead(); err != nil {
		t.Fatal(err)
	}
	if !x.Submit(&req) {
		t.Fatal("the leader refused the request")
	}
	col.waitFor(t, "the ack of s1", func(reps []ordermanager.Report) bool { return len(reps) > 0 })
	if _, err := x.Operate(ctx, &ordermanager.Operation{Action: ordermanager.ActHalt, Symbol: 1, Who: "ops", Why: "test"}); err != nil {
		t.Errorf("Operate on the leader: %v", err)
	}
}
