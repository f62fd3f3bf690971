package reporter

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// One reporter writes a database at a time. Two would each read the same
// position and write the same rows (the second's transaction fails on the
// first's keys), which happens when serve restarts its reporter child while
// the old one is still finishing its last transaction, or when someone runs
// `exchange reporter` beside serve's. Open waits for the writer lock: a
// file lock beside a SQLite database (released by the kernel when its holder
// dies), a session-level advisory lock on PostgreSQL (released when its
// connection ends).
type writerLock interface{ release() }

// pgWriterLockKey is the advisory lock key of the reporter's writer.
const pgWriterLockKey = 0x65786368_7265706f // "exchrepo"

// lockRetry is how often Open tries the writer lock again while it waits.
const lockRetry = 100 * time.Millisecond

// acquireWriterLock waits for the writer lock of db until ctx ends, saying
// once in the log that it waits.
func (db *DB) acquireWriterLock(ctx context.Context, path string, log zerolog.Logger) (writerLock, error) {
	said := false
	for {
		var l writerLock
		var err error
		if db.d == dialectPostgres {
			l, err = db.tryPGLock(ctx)
		} else {
			l, err = tryFileLock(path + ".lock")
		}
		if err != nil || l != nil {
			return l, err
		}
		if !said {
			log.Warn().Str("database", db.where).Msg("another reporter is writing this database; waiting for it to stop")
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("reporter database %s: another reporter is writing it: %w", db.where, ctx.Err())
		case <-time.After(lockRetry):
		}
	}
}

type pgLock struct{ conn *sql.Conn }

func (l *pgLock) release() { l.conn.Close() }

// tryPGLock returns nil, nil when another session holds the lock.
func (db *DB) tryPGLock(ctx context.Context) (writerLock, error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("reporter database %s: %w", db.where, err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, int64(pgWriterLockKey)).Scan(&ok); err != nil {
		conn.Close()
		return nil, fmt.Errorf("reporter database %s: taking the writer lock: %w", db.where, err)
	}
	if !ok {
		conn.Close()
		return nil, nil
	}
	return &pgLock{conn: conn}, nil
}
