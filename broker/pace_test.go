package broker

import (
	"context"
	"testing"
	"time"
)

func TestWaitUntil(t *testing.T) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	fine := newFineTimer()
	defer fine.close()
	for _, d := range []time.Duration{-time.Millisecond, 0, 300 * time.Microsecond, 3 * time.Millisecond} {
		at := time.Now().Add(d)
		if !waitUntil(context.Background(), at, timer, fine) {
			t.Fatalf("%v: waitUntil gave up without a cancel", d)
		}
		if now := time.Now(); now.Before(at) {
			t.Fatalf("%v: returned %v before the time", d, at.Sub(now))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if waitUntil(ctx, time.Now().Add(time.Hour), timer, fine) {
		t.Fatal("waitUntil waited out an hour on a cancelled context")
	}
}
