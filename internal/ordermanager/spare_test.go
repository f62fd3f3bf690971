package ordermanager

import (
	"runtime"
	"testing"
	"time"
)

// arrived waits (at most 5 s) until p's goroutine has delivered.
func arrived(t *testing.T, p *spareSlots[uint64]) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(p.ch) == 0; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatal("the prepared slots never arrived")
		}
	}
}

// A growth takes the slots prepared for it when they fit, and makes its own
// when they have not arrived or do not fit.
func TestSpareSlots(t *testing.T) {
	var p spareSlots[uint64]
	p.prepare(64)
	p.prepare(128) // already asked: ignored
	arrived(t, &p)
	s := p.take(64)
	if len(s) != 64 || p.pending {
		t.Fatalf("took %d slots, pending %v; want the 64 prepared", len(s), p.pending)
	}
	p.prepare(32)
	arrived(t, &p)
	if s := p.take(64); len(s) != 64 || p.pending {
		t.Fatalf("a prepared array of the wrong size: took %d, pending %v", len(s), p.pending)
	}
	var none spareSlots[uint64]
	if s := none.take(16); len(s) != 16 {
		t.Fatalf("nothing prepared: took %d", len(s))
	}
}

// A table large enough to prepare its growths keeps every entry through
// them, and each growth past spareMin is prepared.
func TestTableGrowsWithSpare(t *testing.T) {
	tb := newTable[orderKey, int32](0)
	const n = 200_000
	prepared := 0
	for i := 1; i <= n; i++ {
		size := len(tb.slots)
		tb.put(orderKey(i), int32(i))
		if tb.spare.pending && len(tb.slots) == size && needSpare(tb.len(), size) {
			prepared = max(prepared, size)
		}
	}
	if prepared < spareMin {
		t.Fatalf("no growth of a table past %d slots was prepared", spareMin)
	}
	for i := 1; i <= n; i++ {
		if v, ok := tb.get(orderKey(i)); !ok || *v != int32(i) {
			t.Fatalf("key %d: %v %v", i, v, ok)
		}
	}
	if tb.len() != n {
		t.Fatalf("len %d, want %d", tb.len(), n)
	}
}
