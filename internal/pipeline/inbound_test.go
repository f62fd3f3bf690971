package pipeline

import (
	"runtime"
	"sync"
	"testing"

	"github.com/exchange-sim/exchange/internal/ordermanager"
)

// TestInboundManyProducers checks that every pushed request comes out once,
// intact, and in each producer's order, and that a full queue refuses.
func TestInboundManyProducers(t *testing.T) {
	const producers, each = 4, 5000
	q := newInbound(100) // not a power of two: depth still bounds the queue
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := ordermanager.Request{Account: 1, Qty: int64(i), Price: int64(p), RecvNs: int64(p*each + i)}
				for !q.push(&r) {
					runtime.Gosched()
				}
			}
		}()
	}
	next := make([]int64, producers)
	for got := 0; got < producers*each; {
		r := q.peek()
		if r == nil {
			if n := q.len(); n < 0 || n > 100 {
				t.Fatalf("len %d", n)
			}
			runtime.Gosched()
			continue
		}
		p := r.Price
		if r.Qty != next[p] || r.RecvNs != p*each+r.Qty {
			t.Fatalf("producer %d: got request %d (%d), want %d", p, r.Qty, r.RecvNs, next[p])
		}
		next[p]++
		q.pop()
		got++
	}
	wg.Wait()
	if q.peek() != nil || q.len() != 0 {
		t.Fatal("queue not empty")
	}
	r := ordermanager.Request{}
	for i := range 100 {
		if !q.push(&r) {
			t.Fatalf("push %d refused below the depth", i)
		}
	}
	if q.push(&r) {
		t.Fatal("push accepted beyond the depth")
	}
}

// BenchmarkInbound is one request through the inbound ring: push by one
// goroutine, peek and pop by another that parks when it is empty, as the
// order manager does.
func BenchmarkInbound(b *testing.B) {
	q := newInbound(4096)
	done := make(chan struct{})
	go func() {
		for n := 0; n < b.N; {
			if q.peek() == nil {
				q.sleeping.Store(true)
				if q.peek() == nil {
					<-q.wake
				}
				q.sleeping.Store(false)
				continue
			}
			q.pop()
			n++
		}
		close(done)
	}()
	r := ordermanager.Request{Account: 1}
	b.ReportAllocs()
	for range b.N {
		for !q.push(&r) {
			runtime.Gosched()
		}
	}
	<-done
}

// BenchmarkInboundChannel is BenchmarkInbound through a channel of values,
// as the order manager's queue was before, for comparison.
func BenchmarkInboundChannel(b *testing.B) {
	ch := make(chan ordermanager.Request, 4096)
	done := make(chan struct{})
	go func() {
		for range b.N {
			<-ch
		}
		close(done)
	}()
	r := ordermanager.Request{Account: 1}
	b.ReportAllocs()
	for range b.N {
		ch <- r
	}
	<-done
}
