package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/reporter"
)

// The reporter beside serve runs, by default, as serve's own child process
// (`exchange reporter --nice N --parent-stdin`): in one process its
// goroutines would take the venue's cores through Go's scheduler, which has
// no priorities, and the closed-loop benchmark lost half of its throughput
// that way (BENCHMARKS.md, issue 16); a child at nice 19 gets only the CPU
// time the venue leaves. The child's stdin is a pipe from serve: when serve
// ends, even by kill -9, the child reads EOF and stops. A child that fails
// is started again after a back-off (1 s doubling to 30 s) while serve runs.
// Serve itself reads the database (read-only) for /api/history/ and the lag
// metrics.
type reporterChild struct {
	args  []string // after the executable
	dbo   reporter.OpenOptions
	start func(args []string) *exec.Cmd

	stopOnce sync.Once
	stopCh   chan struct{}
	done     chan struct{}
	running  atomic.Bool
	restarts atomic.Int64

	mu      sync.Mutex
	db      *reporter.DB // read-only, opened at first use
	lastErr error        // why the child last ended
}

// reporterCommand is how serve starts the reporter child: this very binary.
func reporterCommand(args []string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.Command(exe, args...)
}

// startReporterChild starts the child and its supervisor.
func (v *venue) startReporterChild(dir string, vo venueOptions) {
	args := []string{"reporter", "--data", dir, "--nice", fmt.Sprint(v.cfg.ReporterNice), "--parent-stdin"}
	if lvl := v.log.GetLevel(); lvl != zerolog.NoLevel && lvl != zerolog.TraceLevel {
		args = append(args, "--log-level", lvl.String()) // serve's own
	}
	if vo.configPath != "" {
		args = append(args, "--config", vo.configPath)
	}
	start := vo.reporterCmd
	if start == nil {
		start = reporterCommand
	}
	rc := &reporterChild{
		args:   args,
		dbo:    reporter.OpenOptions{DSN: v.cfg.ReporterDSN, Path: reporter.DefaultPath(dir), ReadOnly: true},
		start:  start,
		stopCh: make(chan struct{}),
		done:   make(chan struct{}),
	}
	v.repChild = rc
	go rc.supervise(v)
}

func (rc *reporterChild) supervise(v *venue) {
	defer close(rc.done)
	backoff := time.Second
	for {
		began := time.Now()
		err := rc.runOnce(v)
		select {
		case <-rc.stopCh:
			return
		default:
		}
		rc.mu.Lock()
		rc.lastErr = err
		rc.mu.Unlock()
		if time.Since(began) > time.Minute {
			backoff = time.Second
		}
		v.log.Error().Err(err).Stringer("restart_in", backoff).Msg("reporter process ended; trading goes on, history lags until it runs again")
		select {
		case <-rc.stopCh:
			return
		case <-time.After(backoff):
		}
		rc.restarts.Add(1)
		backoff = min(2*backoff, 30*time.Second)
	}
}

// runOnce runs the child until it ends or stop is asked for.
func (rc *reporterChild) runOnce(v *venue) error {
	cmd := rc.start(rc.args)
	cmd.Stdout = io.Discard
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the reporter process: %w", err)
	}
	rc.running.Store(true)
	v.log.Info().Int("pid", cmd.Process.Pid).Msg("reporter process started")
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	select {
	case err := <-ended:
		rc.running.Store(false)
		stdin.Close()
		if err == nil {
			err = errors.New("the reporter process exited")
		}
		return err
	case <-rc.stopCh:
		// Closing its stdin asks the child to stop after its current
		// transaction; it is killed if it has not within 10 s.
		stdin.Close()
		select {
		case <-ended:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-ended
		}
		rc.running.Store(false)
		return nil
	}
}

// stop ends the child and closes serve's read-only handle.
func (rc *reporterChild) stop() {
	rc.stopOnce.Do(func() { close(rc.stopCh) })
	<-rc.done
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.db != nil {
		rc.db.Close()
		rc.db = nil
	}
}

// historyDB is serve's read-only handle on the child's database, opened at
// first use (the child may not have created it yet).
func (rc *reporterChild) historyDB(ctx context.Context) (*reporter.DB, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.db != nil {
		return rc.db, nil
	}
	if rc.dbo.DSN == "" {
		if _, err := os.Stat(rc.dbo.Path); err != nil {
			return nil, errors.New("the reporter has not created its database yet")
		}
	}
	o := rc.dbo
	o.ConnectTimeout = 2 * time.Second
	db, err := reporter.OpenDB(ctx, o)
	if err != nil {
		return nil, err
	}
	rc.db = db
	return db, nil
}

func (rc *reporterChild) serveHistory(w http.ResponseWriter, r *http.Request) {
	db, err := rc.historyDB(r.Context())
	if err != nil {
		historyUnavailable(w, "history is not available yet: "+err.Error())
		return
	}
	db.Handler().ServeHTTP(w, r)
}

// writeMetrics adds the child's state and the database's position to
// /metrics.
func (rc *reporterChild) writeMetrics(bw *bufio.Writer, durableSeq uint64) {
	writeReporterUp(bw, rc.running.Load())
	fmt.Fprintf(bw, "# HELP exchange_reporter_restarts_total Times serve started its reporter process again after it ended.\n# TYPE exchange_reporter_restarts_total counter\nexchange_reporter_restarts_total %d\n", rc.restarts.Load())
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	db, err := rc.historyDB(ctx)
	if err != nil {
		return
	}
	pos, err := db.Position(ctx)
	if err != nil {
		return
	}
	writeReporterPosition(bw, durableSeq, pos.Seq, pos.LastTimeNs)
}

func metricGauge(bw *bufio.Writer, name, help string, val float64) {
	fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", name, help, name, name, val)
}
