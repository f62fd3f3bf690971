package main

import (
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/gateway"
	"github.com/exchange-sim/exchange/internal/ordermanager"
)

// redelivery collects, during recovery, the reports the journal regenerates
// that the FIX stores lack (the process was killed after their journal
// write and before their store write), for the gateway to store before it
// listens (internal/gateway/redeliver.go).
type redelivery struct {
	marks gateway.ReportMarks
	reps  []ordermanager.Report
}

func newRedelivery(cfg *config.Config) (*redelivery, error) {
	m, err := gateway.ReadReportMarks(cfg.Registry, gatewaySettings(cfg))
	if err != nil {
		return nil, err
	}
	return &redelivery{marks: m}, nil
}

// recovered is pipeline.Options.Recovered.
func (r *redelivery) recovered(reps []ordermanager.Report) {
	r.reps = r.marks.Unstored(reps, r.reps)
}

// syncReports is pipeline.Options.SyncReports: before a snapshot, the
// reports delivered so far are written to the FIX stores.
func (v *venue) syncReports() {
	if v.gw != nil {
		v.gw.SyncStores()
	}
}
