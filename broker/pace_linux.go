package broker

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fineTimer sleeps on a timerfd read through Go's poller; without one (the
// system refused it) it falls back to time.Sleep.
type fineTimer struct {
	fd  int
	f   *os.File
	buf [8]byte
}

func newFineTimer() *fineTimer {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return &fineTimer{fd: -1}
	}
	return &fineTimer{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}
}

func (t *fineTimer) sleep(d time.Duration) {
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

func (t *fineTimer) close() {
	if t.f != nil {
		_ = t.f.Close()
	}
}
