// Package reporter is the reporting flow beside the trading flow: it follows
// the journal (the source of truth) as it grows, regenerates the engine's
// events and the order manager's reports by replaying it through
// pipeline.Follower (the same path as recovery and `exchange replay`), and
// writes orders, executions, trades, daily bars, end-of-day statements and
// operator actions to a database: SQLite (modernc.org/sqlite, pure Go) by
// default at DATA/reports.db, PostgreSQL (jackc/pgx) when given a DSN. It also
// answers queries on that history (the `exchange report` command and the
// /api/history/ endpoints).
//
// Exactly once: every batch of rows is written in one transaction together
// with the last journal sequence number it covers and the replay's running
// event hash at that number, so a crash at any point resumes after the last
// committed batch with no duplicate and no gap, and a database filled from
// another venue's journal is recognised and refused.
//
// It must not sit on the critical path: it reads the journal files, never the
// live pipeline, so a slow database only makes it lag. Its CPU, though, is
// taken from the same cores: as its own process (`exchange reporter --nice
// 19`, LowerPriority) it gets only the time the venue leaves.
//
// Beyond what replay hands it, the reporter derives two things itself, as
// replayed state carried from batch to batch: realized P&L by average cost
// (pnl.go; the cost basis is stored in cost_basis in each batch's
// transaction), and the operator actions, read from the order manager's
// journaled notes (batcher.operator). An empty SQLite database is filled
// without its secondary indexes, built once caught up (bulk.go).
package reporter
