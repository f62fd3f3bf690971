package ordermanager

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"

	"github.com/exchange-sim/exchange/matching"
)

// hashKey is a key of a table: comparable, with a seeded hash.
type hashKey interface {
	comparable
	hash(seed uint64) uint64
}

// table is an open-addressing hash table with linear probing and
// backward-shift deletion. Unlike a Go map under constant insert/delete
// churn it leaves no tombstones, so probes stay short and it never
// reallocates below its high-water mark. A slot holds hash, key and value
// together, so a probe usually costs one cache miss. It grows (allocates)
// when more than half full. Iteration order depends on the per-table random
// seed, so nothing that shapes state may depend on it.
type table[K hashKey, V any] struct {
	slots []slot[K, V]
	mask  uint64
	n     int
	seed  uint64
}

type slot[K hashKey, V any] struct {
	h uint64 // hash of the key, 0 = empty
	k K
	v V
}

func newTable[K hashKey, V any](hint int) table[K, V] {
	size := 16
	for size < 2*hint {
		size *= 2
	}
	return table[K, V]{slots: make([]slot[K, V], size), mask: uint64(size - 1), seed: rand.Uint64() | 1}
}

// find returns k's hash and slot index, or the empty slot where it would
// go.
func (t *table[K, V]) find(k K) (uint64, uint64, bool) {
	h := k.hash(t.seed) | 1
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.h == 0 {
			return h, i, false
		}
		if s.h == h && s.k == k {
			return h, i, true
		}
	}
}

// get returns a pointer to k's value (valid until the next put or del).
func (t *table[K, V]) get(k K) (*V, bool) {
	_, i, ok := t.find(k)
	if !ok {
		return nil, false
	}
	return &t.slots[i].v, true
}

func (t *table[K, V]) has(k K) bool {
	_, _, ok := t.find(k)
	return ok
}

// put inserts or overwrites k.
func (t *table[K, V]) put(k K, v V) {
	h, i, ok := t.find(k)
	if !ok {
		if 2*(t.n+1) > len(t.slots) {
			t.grow()
			h, i, _ = t.find(k)
		}
		t.slots[i].h, t.slots[i].k = h, k
		t.n++
	}
	t.slots[i].v = v
}

// del removes k, shifting later entries of its probe run back so no
// tombstone is left.
func (t *table[K, V]) del(k K) bool {
	_, ok := t.take(k)
	return ok
}

// take removes k and returns its value.
func (t *table[K, V]) take(k K) (V, bool) {
	_, i, ok := t.find(k)
	if !ok {
		var zv V
		return zv, false
	}
	return t.removeAt(i), true
}

// removeAt empties slot i (occupied) and returns its value.
func (t *table[K, V]) removeAt(i uint64) V {
	v := t.slots[i].v
	for j := (i + 1) & t.mask; t.slots[j].h != 0; j = (j + 1) & t.mask {
		home := t.slots[j].h & t.mask
		// Entry j may move to the hole at i unless its home lies
		// cyclically in (i, j].
		if (j-home)&t.mask >= (j-i)&t.mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = slot[K, V]{}
	t.n--
	return v
}

func (t *table[K, V]) grow() {
	old := t.slots
	seed := t.seed
	*t = newTable[K, V](len(old))
	t.seed = seed
	for i := range old {
		if old[i].h != 0 {
			t.put(old[i].k, old[i].v)
		}
	}
}

func (t *table[K, V]) len() int { return t.n }

// each calls fn for every entry, in slot order. fn must not put or del.
func (t *table[K, V]) each(fn func(k K, v *V)) {
	for i := range t.slots {
		if s := &t.slots[i]; s.h != 0 {
			fn(s.k, &s.v)
		}
	}
}

func mix(h uint64) uint64 {
	hi, lo := bits.Mul64(h, 0x9e3779b97f4a7c15)
	return hi ^ lo
}

// orderKey is an OrderID as a table key.
type orderKey matching.OrderID

func (k orderKey) hash(seed uint64) uint64 { return mix(uint64(k) ^ seed) }

func (k clKey) hash(seed uint64) uint64 {
	b := &k.id.b
	le := binary.LittleEndian
	h := mix(seed ^ uint64(k.session)<<8 ^ uint64(k.id.n))
	for i := 0; i+8 <= len(b); i += 8 {
		if i >= int(k.id.n) {
			break
		}
		h = mix(h ^ le.Uint64(b[i:]))
	}
	return h
}
