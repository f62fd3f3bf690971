//go:build !linux

package sequencer

import "os"

// mapSnapshotFile reads the file at path: this platform's snapshots are not
// mapped.
func mapSnapshotFile(path string) ([]byte, func() error, error) {
	b, err := os.ReadFile(path)
	return b, nil, err
}
