package reporter

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema's versions, in order: migrations[i] takes a
// database from version i to i+1. A released migration is never edited; a
// change is a new entry. The SQL is the subset SQLite and PostgreSQL share.
//
// Units are the venue's own: prices in ticks, quantities in lots, money in
// the currency's minor units (symbols and the venue's currency say how to
// turn them into decimals). Times are Unix nanoseconds of the sequencer's
// stamp; days are UTC dates (YYYY-MM-DD).
var migrations = []string{
	// 1: the first schema.
	`CREATE TABLE reporter_state (
		id INTEGER PRIMARY KEY,
		last_seq BIGINT NOT NULL,
		event_hash BIGINT NOT NULL,
		out_seq BIGINT NOT NULL,
		last_time_ns BIGINT NOT NULL
	);
	CREATE TABLE venue (
		id INTEGER PRIMARY KEY,
		currency TEXT NOT NULL,
		minor_units INTEGER NOT NULL
	);
	CREATE TABLE symbols (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		tick_size TEXT NOT NULL,
		lot_size TEXT NOT NULL
	);
	CREATE TABLE accounts (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		firm TEXT NOT NULL
	);
	CREATE TABLE executions (
		seq BIGINT NOT NULL,
		exec_id BIGINT NOT NULL,
		time_ns BIGINT NOT NULL,
		exec_type TEXT NOT NULL,
		ord_status TEXT NOT NULL,
		order_id BIGINT NOT NULL,
		cl_ord_id TEXT NOT NULL,
		orig_cl_ord_id TEXT NOT NULL,
		account_id INTEGER NOT NULL,
		symbol_id INTEGER NOT NULL,
		side TEXT NOT NULL,
		ord_type TEXT NOT NULL,
		tif TEXT NOT NULL,
		price BIGINT NOT NULL,
		order_qty BIGINT NOT NULL,
		last_px BIGINT NOT NULL,
		last_qty BIGINT NOT NULL,
		cum_qty BIGINT NOT NULL,
		leaves_qty BIGINT NOT NULL,
		fee BIGINT NOT NULL,
		reject TEXT NOT NULL
	);
	CREATE INDEX executions_by_account ON executions (account_id, time_ns);
	CREATE TABLE trades (
		match_id BIGINT NOT NULL,
		seq BIGINT NOT NULL,
		out_seq BIGINT NOT NULL,
		time_ns BIGINT NOT NULL,
		symbol_id INTEGER NOT NULL,
		price BIGINT NOT NULL,
		qty BIGINT NOT NULL,
		aggressor TEXT NOT NULL,
		buy_order BIGINT NOT NULL,
		buy_account INTEGER NOT NULL,
		sell_order BIGINT NOT NULL,
		sell_account INTEGER NOT NULL,
		auction BOOLEAN NOT NULL
	);
	CREATE INDEX trades_by_symbol ON trades (symbol_id, time_ns);
	CREATE TABLE orders (
		order_id BIGINT PRIMARY KEY,
		cl_ord_id TEXT NOT NULL,
		account_id INTEGER NOT NULL,
		symbol_id INTEGER NOT NULL,
		side TEXT NOT NULL,
		ord_type TEXT NOT NULL,
		tif TEXT NOT NULL,
		price BIGINT NOT NULL,
		order_qty BIGINT NOT NULL,
		status TEXT NOT NULL,
		cum_qty BIGINT NOT NULL,
		leaves_qty BIGINT NOT NULL,
		cum_ticks_lots BIGINT NOT NULL,
		fees BIGINT NOT NULL,
		transitions BIGINT NOT NULL,
		created_ns BIGINT NOT NULL,
		updated_ns BIGINT NOT NULL
	);
	CREATE TABLE daily_bars (
		symbol_id INTEGER NOT NULL,
		day TEXT NOT NULL,
		open BIGINT NOT NULL,
		high BIGINT NOT NULL,
		low BIGINT NOT NULL,
		close BIGINT NOT NULL,
		volume BIGINT NOT NULL,
		notional BIGINT NOT NULL,
		trades BIGINT NOT NULL,
		first_ns BIGINT NOT NULL,
		last_ns BIGINT NOT NULL,
		PRIMARY KEY (symbol_id, day)
	);
	CREATE TABLE statements (
		day TEXT NOT NULL,
		account_id INTEGER NOT NULL,
		cash BIGINT NOT NULL,
		cash_reserved BIGINT NOT NULL,
		fees BIGINT NOT NULL,
		fills BIGINT NOT NULL,
		bought BIGINT NOT NULL,
		sold BIGINT NOT NULL,
		updated_ns BIGINT NOT NULL,
		PRIMARY KEY (day, account_id)
	);
	CREATE TABLE statement_positions (
		day TEXT NOT NULL,
		account_id INTEGER NOT NULL,
		symbol_id INTEGER NOT NULL,
		lots BIGINT NOT NULL,
		reserved_lots BIGINT NOT NULL,
		bought_lots BIGINT NOT NULL,
		sold_lots BIGINT NOT NULL,
		PRIMARY KEY (day, account_id, symbol_id)
	);
	CREATE TABLE operator_actions (
		seq BIGINT NOT NULL,
		time_ns BIGINT NOT NULL,
		who TEXT NOT NULL,
		action TEXT NOT NULL,
		reason TEXT NOT NULL,
		detail TEXT NOT NULL
	);`,
	// 2: the auction marker of fills, the operator action's target, realized
	// P&L in statements and the average-cost basis it is computed from
	// (pnl.go). A database filled by version 1 gets its cost basis rebuilt
	// from its executions when the reporter opens it (rebuildBasis).
	`ALTER TABLE executions ADD COLUMN auction BOOLEAN NOT NULL DEFAULT FALSE;
	ALTER TABLE operator_actions ADD COLUMN target TEXT NOT NULL DEFAULT '';
	ALTER TABLE statements ADD COLUMN realized_pnl BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE statement_positions ADD COLUMN realized_pnl BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE statement_positions ADD COLUMN cost BIGINT NOT NULL DEFAULT 0;
	CREATE TABLE cost_basis (
		account_id INTEGER NOT NULL,
		symbol_id INTEGER NOT NULL,
		lots BIGINT NOT NULL,
		cost BIGINT NOT NULL,
		realized_pnl BIGINT NOT NULL,
		PRIMARY KEY (account_id, symbol_id)
	);
	CREATE INDEX operator_actions_by_seq ON operator_actions (seq);`,
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

// SchemaError refuses a database whose schema is newer than this build's.
type SchemaError struct {
	Where string
	Found int
	Want  int
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("reporter database %s: schema version %d is newer than this build's version %d: use a newer exchange binary (or another database)", e.Where, e.Found, e.Want)
}

// migrate brings db up to SchemaVersion, one transaction per migration, and
// refuses a newer database. Two processes starting at once are serialised:
// PostgreSQL by an advisory lock, SQLite by its write lock taken when each
// transaction begins (_txlock=immediate), and each migration re-reads the
// version inside its transaction. With readOnly it only checks the version.
func migrate(ctx context.Context, db *sql.DB, where string, d dialect, readOnly bool) error {
	if readOnly {
		var found sql.NullInt64
		if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&found); err != nil {
			return fmt.Errorf("reporter database %s: not a reporter database (no schema version): %w", where, err)
		}
		switch v := int(found.Int64); {
		case v > len(migrations):
			return &SchemaError{Where: where, Found: v, Want: len(migrations)}
		case v < len(migrations):
			return fmt.Errorf("reporter database %s: schema version %d is older than this build's %d: run the reporter once to migrate it", where, v, len(migrations))
		}
		return nil
	}
	if d == dialectPostgres {
		conn, err := db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("reporter database %s: %w", where, err)
		}
		defer conn.Close()
		const lockKey = 0x6578636872657031 // "exchrep1"
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(lockKey)); err != nil {
			return fmt.Errorf("reporter database %s: taking the migration lock: %w", where, err)
		}
		defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(lockKey))
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ns BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("reporter database %s: creating schema_migrations: %w", where, err)
	}
	var found sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&found); err != nil {
		return fmt.Errorf("reporter database %s: reading the schema version: %w", where, err)
	}
	v := int(found.Int64)
	if v > len(migrations) {
		return &SchemaError{Where: where, Found: v, Want: len(migrations)}
	}
	for ; v < len(migrations); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("reporter database %s: %w", where, err)
		}
		var again sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&again); err != nil {
			tx.Rollback()
			return fmt.Errorf("reporter database %s: %w", where, err)
		}
		if int(again.Int64) > v {
			tx.Rollback() // another process migrated meanwhile
			v = int(again.Int64) - 1
			continue
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("reporter database %s: migration to version %d: %w", where, v+1, err)
		}
		if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO schema_migrations (version, applied_ns) VALUES (?, ?)`), v+1, nowNs()); err != nil {
			tx.Rollback()
			return fmt.Errorf("reporter database %s: migration to version %d: %w", where, v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("reporter database %s: migration to version %d: %w", where, v+1, err)
		}
	}
	return nil
}
