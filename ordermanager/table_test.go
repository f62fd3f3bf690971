package ordermanager

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/exchange-sim/exchange/internal/config"
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
	const retain = 50
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
		id, _ := MakeClOrdID(string(rune('a'+rng.IntN(26))) + string(rune('a'+rng.IntN(26))))
		return clKey{session: config.SessionID(1 + rng.IntN(3)), id: id}
	}
	for step := 0; step < 100_000; step++ {
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
				hint = uint32(rng.IntN(len(b.ents) + 2)) // a stale or wrong hint must not matter
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
}
