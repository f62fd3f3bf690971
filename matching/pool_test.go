package matching

import "testing"

// The pool hands out each order once until it is returned, zeroed, across
// slab growth (a slab's fresh orders and the free list together).
func TestOrderPoolHandsOutDistinctZeroOrders(t *testing.T) {
	var p orderPool
	p.grow(64)
	live := map[*order]bool{}
	take := func() *order {
		o := p.get()
		if live[o] {
			t.Fatalf("order %p handed out twice", o)
		}
		if *o != (order{}) {
			t.Fatalf("order %p not zeroed: %+v", o, *o)
		}
		live[o] = true
		o.id, o.leaves = 99, 5
		return o
	}
	var held []*order
	for i := range 5000 {
		o := take()
		if i%3 == 0 {
			held = append(held, o)
		}
		if i%7 == 0 && len(held) > 0 {
			r := held[len(held)-1]
			held = held[:len(held)-1]
			delete(live, r)
			p.put(r)
		}
	}
	if p.allocated < len(live) {
		t.Fatalf("allocated %d, %d live", p.allocated, len(live))
	}
}
