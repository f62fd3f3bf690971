package reporter

import (
	"context"
	"fmt"
	"time"
)

// Bulk ingestion. A SQLite database built from the start of a journal (an
// empty one) is filled without its secondary indexes, which are built once
// at the end of the catch-up (a sort) instead of row by row (a B-tree
// descent per row, into pages all over the index): the rows, and with them
// exactly-once, are the same either way. A reporter stopped during the bulk
// phase finds the indexes missing at its next start, with history in the
// database, and builds them before it goes on. Reports read beside a bulk
// catch-up run without the indexes, slowly.

// secondaryIndexes are the indexes that only serve queries (the history
// tables' keys stay). The definitions match the migrations'.
var secondaryIndexes = []struct{ name, def string }{
	{"executions_by_account", "executions (account_id, time_ns)"},
	{"trades_by_symbol", "trades (symbol_id, time_ns)"},
}

// startBulk drops the secondary indexes of an empty SQLite database, or
// makes sure a database with history has them.
func (r *Reporter) startBulk(ctx context.Context, pos Position) error {
	if r.db.d != dialectSQLite {
		return nil
	}
	if pos.Seq == 0 {
		for _, ix := range secondaryIndexes {
			if _, err := r.db.sql.ExecContext(ctx, "DROP INDEX IF EXISTS "+ix.name); err != nil {
				return fmt.Errorf("reporter database %s: %w", r.db.where, err)
			}
		}
		r.bulk = true
		return nil
	}
	return r.createIndexes(ctx)
}

// endBulk builds the indexes once the bulk catch-up has caught up.
func (r *Reporter) endBulk(ctx context.Context) error {
	if !r.bulk {
		return nil
	}
	start := time.Now()
	if err := r.createIndexes(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped: the next start builds them
		}
		return err
	}
	r.bulk = false
	r.cfg.Log.Info().Dur("took", time.Since(start)).Msg("reporter: caught up; indexes built")
	return nil
}

func (r *Reporter) createIndexes(ctx context.Context) error {
	for _, ix := range secondaryIndexes {
		if _, err := r.db.sql.ExecContext(ctx, "CREATE INDEX IF NOT EXISTS "+ix.name+" ON "+ix.def); err != nil {
			return fmt.Errorf("reporter database %s: building index %s: %w", r.db.where, ix.name, err)
		}
	}
	return nil
}
