package main

import (
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/sequencer"
)

// Every setting of the configuration that the pipeline takes reaches its
// Options field (pipeline's own tests take it from there to the sequencer
// and the queues; internal/config's every-key test from the YAML to Config).
func TestPipelineOptionsFromConfig(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = "/elsewhere"
	cfg.Durability = sequencer.DurabilityNone
	cfg.SegmentBytes = 4096000
	cfg.SnapshotEvery = 5
	cfg.BatchRecordsMax = 17
	cfg.BatchDelay = 3 * time.Millisecond
	cfg.QueueDepth = 32
	o := pipelineOptions(cfg)
	want := pipeline.Options{Ref: cfg.Registry, Dir: "/elsewhere", Durability: sequencer.DurabilityNone,
		SegmentBytes: 4096000, SnapshotEvery: 5, BatchRecordsMax: 17, BatchDelay: 3 * time.Millisecond, QueueDepth: 32}
	if o.Ref != want.Ref || o.Dir != want.Dir || o.Durability != want.Durability || o.SegmentBytes != want.SegmentBytes ||
		o.SnapshotEvery != want.SnapshotEvery || o.BatchRecordsMax != want.BatchRecordsMax || o.BatchDelay != want.BatchDelay ||
		o.QueueDepth != want.QueueDepth {
		t.Fatalf("pipelineOptions = %+v\nwant %+v", o, want)
	}
}
