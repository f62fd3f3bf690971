package ordermanager

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// TestBulkRegions: regions cover the table, at most bulkRegionsMax of them.
func TestBulkRegions(t *testing.T) {
	for _, size := range []int{16, 1 << 11, 1 << 12, 1 << 20, 1 << 23, 1 << 26} {
		shift, regions := bulkRegions(size)
		if regions<<shift != size || regions > bulkRegionsMax || regions < 1 {
			t.Errorf("size %d: shift %d, %d regions", size, shift, regions)
		}
	}
}

// TestTableLoad: a bulk-loaded table finds what a table built by puts
// finds, misses what it misses, keeps working under puts and deletes
// afterwards, and refuses a repeated key.
func TestTableLoad(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 13, 5_000, 200_000} {
		keys := make([]orderKey, n)
		seen := map[orderKey]bool{}
		for i := range keys {
			for {
				keys[i] = orderKey(rng.Uint64N(1 << 40))
				if !seen[keys[i]] {
					break
				}
			}
			seen[keys[i]] = true
		}
		tb := newTable[orderKey, int32](16)
		if !tb.load(n, func(i int) (orderKey, int32) { return keys[i], int32(i) }) {
			t.Fatalf("n %d: load refused distinct keys", n)
		}
		if tb.len() != n || overFull(n, len(tb.slots)) {
			t.Fatalf("n %d: len %d in %d slots", n, tb.len(), len(tb.slots))
		}
		for i, k := range keys {
			if v, ok := tb.get(k); !ok || *v != int32(i) {
				t.Fatalf("n %d: key %d not found after load", n, i)
			}
		}
		for range 1000 {
			if k := orderKey(1<<41 + rng.Uint64N(1<<20)); tb.has(k) {
				t.Fatalf("n %d: found %d, never loaded", n, k)
			}
		}
		// Deletes shift probe runs that the load built; puts grow it.
		for i := 0; i < n; i += 2 {
			if !tb.del(keys[i]) {
				t.Fatalf("n %d: del %d", n, i)
			}
		}
		for i := range 2 * n {
			tb.put(orderKey(1<<42+i), int32(i))
		}
		for i, k := range keys {
			if _, ok := tb.get(k); ok != (i%2 == 1) {
				t.Fatalf("n %d: key %d present %v after the deletes", n, i, ok)
			}
		}
		for i := range 2 * n {
			if v, ok := tb.get(orderKey(1<<42 + i)); !ok || *v != int32(i) {
				t.Fatalf("n %d: put %d lost", n, i)
			}
		}
	}
	tb := newTable[orderKey, int32](16)
	if tb.load(3, func(i int) (orderKey, int32) { return orderKey(7 + i%2), 0 }) {
		t.Fatal("load accepted a repeated key")
	}
}

// TestClBookLoad: an index bulk-loaded over a slab of entries answers
// lookups as the one register built, and refuses a ClOrdID repeated in a
// session (the same ClOrdID in another session is fine).
func TestClBookLoad(t *testing.T) {
	const n = 50_000
	var live clBook
	live.init(64, 16)
	for i := range n {
		live.register(refdata.SessionID(1+i%3), cl("c"+strconv.Itoa(i/3)), matching.OrderID(i+1))
	}
	var b clBook
	b.init(64, 16)
	live.entries(func(k clKey, e clEntry) {
		*b.ents.at(b.ents.add()) = clEnt{session: k.session, id: k.id, order: e.order, ref: e.ref, live: true}
	})
	if !b.load() {
		t.Fatal("load refused distinct ClOrdIDs")
	}
	if b.len() != n {
		t.Fatalf("len %d, want %d", b.len(), n)
	}
	for i := range n {
		s, id := refdata.SessionID(1+i%3), cl("c"+strconv.Itoa(i/3))
		want, _ := live.lookup(s, id)
		if got, ok := b.lookup(s, id); !ok || got != want {
			t.Fatalf("entry %d: %+v %v, want %+v", i, got, ok, want)
		}
	}
	if _, ok := b.lookup(4, cl("c0")); ok {
		t.Fatal("found a ClOrdID in a session it was never registered in")
	}
	// New registrations after the load, one of them reusing a loaded ID.
	b.nextRef = live.nextRef
	ref, _ := b.register(1, cl("c0"), 99)
	if e, ok := b.lookup(1, cl("c0")); !ok || e.ref != ref || e.order != 99 {
		t.Fatalf("re-registered ClOrdID: %+v %v", e, ok)
	}

	var dup clBook
	dup.init(64, 16)
	for _, s := range []refdata.SessionID{1, 2, 1} {
		*dup.ents.at(dup.ents.add()) = clEnt{session: s, id: cl("same"), live: true}
	}
	if dup.load() {
		t.Fatal("load accepted a ClOrdID repeated in one session")
	}
}

// TestRestoreRefusesRepeatedClOrdID: a snapshot whose ClOrdID section names
// one ClOrdID twice in a session is refused (the bulk load's check), and the
// unmodified snapshot restores.
func TestRestoreRefusesRepeatedClOrdID(t *testing.T) {
	h := newHarness(t)
	h.do(newReq(1, "x1", matching.Buy, 9000, 10))
	h.do(newReq(1, "x2", matching.Buy, 9000, 10))
	if h.m.OpenOrders() != 2 {
		t.Fatalf("%d open orders, want 2", h.m.OpenOrders())
	}
	snap := h.m.AppendSnapshot(nil)
	if _, err := Restore(h.m.ref, Config{}, snap); err != nil {
		t.Fatal(err)
	}
	bad := []byte(strings.ReplaceAll(string(snap), "\x02x2", "\x02x1"))
	if _, err := Restore(h.m.ref, Config{}, bad); !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), "ClOrdID duplicate") {
		t.Fatalf("repeated ClOrdID: %v", err)
	}
}
