package pipeline

import (
	"sync"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// TestSchedulerLateStep: a step whose time passes while the scheduler is
// still busy with the one before (here 1 ns apart, as on a loaded machine
// a DAY expiry and the close of an accelerated day can be) is issued late,
// not skipped; one far in the past (the process was stopped) is skipped.
func TestSchedulerLateStep(t *testing.T) {
	t0 := time.Now().Add(20 * time.Millisecond)
	steps := []struct {
		at   time.Time
		step refdata.Step
	}{
		{t0.Add(-2 * stepLateMax), refdata.Step{Phase: matching.PhasePreOpen}}, // long past: skipped
		{t0, refdata.Step{Expire: true}},
		{t0.Add(time.Nanosecond), refdata.Step{Phase: matching.PhaseClosed}},
	}
	plan := func(after time.Time) (time.Time, refdata.Step, bool) {
		for _, s := range steps {
			if s.at.After(after) {
				return s.at, s.step, true
			}
		}
		return time.Time{}, refdata.Step{}, false
	}
	var mu sync.Mutex
	var got []ordermanager.Request
	done := make(chan struct{})
	s := StartScheduler(SchedulerOptions{
		Plan: plan,
		Submit: func(r *ordermanager.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, *r)
			if len(got) == 2 {
				close(done)
			}
			return true
		},
	})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	s.Stop()
	mu.Lock()
	defer mu.Unlock()
	want := []ordermanager.Request{{Kind: ordermanager.ReqExpire}, {Kind: ordermanager.ReqPhase, Phase: matching.PhaseClosed}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("issued %+v, want %+v", got, want)
	}
}
