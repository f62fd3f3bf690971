package pace

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Fine sleeps until whichever fires first: a Go timer, which a busy
// processor checks every time it schedules (prompt under load), or a
// timerfd read through Go's poller, which wakes an idle processor's epoll
// exactly (prompt when idle, where the Go timer is up to 1 ms late). Without
// a timerfd (the system refused it) it is the Go timer alone. One goroutine
// at a time.
type Fine struct {
	fd    int
	f     *os.File
	fired chan struct{} // cap 1: the timerfd expired
	timer *time.Timer
}

// NewFine returns a Fine timer; Close releases it.
func NewFine() *Fine {
	t := &Fine{fd: -1, timer: time.NewTimer(time.Hour), fired: make(chan struct{}, 1)}
	t.timer.Stop()
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return t
	}
	t.fd, t.f = fd, os.NewFile(uintptr(fd), "timerfd")
	go t.read()
	return t
}

// read passes each expiry of the timerfd on; it ends when Close closes it.
func (t *Fine) read() {
	var buf [8]byte
	for {
		if _, err := t.f.Read(buf[:]); err != nil {
			return
		}
		select {
		case t.fired <- struct{}{}:
		default:
		}
	}
}

// Sleep sleeps for d (meant for d under a few milliseconds).
func (t *Fine) Sleep(d time.Duration) {
	if d <= 0 {
		return // a zero timerfd setting would disarm it
	}
	select { // an expiry left over from the last Sleep
	case <-t.fired:
	default:
	}
	armed := false
	if t.f != nil {
		spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
		armed = unix.TimerfdSettime(t.fd, 0, &spec, nil) == nil
	}
	t.timer.Reset(d)
	select {
	case <-t.timer.C:
	case <-t.fired:
	}
	t.timer.Stop()
	if armed {
		var off unix.ItimerSpec
		_ = unix.TimerfdSettime(t.fd, 0, &off, nil)
	}
}

// Close releases the timer.
func (t *Fine) Close() {
	t.timer.Stop()
	if t.f != nil {
		_ = t.f.Close()
	}
}
