package broker

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in nanoseconds from 1 µs to 100 s at 3 significant digits.
const (
	latencyNsMin       = 1_000
	latencyNsMax       = 100_000_000_000
	latencySigDigits   = 3
	rejectReasonsMax   = 64
	rejectReasonsOther = "other reasons"
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(latencyNsMin, latencyNsMax, latencySigDigits)
}

// order is one order chain the simulator created: a Ref and the ClOrdID
// currently in force (a replace moves it on).
type order struct {
	ref      string
	session  int
	clOrdID  string
	symbol   string
	side     FIXSide
	typ      FIXOrdType
	tif      FIXTimeInForce
	account  string
	done     bool
	requests []*request
}

// request is one message sent: a New, Cancel or Replace with its own ClOrdID.
type request struct {
	clOrdID  string
	id       uint64 // the number in clOrdID (see lookup)
	kind     Kind
	order    *order
	prev     string // Replace: the ClOrdID it replaces, restored if the replace is refused
	origin   time.Time
	seq      int
	answered bool
	filled   bool
}

// tracker matches answers to requests and keeps the counts and histograms.
// One mutex guards it all: the sender and each session's goroutine take it
// once per message, briefly.
type tracker struct {
	mu       sync.Mutex
	requests map[uint64]*request  // by the number in the ClOrdID (see lookup)
	prefix   string               // every ClOrdID of this run is prefix-<base 36 number>
	onAck    func(clOrdID string) // Options.OnAck
	orders   map[string]*order    // by Ref, live ones only
	bySeq    []map[int]*request   // per session: MsgSeqNum -> unanswered request
	tokens   chan struct{}        // closed loop: one per request in flight, nil in open loop

	sent, acked, filled, rejected, unmatchedN, skipped int64
	down                                               int64 // not sent: the session was down
	failovers, resynced, lost, inflightAtFailover      int64 // see Result
	reasons                                            map[string]int64
	ack, fill                                          *hdrhistogram.Histogram
	lastAnswer                                         time.Time
	// asked holds, per session, the status requests sent after a failover
	// and not answered yet, in order (see statusReport).
	asked [][]*request
}

func newTracker(sessions, window int, prefix string) *tracker {
	t := &tracker{
		requests: map[uint64]*request{},
		prefix:   prefix,
		orders:   map[string]*order{},
		bySeq:    make([]map[int]*request, sessions),
		reasons:  map[string]int64{},
		ack:      newHistogram(),
		fill:     newHistogram(),
	}
	for i := range t.bySeq {
		t.bySeq[i] = map[int]*request{}
	}
	if window > 0 {
		t.tokens = make(chan struct{}, window)
	}
	return t
}

// register records a request about to be sent. A Cancel or Replace is
// attached to the live order named ref and gets the ClOrdID it refers to;
// ok is false (and the request counted as skipped) when that order is done
// or unknown. A Replace moves the order on to its own ClOrdID at once, so
// that a later request refers to the newest one.
func (t *tracker) register(r *request, ref string) (orig string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r.kind == KindNew {
		t.orders[r.order.ref] = r.order
	} else {
		o := t.orders[ref]
		if o == nil || o.done {
			t.skipped++
			return "", false
		}
		r.order = o
		orig = o.clOrdID
		if r.kind == KindReplace {
			r.prev = orig
			o.clOrdID = r.clOrdID
		}
	}
	t.requests[r.id] = r
	r.order.requests = append(r.order.requests, r)
	t.sent++
	return orig, true
}

// notSent takes back requests registered but never put on the wire because
// their session was down: they count as down (and unanswered), not as
// sent. A new order that never went out is done (nothing may refer to it);
// a replace that never went out gives its order back its earlier ClOrdID.
func (t *tracker) notSent(rs []*request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range rs {
		if r.answered {
			continue
		}
		r.answered = true
		t.sent--
		t.down++
		delete(t.requests, r.id)
		o := r.order
		switch r.kind {
		case KindNew:
			o.done = true
			delete(t.orders, o.ref)
		case KindReplace:
			if o.clOrdID == r.clOrdID {
				o.clOrdID = r.prev
			}
		}
		if t.tokens != nil {
			select {
			case <-t.tokens:
			default:
			}
		}
	}
}

func (t *tracker) unmatched() {
	t.mu.Lock()
	t.unmatchedN++
	t.mu.Unlock()
}

// noteSeq records the MsgSeqNum the request named clOrdID went out with,
// for rejections that name only that (see seqReject).
func (t *tracker) noteSeq(session, seq int, clOrdID string) {
	if session < 0 {
		return
	}
	t.mu.Lock()
	t.noteSeqLocked(session, seq, lookup(t, clOrdID))
	t.mu.Unlock()
}

// sendNoted calls send, which puts the requests rs of one session on the
// wire with consecutive MsgSeqNums from the first it returns, and notes
// those numbers (see noteSeq). The lock is held across send: an answer that
// names a request only by its MsgSeqNum (a session-level Reject) cannot be
// looked up before its number is noted, however fast it comes back.
func (t *tracker) sendNoted(session int, rs []*request, send func() (uint64, error)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	first, err := send()
	if err != nil {
		return err
	}
	for i, r := range rs {
		t.noteSeqLocked(session, int(first)+i, r)
	}
	return nil
}

func (t *tracker) noteSeqLocked(session, seq int, r *request) {
	if r == nil || r.answered {
		return
	}
	if r.seq != 0 {
		delete(t.bySeq[session], r.seq)
	}
	r.seq = seq
	t.bySeq[session][seq] = r
}

// answerLocked marks r answered at now; it reports whether this was the first answer.
func (t *tracker) answerLocked(r *request, now time.Time) bool {
	if r.answered {
		return false
	}
	r.answered = true
	if r.seq != 0 {
		delete(t.bySeq[r.order.session], r.seq)
	}
	t.ack.RecordValue(clampNs(now.Sub(r.origin)))
	t.lastAnswer = now
	if t.tokens != nil {
		select {
		case <-t.tokens:
		default:
		}
	}
	return true
}

// ackedLocked counts r as acknowledged (answered by anything but a
// rejection) and tells Options.OnAck.
func (t *tracker) ackedLocked(r *request) {
	t.acked++
	if t.onAck != nil {
		t.onAck(r.clOrdID)
	}
}

// rejectLocked counts a rejection under "<reason><code>: <text>"; the key
// is built (allocated) only here, so answers that are not rejections cost
// no string building.
func (t *tracker) rejectLocked(reason string, code, text []byte) {
	t.rejected++
	key := reason + string(code)
	if len(text) > 0 {
		key += ": " + string(text)
	}
	if _, ok := t.reasons[key]; !ok && len(t.reasons) >= rejectReasonsMax {
		key = rejectReasonsOther
	}
	t.reasons[key]++
}

// execReport handles an ExecutionReport. The byte slices may be views into
// a receive buffer: nothing of them is kept (a map lookup with string(b)
// does not allocate).
func (t *tracker) execReport(now time.Time, clOrdID, execType, ordStatus, code, text []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := lookup(t, clOrdID)
	if r == nil {
		t.unmatchedN++
		return
	}
	if string(execType) == "8" && r.kind != KindNew {
		// A cancel or replace refused by ExecutionReport rather than
		// OrderCancelReject: the order itself lives on.
		t.refusedLocked(r, now, "exec-report 103=", code, text)
		return
	}
	if t.answerLocked(r, now) {
		if string(execType) == "8" {
			t.rejectLocked("exec-report 103=", code, text)
		} else {
			t.ackedLocked(r)
		}
	}
	if string(execType) == "F" && !r.filled && r.kind != KindCancel {
		r.filled = true
		t.filled++
		t.fill.RecordValue(clampNs(now.Sub(r.origin)))
	}
	switch string(ordStatus) {
	case "2", "4", "8", "C": // filled, cancelled, rejected, expired
		t.doneLocked(r.order)
	}
}

// statusReport handles an ExecutionReport with ExecType I (order status),
// the answer to the OrderMassStatusRequest (mass: it carries
// MassStatusReqID, and may name orders of other runs or sessions, which are
// not unmatched answers) and the OrderStatusRequests sent after a failover.
// A status request is answered in the order the requests were sent (the
// exchange answers them from its state, in turn), so a non-mass answer is
// the answer to the oldest status request of the session still waiting
// (asked): it may name the order by another ClOrdID of its chain (a cancel
// the leader took leaves the order's ClOrdID as it was). A known order's
// status answers the request asked about, the request its ClOrdID names and
// every earlier request of the order still unanswered (a later request of an
// order was only taken after the earlier ones); OrdStatus 8 means the leader
// does not know the ClOrdID asked about: that request was never committed,
// and counts as rejected. A request already answered is not counted again.
func (t *tracker) statusReport(now time.Time, session int, clOrdID, ordStatus, text []byte, mass bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var q *request
	if !mass && session >= 0 && session < len(t.asked) && len(t.asked[session]) > 0 {
		q = t.asked[session][0]
		t.asked[session][0] = nil
		t.asked[session] = t.asked[session][1:]
	}
	r := lookup(t, clOrdID)
	if string(ordStatus) == "8" {
		if q == nil {
			q = r
		}
		switch {
		case q == nil:
			t.unmatchedN++
		case !q.answered:
			t.resynced++
			t.lost++
			t.refusedLocked(q, now, "status after failover 39=", ordStatus, []byte("unknown to the leader: never committed"))
		}
		return
	}
	if r == nil && q == nil {
		if !mass {
			t.unmatchedN++
		}
		return
	}
	for _, x := range []*request{q, r} {
		if x == nil {
			continue
		}
		for _, y := range x.order.requests {
			if y.id <= x.id && t.answerLocked(y, now) {
				t.ackedLocked(y)
				t.resynced++
			}
		}
	}
	for _, x := range []*request{q, r} {
		if x == nil {
			continue
		}
		switch string(ordStatus) {
		case "2", "4", "C":
			t.doneLocked(x.order)
		}
	}
}

// ask notes that status requests for rs go out on session i now, in this
// order (see statusReport); earlier ones still waiting are forgotten (their
// connection ended).
func (t *tracker) ask(session int, rs []*request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.asked == nil {
		t.asked = make([][]*request, len(t.bySeq))
	}
	t.asked[session] = append(t.asked[session][:0], rs...)
}

// inflight returns session i's requests sent and not answered.
func (t *tracker) inflight(session int) []*request {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*request
	for _, r := range t.requests {
		if !r.answered && r.order.session == session {
			out = append(out, r)
		}
	}
	return out
}

// unanswered keeps the requests of rs not answered yet, in place.
func (t *tracker) unanswered(rs []*request) []*request {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := rs[:0]
	for _, r := range rs {
		if !r.answered {
			out = append(out, r)
		}
	}
	return out
}

func (t *tracker) failedOver(inflight int) {
	t.mu.Lock()
	t.failovers++
	t.inflightAtFailover += int64(inflight)
	t.mu.Unlock()
}

// reject handles an OrderCancelReject or BusinessMessageReject naming
// clOrdID; it counts under reason followed by code (reason
// "cancel-reject 102=", code "1").
func (t *tracker) reject(now time.Time, clOrdID []byte, reason string, code, text []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := lookup(t, clOrdID)
	if r == nil {
		t.unmatchedN++
		return
	}
	t.refusedLocked(r, now, reason, code, text)
}

// seqReject handles a rejection that names the rejected message only by
// its MsgSeqNum (a session-level Reject, or a BusinessMessageReject without
// BusinessRejectRefID).
func (t *tracker) seqReject(now time.Time, session, seq int, reason string, code, text []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if session < 0 {
		t.unmatchedN++
		return
	}
	r := t.bySeq[session][seq]
	if r == nil {
		t.unmatchedN++
		return
	}
	t.refusedLocked(r, now, reason, code, text)
}

func (t *tracker) refusedLocked(r *request, now time.Time, reason string, code, text []byte) {
	if t.answerLocked(r, now) {
		t.rejectLocked(reason, code, text)
	}
	switch r.kind {
	case KindNew:
		t.doneLocked(r.order)
	case KindReplace:
		if r.order.clOrdID == r.clOrdID {
			r.order.clOrdID = r.prev
		}
		t.forgetLocked(r)
	case KindCancel:
		t.forgetLocked(r)
	}
}

// doneLocked retires an order: later cancels and replaces of it are skipped,
// and its answered requests are forgotten.
func (t *tracker) doneLocked(o *order) {
	if o.done {
		return
	}
	o.done = true
	if t.orders[o.ref] == o {
		delete(t.orders, o.ref)
	}
	kept := o.requests[:0]
	for _, r := range o.requests {
		if r.answered {
			delete(t.requests, r.id)
		} else {
			kept = append(kept, r)
		}
	}
	o.requests = kept
}

func (t *tracker) forgetLocked(r *request) {
	if r.answered {
		delete(t.requests, r.id)
	}
}

// lookup finds the request a ClOrdID names: prefix, '-', then the request's
// number in base 36. Keying the map by that number instead of the string
// took string hashing and comparing (a fifth of the broker's CPU in a closed
// loop) off every answer. An ID of another form is no request of this run.
func lookup[S ~string | ~[]byte](t *tracker, clOrdID S) *request {
	p := t.prefix
	if len(clOrdID) <= len(p)+1 || string(clOrdID[:len(p)]) != p || clOrdID[len(p)] != '-' {
		return nil
	}
	digits := clOrdID[len(p)+1:]
	if len(digits) > 12 { // 36^12 > 2^62: more than any run sends
		return nil
	}
	var n uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		switch {
		case c >= '0' && c <= '9':
			n = n*36 + uint64(c-'0')
		case c >= 'a' && c <= 'z':
			n = n*36 + uint64(c-'a'+10)
		default:
			return nil
		}
	}
	r := t.requests[n]
	if r == nil || r.clOrdID != string(clOrdID) {
		return nil // a leading zero, or a number of another run
	}
	return r
}

// outstanding is the number of requests sent and not yet answered.
func (t *tracker) outstanding() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent - t.acked - t.rejected
}

func clampNs(d time.Duration) int64 {
	ns := int64(d)
	if ns < latencyNsMin {
		return latencyNsMin
	}
	if ns > latencyNsMax {
		return latencyNsMax
	}
	return ns
}
