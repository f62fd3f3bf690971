package reporter

import (
	"os"
	"strconv"
	"syscall"
)

// LowerPriority sets the nice value of every thread of this process to nice
// (0..19; 19 is the lowest priority). On Linux a nice value belongs to a
// thread, not to the process: each existing thread is changed, and threads
// the Go runtime starts later inherit the value from the thread that creates
// them. Use it only in a process of its own (`exchange reporter --nice`):
// inside the venue's process a niced thread holding one of the runtime's Ps
// would stall the trading flow's goroutines.
func LowerPriority(nice int) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil {
			return err
		}
	}
	return nil
}
