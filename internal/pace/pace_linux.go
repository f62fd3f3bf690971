package pace

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Fine sleeps until whichever fires first: a Go timer, which a busy
// processor checks every time it schedules (prompt under load), or a
// timerfd read through Go's poller, which wakes an idle processor's epoll
// exactly (prompt when idle, where the Go timer is up to 1 ms late). The
// Go timer is the read deadline of the timerfd itself, so the sleeping
// goroutine is the one the poller wakes: no second goroutine relays the
// expiry (each hand-off between threads costs tens of microseconds on a
// VM). Without a timerfd (the system refused it) it is a Go timer alone.
// One goroutine at a time.
type Fine struct {
	fd  int
	f   *os.File
	buf [8]byte
}

// NewFine returns a Fine timer; Close releases it.
func NewFine() *Fine {
	t := &Fine{fd: -1}
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return t
	}
	// A non-blocking descriptor: os.NewFile registers it with the poller,
	// so a read waits in epoll and honours read deadlines.
	t.fd, t.f = fd, os.NewFile(uintptr(fd), "timerfd")
	return t
}

// Sleep sleeps for d (meant for d under a few milliseconds).
//
// The timerfd is armed but never disarmed: each arming is a system call
// that costs microseconds on a VM (a fifth of the broker's processor time
// at 10k orders/s went to arming and disarming). Arming again replaces an
// expiry still pending and clears one not yet read; any early wake-up is
// caught by checking the clock.
func (t *Fine) Sleep(d time.Duration) {
	if d <= 0 {
		return // a zero timerfd setting would disarm it
	}
	deadline := time.Now().Add(d)
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if t.f == nil || unix.TimerfdSettime(t.fd, 0, &spec, nil) != nil || t.f.SetReadDeadline(deadline) != nil {
		time.Sleep(d)
		return
	}
	for {
		_, err := t.f.Read(t.buf[:])
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		if err != nil && !os.IsTimeout(err) {
			time.Sleep(left) // the descriptor failed: the Go timer alone
			return
		}
	}
}

// Close releases the timer.
func (t *Fine) Close() {
	if t.f != nil {
		_ = t.f.Close()
	}
}
