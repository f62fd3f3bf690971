package gateway

import (
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/matching"
)

// TestExpireDateInVenueTime: ExpireDate (432) is read in the schedule's time
// zone and ends with that date's trading day: in Tokyo (UTC+9), with
// post-close at 15:30, 20261203 ends at 06:30 UTC, not at the end of the
// UTC date.
func TestExpireDateInVenueTime(t *testing.T) {
	n, cfg := alphaNormalizer(t)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	sched := &config.Schedule{Location: tokyo, Steps: []config.Step{
		{At: 9 * time.Hour, Phase: matching.PhaseContinuous},
		{At: 15*time.Hour + 30*time.Minute, Phase: matching.PhasePostClose},
	}}
	for d := time.Monday; d <= time.Friday; d++ {
		sched.TradingDays[d] = true
	}
	withSched := *cfg
	withSched.Schedule = sched
	n.cfg = &withSched
	fields := []string{"35=D", "11=g1", "55=AAPL", "54=1", "38=10", "40=2", "44=100", "59=6", "432=20261203"}
	req, rej, merr := n.normalize(build(t, fields...), 'D')
	if rej != nil || merr != nil {
		t.Fatalf("rejected: %v %v", rej, merr)
	}
	if want := time.Date(2026, 12, 3, 6, 30, 0, 0, time.UTC); req.ExpireNs != want.UnixNano() {
		t.Fatalf("expires at %s, want %s", time.Unix(0, req.ExpireNs).UTC(), want)
	}
}
