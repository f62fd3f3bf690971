package pipeline

import (
	"sync/atomic"

	"github.com/exchange-sim/exchange/internal/ordermanager"
)

// inbound is the bounded queue between the submitting goroutines (any
// number) and the order manager (one): a preallocated ring of request slots
// that a producer claims with one compare-and-swap and fills in place, and
// that the consumer reads in place. A request is copied once, into its slot;
// a channel of requests copies it in and out again, under a lock.
//
// Each slot carries a sequence number (Vyukov's bounded queue): slot i of
// lap k is free for position p = k*len+i when seq == p, and holds that
// position's request when seq == p+1.
type inbound struct {
	slots []inSlot // one per request the queue holds (its depth)
	mask  uint64   // len(slots)-1 when that is a power of two, else 0

	_    [64]byte
	tail atomic.Uint64 // positions claimed by producers
	_    [64]byte
	head atomic.Uint64 // positions consumed: the next one to consume; only the consumer stores it
	_    [64]byte

	// sleeping is set by the consumer before it blocks on wake; a producer
	// sends on wake only then, so the fast path costs one atomic load.
	sleeping atomic.Bool
	wake     chan struct{}
}

type inSlot struct {
	seq atomic.Uint64
	req ordermanager.Request
}

func newInbound(depth int) *inbound {
	q := &inbound{slots: make([]inSlot, depth), wake: make(chan struct{}, 1)}
	if depth&(depth-1) == 0 {
		q.mask = uint64(depth - 1)
	}
	for i := range q.slots {
		q.slots[i].seq.Store(uint64(i))
	}
	return q
}

// slot is position p's slot: a mask for a power-of-two depth, else a
// division.
func (q *inbound) slot(p uint64) *inSlot {
	if q.mask != 0 {
		return &q.slots[p&q.mask]
	}
	return &q.slots[p%uint64(len(q.slots))]
}

// push copies r into the queue, or returns false when depth requests are
// queued. Safe from any number of goroutines. It reads no line the consumer
// writes on every request other than the slot's own. It does not allocate.
func (q *inbound) push(r *ordermanager.Request) bool {
	for {
		t := q.tail.Load()
		sl := q.slot(t)
		if seq := sl.seq.Load(); seq != t {
			if seq < t {
				// The consumer has not yet freed this slot from the
				// previous lap: full.
				return false
			}
			continue // another producer claimed t first
		}
		if !q.tail.CompareAndSwap(t, t+1) {
			continue
		}
		sl.req = *r
		sl.seq.Store(t + 1)
		if q.sleeping.Load() {
			select {
			case q.wake <- struct{}{}:
			default:
			}
		}
		return true
	}
}

// peek returns the oldest request in place, or nil when there is none ready
// (a producer that has claimed the next slot but not yet filled it counts as
// none). Consumer only.
func (q *inbound) peek() *ordermanager.Request {
	h := q.head.Load()
	sl := q.slot(h)
	if sl.seq.Load() != h+1 {
		return nil
	}
	return &sl.req
}

// pop frees the slot of the request peek returned. Consumer only.
func (q *inbound) pop() {
	h := q.head.Load()
	q.slot(h).seq.Store(h + uint64(len(q.slots)))
	q.head.Store(h + 1)
}

// len is the number of requests claimed and not yet consumed.
func (q *inbound) len() int {
	h := q.head.Load()
	return int(q.tail.Load() - h)
}
