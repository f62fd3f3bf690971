package matching

import "math/bits"

// table maps non-zero uint64 keys (order IDs, prices) to pointers. It
// replaces Go maps on the engine's hot path: a Go map lookup of a 64-bit key
// cost about 85 instructions here (callgrind, the exchange-core mix: the
// runtime's seeded hash, then the group probe), this table's about 30 with
// its call, and the engine makes two of them for nearly every command (the
// order by ID, the level by price).
//
// It is open addressing with linear probing over a power-of-two array of
// key/value slots, at most three quarters full; the slot of a key is the top
// bits of key times 2^64/φ (Fibonacci hashing), which spreads the sequential
// IDs and nearby prices the engine uses evenly. Key 0 marks an empty slot
// and cannot be stored (the engine never has order ID 0 or a level at price
// 0 in a table). A deletion shifts the following entries of its run back, so
// no tombstones build up in the live array.
//
// Growth is incremental, so that no single command pays for rehashing
// millions of entries: the full array stays as old, read-only but for
// deletions, while a twice larger one takes every insert; each insert then
// moves migrateStep old slots over, and a lookup that misses in the new array
// looks in the old one until the move is done. Deleting an entry that is
// still in old clears its value there (a tombstone in old only), so it is not
// found or moved later.
//
// Nothing iterates a table to decide anything, so its order is of no
// consequence to determinism (each is used only to repoint levels).
type table[V any] struct {
	slots []tslot[V]
	shift uint8 // 64 - log2(len(slots))
	n     int   // live entries in slots and old together
	// old is the array being moved out of, nil when none; next is the
	// first of its slots not yet moved; oldShift is old's shift.
	old      []tslot[V]
	next     int
	oldShift uint8
}

type tslot[V any] struct {
	key uint64
	val *V
}

const (
	tableMinSlots = 8
	// migrateStep is how many old slots each insert moves while a table
	// grows: the move ends long before the new array is three quarters
	// full (it starts at three eighths).
	migrateStep = 16
	fibMul      = 0x9e3779b97f4a7c15
)

// newTable returns a table with room for hint entries without growing.
func newTable[V any](hint int) table[V] {
	n := tableMinSlots
	for n*3/4 < hint {
		n *= 2
	}
	var t table[V]
	t.alloc(n)
	return t
}

func (t *table[V]) alloc(n int) {
	t.slots = make([]tslot[V], n)
	t.shift = uint8(64 - bits.Len(uint(n)-1))
}

// len returns the number of entries.
func (t *table[V]) len() int { return t.n }

// get returns the value of k, or nil. O(1) expected. The first probe is
// inlined into the caller; it finds most keys.
func (t *table[V]) get(k uint64) *V {
	if e := &t.slots[(k*fibMul)>>t.shift]; e.key == k {
		return e.val // nil for k == 0: an empty slot's
	}
	return t.getMore(k)
}

// getMore is get past the first probe, and in the array being moved out of
// (where a moved or deleted entry has a nil value).
func (t *table[V]) getMore(k uint64) *V {
	if i, ok := find(t.slots, t.shift, k); ok {
		return t.slots[i].val
	}
	if t.old != nil {
		if i, ok := find(t.old, t.oldShift, k); ok {
			return t.old[i].val
		}
	}
	return nil
}

// find returns the slot of k in s, whose shift is shift, and whether it is
// there.
func find[V any](s []tslot[V], shift uint8, k uint64) (uint64, bool) {
	mask := uint64(len(s) - 1)
	for i := (k * fibMul) >> shift; ; i = (i + 1) & mask {
		e := &s[i&mask]
		if e.key == k {
			return i & mask, true
		}
		if e.key == 0 {
			return 0, false
		}
	}
}

// put sets k's value to v (k != 0, v != nil), replacing any value it had.
// O(1) expected; while the table grows, it also moves migrateStep old slots.
func (t *table[V]) put(k uint64, v *V) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	if t.old != nil {
		t.migrate()
		if t.old != nil {
			if i, ok := find(t.old, t.oldShift, k); ok && t.old[i].val != nil {
				t.old[i].val = nil // k lives in slots from now on
				t.n--
			}
		}
	}
	if t.insert(k, v) {
		t.n++
	}
}

// insert puts k in slots and reports whether it was not there before.
func (t *table[V]) insert(k uint64, v *V) bool {
	s := t.slots
	mask := uint64(len(s) - 1)
	for i := (k * fibMul) >> t.shift; ; i = (i + 1) & mask {
		e := &s[i&mask]
		if e.key == k {
			e.val = v
			return false
		}
		if e.key == 0 {
			e.key, e.val = k, v
			return true
		}
	}
}

// grow starts moving to an array twice as large, finishing any move still
// under way first.
func (t *table[V]) grow() {
	for t.old != nil {
		t.migrate()
	}
	t.old, t.next, t.oldShift = t.slots, 0, t.shift
	t.alloc(2 * len(t.slots))
}

// migrate moves the next migrateStep slots of old into slots.
func (t *table[V]) migrate() {
	end := min(t.next+migrateStep, len(t.old))
	for i := t.next; i < end; i++ {
		if e := &t.old[i]; e.val != nil {
			t.insert(e.key, e.val)
			e.val = nil
		}
	}
	t.next = end
	if end == len(t.old) {
		t.old = nil
	}
}

// del removes k if it is there. O(1) expected.
func (t *table[V]) del(k uint64) {
	if k == 0 {
		return
	}
	if i, ok := find(t.slots, t.shift, k); ok {
		t.deleteAt(i)
		t.n--
		return
	}
	if t.old != nil {
		if i, ok := find(t.old, t.oldShift, k); ok && t.old[i].val != nil {
			t.old[i].val = nil
			t.n--
		}
	}
}

// deleteAt empties slot i of slots and shifts back the entries after it
// in its run that would no longer be found (backward-shift deletion).
func (t *table[V]) deleteAt(i uint64) {
	s := t.slots
	mask := uint64(len(s) - 1)
	for {
		s[i] = tslot[V]{}
		j := i
		for {
			j = (j + 1) & mask
			if s[j].key == 0 {
				return
			}
			home := (s[j].key * fibMul) >> t.shift
			// s[j] may move to i unless its home lies cyclically in (i, j].
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				s[i] = s[j]
				i = j
				break
			}
		}
	}
}

// each calls fn for every value, in no particular order.
func (t *table[V]) each(fn func(*V)) {
	for _, s := range [2][]tslot[V]{t.slots, t.old} {
		for i := range s {
			if s[i].val != nil {
				fn(s[i].val)
			}
		}
	}
}
