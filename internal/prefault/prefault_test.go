package prefault

import "testing"

// Populating changes nothing a program sees: a fresh slice stays zero and
// writable, one in use keeps its contents; small and empty slices are left
// alone.
func TestSliceKeepsContents(t *testing.T) {
	fresh := make([]uint64, 1<<20) // 8 MiB
	Slice(fresh)
	for i, v := range fresh {
		if v != 0 {
			t.Fatalf("fresh[%d] = %d after Slice", i, v)
		}
	}
	for i := range fresh {
		fresh[i] = uint64(i) * 7
	}
	Slice(fresh)
	Slice(fresh[3:100]) // unaligned, small
	Slice([]byte(nil))
	Slice(make([]struct{}, 1<<30))
	for i, v := range fresh {
		if v != uint64(i)*7 {
			t.Fatalf("fresh[%d] = %d after a second Slice", i, v)
		}
	}
}
