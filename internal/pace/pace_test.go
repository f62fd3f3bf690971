package pace

import (
	"context"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	fine := NewFine()
	defer fine.Close()
	for _, d := range []time.Duration{-time.Millisecond, 0, 300 * time.Microsecond, 3 * time.Millisecond} {
		at := time.Now().Add(d)
		if !Until(context.Background(), at, timer, fine) {
			t.Fatalf("%v: Until gave up without a cancel", d)
		}
		if now := time.Now(); now.Before(at) {
			t.Fatalf("%v: returned %v before the time", d, at.Sub(now))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Until(ctx, time.Now().Add(time.Hour), timer, fine) {
		t.Fatal("Until waited out an hour on a cancelled context")
	}
}

func TestFineSleepNonPositive(t *testing.T) {
	f := NewFine()
	defer f.Close()
	f.Sleep(0) // must return: a zero timerfd setting would never fire
	f.Sleep(-time.Second)
	start := time.Now()
	f.Sleep(200 * time.Microsecond)
	if time.Since(start) < 200*time.Microsecond {
		t.Fatal("Sleep returned early")
	}
}
