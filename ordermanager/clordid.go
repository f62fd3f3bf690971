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
	m       map[clKey]clEntry
	ring    []clRetired
	head    int // oldest entry when full
	n       int
	nextRef uint64
}

func (b *clBook) init(retain, hint int) {
	b.m = make(map[clKey]clEntry, retain+hint)
	b.ring = make([]clRetired, retain)
	b.nextRef = 1
}

func (b *clBook) lookup(s config.SessionID, id ClOrdID) (clEntry, bool) {
	e, ok := b.m[clKey{s, id}]
	return e, ok
}

// register records id of session s as naming order and returns its
// registration number. O(1); no allocation below the map's capacity.
func (b *clBook) register(s config.SessionID, id ClOrdID, order matching.OrderID) uint64 {
	ref := b.nextRef
	b.nextRef++
	if id.IsZero() {
		return ref
	}
	b.m[clKey{s, id}] = clEntry{order: order, ref: ref}
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
		if e, ok := b.m[k]; ok && e.ref == ref {
			e.status = st
			b.m[k] = e
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
	if e, ok := b.m[r.key]; ok && e.ref == r.ref {
		delete(b.m, r.key)
	}
}

// each calls fn for the retired entries, oldest first.
func (b *clBook) each(fn func(r *clRetired)) {
	for i := 0; i < b.n; i++ {
		fn(&b.ring[(b.head+i)%len(b.ring)])
	}
}
