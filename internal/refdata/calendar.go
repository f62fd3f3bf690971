package refdata

import (
	"time"

	"github.com/exchange-sim/exchange/matching"
)

// Schedule is the resolved trading calendar: which days trade, in which
// time zone, which symbols follow it, and the steps of each trading day.
type Schedule struct {
	Location    *time.Location
	TradingDays [7]bool // by time.Weekday
	Symbols     []matching.SymbolID
	GTDCheck    time.Duration
	Steps       []Step // by time of day
}

// Step is one transition of the trading day: at At after local midnight the
// symbols move to Phase, or, with Expire, their DAY orders expire.
type Step struct {
	At     time.Duration
	Phase  matching.Phase
	Expire bool
}

// PhaseNames maps the configuration's phase names (matching.Phase's
// String) to the phases a schedule may set.
var PhaseNames = func() map[string]matching.Phase {
	m := map[string]matching.Phase{}
	for _, p := range []matching.Phase{matching.PhaseClosed, matching.PhasePreOpen, matching.PhaseOpeningAuction,
		matching.PhaseContinuous, matching.PhaseClosingCall, matching.PhaseClosingAuction, matching.PhasePostClose} {
		m[p.String()] = p
	}
	return m
}()

// ExpireDateEnd is when an order good till the local date y-m-d (FIX
// ExpireDate 432, a LocalMktDate: a date of the venue's calendar, not of
// UTC) expires: the end of that date's trading day in the schedule's time
// zone. On a trading day that is the time of the schedule's DAY expiry step
// (the order then expires with that day's DAY orders); without one, the
// time trading ends (the first step to post_close, else the first step to
// closed after the day's first step to another phase). On a day without
// trading, or with a schedule that never ends trading, it is the last
// nanosecond of the local date. With no schedule (s nil: continuous
// trading all day) the venue's dates are UTC dates. O(steps).
func (s *Schedule) ExpireDateEnd(y int, m time.Month, d int) time.Time {
	loc := time.UTC
	if s != nil {
		loc = s.Location
	}
	end := time.Date(y, m, d+1, 0, 0, 0, 0, loc).Add(-time.Nanosecond)
	if s == nil {
		return end
	}
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if !s.TradingDays[day.Weekday()] {
		return end
	}
	at, ok := s.dayEnd()
	if !ok {
		return end
	}
	h, mi, sec := int(at/time.Hour), int(at/time.Minute%60), int(at/time.Second%60)
	// time.Date puts a time of day in a daylight-saving gap or overlap where
	// CalendarPlan's steps are, so the order expires with them.
	return time.Date(y, m, d, h, mi, sec, 0, loc)
}

// dayEnd is the time of day a trading day ends (see ExpireDateEnd).
func (s *Schedule) dayEnd() (time.Duration, bool) {
	for _, st := range s.Steps {
		if st.Expire {
			return st.At, true
		}
	}
	for _, st := range s.Steps {
		if st.Phase == matching.PhasePostClose {
			return st.At, true
		}
	}
	opened := false
	for _, st := range s.Steps {
		switch {
		case st.Phase != matching.PhaseClosed:
			opened = true
		case opened:
			return st.At, true
		}
	}
	return 0, false
}
