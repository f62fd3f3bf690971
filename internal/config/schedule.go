package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/exchange-sim/exchange/internal/refdata"
)

// ScheduleFile is the YAML form of the trading calendar:
//
//	schedule:
//	  time_zone: Europe/Paris          # IANA name; default UTC
//	  trading_days: [mon, tue, wed, thu, fri]   # default Monday to Friday
//	  symbols: [AAPL]                  # default every symbol
//	  gtd_check: 1s                    # how often due GTD orders expire
//	  steps:
//	    - {at: "07:30", phase: pre_open}
//	    - {at: "09:00", phase: continuous}
//	    - {at: "17:30", phase: closing_call}
//	    - {at: "17:35", phase: post_close}
//	    - {at: "17:40", expire: true}    # DAY orders (and due GTD) expire
//	    - {at: "18:00", phase: closed}
type ScheduleFile struct {
	TimeZone    string        `yaml:"time_zone"`
	TradingDays []string      `yaml:"trading_days"`
	Symbols     []string      `yaml:"symbols"`
	GTDCheck    time.Duration `yaml:"gtd_check"`
	Steps       []StepFile    `yaml:"steps"`
}

// StepFile is one step of the calendar.
type StepFile struct {
	At     string `yaml:"at"`
	Phase  string `yaml:"phase"`
	Expire bool   `yaml:"expire"`
}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// schedule resolves the schedule section (nil: none).
func (r *resolver) schedule(f *ScheduleFile) (*refdata.Schedule, error) {
	if f == nil {
		return nil, nil
	}
	s := &refdata.Schedule{Location: time.UTC, GTDCheck: f.GTDCheck}
	if f.TimeZone != "" {
		loc, err := time.LoadLocation(f.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("schedule.time_zone: %q: %w", f.TimeZone, err)
		}
		s.Location = loc
	}
	if s.GTDCheck == 0 {
		s.GTDCheck = time.Second
	}
	if s.GTDCheck < 10*time.Millisecond {
		return nil, fmt.Errorf("schedule.gtd_check: %s is below 10ms", s.GTDCheck)
	}
	days := f.TradingDays
	if len(days) == 0 {
		days = []string{"mon", "tue", "wed", "thu", "fri"}
	}
	for i, d := range days {
		wd, ok := dayNames[strings.ToLower(d)]
		if !ok {
			return nil, fmt.Errorf("schedule.trading_days[%d]: %q is not a day (mon..sun)", i, d)
		}
		s.TradingDays[wd] = true
	}
	for i, name := range f.Symbols {
		id := r.symbolByName[name]
		if id == 0 {
			return nil, fmt.Errorf("schedule.symbols[%d]: unknown symbol %q", i, name)
		}
		s.Symbols = append(s.Symbols, id)
	}
	if len(f.Steps) == 0 {
		return nil, fmt.Errorf("schedule.steps: at least one step is required")
	}
	for i, st := range f.Steps {
		where := fmt.Sprintf("schedule.steps[%d]", i)
		t, err := time.Parse("15:04:05", st.At)
		if err != nil {
			if t, err = time.Parse("15:04", st.At); err != nil {
				return nil, fmt.Errorf("%s.at: %q is not a time of day (HH:MM or HH:MM:SS)", where, st.At)
			}
		}
		step := refdata.Step{At: time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second, Expire: st.Expire}
		if st.Expire == (st.Phase != "") {
			return nil, fmt.Errorf("%s: a step has either a phase or expire: true", where)
		}
		if !st.Expire {
			p, ok := refdata.PhaseNames[st.Phase]
			if !ok {
				return nil, fmt.Errorf("%s.phase: %q is not one of closed, pre_open, continuous, closing_call, post_close, opening_auction, closing_auction", where, st.Phase)
			}
			step.Phase = p
		}
		if i > 0 && step.At <= s.Steps[i-1].At {
			return nil, fmt.Errorf("%s.at: %s is not after the step before", where, st.At)
		}
		s.Steps = append(s.Steps, step)
	}
	return s, nil
}
