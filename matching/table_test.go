package matching

import (
	"math/rand/v2"
	"testing"
)

// TestTableAgainstMap runs random puts, overwrites and deletions against a
// Go map, over key sets that are sequential (like order IDs), clustered
// (like prices) and random, through many incremental growths, and checks
// every key after every step.
func TestTableAgainstMap(t *testing.T) {
	keysets := map[string]func(r *rand.Rand) uint64{
		"sequential": func(r *rand.Rand) uint64 { return 1 + r.Uint64N(3000) },
		"clustered":  func(r *rand.Rand) uint64 { return 10_000 + 16*r.Uint64N(500) },
		"random":     func(r *rand.Rand) uint64 { return r.Uint64() | 1 },
		"colliding":  func(r *rand.Rand) uint64 { return 1 + r.Uint64N(64)<<40 },
	}
	for name, key := range keysets {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(len(name))))
			tb := newTable[int](0)
			ref := map[uint64]*int{}
			var known []uint64
			vals := make([]int, 20_000)
			for step := range 20_000 {
				switch op := r.IntN(10); {
				case op < 6 || len(known) == 0:
					k := key(r)
					v := &vals[step]
					tb.put(k, v)
					if ref[k] == nil {
						known = append(known, k)
					}
					ref[k] = v
				default:
					i := r.IntN(len(known))
					k := known[i]
					known[i] = known[len(known)-1]
					known = known[:len(known)-1]
					tb.del(k)
					delete(ref, k)
				}
				if tb.len() != len(ref) {
					t.Fatalf("step %d: len %d, want %d", step, tb.len(), len(ref))
				}
				if step%97 == 0 || step > 19_900 {
					for k, v := range ref {
						if got := tb.get(k); got != v {
							t.Fatalf("step %d: get(%d) = %p, want %p", step, k, got, v)
						}
					}
					n := 0
					tb.each(func(*int) { n++ })
					if n != len(ref) {
						t.Fatalf("step %d: each saw %d, want %d", step, n, len(ref))
					}
				}
				if k := key(r); tb.get(k) != ref[k] {
					t.Fatalf("step %d: get(%d) disagrees with the map", step, k)
				}
			}
			if tb.get(0) != nil {
				t.Fatal("get(0) found something")
			}
		})
	}
}

// TestTableGrowsIncrementally checks that an insert during growth moves a
// bounded number of slots: the first insert past three quarters starts a
// move to twice the slots and moves one step, each further insert one more
// step, and every key stays found throughout.
func TestTableGrowsIncrementally(t *testing.T) {
	tb := newTable[int](3000)
	size := len(tb.slots)
	v := 1
	full := size * 3 / 4
	for k := 1; k <= full; k++ {
		tb.put(uint64(k), &v)
	}
	if tb.old != nil || len(tb.slots) != size {
		t.Fatalf("grew before three quarters: %d slots", len(tb.slots))
	}
	for k := full + 1; tb.old != nil || k == full+1; k++ {
		tb.put(uint64(k), &v)
		if len(tb.slots) != 2*size {
			t.Fatalf("insert %d: %d slots, want %d", k, len(tb.slots), 2*size)
		}
		if k == full+1 && tb.old == nil {
			t.Fatal("the first insert past three quarters moved every old slot at once")
		}
		if want := (k - full) * migrateStep; tb.old != nil && tb.next != want {
			t.Fatalf("insert %d: moved %d old slots, want %d", k, tb.next, want)
		}
		if k%50 == 0 {
			for j := 1; j <= k; j++ {
				if tb.get(uint64(j)) != &v {
					t.Fatalf("after insert %d: key %d lost", k, j)
				}
			}
		}
	}
}
