package main

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// TestProcCPU: the CPU time read from /proc grows while this process works.
func TestProcCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/<pid>/stat is Linux's")
	}
	before, err := procCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		x := 0
		for i := 0; i < 1_000_000; i++ {
			x += i
		}
		_ = x
		after, err := procCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after > before {
			return
		}
		if after < before {
			t.Fatalf("CPU time went down: %s -> %s", before, after)
		}
		time.Sleep(time.Millisecond) // let the clock tick (10 ms) pass
	}
	t.Fatal("no CPU time counted in 30 s of work")
}
