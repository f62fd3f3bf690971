// Package pace keeps a load generator's schedule to a fraction of a
// millisecond: Go's own timers cannot (see coarseSlack).
package pace

import (
	"context"
	"time"
)

// coarseSlack is how early the Go timer wakes a sender before a scheduled
// time; the rest is slept on a Fine timer.
//
// Why: Go's runtime parks an idle thread in epoll_wait, whose timeout is in
// whole milliseconds, so a time.Sleep or timer of a few hundred microseconds
// wakes up to a millisecond late (measured here: 0.9 ms late at the median
// for a 300 µs sleep on an idle core). In open loop every order's latency
// starts at its scheduled time, so that lateness of the load generator's own
// clock would be charged to the exchange. On Linux a Fine timer also arms a
// timerfd, read through Go's poller: epoll wakes on its expiry rather than a
// rounded timeout (64 µs late at the median in the same measurement), while
// under load the Go timer, which busy processors check whenever they
// schedule, is the one that fires first. (A nanosleep system call is as
// precise when idle but keeps the goroutine's processor blocked until the
// runtime's monitor takes it back, up to 10 ms later, which stalled the
// broker's readers and showed as tens of milliseconds in the p99.)
const coarseSlack = 2 * time.Millisecond

// Until returns at t (or when ctx ends: false). timer is the caller's
// reusable Go timer, fine its Fine timer.
func Until(ctx context.Context, t time.Time, timer *time.Timer, fine *Fine) bool {
	for {
		d := time.Until(t)
		if d <= 0 {
			return true
		}
		if d > coarseSlack {
			timer.Reset(d - coarseSlack/2)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return false
			}
			continue
		}
		if ctx.Err() != nil {
			return false
		}
		fine.Sleep(d)
	}
}
