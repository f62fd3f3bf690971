package ordermanager

import "github.com/exchange-sim/exchange/internal/prefault"

// slabChunk is the number of records in one chunk of a slab.
const slabChunk = 1 << 12

// slab is a growable array of records addressed by int32 index, stored in
// fixed chunks: growing it allocates one chunk and never copies the
// records already there (an append-grown slice of millions of orders
// copied hundreds of megabytes in one step). A pointer to a record stays
// valid for the slab's life.
type slab[T any] struct {
	chunks [][]T
	n      int
}

func newSlab[T any](hint int) slab[T] {
	return slab[T]{chunks: make([][]T, 0, hint/slabChunk+1)}
}

// at returns record i (below len).
func (s *slab[T]) at(i int32) *T { return &s.chunks[i/slabChunk][i%slabChunk] }

// add appends a zero record and returns its index.
func (s *slab[T]) add() int32 {
	if s.n == len(s.chunks)*slabChunk {
		c := make([]T, slabChunk)
		prefault.Slice(c) // filled in turn: its pages in one call, not a fault per page
		s.chunks = append(s.chunks, c)
	}
	s.n++
	return int32(s.n - 1)
}

// len is the number of records, index 0 included.
func (s *slab[T]) len() int { return s.n }
