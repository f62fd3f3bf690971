package gateway

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"

	"github.com/exchange-sim/exchange/ordermanager"
)

// outbox sends one configured session's reports, in order, from a goroutine
// of its own, keeping at most one of them waiting inside QuickFIX/Go.
//
// Why: QuickFIX/Go v0.9.7's SendToTarget only appends the message to the
// session's queue and wakes the session loop, which hands queued messages to
// the connection's writer goroutine without blocking; while the writer is
// busy with the previous message the hand-over fails and the loop wakes
// itself again at once, never parking. The writer it waits for was made
// runnable on the loop's own P, so on two cores the spinning loops starve
// the writers: with every report queued at once, a few dozen reports a
// second got out. Handing the next report over only when the previous one
// has reached the writer (QuickFIX/Go logs it through OnOutgoing at that
// moment) keeps the loop's spin to one write at most.
//
// Deliver only appends to the queue; a session whose queue reaches
// outboxMax (a broker that does not read its reports) is logged out with a
// Logout that says why, and every report it is not sent is counted
// (reports_dropped_total{why="outbox_full"}) and can be asked for again with
// OrderStatusRequest after the next logon.
type outbox struct {
	g  *Gateway
	st *sessionState

	mu      sync.Mutex
	q       []ordermanager.Report
	pending bool          // pushed since the last flush (Deliver's goroutine only)
	wake    chan struct{} // cap 1: the queue is not empty
	slot    chan struct{} // cap 1: full while a report waits inside QuickFIX/Go
	stop    chan struct{} // closed by Stop: send what is queued, then return
	abort   chan struct{} // closed when Stop gives up waiting: drop the rest
	done    chan struct{}

	scratch []byte // number formatting, the outbox goroutine's own

	// The writer is free when the guard has read every byte QuickFIX/Go
	// handed it: handed counts the bytes of every message that reached the
	// writer of the session's current connection (OnOutgoing), written the
	// bytes the guard read from that connection; link is the guard's end of
	// it (nil when the guard does not count for this session).
	handed     atomic.Int64
	written    atomic.Int64
	lastPushNs atomic.Int64 // when flush last woke the goroutine for pushed reports
	link       atomic.Pointer[guardLink]
	waiting    atomic.Bool   // the outbox goroutine waits for written to catch up
	kick       chan struct{} // cap 1: written moved, or the link went
}

// guardLink ties the guard's connection to the acceptor to the outbox of
// the session logged on through it.
type guardLink struct{ out atomic.Pointer[outbox] }

// wrote is called by the guard after reading n bytes of outbound FIX.
func (l *guardLink) wrote(n int) {
	if o := l.out.Load(); o != nil {
		o.written.Add(int64(n))
		if o.waiting.Load() {
			o.poke()
		}
	}
}

// closed is called by the guard when its connection to the acceptor ends.
func (l *guardLink) closed() {
	if o := l.out.Swap(nil); o != nil {
		o.link.CompareAndSwap(l, nil)
		o.poke()
	}
}

func (o *outbox) poke() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// attach starts counting on the guard connection l, over which the session
// is about to log on.
func (o *outbox) attach(l *guardLink) {
	o.handed.Store(0)
	o.written.Store(0)
	l.out.Store(o)
	o.link.Store(l)
}

// outgoing is called by the session's log for every message handed to the
// writer.
func (o *outbox) outgoing(msg []byte) {
	o.handed.Add(int64(len(msg)))
	if isAppMessage(msg) {
		o.release()
	}
}

// outboxMax bounds a session's queue of reports not yet handed to
// QuickFIX/Go (a Report is about 200 bytes).
const outboxMax = 1 << 16

// gateWaitMax bounds the wait for a hand-over that never comes: a message
// sent while QuickFIX/Go does not consider the session logged on is dropped
// from its queue (it stays in the store for a resend) without OnOutgoing.
const gateWaitMax = 250 * time.Millisecond

func newOutbox(g *Gateway, st *sessionState) *outbox {
	return &outbox{g: g, st: st, wake: make(chan struct{}, 1), slot: make(chan struct{}, 1), kick: make(chan struct{}, 1),
		stop: make(chan struct{}), abort: make(chan struct{}), done: make(chan struct{})}
}

// push queues rep; called from Deliver's goroutine only.
func (o *outbox) push(rep *ordermanager.Report) {
	o.mu.Lock()
	if len(o.q) >= outboxMax {
		o.mu.Unlock()
		o.overflow()
		return
	}
	o.q = append(o.q, *rep)
	o.mu.Unlock()
	o.pending = true
}

// quietFor reports whether nothing is queued and no report has been pushed
// for d: the reports of the requests the session sent before are most likely
// out.
func (o *outbox) quietFor(d time.Duration) bool {
	o.mu.Lock()
	n := len(o.q)
	o.mu.Unlock()
	return n == 0 && o.handed.Load() <= o.written.Load() && time.Now().UnixNano()-o.lastPushNs.Load() >= int64(d)
}

// flush wakes the outbox goroutine if push queued anything. It stamps
// lastPushNs once per Deliver batch rather than push once per report.
func (o *outbox) flush() {
	if !o.pending {
		return
	}
	o.pending = false
	o.lastPushNs.Store(time.Now().UnixNano())
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// overflow counts a report the session's full queue could not take and, the
// first time, logs the session out: a Logout with a Text, and the connection
// closed after the grace period if the broker does not answer it.
func (o *outbox) overflow() {
	g, st := o.g, o.st
	g.m.dropped[dropOutboxFull].Add(1)
	p := st.live.Load()
	if p == nil || !st.closing.CompareAndSwap(false, true) {
		return
	}
	sid := *p
	g.log.Error().Str("session", sid.String()).Int("queued", outboxMax).
		Msg("broker is not reading its reports: session logged out, further reports dropped")
	logout := quickfix.NewMessage()
	logout.Header.SetString(tag.MsgType, "5")
	logout.Body.SetString(tag.Text, "logged out: "+strconv.Itoa(outboxMax)+
		" reports waiting to be sent; later reports were not sent, ask for them with OrderStatusRequest")
	_ = quickfix.SendToTarget(logout, sid)
	st.mu.Lock()
	conn := st.conns[sid]
	st.mu.Unlock()
	if conn != nil {
		time.AfterFunc(g.floodGrace, func() { _ = conn.Close() })
	}
}

// run sends the queued reports until Stop; started by Gateway.Start.
func (o *outbox) run() {
	defer close(o.done)
	var batch []ordermanager.Report
	for {
		o.mu.Lock()
		batch, o.q = o.q, batch[:0]
		o.mu.Unlock()
		if len(batch) == 0 {
			select {
			case <-o.wake:
				continue
			case <-o.stop:
				// Deliver has no more to give: one last look, then out.
				o.mu.Lock()
				batch, o.q = o.q, nil
				o.mu.Unlock()
				if len(batch) == 0 {
					return
				}
			}
		}
		for i := range batch {
			o.send(&batch[i])
		}
		clear(batch) // no ClOrdIDs kept alive
	}
}

// send converts rep and hands it to QuickFIX/Go once the previous report
// has reached the writer.
func (o *outbox) send(rep *ordermanager.Report) {
	g, st := o.g, o.st
	select {
	case <-o.abort:
		g.m.dropped[dropSendFailed].Add(1)
		return
	default:
	}
	p := st.live.Load()
	if p == nil {
		g.m.dropped[dropNotLoggedOn].Add(1)
		return
	}
	msg, mt := g.reportMessage(rep, p.BeginString, &o.scratch)
	o.acquire()
	if err := quickfix.SendToTarget(msg, *p); err != nil {
		o.release()
		g.m.dropped[dropSendFailed].Add(1)
		return
	}
	g.m.countOut(mt)
}

// acquire waits until no report of the session waits inside QuickFIX/Go
// and the writer has written everything it was handed (the guard has read
// it), so that the session loop's hand-over of the next report succeeds at
// once. Without the guard's count (a connection it does not know) it yields
// once instead: the hand-over that released the gate made the writer
// runnable, and it should get to its Write and back before the next one.
func (o *outbox) acquire() {
	select {
	case o.slot <- struct{}{}:
	default:
		t := time.NewTimer(gateWaitMax)
		select {
		case o.slot <- struct{}{}:
		case <-o.abort:
		case <-t.C:
		}
		t.Stop()
	}
	if o.link.Load() == nil {
		runtime.Gosched()
		return
	}
	// A broker that does not read keeps the guard from reading too: the
	// wait lasts until it reads, the connection ends or Stop gives up.
	o.waitWriter(nil)
}

// waitWriter waits until the guard has read every byte handed to the
// writer, the connection ends, Stop gives up, or timeout (nil: none) fires.
func (o *outbox) waitWriter(timeout <-chan time.Time) {
	for o.link.Load() != nil && o.written.Load() < o.handed.Load() {
		o.waiting.Store(true)
		if o.written.Load() < o.handed.Load() {
			select {
			case <-o.kick:
			case <-o.abort:
				o.waiting.Store(false)
				return
			case <-timeout:
				o.waiting.Store(false)
				return
			}
		}
		o.waiting.Store(false)
	}
}

// release opens the gate: a report reached the writer, or the session ended.
func (o *outbox) release() {
	select {
	case <-o.slot:
	default:
	}
}

// drain lets the outbox send what is queued (at most for timeout), then
// stops it.
func (o *outbox) drain(timeout time.Duration) {
	close(o.stop)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-o.done:
	case <-t.C:
		close(o.abort)
		<-o.done
		return
	}
	// The last report is handed over and written before the Logout.
	select {
	case o.slot <- struct{}{}:
	case <-t.C:
		return
	}
	o.waitWriter(t.C)
}

// isAppMessage reports whether raw FIX bytes carry an application message
// (any MsgType but the session-level 0-5 and A).
func isAppMessage(msg []byte) bool {
	for i := 0; i+5 < len(msg); i++ {
		if msg[i] == 0x01 && msg[i+1] == '3' && msg[i+2] == '5' && msg[i+3] == '=' {
			t := msg[i+4]
			if msg[i+5] != 0x01 {
				return true // multi-character MsgType
			}
			return !(t >= '0' && t <= '5' || t == 'A')
		}
	}
	return false
}
