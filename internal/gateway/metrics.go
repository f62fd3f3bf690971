package gateway

import (
	"fmt"
	"io"
	"sync/atomic"
)

// metrics are the gateway's counters: plain atomics in fixed arrays, so the
// hot path does one atomic add and no lookup. WriteMetrics renders them in the
// Prometheus text format. (The module's dependency set does not include the
// Prometheus client library's own dependencies, so the gateway does not use
// it.)
type metrics struct {
	in           [len(inTypes)]atomic.Uint64
	submitted    [len(kindNames)]atomic.Uint64
	rejects      [len(inTypes)][reasonCount + 1]atomic.Uint64 // last column: session-level Reject
	out          [len(outTypes)]atomic.Uint64
	rateLimited  atomic.Uint64
	floodLogouts atomic.Uint64
	logons       [len(logonResults)]atomic.Uint64
	dropped      [len(dropReasons)]atomic.Uint64
	queued       atomic.Uint64 // reports stored for a session not logged on
	redelivered  atomic.Uint64 // reports regenerated at recovery and stored (redeliver.go)

	disconnectLost atomic.Uint64
	guardClosed    atomic.Uint64 // connections closed for a malformed message
}

var (
	inTypes      = [...]byte{'D', 'F', 'G', 'H', 'q', 'V'}
	outTypes     = [...]byte{'8', '9', 'r', 'j'}
	kindNames    = [...]string{1: "new", 2: "cancel", 3: "replace", 4: "status", 5: "mass_cancel", 6: "disconnect"}
	logonResults = [...]string{"ok", "unknown_comp_id", "bad_target", "bad_version", "already_logged_on", "bad_username", "bad_password", "throttled", "blocked"}
	dropReasons  = [...]string{"unknown_session", "send_failed", "outbox_full"}
)

const (
	dropUnknownSession = iota
	dropSendFailed
	dropOutboxFull
)

func newMetrics() *metrics { return &metrics{} }

func indexOf(list []byte, b byte) int {
	for i, v := range list {
		if v == b {
			return i
		}
	}
	return -1
}

func (m *metrics) countIn(mt byte) {
	if i := indexOf(inTypes[:], mt); i >= 0 {
		m.in[i].Add(1)
	}
}

func (m *metrics) countOut(mt byte) {
	if i := indexOf(outTypes[:], mt); i >= 0 {
		m.out[i].Add(1)
	}
}

func (m *metrics) countSubmitted(kind uint8) {
	if int(kind) < len(m.submitted) {
		m.submitted[kind].Add(1)
	}
}

// countReject counts a gateway reject of a message of type mt; why ==
// reasonCount stands for a session-level Reject.
func (m *metrics) countReject(mt byte, why reason) {
	if i := indexOf(inTypes[:], mt); i >= 0 && int(why) <= int(reasonCount) {
		m.rejects[i][why].Add(1)
	}
}

func (m *metrics) countLogon(result string) {
	for i, r := range logonResults {
		if r == result {
			m.logons[i].Add(1)
			return
		}
	}
}

// Stats is a snapshot of the gateway's counters.
type Stats struct {
	MessagesIn     map[string]uint64 // by MsgType
	Submitted      map[string]uint64 // requests to the order manager, by kind
	Rejects        map[string]uint64 // gateway rejects, by "MsgType/reason"
	MessagesOut    map[string]uint64 // report messages sent, by MsgType
	RateLimited    uint64
	FloodLogouts   uint64
	Logons         map[string]uint64 // logon attempts, by result
	ReportsDropped map[string]uint64 // by why
	// ReportsQueued counts reports sequenced and stored for a session that
	// was not logged on; they go out at its next logon (as resends).
	ReportsQueued  uint64
	DisconnectLost uint64 // disconnects the order manager never heard of
	Malformed      uint64 // connections closed for a malformed message
}

// Stats returns a snapshot of the counters.
func (g *Gateway) Stats() Stats {
	m := g.m
	s := Stats{
		MessagesIn: map[string]uint64{}, Submitted: map[string]uint64{}, Rejects: map[string]uint64{},
		MessagesOut: map[string]uint64{}, Logons: map[string]uint64{}, ReportsDropped: map[string]uint64{},
		RateLimited: m.rateLimited.Load(), FloodLogouts: m.floodLogouts.Load(), DisconnectLost: m.disconnectLost.Load(),
		Malformed: m.guardClosed.Load(), ReportsQueued: m.queued.Load(),
	}
	for i, t := range inTypes {
		s.MessagesIn[string(t)] = m.in[i].Load()
		for r := range m.rejects[i] {
			if n := m.rejects[i][r].Load(); n > 0 {
				s.Rejects[string(t)+"/"+rejectReasonName(reason(r))] = n
			}
		}
	}
	for k, name := range kindNames {
		if name != "" {
			s.Submitted[name] = m.submitted[k].Load()
		}
	}
	for i, t := range outTypes {
		s.MessagesOut[string(t)] = m.out[i].Load()
	}
	for i, r := range logonResults {
		s.Logons[r] = m.logons[i].Load()
	}
	for i, r := range dropReasons {
		s.ReportsDropped[r] = m.dropped[i].Load()
	}
	return s
}

func rejectReasonName(r reason) string {
	if r >= reasonCount {
		return "session_reject"
	}
	return reasonNames[r]
}

// WriteMetrics writes the counters in the Prometheus text exposition format
// (for the exchange's /metrics handler): messages and orders in, rejects by
// reason, messages out, rate-limited messages, flood logouts, logons by
// result, dropped reports.
func (g *Gateway) WriteMetrics(w io.Writer) error {
	m := g.m
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	p("# HELP exchange_gateway_messages_in_total FIX application messages received, by MsgType.\n# TYPE exchange_gateway_messages_in_total counter\n")
	for i, t := range inTypes {
		p("exchange_gateway_messages_in_total{msg_type=%q} %d\n", string(t), m.in[i].Load())
	}
	p("# HELP exchange_gateway_requests_total Requests submitted to the order manager, by kind.\n# TYPE exchange_gateway_requests_total counter\n")
	for k, name := range kindNames {
		if name != "" {
			p("exchange_gateway_requests_total{kind=%q} %d\n", name, m.submitted[k].Load())
		}
	}
	p("# HELP exchange_gateway_rejects_total Messages the gateway itself rejected, by MsgType and reason.\n# TYPE exchange_gateway_rejects_total counter\n")
	for i, t := range inTypes {
		for r := range m.rejects[i] {
			if n := m.rejects[i][r].Load(); n > 0 {
				p("exchange_gateway_rejects_total{msg_type=%q,reason=%q} %d\n", string(t), rejectReasonName(reason(r)), n)
			}
		}
	}
	p("# HELP exchange_gateway_messages_out_total FIX messages sent for order manager reports, by MsgType.\n# TYPE exchange_gateway_messages_out_total counter\n")
	for i, t := range outTypes {
		p("exchange_gateway_messages_out_total{msg_type=%q} %d\n", string(t), m.out[i].Load())
	}
	p("# HELP exchange_gateway_rate_limited_total Messages refused by a session's rate limit.\n# TYPE exchange_gateway_rate_limited_total counter\nexchange_gateway_rate_limited_total %d\n", m.rateLimited.Load())
	p("# HELP exchange_gateway_flood_logouts_total Sessions logged out for flooding.\n# TYPE exchange_gateway_flood_logouts_total counter\nexchange_gateway_flood_logouts_total %d\n", m.floodLogouts.Load())
	p("# HELP exchange_gateway_logons_total Logon attempts, by result.\n# TYPE exchange_gateway_logons_total counter\n")
	for i, r := range logonResults {
		p("exchange_gateway_logons_total{result=%q} %d\n", r, m.logons[i].Load())
	}
	p("# HELP exchange_gateway_reports_dropped_total Reports not sent, by why.\n# TYPE exchange_gateway_reports_dropped_total counter\n")
	for i, r := range dropReasons {
		p("exchange_gateway_reports_dropped_total{why=%q} %d\n", r, m.dropped[i].Load())
	}
	p("# HELP exchange_gateway_reports_queued_total Reports sequenced and stored for a session not logged on, delivered at its next logon.\n# TYPE exchange_gateway_reports_queued_total counter\nexchange_gateway_reports_queued_total %d\n", m.queued.Load())
	p("# HELP exchange_gateway_reports_redelivered_total Reports regenerated from the journal at start-up that had not reached their FIX store before the stop, stored then.\n# TYPE exchange_gateway_reports_redelivered_total counter\nexchange_gateway_reports_redelivered_total %d\n", m.redelivered.Load())
	p("# HELP exchange_gateway_disconnect_lost_total Session disconnects the order manager could not be told of (queue full).\n# TYPE exchange_gateway_disconnect_lost_total counter\nexchange_gateway_disconnect_lost_total %d\n", m.disconnectLost.Load())
	p("# HELP exchange_gateway_malformed_total Connections closed for a malformed FIX message.\n# TYPE exchange_gateway_malformed_total counter\nexchange_gateway_malformed_total %d\n", m.guardClosed.Load())
	return err
}
