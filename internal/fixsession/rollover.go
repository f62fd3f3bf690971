package fixsession

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StoreSchedule bounds a session's store in time: once a day, at ResetAt,
// both sequence numbers start again at 1 and the day's messages are set
// aside; the stores of earlier days are removed after Retention. The zero
// value never resets (the store grows until a reset by Logon or by the
// ResetOn settings).
type StoreSchedule struct {
	// Daily turns the daily reset on.
	Daily bool
	// ResetAt is the time of day of the reset, after midnight UTC.
	ResetAt time.Duration
	// Retention is how long an earlier day's store is kept after its day
	// ended (0: 7 days; negative: forever).
	Retention time.Duration
}

// ParseResetTime reads "HH:MM" (UTC) as a time of day; "never" or "" is no
// daily reset.
func ParseResetTime(s string) (StoreSchedule, error) {
	if s == "" || s == "never" {
		return StoreSchedule{}, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return StoreSchedule{}, fmt.Errorf("reset time %q: want HH:MM (UTC) or never", s)
	}
	return StoreSchedule{Daily: true, ResetAt: time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute}, nil
}

// lastReset is the latest daily reset at or before now.
func (sc StoreSchedule) lastReset(now time.Time) time.Time {
	now = now.UTC()
	t := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(sc.ResetAt)
	if t.After(now) {
		t = t.AddDate(0, 0, -1)
	}
	return t
}

// NextReset is the first daily reset after now (zero when there is none).
func (sc StoreSchedule) NextReset(now time.Time) time.Time {
	if !sc.Daily {
		return time.Time{}
	}
	return sc.lastReset(now).AddDate(0, 0, 1)
}

func (sc StoreSchedule) retention() time.Duration {
	if sc.Retention == 0 {
		return 7 * 24 * time.Hour
	}
	return sc.Retention
}

// The .day file holds when the current sequence began (Unix ns, little
// endian): the store of an earlier version has none and counts from when it
// is first opened.
const epochExt = ".day"

// archiveStamp names an earlier day's files: <name>.<stamp>.msgs.
const archiveStamp = "20060102T150405Z"

func (s *store) loadEpoch(now time.Time) error {
	b, err := os.ReadFile(s.name + epochExt)
	switch {
	case err == nil && len(b) == 8 && binary.LittleEndian.Uint64(b) != 0:
		s.epoch = int64(binary.LittleEndian.Uint64(b))
		return nil
	case err == nil || errors.Is(err, fs.ErrNotExist):
		s.epoch = now.UnixNano()
		return s.writeEpoch()
	default:
		return fmt.Errorf("fix store %s%s: %w", s.name, epochExt, err)
	}
}

func (s *store) writeEpoch() error {
	if s.name == "" {
		return nil
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(s.epoch))
	if err := os.WriteFile(s.name+epochExt, b[:], 0o644); err != nil {
		return fmt.Errorf("fix store: %w", err)
	}
	return nil
}

// rollDue reports whether a daily reset fell after the current sequence
// began.
func (s *store) rollDue(now time.Time) bool {
	return s.sched.Daily && s.epoch < s.sched.lastReset(now).UnixNano()
}

// rollIfDue rolls the store over when a daily reset is due: the day's
// messages move to <name>.<stamp>.msgs (stamp: the reset that ended the
// day), both sequence numbers start again at 1, and the files of days that
// ended more than the retention ago are removed. The session must not be
// connected (a counterparty would not know of the reset) and its writer
// must have nothing in flight.
func (s *store) rollIfDue(now time.Time) (bool, error) {
	if !s.rollDue(now) {
		return false, nil
	}
	ended := s.sched.lastReset(now)
	if s.msgF != nil && s.msgSize+int64(len(s.pending)) > 0 {
		// The day's file is renamed aside and a new one opened: no copy,
		// whatever the day's size. No writer holds the old file (the
		// session is not connected).
		if err := s.flushPending(); err != nil {
			return false, err
		}
		_ = s.msgF.Sync()
		if err := s.msgF.Close(); err != nil {
			return false, fmt.Errorf("fix store: %w", err)
		}
		s.msgF = nil
		if err := os.Rename(s.name+".msgs", s.name+"."+ended.Format(archiveStamp)+".msgs"); err != nil {
			return false, fmt.Errorf("fix store: %w", err)
		}
		f, err := os.OpenFile(s.name+".msgs", os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return false, fmt.Errorf("fix store: %w", err)
		}
		s.msgF = f
	}
	if err := s.reset(); err != nil {
		return false, err
	}
	s.epoch = now.UnixNano()
	if err := s.writeEpoch(); err != nil {
		return false, err
	}
	return true, s.removeExpired(now)
}

// flushPending writes what was saved but not taken (a session that is not
// connected has no writer to do it).
func (s *store) flushPending() error {
	var fb flushBatch
	s.take(&fb)
	if err := fb.write(); err != nil {
		return err
	}
	s.inflight = nil
	return nil
}

// removeExpired removes the earlier days' files whose day ended more than
// the retention before now.
func (s *store) removeExpired(now time.Time) error {
	ret := s.sched.retention()
	if s.name == "" || ret < 0 {
		return nil
	}
	files, err := filepath.Glob(s.name + ".*.msgs")
	if err != nil {
		return err
	}
	prefix := s.name + "."
	for _, f := range files {
		stamp := strings.TrimSuffix(strings.TrimPrefix(f, prefix), ".msgs")
		t, err := time.Parse(archiveStamp, stamp)
		if err != nil {
			continue // not one of ours
		}
		if now.Sub(t) > ret {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("fix store: %w", err)
			}
		}
	}
	return nil
}

// RollOver applies the session's daily reset when one is due (see
// StoreSchedule): a session that is logged off rolls over now; a logged-on
// one is sent a Logout saying why, and rolls over when it logs on again (or
// at the next call once it is gone). It reports whether the store rolled.
func (s *Session) RollOver(now time.Time) (bool, error) {
	s.mu.Lock()
	if !s.store.rollDue(now) {
		s.mu.Unlock()
		return false, nil
	}
	if s.conn != nil {
		s.mu.Unlock()
		return false, s.Logout("end of day: sequence numbers start again at 1; log on again")
	}
	defer s.mu.Unlock()
	return s.store.rollIfDue(now)
}
