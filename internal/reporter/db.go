package reporter

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// dialect is what differs between SQLite and PostgreSQL.
type dialect uint8

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

// rebind turns ? placeholders into $1, $2, ... for PostgreSQL. Queries here
// never hold a ? inside a string literal.
func (d dialect) rebind(q string) string {
	if d != dialectPostgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// greatest and least name the two-argument max and min.
func (d dialect) greatest() string {
	if d == dialectPostgres {
		return "GREATEST"
	}
	return "MAX"
}

func (d dialect) least() string {
	if d == dialectPostgres {
		return "LEAST"
	}
	return "MIN"
}

// DB is an open reporter database at the current schema version. Its
// methods may be called from several goroutines (database/sql's pool).
type DB struct {
	sql   *sql.DB
	d     dialect
	where string // for errors: a path, or the DSN without its password
}

// OpenOptions says which database to open.
type OpenOptions struct {
	// DSN, when set, is a PostgreSQL connection string (URL or key=value).
	DSN string
	// Path is the SQLite file used when DSN is empty.
	Path string
	// ConnectTimeout bounds the first connection (default 5s).
	ConnectTimeout time.Duration
	// ReadOnly checks the schema version but migrates nothing (for readers
	// beside the writer: reports, tests).
	ReadOnly bool
}

// DefaultPath is the SQLite file of data folder dir.
func DefaultPath(dir string) string { return filepath.Join(dir, "reports.db") }

// OpenDB connects, checks the schema version (refusing a newer one) and
// applies the missing migrations.
func OpenDB(ctx context.Context, o OpenOptions) (*DB, error) {
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	db := &DB{}
	if o.DSN != "" {
		pc, err := pgx.ParseConfig(o.DSN)
		if err != nil {
			return nil, fmt.Errorf("reporter database: DSN is not a PostgreSQL connection string: %w", err)
		}
		pc.ConnectTimeout = o.ConnectTimeout
		db.where = fmt.Sprintf("postgres://%s@%s:%d/%s", pc.User, pc.Host, pc.Port, pc.Database)
		db.d = dialectPostgres
		db.sql = stdlib.OpenDB(*pc)
		db.sql.SetMaxOpenConns(4)
	} else {
		if o.Path == "" {
			return nil, errors.New("reporter database: neither a DSN nor a SQLite path was given")
		}
		db.where = o.Path
		db.d = dialectSQLite
		// WAL lets readers (reports, the data service) run beside the writer;
		// synchronous=NORMAL keeps every committed batch across a process
		// crash (kill -9), which is the failure the exactly-once rule covers.
		dsn := "file:" + o.Path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(OFF)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)&_txlock=immediate"
		s, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("reporter database %s: %w", o.Path, err)
		}
		db.sql = s
		db.sql.SetMaxOpenConns(4)
	}
	pctx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
	defer cancel()
	if err := db.sql.PingContext(pctx); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("reporter database %s: cannot connect: %w", db.where, err)
	}
	if err := migrate(ctx, db.sql, db.where, db.d, o.ReadOnly); err != nil {
		db.sql.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() error { return db.sql.Close() }

// Where names the database for messages (a path or a DSN without password).
func (db *DB) Where() string { return db.where }

// Postgres reports whether db is a PostgreSQL database.
func (db *DB) Postgres() bool { return db.d == dialectPostgres }

// Position is where the database's history ends: the last journal command
// applied, the replay's running event hash and out seq after it, and that
// command's sequencer time.
type Position struct {
	Seq        uint64
	EventHash  uint64
	OutSeq     uint64
	LastTimeNs int64
}

// Position reads the committed position (zero for an empty database).
func (db *DB) Position(ctx context.Context) (Position, error) {
	var p Position
	var seq, hash, out int64
	err := db.sql.QueryRowContext(ctx, `SELECT last_seq, event_hash, out_seq, last_time_ns FROM reporter_state WHERE id = 1`).Scan(&seq, &hash, &out, &p.LastTimeNs)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("reporter database %s: reading the position: %w", db.where, err)
	}
	p.Seq, p.EventHash, p.OutSeq = uint64(seq), uint64(hash), uint64(out)
	return p, nil
}

func nowNs() int64 { return time.Now().UnixNano() }
