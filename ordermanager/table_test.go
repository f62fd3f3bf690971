package ordermanager

import (
	"math/rand/v2"
	"testing"
)

// TestTableMatchesMap drives the table and a Go map with the same random
// puts and deletes, over a small key space so probe runs collide, wrap and
// shift.
func TestTableMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tb := newTable[orderKey, int](4)
	ref := map[orderKey]int{}
	for i := 0; i < 200_000; i++ {
		k := orderKey(rng.IntN(300))
		switch rng.IntN(3) {
		case 0, 1:
			tb.put(k, i)
			ref[k] = i
		case 2:
			_, want := ref[k]
			if got := tb.del(k); got != want {
				t.Fatalf("del %d = %v, want %v", k, got, want)
			}
			delete(ref, k)
		}
		if tb.len() != len(ref) {
			t.Fatalf("len %d, want %d", tb.len(), len(ref))
		}
		if i%1000 == 0 {
			for k, v := range ref {
				if p, ok := tb.get(k); !ok || *p != v {
					t.Fatalf("get %d", k)
				}
			}
			n := 0
			tb.each(func(k orderKey, v *int) {
				if ref[k] != *v {
					t.Fatalf("each %d", k)
				}
				n++
			})
			if n != len(ref) {
				t.Fatal("each count")
			}
		}
	}
}

// TestTableHashCollisions: keys forced into one home slot still work.
func TestTableHashCollisions(t *testing.T) {
	tb := newTable[clKey, int](8)
	for i := range 20 {
		tb.put(clKey{session: 1, id: cl(string(rune('a' + i)))}, i)
	}
	for i := 0; i < 20; i += 2 {
		tb.del(clKey{session: 1, id: cl(string(rune('a' + i)))})
	}
	for i := range 20 {
		p, ok := tb.get(clKey{session: 1, id: cl(string(rune('a' + i)))})
		if ok != (i%2 == 1) || (ok && *p != i) {
			t.Fatalf("key %d: %v", i, ok)
		}
	}
}
