//go:build unix

package reporter

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

type fileLock struct{ f *os.File }

func (l *fileLock) release() { l.f.Close() } // closing drops the flock

// tryFileLock returns nil, nil when another process holds the lock.
func tryFileLock(path string) (writerLock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("reporter: writer lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("reporter: writer lock %s: %w", path, err)
	}
	return &fileLock{f: f}, nil
}
