package broker

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Result is what a run measured. Latencies are in nanoseconds.
type Result struct {
	Mode    Mode
	Rate    float64 // open loop with the flow model: target requests/s
	Window  int     // closed loop: requests in flight
	Pace    string  // replay: recorded, max or the speed factor
	Replay  bool
	Elapsed time.Duration // first send to the last answer (or the end of sending)

	Sent       int64 // requests sent (new, cancel, replace)
	Acked      int64 // answered by anything but a rejection
	Filled     int64 // new or replace requests that got at least one fill
	Rejected   int64 // answered by a rejection of any kind
	Unanswered int64 // never answered within the drain timeout, Unsent and NotSent included
	Unsent     int64 // open loop: scheduled but not sent because the exchange stalled (see Options.StallTimeout)
	// NotSent counts requests built while their FIX session was down
	// (disconnected, logging on again): never on the wire, not in Sent.
	NotSent   int64
	Skipped   int64 // cancels/replaces not sent because their order was already done
	Unmatched int64 // answers naming no request of this run

	// Failovers counts sessions that dropped and logged on again to a
	// cluster's leader (Options.Failover). Resynced counts requests in
	// flight at a drop whose fate a status answer (OrderMassStatusRequest,
	// OrderStatusRequest) told afterwards: each is in Acked or Rejected once,
	// like any answered request. LostAtFailover counts those of them the
	// new leader did not know (never committed, so never acknowledged):
	// they are in Rejected. InFlightAtFailover counts the requests in
	// flight at the drops: those not resynchronised were answered by the
	// reports the new leader sent again (flagged PossResend) or before.
	Failovers, Resynced, LostAtFailover, InFlightAtFailover int64

	// RejectedByReason counts rejections by "<message> <tag>=<code>: <Text>",
	// at most 64 distinct reasons (the rest under "other reasons").
	RejectedByReason map[string]int64

	Throughput float64 // answers per second over Elapsed
	SendRate   float64 // requests sent per second while sending

	Ack  *hdrhistogram.Histogram // first answer, from the scheduled (open) or actual (closed) send time
	Fill *hdrhistogram.Histogram // first fill, same origin
	// SendLate, in open loop, is how long after its scheduled time each
	// request was handed to the FIX engine: the part of Ack that the load
	// generator itself added (nil otherwise).
	SendLate *hdrhistogram.Histogram
}

func (t *tracker) result(o *Options, start, sendEnd time.Time) *Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := &Result{
		Mode: o.Mode, Rate: o.Rate, Window: o.Window, Replay: o.Source != nil,
		Sent: t.sent, Acked: t.acked, Filled: t.filled, Rejected: t.rejected,
		Skipped: t.skipped, Unmatched: t.unmatchedN, NotSent: t.down,
		Failovers: t.failovers, Resynced: t.resynced, LostAtFailover: t.lost, InFlightAtFailover: t.inflightAtFailover,
		RejectedByReason: make(map[string]int64, len(t.reasons)),
		Ack:              t.ack.Clone(), Fill: t.fill.Clone(),
	}
	if r.Replay {
		r.Pace = o.Pace.String()
	}
	r.Unanswered = t.sent - t.acked - t.rejected + t.down
	for k, v := range t.reasons {
		r.RejectedByReason[k] = v
	}
	end := sendEnd
	if t.lastAnswer.After(end) {
		end = t.lastAnswer
	}
	r.Elapsed = end.Sub(start)
	if s := r.Elapsed.Seconds(); s > 0 {
		r.Throughput = float64(r.Acked+r.Rejected) / s
	}
	if s := sendEnd.Sub(start).Seconds(); s > 0 {
		r.SendRate = float64(r.Sent) / s
	}
	return r
}

// reportPercentiles are the rows of the table.
var reportPercentiles = []struct {
	name string
	p    float64
}{{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99.9", 99.9}, {"p99.99", 99.99}}

// WriteTable prints the counts, the rejections by reason, the throughput
// and the latency percentiles as an aligned text table.
func (r *Result) WriteTable(w io.Writer) error {
	var b strings.Builder
	switch {
	case r.Mode == ModeClosed:
		fmt.Fprintf(&b, "%-12s closed loop, window %d\n", "mode", r.Window)
	case r.Replay:
		fmt.Fprintf(&b, "%-12s open loop, replay at %s pace\n", "mode", r.Pace)
	default:
		fmt.Fprintf(&b, "%-12s open loop, %.0f requests/s scheduled (latency from the scheduled time)\n", "mode", r.Rate)
	}
	fmt.Fprintf(&b, "%-12s %.3f s\n", "elapsed", r.Elapsed.Seconds())
	fmt.Fprintf(&b, "%-12s %d\n", "sent", r.Sent)
	fmt.Fprintf(&b, "%-12s %d\n", "acked", r.Acked)
	fmt.Fprintf(&b, "%-12s %d\n", "filled", r.Filled)
	fmt.Fprintf(&b, "%-12s %d\n", "rejected", r.Rejected)
	reasons := make([]string, 0, len(r.RejectedByReason))
	for k := range r.RejectedByReason {
		reasons = append(reasons, k)
	}
	sort.Slice(reasons, func(i, j int) bool {
		ci, cj := r.RejectedByReason[reasons[i]], r.RejectedByReason[reasons[j]]
		if ci != cj {
			return ci > cj
		}
		return reasons[i] < reasons[j]
	})
	for _, k := range reasons {
		fmt.Fprintf(&b, "  %8d  %s\n", r.RejectedByReason[k], k)
	}
	var never []string
	if r.Unsent > 0 {
		never = append(never, fmt.Sprintf("%d never sent: the exchange stalled", r.Unsent))
	}
	if r.NotSent > 0 {
		never = append(never, fmt.Sprintf("%d never sent: the session was down", r.NotSent))
	}
	if len(never) > 0 {
		fmt.Fprintf(&b, "%-12s %d (%s)\n", "unanswered", r.Unanswered, strings.Join(never, "; "))
	} else {
		fmt.Fprintf(&b, "%-12s %d\n", "unanswered", r.Unanswered)
	}
	if r.Skipped > 0 {
		fmt.Fprintf(&b, "%-12s %d (cancel/replace of an order already done)\n", "skipped", r.Skipped)
	}
	if r.Unmatched > 0 {
		fmt.Fprintf(&b, "%-12s %d (answers naming no request of this run)\n", "unmatched", r.Unmatched)
	}
	if r.Failovers > 0 {
		fmt.Fprintf(&b, "%-12s %d (sessions that logged on again to the leader); %d requests in flight, %d resynchronised, %d of them unknown to the new leader\n",
			"failovers", r.Failovers, r.InFlightAtFailover, r.Resynced, r.LostAtFailover)
	}
	fmt.Fprintf(&b, "%-12s %.0f answers/s (sent %.0f requests/s)\n", "throughput", r.Throughput, r.SendRate)
	if r.SendLate != nil {
		fmt.Fprintf(&b, "\n%-12s %12s %12s %12s\n", "latency", "ack", "first fill", "sender late")
	} else {
		fmt.Fprintf(&b, "\n%-12s %12s %12s\n", "latency", "ack", "first fill")
	}
	row := func(name string, f func(h *hdrhistogram.Histogram) int64) {
		if r.SendLate != nil {
			fmt.Fprintf(&b, "%-12s %12s %12s %12s\n", name, cell(r.Ack, f), cell(r.Fill, f), cell(r.SendLate, f))
			return
		}
		fmt.Fprintf(&b, "%-12s %12s %12s\n", name, cell(r.Ack, f), cell(r.Fill, f))
	}
	for _, p := range reportPercentiles {
		p := p
		row(p.name, func(h *hdrhistogram.Histogram) int64 { return h.ValueAtPercentile(p.p) })
	}
	row("max", (*hdrhistogram.Histogram).Max)
	if r.SendLate != nil {
		fmt.Fprintf(&b, "%-12s %12d %12d %12d\n", "count", r.Ack.TotalCount(), r.Fill.TotalCount(), r.SendLate.TotalCount())
	} else {
		fmt.Fprintf(&b, "%-12s %12d %12d\n", "count", r.Ack.TotalCount(), r.Fill.TotalCount())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cell(h *hdrhistogram.Histogram, f func(*hdrhistogram.Histogram) int64) string {
	if h == nil || h.TotalCount() == 0 {
		return "-"
	}
	return formatNs(f(h))
}

// formatNs prints a latency with three significant digits and a unit.
func formatNs(ns int64) string {
	d := float64(ns)
	switch {
	case ns < 1_000:
		return fmt.Sprintf("%d ns", ns)
	case ns < 1_000_000:
		return trim3(d/1e3) + " µs"
	case ns < 1_000_000_000:
		return trim3(d/1e6) + " ms"
	}
	return trim3(d/1e9) + " s"
}

func trim3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// WriteHgrm writes the ack-latency distribution in HdrHistogram's
// percentile-distribution text form (the .hgrm that HdrHistogram's plotter
// reads), values in milliseconds.
func (r *Result) WriteHgrm(w io.Writer) error {
	_, err := r.Ack.PercentilesPrint(w, 5, 1e6)
	return err
}

// WriteFillHgrm is WriteHgrm for the time to first fill.
func (r *Result) WriteFillHgrm(w io.Writer) error {
	_, err := r.Fill.PercentilesPrint(w, 5, 1e6)
	return err
}
