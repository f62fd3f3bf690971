package pipeline

import (
	"runtime/debug"
	"sync"
)

// A restore from a snapshot allocates the whole state at once, and nearly
// all of it stays live: while the heap grows from a few megabytes to
// gigabytes the collector runs a cycle at every doubling and marks the same
// orders again each time, about a third of a restore's CPU time at 1 M
// resting orders. holdGC turns the collector off until the returned release
// is called; the memory limit (debug.SetMemoryLimit, GOMEMLIMIT) still
// makes it collect when the heap reaches the limit. Holds nest: the
// collector comes back when the last one is released, at the setting it
// had before the first.
func holdGC() (release func()) {
	gcHold.Lock()
	if gcHold.n == 0 {
		gcHold.percent = debug.SetGCPercent(-1)
	}
	gcHold.n++
	gcHold.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			gcHold.Lock()
			gcHold.n--
			if gcHold.n == 0 {
				debug.SetGCPercent(gcHold.percent)
			}
			gcHold.Unlock()
		})
	}
}

var gcHold struct {
	sync.Mutex
	n       int
	percent int
}
