package bench

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// PipelineOptions shapes a run of the in-process critical path: requests
// enter the order manager's queue (as the gateway would submit them) and are
// timed until their first execution report leaves the report goroutine (as
// the gateway would receive it). The journal is on disk.
// Venue is what RunPipeline drives: a pipeline.Exchange, or a replicated
// venue (a cluster's leader).
type Venue interface {
	Submit(req *ordermanager.Request) bool
	Close() error
}

type PipelineOptions struct {
	Dir        string // data folder (a fresh temporary folder)
	Durability sequencer.Durability
	Orders     int // measured requests (after a warmup that builds the book)
	// Rate offers requests open-loop at this many per second, latency taken
	// from each request's scheduled time (coordinated omission corrected);
	// 0 submits as fast as the window allows.
	Rate float64
	// Window bounds the requests in flight (default 4096).
	Window int
	Seed   int64
	// OpenVenue, when set, opens the venue of reference data ref instead of
	// pipeline.Open (Dir and Durability are then its business): a
	// replicated venue, for example.
	OpenVenue func(ref *refdata.Registry, reports func([]ordermanager.Report)) (Venue, error)
}

// PipelineResult is what a run measured.
type PipelineResult struct {
	Options  PipelineOptions
	Elapsed  time.Duration // first measured submit to the last first-report
	Answered int
	// Throughput is answered requests per second.
	Throughput float64
	// Latency is submit (or scheduled time) to first report, in ns.
	Latency *hdrhistogram.Histogram
	Stats   pipeline.Stats
	// SendLate, for an open-loop run, is how late each request was handed
	// to the venue after its scheduled time, in ns (window waits included).
	// Its tail bounds how much of Latency's tail the sender itself added.
	SendLate *hdrhistogram.Histogram
	// Service, for an open-loop run, is the time from each request's actual
	// hand-off to Submit to its first report, in ns: Latency without the
	// sender's lateness. It is not coordinated-omission corrected; Latency is
	// the figure to quote. (A closed-loop run stamps each request when it is
	// handed over, so there the two are the same; it records only Latency,
	// keeping the report callback as cheap as it can be.)
	Service *hdrhistogram.Histogram
}

// benchAccounts is the number of accounts (one firm and session each) the
// mix trades from.
const benchAccounts = 1000

// BenchConfig returns a configuration of one symbol and n funded accounts
// with limits that do not get in the way of the benchmark mix (no price band:
// the mix's random walk is its own).
func BenchConfig(n int) (*config.Config, error) {
	return config.Parse([]byte(BenchConfigYAML(n)), "bench configuration")
}

// BenchConfigYAML is BenchConfig's configuration file.
func BenchConfigYAML(n int) string {
	var b strings.Builder
	b.WriteString(`currency: {code: USD, minor_units: 2}
symbols:
  - {name: BENCH, tick_size: "0.01", lot_size: "1", reference_price: "10000.00"}
fees: {maker_bps: 1, taker_bps: 2}
risk_defaults:
  max_order_lots: 1000000
  max_order_notional: "1000000000000.00"
  price_band_bps: 0
  max_open_orders: 1000000
gateway: {queue_depth: 65536}
firms:
`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `  - name: F%d
    sessions: [{sender_comp_id: S%d, username: u%d, password_hash: "$2a$10$benchbenchbenchbenchbenchbenchbenchbenchbenchbenchbe"}]
    accounts: [{name: A%d, cash: "100000000000.00", holdings: {BENCH: "1000000000"}}]
`, i, i, i, i)
	}
	return b.String()
}

// MixRequests turns engine commands of the mix into the requests a gateway
// would submit: each gets ClOrdID "k<index>", cancels and moves name the
// order's current ClOrdID and carry its side, type and time in force (the
// engine commands leave them out). Order IDs line up because the order
// manager numbers accepted new orders in order, as the generator does.
func MixRequests(ref *refdata.Registry, cmds []matching.Command) ([]ordermanager.Request, error) {
	type live struct {
		cl   ordermanager.ClOrdID
		side matching.Side
		typ  matching.OrderType
		tif  matching.TimeInForce
	}
	cur := make(map[matching.OrderID]live, 4096)
	out := make([]ordermanager.Request, len(cmds))
	for i := range cmds {
		c := &cmds[i]
		cl, _ := ordermanager.MakeClOrdID("k" + strconv.Itoa(i))
		acc, ok := ref.Account(c.Account)
		if !ok {
			return nil, fmt.Errorf("command %d: account %d is not configured", i, c.Account)
		}
		firm, _ := ref.Firm(acc.Firm)
		r := ordermanager.Request{Session: firm.Sessions[0], Firm: acc.Firm, Account: c.Account, Symbol: c.Symbol,
			Side: c.Side, Type: c.Type, TIF: c.TIF, STP: c.STP, Price: c.Price, Qty: c.Qty, ClOrdID: cl}
		switch c.Kind {
		case matching.CmdNew:
			r.Kind = ordermanager.ReqNew
			cur[c.OrderID] = live{cl, c.Side, c.Type, c.TIF}
		case matching.CmdCancel, matching.CmdReplace:
			o := cur[c.OrderID]
			r.Kind = ordermanager.ReqCancel
			r.OrigClOrdID, r.OrderID, r.Side = o.cl, c.OrderID, o.side
			if c.Kind == matching.CmdReplace {
				r.Kind, r.Type, r.TIF = ordermanager.ReqReplace, o.typ, o.tif
				o.cl = cl
				cur[c.OrderID] = o
			}
		default:
			return nil, fmt.Errorf("command %d: kind %d not in the mix", i, c.Kind)
		}
		out[i] = r
	}
	return out, nil
}

// RunPipeline runs the exchange-core mix through the in-process pipeline.
func RunPipeline(o PipelineOptions) (*PipelineResult, error) {
	if o.Orders <= 0 {
		return nil, errors.New("bench: Orders must be positive")
	}
	cfg, err := BenchConfig(benchAccounts)
	if err != nil {
		return nil, err
	}
	warm, cmds := GenerateMix(o.Seed, o.Orders, benchAccounts)
	all := append(warm, cmds...)
	reqs, err := MixRequests(cfg.Registry, all)
	if err != nil {
		return nil, err
	}
	r := newPipelineRun(o, reqs, len(warm))
	all, warm, cmds = nil, nil, nil
	// Collect the generator's garbage now: a collection it triggers later
	// would run, and take a processor, during the measured run (the
	// pipeline itself allocates nothing per request).
	runtime.GC()
	if o.OpenVenue != nil {
		r.x, err = o.OpenVenue(cfg.Registry, r.onReports)
	} else {
		r.x, _, err = pipeline.Open(pipeline.Options{Ref: cfg.Registry, Dir: o.Dir, Durability: o.Durability,
			Log: zerolog.Nop(), Reports: r.onReports, SnapshotEvery: 1 << 62})
	}
	if err != nil {
		return nil, err
	}
	defer r.x.Close()
	for i := 0; i < r.nWarm; i++ {
		r.submit(i, 0)
	}
	select {
	case <-r.doneWarm:
	case <-time.After(60 * time.Second):
		return nil, errors.New("bench: warmup not answered within 60 s")
	}
	start := time.Now()
	if o.Rate <= 0 {
		for i := r.nWarm; i < len(reqs); i++ {
			r.submit(i, 0)
		}
	} else {
		r.submitOpenLoop(start)
	}
	timeout := 60*time.Second + time.Duration(float64(len(reqs))/max(o.Rate, 1)*float64(time.Second))
	select {
	case <-r.doneAll:
	case <-time.After(timeout):
		r.mu.Lock()
		n := r.count
		r.mu.Unlock()
		return nil, fmt.Errorf("bench: only %d of %d requests answered", n, r.measuredN)
	}
	return r.result(start), nil
}

// pipelineRun is one RunPipeline: the requests, the window of those in
// flight, and the histograms the answers fill.
//
// A cancel or replace may follow an earlier one of the same order that is
// still in flight: the order manager chains it behind (up to
// ordermanager.AmendsInFlightMax per order), so the submitter does not wait
// for answers, only for room in the window.
type pipelineRun struct {
	o         PipelineOptions
	x         Venue
	reqs      []ordermanager.Request
	nWarm     int
	measuredN int
	window    int64
	outstand  atomic.Int64
	late      *hdrhistogram.Histogram // open loop: how late each hand-off was
	doneWarm  chan struct{}
	doneAll   chan struct{}

	mu       sync.Mutex
	answered []bool
	hist     *hdrhistogram.Histogram
	service  *hdrhistogram.Histogram // open loop: from hand-off to answer
	sentNs   []int64                 // open loop: when each request was handed to Submit
	count    int
	lastNs   int64
	warmLeft int
}

func newPipelineRun(o PipelineOptions, reqs []ordermanager.Request, nWarm int) *pipelineRun {
	r := &pipelineRun{
		o: o, reqs: reqs, nWarm: nWarm, measuredN: len(reqs) - nWarm, window: int64(o.Window),
		late:     hdrhistogram.New(1, int64(10*time.Second), 3),
		doneWarm: make(chan struct{}), doneAll: make(chan struct{}),
		answered: make([]bool, len(reqs)),
		hist:     hdrhistogram.New(1, int64(10*time.Second), 3),
		warmLeft: nWarm,
	}
	if r.window <= 0 {
		r.window = 4096
	}
	if o.Rate > 0 {
		r.service = hdrhistogram.New(1, int64(10*time.Second), 3)
		r.sentNs = make([]int64, len(reqs))
	}
	return r
}

// onReports is the venue's report callback: the first answer to each request
// frees its place in the window and, after the warmup, is measured.
func (r *pipelineRun) onReports(reps []ordermanager.Report) {
	now := time.Now().UnixNano()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range reps {
		rep := &reps[i]
		idx := clIndex(rep.ClOrdID.Bytes())
		if idx < 0 || idx >= len(r.reqs) || r.answered[idx] {
			continue
		}
		r.answered[idx] = true
		r.outstand.Add(-1)
		if idx < r.nWarm {
			r.warmLeft--
			if r.warmLeft == 0 {
				close(r.doneWarm)
			}
			continue
		}
		_ = r.hist.RecordValue(max(now-rep.RecvNs, 1))
		if r.service != nil {
			_ = r.service.RecordValue(max(now-r.sentNs[idx], 1))
		}
		r.count++
		r.lastNs = now
		if r.count == r.measuredN {
			close(r.doneAll)
		}
	}
}

// submit waits for room in the window and hands request i to the venue,
// stamped with due (its scheduled time), or with the time of the hand-off
// when due is 0.
func (r *pipelineRun) submit(i int, due int64) {
	for r.outstand.Load() >= r.window {
		runtime.Gosched()
	}
	req := &r.reqs[i]
	now := time.Now().UnixNano()
	req.RecvNs = now
	if due != 0 {
		r.sentNs[i] = now
		req.RecvNs = due
		_ = r.late.RecordValue(max(now-due, 1))
	}
	r.outstand.Add(1)
	for !r.x.Submit(req) {
		runtime.Gosched()
	}
}

// submitOpenLoop sends the measured requests open loop: request k is due at
// start + k/Rate and is stamped with that time, so a stalled pipeline (or a
// sender that overslept) shows in the latencies instead of hiding in a slower
// send rate. The sender sleeps between bursts of due requests rather than
// polling the clock: a polling sender keeps one of the machine's processors
// to itself, which the stages (and the journal's fsync under batch
// durability) then lack. A Go timer under a millisecond can fire up to a
// millisecond late when every processor is idle, so SendLate records how late
// each request was handed over: its tail is the part of Latency's tail the
// sender itself added.
func (r *pipelineRun) submitOpenLoop(start time.Time) {
	interval := float64(time.Second) / r.o.Rate
	base := start.UnixNano()
	for i := r.nWarm; i < len(r.reqs); {
		t := time.Now().UnixNano()
		for ; i < len(r.reqs); i++ {
			due := base + int64(float64(i-r.nWarm)*interval)
			if due > t {
				break
			}
			r.submit(i, due)
		}
		if i < len(r.reqs) {
			time.Sleep(20 * time.Microsecond)
		}
	}
}

func (r *pipelineRun) result(start time.Time) *PipelineResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &PipelineResult{Options: r.o, Answered: r.count, Latency: r.hist, Service: r.service}
	if sx, ok := r.x.(interface{ Stats() pipeline.Stats }); ok {
		res.Stats = sx.Stats()
	}
	if r.o.Rate > 0 {
		res.SendLate = r.late
	}
	res.Elapsed = time.Duration(r.lastNs - start.UnixNano())
	res.Throughput = float64(r.count) / res.Elapsed.Seconds()
	return res
}

// clIndex parses "k<index>", or returns -1.
func clIndex(b []byte) int {
	if len(b) < 2 || b[0] != 'k' {
		return -1
	}
	n := 0
	for _, c := range b[1:] {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}
