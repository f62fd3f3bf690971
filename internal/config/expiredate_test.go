package config

import (
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/refdata"
)

// TestExpireDateEnd: ExpireDate (432) is a date of the venue's calendar, in
// the schedule's time zone, and an order good till it expires at the end of
// that date's trading day; the cases are checked in UTC, where a UTC
// reading of the date would give the last nanosecond of the UTC date.
func TestExpireDateEnd(t *testing.T) {
	parse := func(schedule string) *refdata.Schedule {
		t.Helper()
		c, err := Parse(append(DefaultYAML(), schedule...), "test")
		if err != nil {
			t.Fatal(err)
		}
		return c.Schedule
	}
	ny := parse(`
schedule:
  time_zone: America/New_York
  steps:
    - {at: "09:00", phase: pre_open}
    - {at: "09:30", phase: continuous}
    - {at: "16:00", phase: closing_call}
    - {at: "16:05", phase: post_close}
    - {at: "16:10", expire: true}
    - {at: "20:00", phase: closed}
`)
	tokyo := parse(`
schedule:
  time_zone: Asia/Tokyo
  steps:
    - {at: "00:00", phase: closed}
    - {at: "08:00", phase: pre_open}
    - {at: "09:00", phase: continuous}
    - {at: "15:25", phase: closing_call}
    - {at: "15:30", phase: post_close}
`)
	onlyClosed := parse(`
schedule:
  time_zone: Asia/Kolkata
  steps:
    - {at: "00:00", phase: closed}
    - {at: "09:15", phase: continuous}
    - {at: "15:30", phase: closed}
`)
	noClose := parse(`
schedule:
  time_zone: Asia/Kolkata
  steps:
    - {at: "09:15", phase: continuous}
`)
	utc := func(y int, m time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, m, d, h, mi, s, ns, time.UTC)
	}
	for _, tc := range []struct {
		name string
		s    *refdata.Schedule
		date [3]int
		want time.Time
	}{
		{"New York, its DAY expiry step (EST, UTC-5)", ny, [3]int{2026, 12, 3}, utc(2026, 12, 3, 21, 10, 0, 0)},
		{"New York in daylight-saving time (EDT, UTC-4)", ny, [3]int{2026, 3, 9}, utc(2026, 3, 9, 20, 10, 0, 0)},
		{"New York, a Saturday: the end of the local date", ny, [3]int{2026, 12, 5}, utc(2026, 12, 6, 4, 59, 59, 999_999_999)},
		{"Tokyo, no expiry step: post-close (UTC+9)", tokyo, [3]int{2026, 12, 3}, utc(2026, 12, 3, 6, 30, 0, 0)},
		{"Tokyo, a Sunday", tokyo, [3]int{2026, 12, 6}, utc(2026, 12, 6, 14, 59, 59, 999_999_999)},
		{"Kolkata, closed after trading, not the midnight closed (UTC+5:30)", onlyClosed, [3]int{2026, 12, 3}, utc(2026, 12, 3, 10, 0, 0, 0)},
		{"Kolkata, trading never ends: the end of the local date", noClose, [3]int{2026, 12, 3}, utc(2026, 12, 3, 18, 29, 59, 999_999_999)},
		{"no schedule: a UTC date", nil, [3]int{2026, 12, 3}, utc(2026, 12, 3, 23, 59, 59, 999_999_999)},
	} {
		got := tc.s.ExpireDateEnd(tc.date[0], time.Month(tc.date[1]), tc.date[2])
		if !got.Equal(tc.want) {
			t.Errorf("%s: %v-%02d-%02d ends at %s, want %s", tc.name, tc.date[0], tc.date[1], tc.date[2], got.UTC(), tc.want)
		}
	}
}
