package pace

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Fine sleeps on a timerfd read through Go's poller; without one (the
// system refused it) it falls back to time.Sleep. One goroutine at a time.
type Fine struct {
	fd  int
	f   *os.File
	buf [8]byte
}

// NewFine returns a Fine timer; Close releases it.
func NewFine() *Fine {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return &Fine{fd: -1}
	}
	return &Fine{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}
}

// Sleep sleeps for d (meant for d under a few milliseconds).
func (t *Fine) Sleep(d time.Duration) {
	if d <= 0 {
		return // a zero timerfd setting disarms it: the read would never end
	}
	if t.f == nil {
		time.Sleep(d)
		return
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(t.fd, 0, &spec, nil); err != nil {
		time.Sleep(d)
		return
	}
	if _, err := t.f.Read(t.buf[:]); err != nil {
		time.Sleep(d)
	}
}

// Close releases the timer.
func (t *Fine) Close() {
	if t.f != nil {
		_ = t.f.Close()
	}
}
