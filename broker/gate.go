package broker

import (
	"bytes"
	"runtime"
	"time"

	"github.com/quickfixgo/quickfix"
)

// gate keeps at most one application message of a session waiting inside
// QuickFIX/Go. SendToTarget only queues a message and wakes the session's
// loop, which hands it to the connection's writer without blocking; while
// the writer is busy the loop retries at once, spinning. With several
// messages queued and two cores, the spinning loops starve the writers and
// throughput collapses to a few hundred messages a second. Waiting until
// the previous message has been handed over (QuickFIX/Go logs it through
// OnOutgoing at that moment) keeps the spin to one write at most.
type gate struct{ slot chan struct{} }

func newGate() *gate { return &gate{slot: make(chan struct{}, 1)} }

// gateWaitMax bounds the wait for a hand-over that may never come (the
// connection dropped): the message is then queued anyway.
const gateWaitMax = time.Second

// acquire waits until the session has no application message queued, then
// yields once: the hand-over that released the gate made the writer
// runnable, and it must get to its Write and back to waiting before the
// session loop tries the next hand-over, or the loop spins on a busy writer.
func (g *gate) acquire(stop <-chan struct{}) {
	select {
	case g.slot <- struct{}{}:
		runtime.Gosched()
		return
	default:
	}
	t := time.NewTimer(gateWaitMax)
	defer t.Stop()
	select {
	case g.slot <- struct{}{}:
	case <-stop:
	case <-t.C:
	}
	runtime.Gosched()
}

func (g *gate) release() {
	select {
	case <-g.slot:
	default:
	}
}

// isAppMessage reports whether raw FIX bytes carry an application
// message (anything but the session-level 0-5 and A): the gate counts only
// those, because only those are sent through SendToTarget by its owner.
func isAppMessage(msg []byte) bool {
	i := bytes.Index(msg, []byte("\x0135="))
	if i < 0 {
		return false
	}
	rest := msg[i+4:]
	j := bytes.IndexByte(rest, '\x01')
	if j <= 0 {
		return false
	}
	return j > 1 || bytes.IndexByte([]byte("012345A"), rest[0]) < 0
}

// gatedLogFactory wraps a LogFactory so that each session's log releases
// the session's gate when an order request is handed to the writer.
type gatedLogFactory struct {
	inner quickfix.LogFactory
	gates map[quickfix.SessionID]*gate
}

func (f gatedLogFactory) Create() (quickfix.Log, error) { return f.inner.Create() }

func (f gatedLogFactory) CreateSessionLog(id quickfix.SessionID) (quickfix.Log, error) {
	l, err := f.inner.CreateSessionLog(id)
	if err != nil {
		return nil, err
	}
	g := f.gates[id]
	if g == nil {
		return l, nil
	}
	return gatedLog{Log: l, g: g}, nil
}

type gatedLog struct {
	quickfix.Log
	g *gate
}

func (l gatedLog) OnOutgoing(msg []byte) {
	l.Log.OnOutgoing(msg)
	if isAppMessage(msg) {
		l.g.release()
	}
}
