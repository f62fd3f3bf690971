//go:build unix

package main

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the whole process has used (user and system):
// a cost that stays meaningful when other processes share the cores.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
