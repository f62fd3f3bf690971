package broker

import (
	"time"

	"golang.org/x/sys/unix"
)

// sleepPrecise blocks the calling thread in nanosleep for d (at most
// coarseSlack): the goroutine's processor is handed to others meanwhile.
func sleepPrecise(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	_ = unix.Nanosleep(&ts, nil)
}
