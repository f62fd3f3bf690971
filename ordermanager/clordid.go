package ordermanager

import (
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/matching"
)

// clKey is a ClOrdID in the scope it must be unique in: its session.
type clKey struct {
	session config.SessionID
	id      ClOrdID
}

// clEntry is what a registered ClOrdID points at.
type clEntry struct {
	order  matching.OrderID
	ref    uint64 // unique registration number
	status byte   // final OrdStatus once the order closed (0 while open)
}

type clRetired struct {
	key clKey
	ref uint64
}

// clBook remembers the ClOrdIDs of accepted requests. A ClOrdID is
// registered when its request is accepted (Submit or ApplySequenced, in
// command order) and retired by an engine event (in event order), so both
// orders, and therefore the whole book, are the same live and in replay.
// Retired IDs stay for the last `retain` retirements in a ring; the oldest is
// forgotten (deleted only if it was not registered again since).
type clBook struct {
	m       table[clKey, clEntry]
	ring    []clRetired
	head    int // oldest entry when full
	n       int
	nextRef uint64
	// miss is the last lookup that found nothing, with the slot the key
	// would take; register uses it while gen is unchanged, saving a probe.
	miss    clKey
	missH   uint64
	missI   uint64
	missGen uint64
	gen     uint64 // counts changes to m
}

func (b *clBook) init(retain, hint int) {
	b.m = newTable[clKey, clEntry](retain + hint)
	b.ring = make([]clRetired, retain)
	b.nextRef = 1
}

func (b *clBook) lookup(s config.SessionID, id ClOrdID) (clEntry, bool) {
	k := clKey{s, id}
	h, i, ok := b.m.find(k)
	if ok {
		return b.m.slots[i].v, true
	}
	b.miss, b.missH, b.missI, b.missGen = k, h, i, b.gen
	return clEntry{}, false
}

// register records id of session s as naming order and returns its
// registration number. O(1); no allocation below the map's capacity.
func (b *clBook) register(s config.SessionID, id ClOrdID, order matching.OrderID) uint64 {
	ref := b.nextRef
	b.nextRef++
	if id.IsZero() {
		return ref
	}
	k := clKey{s, id}
	e := clEntry{order: order, ref: ref}
	if b.missGen != b.gen || b.miss != k || !b.m.insertAt(b.missH, b.missI, k, e) {
		b.m.put(k, e)
	}
	b.gen++
	return ref
}

// retire marks registration ref of id finished with final status st (0 to
// leave it) and queues it for forgetting.
func (b *clBook) retire(s config.SessionID, id ClOrdID, ref uint64, st byte) {
	if id.IsZero() {
		return
	}
	k := clKey{s, id}
	if st != 0 {
		if e, ok := b.m.get(k); ok && e.ref == ref {
			e.status = st
		}
	}
	if len(b.ring) == 0 {
		b.forget(clRetired{k, ref})
		return
	}
	if b.n < len(b.ring) {
		b.ring[(b.head+b.n)%len(b.ring)] = clRetired{k, ref}
		b.n++
		return
	}
	b.forget(b.ring[b.head])
	b.ring[b.head] = clRetired{k, ref}
	b.head = (b.head + 1) % len(b.ring)
}

func (b *clBook) forget(r clRetired) {
	if _, i, ok := b.m.find(r.key); ok && b.m.slots[i].v.ref == r.ref {
		b.m.removeAt(i)
		b.gen++
	}
}

// each calls fn for the retired entries, oldest first.
func (b *clBook) each(fn func(r *clRetired)) {
	for i := 0; i < b.n; i++ {
		fn(&b.ring[(b.head+i)%len(b.ring)])
	}
}
