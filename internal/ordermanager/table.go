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
// when more than three quarters full (overFull), and then incrementally:
// the old slots stay beside the new ones and each put or del moves a few of
// them over, so no single call rehashes the whole table (at millions of entries a one-step
// rehash held the order manager for hundreds of milliseconds). Iteration
// order depends on the per-table random seed, so nothing that shapes state
// may depend on it.
type table[K hashKey, V any] struct {
	slots []slot[K, V]
	mask  uint64
	n     int
	seed  uint64
	// While growing: the slots being emptied into slots, from oldPos up.
	old     []slot[K, V]
	oldMask uint64
	oldN    int
	oldPos  uint64
	spare   spareSlots[slot[K, V]] // the next growth's slots (spare.go)
}

type slot[K hashKey, V any] struct {
	h uint64 // hash of the key, 0 = empty
	k K
	v V
}

// migrateSlots is how many old slots each put or del moves over. The new
// table is twice the old one's size and starts at most 3/8 full from the
// old entries, so the old slots are gone long before it fills: after
// len(old)/migrateSlots writes, against 3*len(old)/4 to reach its own limit.
const migrateSlots = 8

// overFull reports whether n entries are too many for size slots: above
// three quarters. Linear probing then still averages about two and a half
// probes for a hit (adjacent slots, mostly the same cache line), and a table
// of millions of orders costs 1.3 to 2.7 slots per entry instead of 2 to 4.
func overFull(n, size int) bool { return 4*n > 3*size }

func newTable[K hashKey, V any](hint int) table[K, V] {
	size := 16
	for overFull(hint, size) {
		size *= 2
	}
	return table[K, V]{slots: make([]slot[K, V], size), mask: uint64(size - 1), seed: rand.Uint64() | 1}
}

// probe returns the index of k (hash h) in slots, or of the empty slot
// where it would go.
func probe[K hashKey, V any](slots []slot[K, V], mask, h uint64, k K) (uint64, bool) {
	for i := h & mask; ; i = (i + 1) & mask {
		s := &slots[i]
		if s.h == 0 {
			return i, false
		}
		if s.h == h && s.k == k {
			return i, true
		}
	}
}

// find returns k's hash and slot index in the new slots, or the empty slot
// where it would go.
func (t *table[K, V]) find(k K) (uint64, uint64, bool) {
	h := k.hash(t.seed) | 1
	i, ok := probe(t.slots, t.mask, h, k)
	return h, i, ok
}

// findOld returns k's slot in the old slots while the table grows.
func (t *table[K, V]) findOld(h uint64, k K) (uint64, bool) {
	if t.old == nil {
		return 0, false
	}
	return probe(t.old, t.oldMask, h, k)
}

// get returns a pointer to k's value (valid until the next put or del).
func (t *table[K, V]) get(k K) (*V, bool) {
	h, i, ok := t.find(k)
	if ok {
		return &t.slots[i].v, true
	}
	if j, ok := t.findOld(h, k); ok {
		return &t.old[j].v, true
	}
	return nil, false
}

func (t *table[K, V]) has(k K) bool {
	_, ok := t.get(k)
	return ok
}

// put inserts or overwrites k.
func (t *table[K, V]) put(k K, v V) {
	t.migrate()
	h, i, ok := t.find(k)
	if !ok {
		if j, inOld := t.findOld(h, k); inOld {
			removeAt(t.old, t.oldMask, j)
			t.oldN--
		} else if overFull(t.n+t.oldN+1, len(t.slots)) {
			t.grow()
			h, i, _ = t.find(k)
		}
		t.slots[i].h, t.slots[i].k = h, k
		t.n++
		if needSpare(t.n+t.oldN, len(t.slots)) {
			t.spare.prepare(2 * len(t.slots))
		}
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
	t.migrate()
	h, i, ok := t.find(k)
	if ok {
		t.n--
		return removeAt(t.slots, t.mask, i), true
	}
	if j, ok := t.findOld(h, k); ok {
		t.oldN--
		return removeAt(t.old, t.oldMask, j), true
	}
	var zv V
	return zv, false
}

// removeAt empties slot i (occupied) of slots and returns its value.
func removeAt[K hashKey, V any](slots []slot[K, V], mask, i uint64) V {
	v := slots[i].v
	for j := (i + 1) & mask; slots[j].h != 0; j = (j + 1) & mask {
		home := slots[j].h & mask
		// Entry j may move to the hole at i unless its home lies
		// cyclically in (i, j].
		if (j-home)&mask >= (j-i)&mask {
			slots[i] = slots[j]
			i = j
		}
	}
	slots[i] = slot[K, V]{}
	return v
}

// grow starts moving the entries into slots twice the size. A growth that
// is still under way is finished first (it never is with migrateSlots per
// write, see there).
func (t *table[K, V]) grow() {
	for t.old != nil {
		t.migrate()
	}
	t.old, t.oldMask, t.oldN, t.oldPos = t.slots, t.mask, t.n, 0
	t.slots = t.spare.take(2 * len(t.old))
	t.mask = uint64(len(t.slots) - 1)
	t.n = 0
}

// migrate moves the entries of the next migrateSlots old slots over. A
// removal from the old slots only ever shifts entries back into the hole,
// so the old slots below oldPos stay empty.
func (t *table[K, V]) migrate() {
	if t.old == nil {
		return
	}
	for end := min(t.oldPos+migrateSlots, uint64(len(t.old))); t.oldPos < end; t.oldPos++ {
		for t.old[t.oldPos].h != 0 {
			s := t.old[t.oldPos]
			i, _ := probe(t.slots, t.mask, s.h, s.k)
			t.slots[i] = s
			t.n++
			removeAt(t.old, t.oldMask, t.oldPos)
			t.oldN--
		}
	}
	if t.oldPos == uint64(len(t.old)) {
		t.old, t.oldN = nil, 0
	}
}

func (t *table[K, V]) len() int { return t.n + t.oldN }

// reserve makes an empty table large enough for n entries without growing.
func (t *table[K, V]) reserve(n int) {
	if t.len() == 0 && overFull(n, len(t.slots)) {
		seed := t.seed
		*t = newTable[K, V](n)
		t.seed = seed
	}
}

// each calls fn for every entry, in slot order. fn must not put or del.
func (t *table[K, V]) each(fn func(k K, v *V)) {
	for _, slots := range [][]slot[K, V]{t.old, t.slots} {
		for i := range slots {
			if s := &slots[i]; s.h != 0 {
				fn(s.k, &s.v)
			}
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
