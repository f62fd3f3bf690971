package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/exchange-sim/exchange/internal/reporter"
)

// venueReporter is the reporter running inside serve: a goroutine that
// follows the venue's journal files into the history database, beside (never
// on) the critical path. Its database also backs the /api/history/ endpoints.
type venueReporter struct {
	mu   sync.Mutex
	rep  *reporter.Reporter // nil until opened
	err  error              // why it stopped, if it did
	stop context.CancelFunc
	done chan struct{}
}

// startReporter opens the reporter in the background (catching up on a long
// journal must not delay serve) and runs it until stopReporter.
func (v *venue) startReporter(dir string) {
	ctx, cancel := context.WithCancel(context.Background())
	vr := &venueReporter{stop: cancel, done: make(chan struct{})}
	v.rep = vr
	go func() {
		defer close(vr.done)
		rep, err := reporter.Open(ctx, reporter.Config{Venue: v.cfg.Registry, DataDir: dir, DB: reporter.OpenOptions{DSN: v.cfg.ReporterDSN}, Log: v.log})
		if err == nil {
			vr.mu.Lock()
			vr.rep = rep
			vr.mu.Unlock()
			v.log.Info().Str("database", rep.DB().Where()).Uint64("from_seq", rep.Stats().AppliedSeq).Msg("reporter started")
			err = rep.Run(ctx)
		}
		if err != nil && ctx.Err() != nil {
			return // stopped by the venue's shutdown, not a failure
		}
		if err != nil {
			v.log.Error().Err(err).Msg("reporter stopped; trading goes on, history lags until it is fixed and restarted")
			vr.mu.Lock()
			vr.err = err
			vr.mu.Unlock()
		}
	}()
}

// stopReporter stops the goroutine and closes the database.
func (v *venue) stopReporter() {
	vr := v.rep
	if vr == nil {
		return
	}
	vr.stop()
	<-vr.done
	vr.mu.Lock()
	defer vr.mu.Unlock()
	if vr.rep != nil {
		vr.rep.Close()
		vr.rep = nil
	}
}

func (vr *venueReporter) current() (*reporter.Reporter, error) {
	vr.mu.Lock()
	defer vr.mu.Unlock()
	return vr.rep, vr.err
}

// historyHandler serves /api/history/ from the reporter's database, or 503
// while it is not open.
func (v *venue) historyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v.repChild != nil {
			v.repChild.serveHistory(w, r)
			return
		}
		var rep *reporter.Reporter
		var err error
		if v.rep != nil {
			rep, err = v.rep.current()
		}
		if rep == nil {
			msg := "the reporter is not running (reporter.enabled is false)"
			if v.rep != nil {
				msg = "the reporter is still opening its database"
			}
			if err != nil {
				msg = "the reporter stopped: " + err.Error()
			}
			historyUnavailable(w, msg)
			return
		}
		rep.DB().Handler().ServeHTTP(w, r)
	})
}

// writeReporterMetrics adds the reporter's lag to /metrics.
func (v *venue) writeReporterMetrics(bw *bufio.Writer, durableSeq uint64) {
	if v.repChild != nil {
		v.repChild.writeMetrics(bw, durableSeq)
		return
	}
	if v.rep == nil {
		return
	}
	rep, err := v.rep.current()
	writeReporterUp(bw, rep != nil && err == nil)
	if rep == nil {
		return
	}
	st := rep.Stats()
	writeReporterPosition(bw, durableSeq, st.AppliedSeq, st.AppliedTimeNs)
	metricGauge(bw, "exchange_reporter_commit_lag_seconds", "At the last commit: how long after its sequencer stamp the newest command became visible.", st.CommitLag.Seconds())
	fmt.Fprintf(bw, "# HELP exchange_reporter_records_total Journal commands ingested since start.\n# TYPE exchange_reporter_records_total counter\nexchange_reporter_records_total %d\n", st.Records)
	fmt.Fprintf(bw, "# HELP exchange_reporter_commits_total Reporter database transactions.\n# TYPE exchange_reporter_commits_total counter\nexchange_reporter_commits_total %d\n", st.Commits)
}

// historyUnavailable answers /api/history/ with 503 and why.
func historyUnavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintf(w, "{\"error\":%q}\n", msg)
}

// writeReporterUp and writeReporterPosition write the reporter's gauges
// that both ways of running it have: whether it runs, and how far its
// database is behind the durable journal.
func writeReporterUp(bw *bufio.Writer, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	metricGauge(bw, "exchange_reporter_up", "1 while the reporter follows the journal into its database.", v)
}

func writeReporterPosition(bw *bufio.Writer, durableSeq, appliedSeq uint64, appliedTimeNs int64) {
	behind, lag := 0.0, 0.0
	if durableSeq > appliedSeq {
		behind = float64(durableSeq - appliedSeq)
		if appliedTimeNs > 0 {
			lag = time.Since(time.Unix(0, appliedTimeNs)).Seconds()
		}
	}
	metricGauge(bw, "exchange_reporter_applied_seq", "Last journal command whose history is committed to the reporter's database.", float64(appliedSeq))
	metricGauge(bw, "exchange_reporter_lag_records", "Durable journal commands not yet in the reporter's database.", behind)
	metricGauge(bw, "exchange_reporter_lag_seconds", "While behind: age of the newest command in the reporter's database (0 when caught up).", lag)
}
