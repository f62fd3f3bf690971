package pipeline

import (
	"runtime/debug"
	"testing"
)

// TestHoldGCNests: the collector is off while any hold is taken and comes
// back at its earlier setting when the last is released, whatever the order
// of the releases; a release called twice counts once.
func TestHoldGCNests(t *testing.T) {
	prev := debug.SetGCPercent(150)
	defer debug.SetGCPercent(prev)
	percent := func() int { p := debug.SetGCPercent(-1); debug.SetGCPercent(p); return p }
	a := holdGC()
	b := holdGC()
	if p := percent(); p != -1 {
		t.Fatalf("GC percent %d while held, want -1", p)
	}
	a()
	a()
	if p := percent(); p != -1 {
		t.Fatalf("GC percent %d with one hold left, want -1", p)
	}
	b()
	if p := percent(); p != 150 {
		t.Fatalf("GC percent %d after the last release, want 150", p)
	}
}
