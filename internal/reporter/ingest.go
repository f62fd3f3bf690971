package reporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// Config is what a Reporter needs.
type Config struct {
	// Venue is the reference data the journal was written with.
	Venue *refdata.Registry
	// DataDir is the venue's data folder (journal/, snapshots/).
	DataDir string
	// DB is where history goes.
	DB OpenOptions
	// BatchCommands is the most journal commands one transaction covers
	// (default 50 000).
	BatchCommands int
	// BatchDelay is the longest a command waits for its batch to commit
	// while the journal grows (default 200ms).
	BatchDelay time.Duration
	// Poll is how often the reporter looks for new records once it has
	// caught up (default 50ms).
	Poll time.Duration
	Log  zerolog.Logger
	// OnCommit, when set, is called after each commit with the last seq it
	// covers and the sequencer times of its first and last command (for
	// measuring how long history takes to become visible). It runs on the
	// committing goroutine and must be quick.
	OnCommit func(seq uint64, firstNs, lastNs int64)
}

func (c *Config) defaults() error {
	if c.Venue == nil {
		return errors.New("reporter: no venue configuration")
	}
	if c.DataDir == "" {
		return errors.New("reporter: no data folder")
	}
	if c.DB.DSN == "" && c.DB.Path == "" {
		c.DB.Path = DefaultPath(c.DataDir)
	}
	if c.BatchCommands <= 0 {
		c.BatchCommands = 50_000
	}
	if c.BatchDelay <= 0 {
		c.BatchDelay = 200 * time.Millisecond
	}
	if c.Poll <= 0 {
		c.Poll = 50 * time.Millisecond
	}
	return nil
}

// Reporter follows one venue's journal into one database. Run it in one
// goroutine; Stats may be read from any.
type Reporter struct {
	cfg  Config
	db   *DB
	lock writerLock // this reporter is the database's one writer (writerlock.go)
	fol  *pipeline.Follower
	w    interface {
		commit(context.Context, []*rows, Position) error
		close()
	}
	b       *batcher
	bulk    bool      // the secondary indexes are dropped until caught up (bulk.go)
	pending int       // commands in the open batch
	opened  time.Time // when the open batch got its first command
	// The previous batch commits in its own goroutine while the next one
	// is replayed (at most one in flight, so batches commit in order).
	flight *flight
	spare  *batcher

	appliedSeq  atomic.Uint64 // last command committed
	appliedNs   atomic.Int64  // its sequencer time
	commitLagNs atomic.Int64  // at the last commit: commit time - that command's time
	records     atomic.Uint64
	commits     atomic.Uint64
}

// Stats are the reporter's counters.
type Stats struct {
	// AppliedSeq is the last journal command whose rows are committed.
	AppliedSeq uint64
	// AppliedTimeNs is that command's sequencer time.
	AppliedTimeNs int64
	// CommitLag is, at the last commit, how long after its sequencer stamp
	// the newest committed command became visible in the database.
	CommitLag time.Duration
	// Records is the commands ingested since start; Commits the transactions.
	Records, Commits uint64
}

// Stats returns the counters. It may be called from any goroutine.
func (r *Reporter) Stats() Stats {
	return Stats{AppliedSeq: r.appliedSeq.Load(), AppliedTimeNs: r.appliedNs.Load(), CommitLag: time.Duration(r.commitLagNs.Load()),
		Records: r.records.Load(), Commits: r.commits.Load()}
}

// DB is the reporter's database (for the data service beside it).
func (r *Reporter) DB() *DB { return r.db }

// VenueError says that a database holds the history of another journal.
type VenueError struct {
	DB, Dir string
	Reason  string
}

func (e *VenueError) Error() string {
	return fmt.Sprintf("reporter database %s was filled from another venue's journal than %s: %s", e.DB, e.Dir, e.Reason)
}

// Open opens (and migrates) the database, checks that it belongs to this
// venue and journal, and rebuilds the replay state at the database's
// position, ready to Run.
func Open(ctx context.Context, cfg Config) (*Reporter, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	db, err := OpenDB(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	lock, err := db.acquireWriterLock(ctx, cfg.DB.Path, cfg.Log)
	if err != nil {
		db.Close()
		return nil, err
	}
	carry := &carried{book: map[posKey]*basis{}}
	r := &Reporter{cfg: cfg, db: db, lock: lock, b: newBatcher(cfg.Venue, db.d, carry), spare: newBatcher(cfg.Venue, db.d, carry)}
	fail := func(err error) (*Reporter, error) {
		db.Close()
		lock.release()
		return nil, err
	}
	if err := r.checkVenue(ctx); err != nil {
		return fail(err)
	}
	pos, err := db.Position(ctx)
	if err != nil {
		return fail(err)
	}
	fol, err := pipeline.NewFollower(cfg.Venue, cfg.DataDir, pos.Seq, cfg.Log)
	if err != nil {
		if pos.Seq > 0 && strings.Contains(err.Error(), "ends at seq") {
			return fail(&VenueError{DB: db.where, Dir: cfg.DataDir, Reason: fmt.Sprintf("the database has history up to seq %d, the journal ends before it (%v)", pos.Seq, err)})
		}
		return fail(fmt.Errorf("reporter: journal of %s: %w", cfg.DataDir, err))
	}
	if st := fol.State(); pos.Seq > 0 && (st.Hasher.Sum() != pos.EventHash || st.Engine.OutSeq() != pos.OutSeq) {
		fol.Close()
		return fail(&VenueError{DB: db.where, Dir: cfg.DataDir, Reason: fmt.Sprintf(
			"at seq %d the database recorded event hash %#016x (out seq %d), replaying the journal gives %#016x (out seq %d)",
			pos.Seq, pos.EventHash, pos.OutSeq, st.Hasher.Sum(), st.Engine.OutSeq())})
	}
	r.fol = fol
	if err := r.loadBasis(ctx, pos); err != nil {
		fol.Close()
		return fail(err)
	}
	if notes := fol.State().Manager.OperatorNotes(1); pos.Seq > 0 && len(notes) == 1 && notes[0].Seq == pos.Seq && deferredNote(notes[0].Action) {
		// The last batch ended between a change of limits' or a listing's
		// note and its command: record the action at the next command, as
		// without the stop.
		carry.limitsNote = &notes[0]
	}
	r.appliedSeq.Store(pos.Seq)
	r.appliedNs.Store(pos.LastTimeNs)
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		fol.Close()
		return fail(err)
	}
	if err := r.startBulk(ctx, pos); err != nil {
		conn.Close()
		fol.Close()
		return fail(err)
	}
	if db.d == dialectPostgres {
		r.w = &pgWriter{db: db, conn: conn}
	} else {
		r.w = &sqliteWriter{db: db, conn: conn}
	}
	return r, nil
}

// Close releases the journal and the database.
func (r *Reporter) Close() error {
	if r.fol != nil {
		r.fol.Close()
	}
	if r.w != nil {
		r.w.close()
	}
	err := r.db.Close()
	r.lock.release()
	return err
}

// Run follows the journal until ctx is done, committing a batch when it
// holds BatchCommands commands, when it is BatchDelay old, when the day
// changes, and whenever it has caught up with the journal. It returns nil
// when ctx ends, or the first error (the database's rows stay those of the
// last committed batch).
func (r *Reporter) Run(ctx context.Context) error {
	return r.run(ctx, false)
}

// CatchUp ingests what the journal holds now and returns once it is
// committed.
func (r *Reporter) CatchUp(ctx context.Context) error {
	return r.run(ctx, true)
}

func (r *Reporter) run(ctx context.Context, once bool) (err error) {
	defer func() {
		if werr := r.wait(); err == nil {
			err = werr
		}
	}()
	tick := time.NewTimer(r.cfg.Poll)
	defer tick.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return nil
		}
		cmd, evs, reps, err := r.fol.Next()
		if errors.Is(err, io.EOF) {
			// Caught up: what is read becomes visible now.
			if err := r.commit(ctx); err != nil {
				return err
			}
			if err := r.wait(); err != nil {
				return err
			}
			if err := r.endBulk(ctx); err != nil {
				return err
			}
			if once {
				return nil
			}
			tick.Reset(r.cfg.Poll)
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("reporter: %w", err)
		}
		day := cmd.TimeNs / nsPerDay
		if r.pending > 0 && day != r.b.dayNum {
			// A statement is the state at the end of its day: the new day
			// starts a new batch.
			if err := r.commit(ctx); err != nil {
				return err
			}
		}
		if r.pending == 0 {
			r.opened = time.Now()
		}
		r.b.setDay(day)
		r.b.add(r.fol.State(), cmd, evs, reps)
		r.pending++
		if r.pending >= r.cfg.BatchCommands || (r.pending&1023 == 0 && time.Since(r.opened) >= r.cfg.BatchDelay) {
			if err := r.commit(ctx); err != nil {
				return err
			}
		}
	}
}

// flight is a batch being committed.
type flight struct {
	b    *batcher
	pos  Position
	n    int
	done chan error
}

// commit hands the open batch and the position after it to a goroutine
// that writes them in one transaction, once the previous batch is
// committed; the next batch fills meanwhile.
func (r *Reporter) commit(ctx context.Context) error {
	if r.pending == 0 {
		return nil
	}
	if err := r.wait(); err != nil {
		return err
	}
	st := r.fol.State()
	f := &flight{b: r.b, n: r.pending, done: make(chan error, 1),
		pos: Position{Seq: st.Seq, EventHash: st.Hasher.Sum(), OutSeq: st.Engine.OutSeq(), LastTimeNs: r.b.lastNs}}
	r.flight = f
	r.b, r.spare = r.spare, nil
	r.b.reset()
	r.b.dayNum, r.b.day = f.b.dayNum, f.b.day
	r.pending = 0
	go func() {
		err := r.w.commit(ctx, f.b.flush(), f.pos)
		if err != nil {
			err = fmt.Errorf("reporter database %s: writing up to seq %d: %w", r.db.where, f.pos.Seq, err)
		} else {
			r.records.Add(uint64(f.n))
			r.commits.Add(1)
			r.appliedSeq.Store(f.pos.Seq)
			r.appliedNs.Store(f.pos.LastTimeNs)
			r.commitLagNs.Store(nowNs() - f.pos.LastTimeNs)
			if r.cfg.OnCommit != nil {
				r.cfg.OnCommit(f.pos.Seq, f.b.firstNs, f.pos.LastTimeNs)
			}
		}
		f.done <- err
	}()
	return nil
}

// wait waits for the batch in flight, if any, and takes its batcher back.
func (r *Reporter) wait() error {
	f := r.flight
	if f == nil {
		return nil
	}
	err := <-f.done
	r.flight = nil
	f.b.reset()
	r.spare = f.b
	return err
}

// checkVenue records the venue's symbols, accounts and currency in an empty
// database and refuses one whose symbols differ (another venue's
// configuration: ticks and lots would mean other things). Symbols listed at
// run time are added to the database by the batches that list them.
func (r *Reporter) checkVenue(ctx context.Context) error {
	v := r.cfg.Venue
	d := r.db.d
	rs, err := r.db.sql.QueryContext(ctx, `SELECT id, name, tick_size, lot_size FROM symbols ORDER BY id`)
	if err != nil {
		return fmt.Errorf("reporter database %s: %w", r.db.where, err)
	}
	n := 0
	for rs.Next() {
		var id int
		var name, tick, lot string
		if err := rs.Scan(&id, &name, &tick, &lot); err != nil {
			rs.Close()
			return err
		}
		s, ok := v.Symbol(matching.SymbolID(id))
		if id > len(v.Symbols) {
			// Listed at run time (a journaled listing the replay registers
			// again), not in the configuration file: checked if this
			// configuration has registered it already, not counted.
			if !ok {
				continue
			}
		} else {
			n++
		}
		if !ok || s.Name != name || s.TickSize.String() != tick || s.LotSize.String() != lot {
			rs.Close()
			return &VenueError{DB: r.db.where, Dir: r.cfg.DataDir, Reason: fmt.Sprintf("symbol %d is %s (tick %s, lot %s) in the database but not in the configuration", id, name, tick, lot)}
		}
	}
	rs.Close()
	if n > 0 && n != len(v.Symbols) {
		return &VenueError{DB: r.db.where, Dir: r.cfg.DataDir, Reason: fmt.Sprintf("the database has %d symbols, the configuration %d", n, len(v.Symbols))}
	}
	if n > 0 {
		return nil
	}
	tx, err := r.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO venue (id, currency, minor_units) VALUES (1, ?, ?)`), v.CurrencyCode, v.MinorUnits); err != nil {
		return fmt.Errorf("reporter database %s: venue: %w", r.db.where, err)
	}
	for _, s := range v.Symbols {
		if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO symbols (id, name, tick_size, lot_size) VALUES (?, ?, ?, ?)`), int64(s.ID), s.Name, s.TickSize.String(), s.LotSize.String()); err != nil {
			return fmt.Errorf("reporter database %s: symbols: %w", r.db.where, err)
		}
	}
	for _, a := range v.Accounts {
		firm := ""
		if f, ok := v.Firm(a.Firm); ok {
			firm = f.Name
		}
		if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO accounts (id, name, firm) VALUES (?, ?, ?)`), int64(a.ID), a.Name, firm); err != nil {
			return fmt.Errorf("reporter database %s: accounts: %w", r.db.where, err)
		}
	}
	return tx.Commit()
}

const nsPerDay = int64(24 * time.Hour)

func dayOf(ns int64) string { return time.Unix(0, ns).UTC().Format(time.DateOnly) }
