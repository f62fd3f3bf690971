package main

import (
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/gateway"
	"github.com/exchange-sim/exchange/internal/pipeline"
)

// pipelineOptions maps the configuration onto the pipeline's own options:
// the one place where the reference data and the journal and queue settings
// of the YAML file reach the venue. The caller adds what the configuration
// does not say (where reports go, market data, the cluster's log).
func pipelineOptions(cfg *config.Config) pipeline.Options {
	return pipeline.Options{
		Ref:             cfg.Registry,
		Dir:             cfg.DataDir,
		Durability:      cfg.Durability,
		SegmentBytes:    cfg.SegmentBytes,
		SnapshotEvery:   cfg.SnapshotEvery,
		BatchRecordsMax: cfg.BatchRecordsMax,
		BatchDelay:      cfg.BatchDelay,
		QueueDepth:      cfg.QueueDepth,
	}
}

// gatewaySettings maps the configuration onto the gateway's own settings.
func gatewaySettings(cfg *config.Config) gateway.Settings {
	return gateway.Settings{
		ListenFIX:          cfg.ListenFIX,
		DataDir:            cfg.DataDir,
		TargetCompID:       cfg.TargetCompID,
		HeartbeatSeconds:   cfg.HeartbeatSeconds,
		FloodLogoutAfter:   cfg.FloodLogoutAfter,
		QuickFIXSettings:   cfg.QuickFIXSettings,
		SeqResetTime:       cfg.SeqResetTime,
		StoreRetentionDays: cfg.StoreRetentionDays,
		Schedule:           cfg.Schedule,
	}
}
