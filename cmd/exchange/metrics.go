package main

import (
	"bufio"
	"fmt"
	"net/http"
)

// metricsHandler serves /metrics in the Prometheus text exposition format:
// the pipeline's and journal's counters here, then the gateway's and market
// data's own. The counters are atomics read at scrape time, so the hot path
// pays one atomic add per count and nothing per scrape.
func (v *venue) metricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		bw := bufio.NewWriter(w)
		x := v.exchange()
		st := x.Stats()
		counter := func(name, help string, val float64) {
			fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s counter\n%s %g\n", name, help, name, name, val)
		}
		gauge := func(name, help string, val float64) {
			fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", name, help, name, name, val)
		}
		counter("exchange_requests_total", "Requests taken by the order manager.", float64(st.Requests))
		counter("exchange_busy_rejects_total", "Requests refused because a queue was full.", float64(st.Busy))
		counter("exchange_commands_sequenced_total", "Commands the order manager accepted and sent to the sequencer.", float64(st.Commands))
		counter("exchange_engine_events_total", "Events the matching engine emitted.", float64(st.Events))
		counter("exchange_reports_total", "Execution reports and other answers handed to the gateway.", float64(st.Reports))
		counter("exchange_snapshots_total", "Snapshots written.", float64(st.Snapshots))
		counter("exchange_snapshot_errors_total", "Snapshots that failed to write.", float64(st.SnapshotErrors))
		counter("exchange_stage_ordermanager_seconds_total", "Time the order manager spent on requests.", float64(st.OrderManagerNs)/1e9)
		counter("exchange_stage_engine_seconds_total", "Time the engine goroutine spent matching and hashing.", float64(st.EngineNs)/1e9)
		counter("exchange_marketdata_resyncs_total", "Times market data fell behind the engine and was reset from the books.", float64(st.MarketDataResyncs))
		gauge("exchange_inflight_commands", "Commands accepted by the order manager and not yet back from the engine.", float64(st.Commands-st.Processed))
		gauge("exchange_inbound_queue_depth", "Requests waiting for the order manager.", float64(x.QueueDepth()))
		sq := st.Sequencer
		counter("exchange_journal_records_total", "Command records journaled.", float64(sq.Records))
		counter("exchange_journal_checkpoints_total", "Checkpoint records journaled.", float64(sq.Checkpoints))
		counter("exchange_journal_batches_total", "Journal write batches (group commits).", float64(sq.Batches))
		counter("exchange_journal_bytes_total", "Bytes written to the journal.", float64(sq.Bytes))
		counter("exchange_journal_fsyncs_total", "fsync calls on the journal.", float64(sq.Fsyncs))
		counter("exchange_journal_fsync_seconds_total", "Time spent in journal fsync.", float64(sq.FsyncNs)/1e9)
		gauge("exchange_journal_fsync_seconds_max", "Longest journal fsync since start.", float64(sq.FsyncNsMax)/1e9)
		counter("exchange_sequencer_busy_total", "Commands refused because the sequencer ring was full.", float64(sq.Busy))
		gauge("exchange_journal_durable_seq", "Last durable command sequence number.", float64(sq.DurableSeq))
		v.writeReporterMetrics(bw, sq.DurableSeq)
		if v.gw != nil {
			_ = v.gw.WriteMetrics(bw)
		}
		if v.md != nil {
			mc := v.md.Counters()
			counter("exchange_marketdata_events_published_total", "Engine events handed to market data.", float64(mc.EventsPublished))
			counter("exchange_marketdata_events_applied_total", "Events market data has applied to its books, tape and candles.", float64(mc.EventsApplied))
			counter("exchange_marketdata_events_overflowed_total", "Events dropped because market data's ring was full (a resync follows).", float64(mc.EventsOverflowed))
			counter("exchange_marketdata_gaps_total", "Out-sequence gaps market data saw.", float64(mc.Gaps))
			counter("exchange_marketdata_slow_subscriber_snapshots_total", "Subscribers sent a fresh snapshot because they fell behind.", float64(mc.SlowResyncs))
			fmt.Fprintf(bw, "# HELP exchange_trades_total Trades printed, by symbol (from the market data tape's session statistics).\n# TYPE exchange_trades_total counter\n")
			for _, sym := range v.cfg.Symbols {
				fmt.Fprintf(bw, "exchange_trades_total{symbol=%q} %d\n", sym.Name, v.md.Stats(sym.ID).Trades)
			}
			gauge("exchange_marketdata_subscribers", "WebSocket clients and FIX sessions with market data subscriptions.", float64(mc.Subscribers))
		}
		_ = bw.Flush()
	})
}
