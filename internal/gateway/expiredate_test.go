package gateway

import (
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/refdata"
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
	sched := &refdata.Schedule{Location: tokyo, Steps: []refdata.Step{
		{At: 9 * time.Hour, Phase: matching.PhaseContinuous},
		{At: 15*time.Hour + 30*time.Minute, Phase: matching.PhasePostClose},
	}}
	for d := time.Monday; d <= time.Friday; d++ {
		sched.TradingDays[d] = true
	}
	withSched := *n.cfg
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

	// The engine expires it with the GTD check at 06:30 UTC, not a second
	// before (a UTC reading of the date would keep it till midnight UTC).
	e := matching.New(matching.Config{Symbols: len(cfg.Symbols)})
	at := func(h, m, s int) int64 { return time.Date(2026, 12, 3, h, m, s, 0, time.UTC).UnixNano() }
	nw := matching.Command{Kind: matching.CmdNew, TimeNs: at(1, 0, 0), OrderID: 1, Account: 1, Symbol: req.Symbol,
		Side: req.Side, Type: req.Type, TIF: req.TIF, Price: req.Price, Qty: req.Qty, ExpireNs: req.ExpireNs}
	if out := e.Apply(&nw, nil); out[len(out)-1].Kind != matching.EvAdded {
		t.Fatalf("new GTD order: %+v", out)
	}
	for _, c := range []struct {
		ns      int64
		expired bool
	}{{at(6, 29, 59), false}, {at(6, 30, 0), true}} {
		x := matching.Command{Kind: matching.CmdExpireGTD, TimeNs: c.ns}
		e.Apply(&x, nil)
		if _, open := e.Order(1); open == c.expired {
			t.Fatalf("GTD check at %s: open %v", time.Unix(0, c.ns).UTC(), open)
		}
	}
}
