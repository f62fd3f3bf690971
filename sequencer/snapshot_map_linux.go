package sequencer

import (
	"fmt"
	"os"
	"syscall"
)

// mapSnapshotFile maps the file at path read-only, all of its pages at once
// (MAP_POPULATE: one call instead of a fault per page), and returns its bytes
// with the function that unmaps them. A snapshot file is never written again
// once renamed into place, so the mapping cannot change under its reader
// (removing the file leaves the mapping valid).
func mapSnapshotFile(path string) ([]byte, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := fi.Size()
	if size < snapshotHeaderSize || size != int64(int(size)) {
		// Too short to map usefully (checkSnapshot says what is wrong), or
		// too large for this platform's address space.
		b, err := os.ReadFile(path)
		return b, nil, err
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return nil, nil, fmt.Errorf("map: %w", err)
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
