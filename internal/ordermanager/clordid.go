package ordermanager

import (
	"errors"
	"math/rand/v2"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// clKey is a ClOrdID in the scope it must be unique in: its session.
type clKey struct {
	session refdata.SessionID
	id      ClOrdID
}

// clEntry is what a registered ClOrdID points at.
type clEntry struct {
	order  matching.OrderID
	ref    uint64 // unique registration number
	status byte   // final OrdStatus once the order closed (0 while open)
}

// clEnt is one registered ClOrdID in the book's slab: 64 bytes, one cache
// line.
type clEnt struct {
	session refdata.SessionID
	id      ClOrdID
	status  byte
	live    bool
	order   matching.OrderID
	ref     uint64
}

// clRetired is a retired registration in the ring: its slab entry and
// registration number.
type clRetired struct {
	ent uint32
	ref uint64
}

// clBook remembers the ClOrdIDs of accepted requests. A ClOrdID is
// registered when its request is accepted (Submit or ApplySequenced, in
// command order) and retired by an engine event (in event order), so both
// orders, and therefore the whole book, are the same live and in replay.
// Retired IDs stay for the last `retain` retirements in a ring; the oldest is
// forgotten (only if it was not registered again since).
//
// Layout, for a small working set: an open-addressing index of 8-byte slots
// (32 bits of hash, 32 bits of slab index; linear probing, backward-shift
// deletion, no tombstones) over a slab of 64-byte entries. A probe reads the
// index only; the entry is read on a hash match.
type clBook struct {
	slots []uint64
	mask  uint64
	n     int
	seed  uint64
	ents  slab[clEnt] // index 0 is never used
	// While the index grows: the old slots, emptied into slots a few per
	// put from oldPos up (as table does), so no put rehashes the whole index.
	old     []uint64
	oldMask uint64
	oldN    int
	oldPos  uint64
	spare   spareSlots[uint64] // the next growth's slots (spare.go)
	free    []uint32

	ring    []clRetired
	head    int // oldest entry
	rn      int
	nextRef uint64

	// miss is the last lookup that found nothing, with the slot the key
	// would take; register uses it while gen is unchanged, saving a probe.
	miss    clKey
	missH   uint32
	missI   uint64
	missGen uint64
	gen     uint64 // counts changes to the index
}

func (b *clBook) init(retain, hint int) {
	size := 16
	for overFull(retain+hint, size) {
		size *= 2
	}
	b.slots = make([]uint64, size)
	b.mask = uint64(size - 1)
	b.seed = rand.Uint64()
	b.ents = newSlab[clEnt](retain + hint + 1)
	b.ents.add()
	b.ring = make([]clRetired, retain)
	b.nextRef = 1
}

func (b *clBook) hash32(k *clKey) uint32 { return uint32(k.hash(b.seed) >> 32) }

// find returns k's hash, its slot (or the empty slot it would take) and
// whether it is there.
func (b *clBook) find(k *clKey) (uint32, uint64, bool) {
	h := b.hash32(k)
	for i := uint64(h) & b.mask; ; i = (i + 1) & b.mask {
		s := b.slots[i]
		if s == 0 {
			return h, i, false
		}
		if uint32(s>>32) == h {
			if e := b.ents.at(int32(uint32(s))); e.session == k.session && e.id == k.id {
				return h, i, true
			}
		}
	}
}

func (b *clBook) len() int { return b.n + b.oldN }

// reserve makes an empty index large enough for n entries without growing.
func (b *clBook) reserve(n int) {
	if b.len() != 0 || !overFull(n, len(b.slots)) {
		return
	}
	size := len(b.slots)
	for overFull(n, size) {
		size *= 2
	}
	b.slots = make([]uint64, size)
	b.mask = uint64(size - 1)
	b.gen++
}

func (b *clBook) lookup(s refdata.SessionID, id ClOrdID) (clEntry, bool) {
	k := clKey{s, id}
	h, i, ok := b.find(&k)
	if ok {
		e := b.ents.at(int32(uint32(b.slots[i])))
		return clEntry{order: e.order, ref: e.ref, status: e.status}, true
	}
	if j, ok := b.findOld(&k, h); ok {
		e := b.ents.at(int32(uint32(b.old[j])))
		return clEntry{order: e.order, ref: e.ref, status: e.status}, true
	}
	b.miss, b.missH, b.missI, b.missGen = k, h, i, b.gen
	return clEntry{}, false
}

// register records id of session s as naming order and returns its
// registration number and slab entry (a hint for retire; 0 for none). O(1);
// no allocation below the high-water mark.
func (b *clBook) register(s refdata.SessionID, id ClOrdID, order matching.OrderID) (uint64, uint32) {
	ref := b.nextRef
	b.nextRef++
	if id.IsZero() {
		return ref, 0
	}
	return ref, b.put(clKey{s, id}, clEntry{order: order, ref: ref})
}

// put inserts k, or overwrites its entry (replay of a journal that reuses a
// ClOrdID still remembered), and returns its slab index.
func (b *clBook) put(k clKey, e clEntry) uint32 {
	b.migrate()
	var h uint32
	var i uint64
	if b.missGen == b.gen && b.miss == k && b.slots[b.missI] == 0 && !overFull(b.n+b.oldN+1, len(b.slots)) {
		h, i = b.missH, b.missI
	} else {
		var ok bool
		h, i, ok = b.find(&k)
		if !ok {
			if j, inOld := b.findOld(&k, h); inOld {
				// Moved over now, keeping its slab entry.
				idx := uint32(b.old[j])
				removeSlotIn(b.old, b.oldMask, j)
				b.oldN--
				b.slots[i] = uint64(h)<<32 | uint64(idx)
				b.n++
				b.gen++
				ok = true
			}
		}
		if ok {
			idx := uint32(b.slots[i])
			x := b.ents.at(int32(idx))
			x.order, x.ref, x.status = e.order, e.ref, e.status
			return idx
		}
		if overFull(b.n+b.oldN+1, len(b.slots)) {
			b.grow()
			h, i, _ = b.find(&k)
		}
	}
	var idx uint32
	if n := len(b.free); n > 0 {
		idx = b.free[n-1]
		b.free = b.free[:n-1]
	} else {
		idx = uint32(b.ents.add())
	}
	*b.ents.at(int32(idx)) = clEnt{session: k.session, id: k.id, status: e.status, live: true, order: e.order, ref: e.ref}
	b.slots[i] = uint64(h)<<32 | uint64(idx)
	b.n++
	b.gen++
	if needSpare(b.n+b.oldN, len(b.slots)) {
		b.spare.prepare(2 * len(b.slots))
	}
	return idx
}

// findOld returns k's slot among the old slots while the index grows.
func (b *clBook) findOld(k *clKey, h uint32) (uint64, bool) {
	if b.old == nil {
		return 0, false
	}
	for i := uint64(h) & b.oldMask; ; i = (i + 1) & b.oldMask {
		s := b.old[i]
		if s == 0 {
			return i, false
		}
		if uint32(s>>32) == h {
			if e := b.ents.at(int32(uint32(s))); e.session == k.session && e.id == k.id {
				return i, true
			}
		}
	}
}

// grow starts moving the index into slots twice the size (see migrate).
func (b *clBook) grow() {
	for b.old != nil {
		b.migrate()
	}
	b.old, b.oldMask, b.oldN, b.oldPos = b.slots, b.mask, b.n, 0
	b.slots = b.spare.take(2 * len(b.old))
	b.mask = uint64(len(b.slots) - 1)
	b.n = 0
	b.gen++
}

// migrate moves the entries of the next few old slots over (as
// table.migrate does, with the same argument for why it keeps up).
func (b *clBook) migrate() {
	if b.old == nil {
		return
	}
	for end := min(b.oldPos+migrateSlots, uint64(len(b.old))); b.oldPos < end; b.oldPos++ {
		for s := b.old[b.oldPos]; s != 0; s = b.old[b.oldPos] {
			i := (s >> 32) & b.mask
			for b.slots[i] != 0 {
				i = (i + 1) & b.mask
			}
			b.slots[i] = s
			b.n++
			removeSlotIn(b.old, b.oldMask, b.oldPos)
			b.oldN--
		}
	}
	if b.oldPos == uint64(len(b.old)) {
		b.old, b.oldN = nil, 0
	}
	b.gen++
}

// removeSlot empties slot i, shifting later entries of its probe run back.
func (b *clBook) removeSlot(i uint64) {
	removeSlotIn(b.slots, b.mask, i)
	b.n--
	b.gen++
}

func removeSlotIn(slots []uint64, mask, i uint64) {
	for j := (i + 1) & mask; slots[j] != 0; j = (j + 1) & mask {
		home := (slots[j] >> 32) & mask
		if (j-home)&mask >= (j-i)&mask {
			slots[i] = slots[j]
			i = j
		}
	}
	slots[i] = 0
}

// retire marks registration ref of id finished with final status st (0 to
// leave it) and queues it for forgetting. ent is register's slab index hint;
// a stale or zero hint costs a lookup.
func (b *clBook) retire(s refdata.SessionID, id ClOrdID, ref uint64, st byte, ent uint32) {
	if id.IsZero() {
		return
	}
	idx := ent
	if e := b.entAt(idx); e == nil || e.ref != ref || e.session != s || e.id != id {
		k := clKey{s, id}
		h, i, ok := b.find(&k)
		switch j, inOld := b.findOld(&k, h); {
		case ok:
			idx = uint32(b.slots[i])
		case inOld:
			idx = uint32(b.old[j])
		default:
			return
		}
	}
	e := b.ents.at(int32(idx))
	if e.ref != ref {
		return
	}
	if st != 0 {
		e.status = st
	}
	b.pushRetired(clRetired{idx, ref})
}

func (b *clBook) pushRetired(r clRetired) {
	if len(b.ring) == 0 {
		b.forget(r)
		return
	}
	if b.rn < len(b.ring) {
		b.ring[(b.head+b.rn)%len(b.ring)] = r
		b.rn++
		return
	}
	b.forget(b.ring[b.head])
	b.ring[b.head] = r
	b.head = (b.head + 1) % len(b.ring)
}

func (b *clBook) entAt(idx uint32) *clEnt {
	if idx == 0 || int(idx) >= b.ents.len() || !b.ents.at(int32(idx)).live {
		return nil
	}
	return b.ents.at(int32(idx))
}

// forget drops a retired registration unless its ClOrdID was registered
// again since.
func (b *clBook) forget(r clRetired) {
	if r.ent == 0 || int(r.ent) >= b.ents.len() {
		return
	}
	e := b.ents.at(int32(r.ent))
	if !e.live || e.ref != r.ref {
		return
	}
	k := clKey{e.session, e.id}
	h, i, ok := b.find(&k)
	switch j, inOld := b.findOld(&k, h); {
	case ok && uint32(b.slots[i]) == r.ent:
		b.removeSlot(i)
	case !ok && inOld && uint32(b.old[j]) == r.ent:
		removeSlotIn(b.old, b.oldMask, j)
		b.oldN--
		b.gen++
	default:
		return
	}
	*e = clEnt{}
	b.free = append(b.free, r.ent)
}

// entries calls fn for every registered ClOrdID, in slab order.
func (b *clBook) entries(fn func(k clKey, e clEntry)) {
	for i := 1; i < b.ents.len(); i++ {
		if e := b.ents.at(int32(i)); e.live {
			fn(clKey{e.session, e.id}, clEntry{order: e.order, ref: e.ref, status: e.status})
		}
	}
}

// retired calls fn for the retired registrations, oldest first.
func (b *clBook) retired(fn func(k clKey, ref uint64)) {
	for i := 0; i < b.rn; i++ {
		r := b.ring[(b.head+i)%len(b.ring)]
		var k clKey
		if r.ent != 0 && int(r.ent) < b.ents.len() {
			k = clKey{b.ents.at(int32(r.ent)).session, b.ents.at(int32(r.ent)).id}
		}
		fn(k, r.ref)
	}
}

var errClRestore = errors.New("ClOrdID book")

// restoreRetired appends a retired registration read from a snapshot.
func (b *clBook) restoreRetired(k clKey, ref uint64) error {
	if b.rn >= len(b.ring) {
		return errClRestore
	}
	r := clRetired{ref: ref}
	if h, i, ok := b.find(&k); ok {
		r.ent = uint32(b.slots[i])
	} else if j, ok := b.findOld(&k, h); ok {
		r.ent = uint32(b.old[j])
	}
	b.ring[(b.head+b.rn)%len(b.ring)] = r
	b.rn++
	return nil
}
