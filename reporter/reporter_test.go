package reporter

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
)

func TestCatchUpSQLite(t *testing.T) {
	dir, vcfg := fixtureJournal(t, 20_000)
	cfg := Config{Venue: vcfg, DataDir: dir, DB: OpenOptions{Path: filepath.Join(t.TempDir(), "r.db")}, Log: zerolog.Nop()}
	r := catchUp(t, cfg)
	defer r.Close()
	st := r.Stats()
	t.Logf("stats %+v execs %d trades %d orders %d", st, count(t, r.db, "executions"), count(t, r.db, "trades"), count(t, r.db, "orders"))
	if st.AppliedSeq == 0 {
		t.Fatal("nothing applied")
	}
	_ = context.Background()
}
