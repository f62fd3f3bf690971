package broker

import (
	"bytes"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/quickfixgo/quickfix"
)

// gate keeps at most one application message of a session waiting inside
// QuickFIX/Go, and hands over the next one only when the connection's
// writer is free. SendToTarget only queues a message and wakes the
// session's loop, which hands it to the connection's writer without
// blocking; while the writer is busy the loop retries at once, spinning and
// never parking. With several messages queued and two cores, the spinning
// loops starve the writers and throughput collapses to a few hundred
// messages a second. So acquire waits until the previous message has been
// handed over (QuickFIX/Go logs it through OnOutgoing at that moment) and
// until the session's relay (relay.go) has read every byte the writer was
// handed: the writer is then back waiting and the loop's hand-over succeeds
// at once.
type gate struct {
	slot    chan struct{}
	link    atomic.Pointer[relayLink]
	waiting atomic.Bool
	kick    chan struct{} // cap 1: the relay read bytes, or the link changed
}

func newGate() *gate { return &gate{slot: make(chan struct{}, 1), kick: make(chan struct{}, 1)} }

// gateWaitMax bounds each wait for a hand-over or a write that may never
// come (the connection dropped): the message is then queued anyway.
const gateWaitMax = time.Second

// acquire waits until the session has no application message queued and
// its writer is free. While the relay has no connection of the session (it
// is reconnecting) there are no bytes to count, and it yields once instead:
// the hand-over that released the gate made the writer runnable, and it
// must get to its Write and back to waiting before the session loop tries
// the next hand-over.
func (g *gate) acquire(stop <-chan struct{}) {
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	select {
	case g.slot <- struct{}{}:
	default:
		t = time.NewTimer(gateWaitMax)
		select {
		case g.slot <- struct{}{}:
		case <-stop:
			return
		case <-t.C:
		}
	}
	l := g.link.Load()
	if l == nil {
		runtime.Gosched()
		return
	}
	for l.written.Load() < l.handed.Load() && g.link.Load() == l {
		g.waiting.Store(true)
		if l.written.Load() < l.handed.Load() {
			if t == nil {
				t = time.NewTimer(gateWaitMax)
			}
			select {
			case <-g.kick:
			case <-stop:
				g.waiting.Store(false)
				return
			case <-t.C:
				g.waiting.Store(false)
				return
			}
		}
		g.waiting.Store(false)
	}
}

func (g *gate) release() {
	select {
	case <-g.slot:
	default:
	}
}

func (g *gate) poke() {
	if g.waiting.Load() {
		g.wake()
	}
}

// attach and detach are called by the relay when a connection of the
// session starts and ends.
func (g *gate) attach(l *relayLink) {
	g.link.Store(l)
	g.wake()
}

func (g *gate) detach(l *relayLink) {
	if g.link.CompareAndSwap(l, nil) {
		g.wake()
	}
}

func (g *gate) wake() {
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

// outgoing is called by the session's log for every message handed to the
// writer.
func (g *gate) outgoing(msg []byte) {
	if l := g.link.Load(); l != nil {
		l.handed.Add(int64(len(msg)))
	}
	if isAppMessage(msg) {
		g.release()
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
	l.g.outgoing(msg)
}
