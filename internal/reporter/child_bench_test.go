package reporter

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/bench"
)

// runFollowChild is the reporter as its own process for the live
// benchmark: it waits for REPORTER_DATA's journal, lowers its priority to
// REPORTER_NICE, and follows the journal into REPORTER_DB until SIGTERM.
func runFollowChild() int {
	accounts, _ := strconv.Atoi(os.Getenv("REPORTER_ACCOUNTS"))
	cfg, err := bench.BenchConfig(accounts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer cancel()
	dir := os.Getenv("REPORTER_DATA")
	for {
		if _, err := os.Stat(filepath.Join(dir, "journal")); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(time.Millisecond):
		}
	}
	if nice, err := strconv.Atoi(os.Getenv("REPORTER_NICE")); err == nil && nice > 0 {
		if err := LowerPriority(nice); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	r, err := Open(ctx, Config{Venue: cfg.Registry, DataDir: dir, DB: OpenOptions{Path: os.Getenv("REPORTER_DB")}, Log: zerolog.Nop()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer r.Close()
	if err := r.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// childReporter is a follow child and a poller of its database's position
// that measures the lag the in-process OnCommit measures: for each commit
// seen, the age of the oldest command it made visible (bounded above by the
// previous position's time, so a slightly pessimistic figure).
type childReporter struct {
	cmd   *exec.Cmd
	db    string
	done  chan error
	stop  chan struct{}
	polls chan struct{}
	lags  []time.Duration
	pos   Position
}

func startChildReporter(dir string, accounts, nice int) (*childReporter, error) {
	db := filepath.Join(dir, "reports.db")
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), "REPORTER_CHILD=follow", "REPORTER_DATA="+dir, "REPORTER_DB="+db,
		"REPORTER_ACCOUNTS="+strconv.Itoa(accounts), "REPORTER_NICE="+strconv.Itoa(nice), "GOGC=400")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &childReporter{cmd: cmd, db: db, done: make(chan error, 1), stop: make(chan struct{}), polls: make(chan struct{})}
	go func() { c.done <- cmd.Wait() }()
	go func() {
		defer close(c.polls)
		var rdb *DB
		defer func() {
			if rdb != nil {
				rdb.Close()
			}
		}()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			if rdb == nil {
				d, err := OpenDB(context.Background(), OpenOptions{Path: db, ReadOnly: true})
				if err != nil {
					continue // not created or not migrated yet
				}
				rdb = d
			}
			p, err := rdb.Position(context.Background())
			if err != nil || p.Seq == c.pos.Seq {
				continue
			}
			from := c.pos.LastTimeNs
			if from == 0 {
				from = p.LastTimeNs
			}
			c.lags = append(c.lags, time.Since(time.Unix(0, from)))
			c.pos = p
		}
	}()
	return c, nil
}

// waitSeq waits until the child has committed seq (or the deadline).
func (c *childReporter) waitSeq(seq uint64, deadline time.Time) {
	for time.Now().Before(deadline) {
		d, err := OpenDB(context.Background(), OpenOptions{Path: c.db, ReadOnly: true})
		if err == nil {
			p, err := d.Position(context.Background())
			d.Close()
			if err == nil && p.Seq >= seq {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *childReporter) close() []time.Duration {
	close(c.stop)
	<-c.polls
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
	return c.lags
}
