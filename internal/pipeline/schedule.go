package pipeline

import (
	"sync"
	"time"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// Plan gives the first step of a trading calendar strictly after a time
// (ok false: none ever).
type Plan func(after time.Time) (at time.Time, step refdata.Step, ok bool)

// CalendarPlan is the plan of a configured schedule: on each trading day, in
// its time zone, its steps at their times of day (a step in a daylight-saving
// gap or overlap happens when time.Date puts it). O(steps) per call.
func CalendarPlan(s *refdata.Schedule) Plan {
	return func(after time.Time) (time.Time, refdata.Step, bool) {
		t := after.In(s.Location)
		y, m, d := t.Date()
		for i := 0; i < 8; i++ {
			day := time.Date(y, m, d+i, 0, 0, 0, 0, s.Location)
			if !s.TradingDays[day.Weekday()] {
				continue
			}
			for _, st := range s.Steps {
				h, mi, sec := int(st.At/time.Hour), int(st.At/time.Minute%60), int(st.At/time.Second%60)
				at := time.Date(y, m, d+i, h, mi, sec, 0, s.Location)
				if at.After(after) {
					return at, st, true
				}
			}
		}
		return time.Time{}, refdata.Step{}, false
	}
}

// AcceleratedDay is the plan of one trading day squeezed into length from
// start, as `exchange demo --day` runs it: pre-open call, opening auction and
// continuous trading at a tenth, closing call at 75%, closing auction and
// post-close at 85%, DAY expiry at 90%, closed at the end.
func AcceleratedDay(start time.Time, length time.Duration) Plan {
	frac := func(f float64) time.Time { return start.Add(time.Duration(float64(length) * f)) }
	steps := []struct {
		at   time.Time
		step refdata.Step
	}{
		{frac(0), refdata.Step{Phase: matching.PhasePreOpen}},
		{frac(0.10), refdata.Step{Phase: matching.PhaseContinuous}},
		{frac(0.75), refdata.Step{Phase: matching.PhaseClosingCall}},
		{frac(0.85), refdata.Step{Phase: matching.PhasePostClose}},
		{frac(0.90), refdata.Step{Expire: true}},
		{frac(1), refdata.Step{Phase: matching.PhaseClosed}},
	}
	return func(after time.Time) (time.Time, refdata.Step, bool) {
		for _, s := range steps {
			if s.at.After(after) {
				return s.at, s.step, true
			}
		}
		return time.Time{}, refdata.Step{}, false
	}
}

// stepLateMax is how late a step may still be issued (see Scheduler.run).
const stepLateMax = time.Minute

// SchedulerOptions configures a Scheduler.
type SchedulerOptions struct {
	Plan Plan
	// Symbols the plan applies to (empty: every symbol, as one command).
	Symbols []matching.SymbolID
	// GTDCheck is how often due GTD orders are expired (0: never).
	GTDCheck time.Duration
	// Submit queues a request (Exchange.Submit); Now is the clock (default
	// time.Now).
	Submit func(*ordermanager.Request) bool
	Now    func() time.Time
	// CatchUp, when set, re-issues at start the last phase step before now
	// that the plan would have given in the last day (so that a venue started
	// mid-session is in the session's phase).
	CatchUp bool
}

// Scheduler turns a trading calendar into phase and expiry requests. They
// go through the order manager and the sequencer like any request, so each
// becomes a journaled command stamped with the sequencer's time, and replay
// reproduces the day without the scheduler. The engine itself reads no
// clock; this goroutine is the only place the calendar meets one.
type Scheduler struct {
	o    SchedulerOptions
	quit chan struct{}
	done chan struct{}
	stop sync.Once
}

// StartScheduler starts the scheduler's goroutine.
func StartScheduler(o SchedulerOptions) *Scheduler {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Scheduler{o: o, quit: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s
}

// Stop ends the scheduler and waits for it. It may be called more than once.
func (s *Scheduler) Stop() {
	s.stop.Do(func() { close(s.quit) })
	<-s.done
}

func (s *Scheduler) run() {
	defer close(s.done)
	if s.o.CatchUp {
		now := s.o.Now()
		var last *refdata.Step
		for t := now.Add(-24 * time.Hour); ; {
			at, st, ok := s.o.Plan(t)
			if !ok || at.After(now) {
				break
			}
			if !st.Expire {
				last = &st
			}
			t = at
		}
		if last != nil {
			s.issue(*last)
		}
	}
	var gtd <-chan time.Time
	if s.o.GTDCheck > 0 {
		tk := time.NewTicker(s.o.GTDCheck)
		defer tk.Stop()
		gtd = tk.C
	}
	// next is where the plan is read from: the last step issued, not the
	// clock, so that a step whose time passed while the scheduler was late
	// (a loaded machine, two steps close together) is issued at once rather
	// than skipped; a step more than stepLateMax late (the process was
	// stopped) is skipped, as at start (CatchUp covers that).
	next := s.o.Now()
	if !s.o.CatchUp {
		// A plan handed over whole (the demo's accelerated day) is made a
		// moment before the scheduler starts: its steps up to stepLateMax
		// old are issued at once, in order, not skipped (the day's pre-open
		// was, and the symbols traded continuously until the "open").
		next = next.Add(-stepLateMax)
	}
	for {
		var fire <-chan time.Time
		var timer *time.Timer
		at, st, ok := s.o.Plan(next)
		if now := s.o.Now(); ok && now.Sub(at) > stepLateMax {
			next = now
			continue
		}
		if ok {
			timer = time.NewTimer(at.Sub(s.o.Now()))
			fire = timer.C
		}
		select {
		case <-s.quit:
			if timer != nil {
				timer.Stop()
			}
			return
		case <-gtd:
			s.send(ordermanager.Request{Kind: ordermanager.ReqExpireGTD})
		case <-fire:
			s.issue(st)
			next = at
			// Wait out the step's own instant, so that a clock that reads
			// the step's time again does not repeat it.
			for !s.o.Now().After(at) {
				time.Sleep(time.Millisecond)
			}
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// issue sends one step for every symbol of the plan.
func (s *Scheduler) issue(st refdata.Step) {
	req := ordermanager.Request{Kind: ordermanager.ReqPhase, Phase: st.Phase}
	if st.Expire {
		req = ordermanager.Request{Kind: ordermanager.ReqExpire}
	}
	if len(s.o.Symbols) == 0 {
		s.send(req)
		return
	}
	for _, sym := range s.o.Symbols {
		req.Symbol = sym
		s.send(req)
	}
}

// send submits req, retrying for a while when the queue is full: a step
// must not be lost to a burst of orders.
func (s *Scheduler) send(req ordermanager.Request) {
	for i := 0; i < 1000 && !s.o.Submit(&req); i++ {
		select {
		case <-s.quit:
			return
		case <-time.After(time.Millisecond):
		}
	}
}
