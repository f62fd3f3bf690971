package main

import (
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/gateway"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/internal/refdata"
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

// Every gateway setting of the configuration reaches gateway.Settings.
func TestGatewaySettingsFromConfig(t *testing.T) {
	cfg := config.Default()
	cfg.ListenFIX, cfg.DataDir, cfg.TargetCompID, cfg.QuickFIXSettings = "127.0.0.1:19878", "/elsewhere", "EXCH2", "x.cfg"
	cfg.HeartbeatSeconds, cfg.FloodLogoutAfter, cfg.StoreRetentionDays, cfg.SeqResetTime = 7, 9, 3, "06:30"
	cfg.Schedule = &refdata.Schedule{}
	want := gateway.Settings{ListenFIX: "127.0.0.1:19878", DataDir: "/elsewhere", TargetCompID: "EXCH2", QuickFIXSettings: "x.cfg",
		HeartbeatSeconds: 7, FloodLogoutAfter: 9, StoreRetentionDays: 3, SeqResetTime: "06:30", Schedule: cfg.Schedule}
	if got := gatewaySettings(cfg); got != want {
		t.Fatalf("gatewaySettings = %+v\nwant %+v", got, want)
	}
}
