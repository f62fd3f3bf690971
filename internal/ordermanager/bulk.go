package ordermanager

import (
	"math/bits"

	"github.com/exchange-sim/exchange/internal/prefault"
)

// Bulk loading of the hash tables, for Restore. Inserting millions of
// entries one by one into a table far larger than the caches costs a cache
// (and TLB) miss per entry at a random slot: about half of a restore's time
// before. A bulk load first groups the entries by the region of the table
// their home slot lies in (one counting-sort pass over a scratch slice), then
// inserts them region by region, so the slots being probed stay in cache.
// The result is an ordinary table: linear probing does not care in which
// order entries were inserted.

// A region is at least 2,048 slots (48 KB of table slots, 16 KB of the
// ClOrdID index), and there are at most 1,024 regions: the grouping pass
// writes to one place per region at a time, and more places than the TLB
// holds pages for would cost a TLB miss per entry. At 8 M slots (5 M orders)
// a region is 8,192 slots, 192 KB of table slots, still inside a core's L2
// cache.
const (
	bulkRegionShift = 11
	bulkRegionsMax  = 1 << 10
)

// bulkRegions returns the shift from a home slot to its region in a table of
// size slots (a power of two) and the number of regions.
func bulkRegions(size int) (shift uint, regions int) {
	sizeBits := uint(bits.Len(uint(size)) - 1)
	shift = min(sizeBits, bulkRegionShift)
	for 1<<(sizeBits-shift) > bulkRegionsMax {
		shift++
	}
	return shift, 1 << (sizeBits - shift)
}

// load inserts n entries into an empty table: entry i is at(i). It returns
// false, leaving the table in an unspecified state, when a key repeats. The
// table is sized for n first, so it never grows. O(n); it allocates a
// scratch slice of n slots besides the table.
func (t *table[K, V]) load(n int, at func(i int) (K, V)) bool {
	if t.len() != 0 {
		panic("ordermanager: bulk load into a table that is not empty")
	}
	t.reserve(n)
	prefault.Slice(t.slots) // every page is written: in one call, not a fault each
	shift, regions := bulkRegions(len(t.slots))
	// Offsets of the regions in the scratch slice, from a first pass that
	// counts them; the second pass hashes again rather than keep n hashes.
	start := make([]int, regions+1)
	for i := range n {
		k, _ := at(i)
		start[((k.hash(t.seed)|1)&t.mask)>>shift+1]++
	}
	for r := 1; r <= regions; r++ {
		start[r] += start[r-1]
	}
	grouped := make([]slot[K, V], n)
	prefault.Slice(grouped)
	for i := range n {
		k, v := at(i)
		h := k.hash(t.seed) | 1
		r := (h & t.mask) >> shift
		grouped[start[r]] = slot[K, V]{h: h, k: k, v: v}
		start[r]++
	}
	for i := range grouped {
		s := &grouped[i]
		j, dup := probe(t.slots, t.mask, s.h, s.k)
		if dup {
			return false
		}
		t.slots[j] = *s
		t.n++
	}
	return true
}

// load indexes the slab entries from 1 up, which must be all the book holds
// and none of them indexed yet (a restore reads them into the slab first).
// It returns false when a ClOrdID repeats in a session. O(entries); it
// allocates two scratch slices of 8 bytes per entry.
func (b *clBook) load() bool {
	if b.len() != 0 {
		panic("ordermanager: bulk load into a ClOrdID index that is not empty")
	}
	n := b.ents.len() - 1
	b.reserve(n)
	prefault.Slice(b.slots)
	shift, regions := bulkRegions(len(b.slots))
	start := make([]int, regions+1)
	packed := make([]uint64, n)
	for i := range packed {
		e := b.ents.at(int32(i + 1))
		h := b.hash32(&clKey{e.session, e.id})
		packed[i] = uint64(h)<<32 | uint64(i+1)
		start[(uint64(h)&b.mask)>>shift+1]++
	}
	for r := 1; r <= regions; r++ {
		start[r] += start[r-1]
	}
	grouped := make([]uint64, n)
	for _, p := range packed {
		r := ((p >> 32) & b.mask) >> shift
		grouped[start[r]] = p
		start[r]++
	}
	packed = nil
	b.gen++
	for _, p := range grouped {
		h := uint32(p >> 32)
		i := uint64(h) & b.mask
		for ; b.slots[i] != 0; i = (i + 1) & b.mask {
			if s := b.slots[i]; uint32(s>>32) == h {
				x, y := b.ents.at(int32(uint32(s))), b.ents.at(int32(uint32(p)))
				if x.session == y.session && x.id == y.id {
					return false
				}
			}
		}
		b.slots[i] = p
		b.n++
	}
	return true
}
