package bench

import (
	"runtime"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// WakeResult is the machine's floor for a hand-off between threads.
type WakeResult struct {
	// Latency is, for each hand-off, the time from one thread's channel
	// send to the wake-up of a goroutine that was blocked on that channel,
	// on its own (locked) OS thread, after a pause that let it sleep.
	Latency *hdrhistogram.Histogram
}

// RunWake measures n thread wake-ups. Every stage hand-off in the venue
// that finds the next stage asleep pays one, so the figure is the floor
// under every latency of a venue that is not busy: on a VM it is the
// hypervisor's time to wake an idle virtual CPU, far above the
// microseconds it costs on bare metal. It takes about n milliseconds.
func RunWake(n int) *WakeResult {
	res := &WakeResult{Latency: hdrhistogram.New(1, int64(time.Second), 3)}
	ch := make(chan int64)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for sent := range ch {
			_ = res.Latency.RecordValue(max(time.Now().UnixNano()-sent, 1))
		}
		close(done)
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for i := range n {
		// Pauses of 100-500 µs (a Go sleep may run up to a millisecond
		// longer when the machine is idle): long enough for the receiver's
		// thread to go to sleep, as a venue's stages do between orders.
		time.Sleep(time.Duration(100+(i*37)%400) * time.Microsecond)
		ch <- time.Now().UnixNano()
	}
	close(ch)
	<-done
	return res
}
