package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// dataLock is the exclusive lock a venue holds on its data folder while it
// runs: two processes appending to one journal would interleave their
// records and each would recover the other's as corruption. The lock is an
// flock on DATA/LOCK, which the kernel drops when the holder dies (kill -9
// included), so a crash never leaves a stale lock; the file holds the
// holder's pid, for the error message only.
type dataLock struct{ f *os.File }

// lockDataDir takes the lock on dir (creating dir), or says who holds it.
func lockDataDir(dir string) (*dataLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data folder %s: %w", dir, err)
	}
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data folder %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another process"
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				who = fmt.Sprintf("another process (pid %d)", pid)
			}
			return nil, fmt.Errorf("data folder %s is in use by %s: one venue per data folder (stop it, or give this one --data)", dir, who)
		}
		return nil, fmt.Errorf("data folder %s: locking %s: %w", dir, path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dataLock{f: f}, nil
}

// release drops the lock (closing the file drops the flock).
func (l *dataLock) release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
