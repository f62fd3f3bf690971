package ordermanager

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/matching"
)

// BenchmarkApplySequencedTouch replays 1 M new resting orders into an empty
// order manager, as a journal replay does, without and with touching the
// next commands' table slots first (Manager.Touch): the order manager's
// half of replay on an order-heavy journal.
func BenchmarkApplySequencedTouch(b *testing.B) {
	const n = 1_000_000
	type item struct {
		cmd  matching.Command
		meta [128]byte
		ml   int
	}
	items := make([]item, 0, n)
	for i := range n {
		side, px := matching.Buy, int64(9_000-i%2000)
		if i%2 == 1 {
			side, px = matching.Sell, int64(11_000+i%2000)
		}
		acct := matching.AccountID(1 + i%4)
		_, sess := sessOf(acct)
		var p Pending
		mt := meta{op: opNew, session: sess, cl: benchCl('r', uint64(i))}
		mt.encode(&p)
		it := item{cmd: matching.Command{Kind: matching.CmdNew, Seq: uint64(i + 1), Account: acct, Symbol: 1, OrderID: matching.OrderID(i + 1),
			Side: side, Type: matching.Limit, TIF: matching.GTC, Price: px, Qty: 1}, ml: int(p.MetaLen)}
		copy(it.meta[:], p.MetaBytes())
		items = append(items, it)
	}
	for _, touch := range []int{0, 8} {
		b.Run(map[int]string{0: "plain", 8: "touch8"}[touch], func(b *testing.B) {
			var sink uint64
			var el time.Duration
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for range b.N {
				m := New(testConfig(b).Registry, Config{})
				t0 := threadCPU()
				for i := range items {
					if touch > 0 && i%touch == 0 {
						for j := i; j < min(i+touch, len(items)); j++ {
							sink ^= m.Touch(&items[j].cmd, items[j].meta[:items[j].ml])
						}
					}
					if err := m.ApplySequenced(&items[i].cmd, items[i].meta[:items[i].ml]); err != nil {
						b.Fatal(err)
					}
				}
				el += threadCPU() - t0
			}
			b.ReportMetric(float64(el.Nanoseconds())/float64(b.N*n), "thread-cpu-ns/cmd")
			_ = sink
		})
	}
}

// threadCPU is the calling thread's user+system CPU time (Linux).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
