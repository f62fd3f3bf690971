//go:build unix

package bench

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time the process has used (user and system): on a
// shared machine it says what a phase cost when wall time also counts other
// processes' turns.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
