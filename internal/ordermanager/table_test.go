package ordermanager

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
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

func TestClBookMatchesModel(t *testing.T) {
	if s := unsafe.Sizeof(clEnt{}); s != 64 {
		t.Fatalf("clEnt is %d bytes, want 64 (one cache line)", s)
	}
	t.Run("small", func(t *testing.T) { testClBook(t, 50, 2, 100_000) })
	// Many more keys than slots at the start: the index grows (incrementally)
	// again and again while registrations, retirements and lookups go on.
	t.Run("growing", func(t *testing.T) { testClBook(t, 3000, 3, 60_000) })
}

func testClBook(t *testing.T, retain, letters, steps int) {
	rng := rand.New(rand.NewPCG(3, 4))
	var b clBook
	b.init(retain, 4)
	type reg struct {
		k   clKey
		ref uint64
		ent uint32
	}
	model := map[clKey]clEntry{} // what must be remembered
	var open []reg               // registered, not retired
	var ring []reg               // retired, oldest first
	key := func() clKey {
		var s []byte
		for range letters {
			s = append(s, byte('a'+rng.IntN(26)))
		}
		id, _ := MakeClOrdIDBytes(s)
		return clKey{session: refdata.SessionID(1 + rng.IntN(3)), id: id}
	}
	migrating := 0
	for step := 0; step < steps; step++ {
		if b.old != nil {
			migrating++
			if migrating%50 == 0 {
				for k, want := range model {
					if got, ok := b.lookup(k.session, k.id); !ok || got != want {
						t.Fatalf("step %d, migrating: %v: got %+v %v, want %+v", step, k, got, ok, want)
					}
				}
			}
		}
		switch rng.IntN(3) {
		case 0, 1: // register a key not remembered (as Submit would)
			k := key()
			if _, ok := b.lookup(k.session, k.id); ok != (model[k] != clEntry{}) {
				t.Fatalf("step %d: lookup %v disagrees with model", step, k)
			} else if ok {
				continue
			}
			ref, ent := b.register(k.session, k.id, matching.OrderID(step))
			model[k] = clEntry{order: matching.OrderID(step), ref: ref}
			open = append(open, reg{k, ref, ent})
		case 2: // retire a random open registration
			if len(open) == 0 {
				continue
			}
			j := rng.IntN(len(open))
			r := open[j]
			open = append(open[:j], open[j+1:]...)
			hint := r.ent
			if rng.IntN(4) == 0 {
				hint = uint32(rng.IntN(b.ents.len() + 2)) // a stale or wrong hint must not matter
			}
			b.retire(r.k.session, r.k.id, r.ref, StatusFilled, hint)
			e := model[r.k]
			e.status = StatusFilled
			model[r.k] = e
			ring = append(ring, r)
			if len(ring) > retain {
				delete(model, ring[0].k)
				ring = ring[1:]
			}
		}
		if b.len() != len(model) {
			t.Fatalf("step %d: %d remembered, model %d", step, b.len(), len(model))
		}
	}
	for k, want := range model {
		if got, ok := b.lookup(k.session, k.id); !ok || got != want {
			t.Fatalf("%v: got %+v %v, want %+v", k, got, ok, want)
		}
	}
	if letters > 2 && migrating < 100 {
		t.Fatalf("only %d steps while the index grew: the test did not exercise growth", migrating)
	}
}

// TestTableGrowsIncrementally: a table that keeps growing, with deletes and
// overwrites of keys that may sit in the old or the new slots, answers like
// a map at every step of its migrations, and moves its entries over a few
// at a time.
func TestTableGrowsIncrementally(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tb := newTable[orderKey, int](4)
	ref := map[orderKey]int{}
	migrating, grows := 0, 0
	next := 0
	for i := 0; i < 40_000; i++ {
		switch r := rng.IntN(10); {
		case r < 6:
			next++
			wasOld := tb.old != nil
			tb.put(orderKey(next), i)
			ref[orderKey(next)] = i
			if !wasOld && tb.old != nil {
				grows++
			}
		case r < 8 && next > 0:
			k := orderKey(1 + rng.IntN(next))
			_, want := ref[k]
			if got := tb.del(k); got != want {
				t.Fatalf("op %d: del %d = %v, want %v", i, k, got, want)
			}
			delete(ref, k)
		case next > 0:
			k := orderKey(1 + rng.IntN(next))
			if _, ok := ref[k]; ok {
				tb.put(k, -i)
				ref[k] = -i
			}
		}
		if tb.old != nil {
			migrating++
		}
		if tb.len() != len(ref) {
			t.Fatalf("op %d: len %d, want %d", i, tb.len(), len(ref))
		}
		if i%500 == 0 || tb.old != nil && i%41 == 0 {
			for k, v := range ref {
				if p, ok := tb.get(k); !ok || *p != v {
					t.Fatalf("op %d: get %d = %v, %v; want %d", i, k, p, ok, v)
				}
			}
			n := 0
			tb.each(func(k orderKey, v *int) {
				if ref[k] != *v {
					t.Fatalf("op %d: each %d", i, k)
				}
				n++
			})
			if n != len(ref) {
				t.Fatalf("op %d: each saw %d, want %d", i, n, len(ref))
			}
		}
	}
	if grows < 5 || migrating < 100 {
		t.Fatalf("%d growths, %d ops while migrating: the test did not exercise incremental growth", grows, migrating)
	}
}
