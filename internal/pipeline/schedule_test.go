package pipeline

import (
	"sync"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

func TestCalendarPlan(t *testing.T) {
	cfg, err := config.Parse(append(config.DefaultYAML(), `
schedule:
  time_zone: America/New_York
  trading_days: [mon, tue, wed, thu, fri]
  steps:
    - {at: "09:00", phase: pre_open}
    - {at: "09:30", phase: continuous}
    - {at: "16:00", phase: closing_call}
    - {at: "16:05", phase: post_close}
    - {at: "16:10", expire: true}
`...), "test")
	if err != nil {
		t.Fatal(err)
	}
	ny := cfg.Schedule.Location
	plan := CalendarPlan(cfg.Schedule)
	for _, tc := range []struct {
		after time.Time
		at    time.Time
		step  refdata.Step
	}{
		// Thursday 2026-12-03 08:00 New York: the pre-open the same day.
		{time.Date(2026, 12, 3, 8, 0, 0, 0, ny), time.Date(2026, 12, 3, 9, 0, 0, 0, ny), refdata.Step{At: 9 * time.Hour, Phase: matching.PhasePreOpen}},
		{time.Date(2026, 12, 3, 9, 30, 0, 0, ny), time.Date(2026, 12, 3, 16, 0, 0, 0, ny), refdata.Step{At: 16 * time.Hour, Phase: matching.PhaseClosingCall}},
		{time.Date(2026, 12, 3, 16, 5, 0, 0, ny), time.Date(2026, 12, 3, 16, 10, 0, 0, ny), refdata.Step{At: 16*time.Hour + 10*time.Minute, Expire: true}},
		// Friday evening: Monday's pre-open.
		{time.Date(2026, 12, 4, 17, 0, 0, 0, ny), time.Date(2026, 12, 7, 9, 0, 0, 0, ny), refdata.Step{At: 9 * time.Hour, Phase: matching.PhasePreOpen}},
	} {
		at, st, ok := plan(tc.after)
		if !ok || !at.Equal(tc.at) || st != tc.step {
			t.Errorf("after %s: %s %+v %v, want %s %+v", tc.after, at, st, ok, tc.at, tc.step)
		}
	}
	if _, err := config.Parse(append(config.DefaultYAML(), `
schedule: {steps: [{at: "10:00", phase: lunch}]}
`...), "test"); err == nil {
		t.Fatal("an unknown phase was accepted")
	}
}

// TestSchedulerIssuesSteps runs an accelerated day of 200ms and checks the
// requests the scheduler submits, in order.
func TestSchedulerIssuesSteps(t *testing.T) {
	t.Run("day ahead", func(t *testing.T) { testSchedulerIssuesSteps(t, time.Now().Add(20*time.Millisecond)) })
	// The demo makes its day a moment before the scheduler starts: the
	// pre-open is still issued, first.
	t.Run("day begun", func(t *testing.T) { testSchedulerIssuesSteps(t, time.Now().Add(-15*time.Millisecond)) })
}

func testSchedulerIssuesSteps(t *testing.T, start time.Time) {
	var mu sync.Mutex
	var got []ordermanager.Request
	s := StartScheduler(SchedulerOptions{
		Plan:    AcceleratedDay(start, 200*time.Millisecond),
		Symbols: []matching.SymbolID{2},
		Submit: func(r *ordermanager.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, *r)
			return true
		},
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Stop()
	want := []ordermanager.Request{
		{Kind: ordermanager.ReqPhase, Symbol: 2, Phase: matching.PhasePreOpen},
		{Kind: ordermanager.ReqPhase, Symbol: 2, Phase: matching.PhaseContinuous},
		{Kind: ordermanager.ReqPhase, Symbol: 2, Phase: matching.PhaseClosingCall},
		{Kind: ordermanager.ReqPhase, Symbol: 2, Phase: matching.PhasePostClose},
		{Kind: ordermanager.ReqExpire, Symbol: 2},
		{Kind: ordermanager.ReqPhase, Symbol: 2, Phase: matching.PhaseClosed},
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("got %d requests %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
