package reporter

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestLowerPriority runs LowerPriority in a child process (a test process
// must not lower its own priority) and checks every thread, later ones too.
func TestLowerPriority(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), "REPORTER_CHILD=nice")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v: %s", err, stderr.String())
	}
}

// runNiceChild lowers its priority, starts more threads, and checks that
// every thread of the process has the nice value (exit 0) or not (exit 3).
func runNiceChild() int {
	if err := LowerPriority(7); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Threads started after the call inherit the value.
	done := make(chan struct{})
	var started sync.WaitGroup
	for i := 0; i < 4; i++ {
		started.Add(1)
		go func() {
			runtime.LockOSThread() // a thread of its own from here on
			started.Done()
			<-done
		}()
	}
	started.Wait()
	defer close(done)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if len(tasks) < 4 {
		fmt.Fprintf(os.Stderr, "only %d threads\n", len(tasks))
		return 1
	}
	for _, t := range tasks {
		tid, _ := strconv.Atoi(t.Name())
		// getpriority returns 20 - nice on Linux.
		p, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
		if err != nil || 20-p != 7 {
			fmt.Fprintf(os.Stderr, "thread %d: nice %d (%v)\n", tid, 20-p, err)
			return 3
		}
	}
	return 0
}
