package prefault

import (
	"sync/atomic"
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14).
const madvPopulateWrite = 23

// unsupported is set once the kernel has refused the advice.
var unsupported atomic.Bool

func populate(p unsafe.Pointer, n uintptr) {
	if unsupported.Load() {
		return
	}
	const page = 4096
	start := (uintptr(p) + page - 1) &^ (page - 1)
	end := (uintptr(p) + n) &^ (page - 1)
	if end <= start {
		return
	}
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, start, end-start, madvPopulateWrite)
	if errno == syscall.EINVAL {
		unsupported.Store(true)
	}
}
