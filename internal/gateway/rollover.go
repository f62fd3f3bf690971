package gateway

import (
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
)

// storeSchedule is the sessions' daily reset and store retention from the
// configuration (gateway.seq_reset_time, gateway.store_retention_days).
func storeSchedule(cfg *venueConfig) (fixsession.StoreSchedule, error) {
	sc, err := fixsession.ParseResetTime(cfg.SeqResetTime)
	if err != nil {
		return sc, err
	}
	sc.Retention = time.Duration(cfg.StoreRetentionDays) * 24 * time.Hour
	return sc, nil
}

// runRollover applies the daily reset at its time until stop closes: every
// logged-off session rolls over at once; a logged-on one is logged out and
// rolls over when it logs on again (fixsession.Session.RollOver).
func (g *Gateway) runRollover(stop <-chan struct{}) {
	if !g.schedule.Daily {
		return
	}
	for {
		next := g.schedule.NextReset(time.Now())
		t := time.NewTimer(time.Until(next) + time.Second)
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
		now := time.Now()
		rolled := 0
		for fs := range g.byFS {
			ok, err := fs.RollOver(now)
			if err != nil {
				g.log.Error().Err(err).Str("session", fs.ID().String()).Msg("FIX store rollover failed")
			}
			if ok {
				rolled++
			}
		}
		g.log.Info().Int("rolled", rolled).Int("sessions", len(g.byFS)).Time("reset", next).
			Msg("daily FIX sequence reset: logged-off sessions start again at 1, logged-on ones are logged out first")
	}
}
