package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/bench"
	"github.com/exchange-sim/exchange/internal/broker"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/sequencer"
)

// soakOptions shape one soak run.
type soakOptions struct {
	Dir      string        // scratch folder; the venue's data folder goes inside
	Duration time.Duration // how long the broker sends
	Rate     float64       // orders/s offered, all sessions together, open loop
	Sessions int           // FIX sessions, each its own firm and account
	Every    time.Duration // time between samples
	// HeapProfiles, when set, is a folder for heap profiles at the half and
	// at the end (EXCHANGE_BENCH_SOAK_HEAP).
	HeapProfiles string
	// SnapshotEvery, when set, replaces journal.snapshot_every
	// (EXCHANGE_BENCH_SOAK_SNAPSHOT_EVERY; a large one takes none, to tell
	// the snapshots' share of the resident set from the rest).
	SnapshotEvery uint64
}

// soakResult is a soak's broker result, samples and the venue's log lines
// at warn level and above.
type soakResult struct {
	Broker    *broker.Result
	Samples   []bench.SoakSample
	Summary   bench.SoakSummary
	LogWarns  int      // venue log lines at warn or above
	LogFirst  []string // the first few of them
	CPU       time.Duration
	Duration  time.Duration
	RateOffer float64
	Sessions  int
	// SnapshotEvery is the venue's journal.snapshot_every.
	SnapshotEvery uint64
}

// benchSoak is the long run of the venue as a day would run it: journal
// durability batch, real FIX session stores in the data folder, 10 FIX
// sessions sending 10 k orders/s together, open loop, for --soak-duration
// (10 minutes; 30 s with --quick); a sample every 10 s of the process's RSS,
// live heap, goroutines and descriptors and of the journal's and session
// stores' bytes, printed to stderr as it goes. The target (issue 18): the
// resident set levels off (the last half within 5%) and the session stores
// stay a small multiple of the journal. The broker runs in the same process,
// so the RSS is the venue's and the broker's.
func benchSoak(b *benchRun) ([]benchRow, error) {
	dur := b.soakDuration
	if dur <= 0 {
		dur = 10 * time.Minute
		if b.quick {
			dur = 30 * time.Second
		}
	}
	every := 10 * time.Second
	if dur < time.Minute {
		every = max(dur/10, time.Second)
	}
	o := soakOptions{Dir: filepath.Join(b.tmp, "soak"), Duration: dur, Rate: 10_000, Sessions: 10, Every: every,
		HeapProfiles: os.Getenv("EXCHANGE_BENCH_SOAK_HEAP")}
	if env := os.Getenv("EXCHANGE_BENCH_SOAK_SNAPSHOT_EVERY"); env != "" {
		n, err := strconv.ParseUint(env, 10, 64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("EXCHANGE_BENCH_SOAK_SNAPSHOT_EVERY: %q is not a positive count of records", env)
		}
		o.SnapshotEvery = n
	}
	r, err := runSoak(o, b.stderr)
	if err != nil {
		return nil, err
	}
	return soakRows(r), nil
}

func runSoak(o soakOptions, stderr io.Writer) (*soakResult, error) {
	// API keys: the soak is not about logons.
	const key = "c29hay1rZXktdGhpcnR5LXR3by1yYW5kb20tYnl0ZXM"
	cfg, err := bench.SoakConfig(o.Sessions, refdata.APIKeyHashOf(key))
	if err != nil {
		return nil, err
	}
	cfg.DataDir = filepath.Join(o.Dir, "venue")
	cfg.Durability = sequencer.DurabilityBatch
	cfg.ListenFIX = freeAddr("127.0.0.1:0")
	cfg.ListenHTTP = "127.0.0.1:0"
	if o.SnapshotEvery > 0 {
		cfg.SnapshotEvery = o.SnapshotEvery
	}
	logs := &warnCounter{}
	var v *venue
	pprof.Do(context.Background(), pprof.Labels("side", "venue"), func(context.Context) {
		v, err = startVenue(cfg, venueOptions{}, zerolog.New(logs).Level(zerolog.WarnLevel))
	})
	if err != nil {
		return nil, err
	}
	defer v.stop()
	_, portStr, _ := net.SplitHostPort(cfg.ListenFIX)
	port, _ := strconv.Atoi(portStr)

	bo := broker.DefaultOptions()
	bo.Sessions = nil
	for i := 1; i <= o.Sessions; i++ {
		bo.Sessions = append(bo.Sessions, broker.Session{SenderCompID: fmt.Sprintf("SOAK%d", i), TargetCompID: cfg.TargetCompID,
			Username: fmt.Sprintf("s%d", i), Password: key})
	}
	bo.Port, bo.Symbols, bo.Seed, bo.Duration = port, brokerSymbols(cfg), 1, o.Duration
	bo.Mode, bo.Rate, bo.Window = broker.ModeOpen, o.Rate, 256

	res := &soakResult{RateOffer: o.Rate, Sessions: o.Sessions, Duration: o.Duration, SnapshotEvery: cfg.SnapshotEvery}
	sampler := bench.NewSoakSampler(cfg.DataDir)
	fmt.Fprintf(stderr, "running soak: %d sessions, %s orders/s open loop for %s, journal batch, a sample every %s...\n",
		o.Sessions, rateShort(o.Rate), o.Duration, o.Every)
	take := func() {
		s := sampler.Sample()
		res.Samples = append(res.Samples, s)
		fmt.Fprintln(stderr, s)
	}
	take()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(o.Every)
		defer t.Stop()
		halfDone := false
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				take()
				if !halfDone && time.Since(sampler.Start()) >= o.Duration/2 {
					halfDone = true
					writeHeapProfile(o.HeapProfiles, "heap-half.pprof", stderr)
				}
			}
		}
	}()
	c0 := bench.ProcessCPU()
	pprof.Do(context.Background(), pprof.Labels("side", "broker"), func(ctx context.Context) {
		res.Broker, err = broker.Run(ctx, bo)
	})
	res.CPU = bench.ProcessCPU() - c0
	close(stop)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("soak broker: %w", err)
	}
	take()
	writeHeapProfile(o.HeapProfiles, "heap-end.pprof", stderr)
	res.Summary = bench.SummarizeSoak(res.Samples)
	res.LogWarns, res.LogFirst = logs.counts()
	return res, nil
}

func soakRows(r *soakResult) []benchRow {
	br, s := r.Broker, r.Summary
	name := fmt.Sprintf("soak %s/s %s", rateShort(r.RateOffer), r.Duration)
	answered := br.Acked + br.Rejected
	var reasons []string
	for k, n := range br.RejectedByReason {
		reasons = append(reasons, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(reasons)
	if len(reasons) > 3 {
		reasons = append(reasons[:3], "...")
	}
	errs := fmt.Sprintf("%d venue log lines at warn or above", r.LogWarns)
	if len(r.LogFirst) > 0 {
		errs += " (first: " + strings.Join(r.LogFirst, " | ") + ")"
	}
	verdict := "levelled off (target: last half within 5%)"
	if s.RSSSpreadLastHalf > 0.05 {
		verdict = "NOT levelled off (target: last half within 5%)"
	}
	return []benchRow{
		{name: name + ": orders", ops: strconv.FormatInt(br.Sent, 10), rate: rateStr(br.Throughput, "orders/s"), lat: br.Ack,
			note: fmt.Sprintf("%d answered of %d sent at %s/s (%d rejected%s), %d unanswered, %d not sent, %d cancels/replaces skipped (order already done); %s; %d sessions, journal batch; process CPU %.2f cores%s",
				answered, br.Sent, rateShort(br.SendRate), br.Rejected, listNote(reasons), br.Unanswered, br.Unsent+br.NotSent, br.Skipped, errs, r.Sessions, r.CPU.Seconds()/r.Duration.Seconds(), lateNote(br.SendLate))},
		{name: name + ": RSS", ops: strconv.Itoa(len(r.Samples)), rate: "-",
			note: fmt.Sprintf("RSS first %.0f MB, at half %.0f MB, at end %.0f MB; last half %.0f..%.0f MB, spread %.1f%%: %s; live heap %.0f -> %.0f -> %.0f MB; goroutines %d -> %d; fds %d -> %d (venue and broker in one process)",
				mbF(s.First.RSS), mbF(s.Half.RSS), mbF(s.Last.RSS), mbF(s.RSSMinLastHalf), mbF(s.RSSMaxLastHalf), 100*s.RSSSpreadLastHalf, verdict,
				mbF(s.First.HeapLive), mbF(s.Half.HeapLive), mbF(s.Last.HeapLive), s.First.Goroutines, s.Last.Goroutines, s.First.FDs, s.Last.FDs)},
		{name: name + ": files", ops: "-", rate: "-",
			note: fmt.Sprintf("journal %.0f MB, FIX session stores %.0f MB (%.2fx the journal), other %.0f MB (snapshots, every %d records)",
				float64(s.Last.JournalBytes)/1e6, float64(s.Last.SessionBytes)/1e6, s.SessionPerJournal, float64(s.Last.OtherBytes)/1e6, r.SnapshotEvery)},
	}
}

func listNote(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return ": " + strings.Join(items, ", ")
}

func mbF(b uint64) float64 { return float64(b) / 1e6 }

func writeHeapProfile(dir, name string, stderr io.Writer) {
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "heap profile %s: %v\n", name, err)
	}
}

// warnCounter is the venue's log during a soak: it counts the lines (the
// logger passes only warn and above) and keeps the first few.
type warnCounter struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (w *warnCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	if len(w.first) < 3 {
		w.first = append(w.first, string(bytes.TrimSpace(p)))
	}
	return len(p), nil
}

func (w *warnCounter) counts() (int, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n, append([]string(nil), w.first...)
}
