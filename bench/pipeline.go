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
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/ordermanager"
	"github.com/exchange-sim/exchange/pipeline"
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
	// OpenVenue, when set, opens the venue instead of pipeline.Open (Dir and
	// Durability are then its business): a replicated venue, for example.
	OpenVenue func(cfg *config.Config, reports func([]ordermanager.Report)) (Venue, error)
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
func MixRequests(cfg *config.Config, cmds []matching.Command) ([]ordermanager.Request, error) {
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
		acc, ok := cfg.Account(c.Account)
		if !ok {
			return nil, fmt.Errorf("command %d: account %d is not configured", i, c.Account)
		}
		firm, _ := cfg.Firm(acc.Firm)
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
	reqs, err := MixRequests(cfg, all)
	if err != nil {
		return nil, err
	}
	nWarm := len(warm)
	all, warm, cmds = nil, nil, nil
	// Collect the generator's garbage now: a collection it triggers later
	// would run, and take a processor, during the measured run (the
	// pipeline itself allocates nothing per request).
	runtime.GC()
	// A cancel or replace may follow an earlier one of the same order that
	// is still in flight: the order manager chains it behind (up to
	// ordermanager.AmendsInFlightMax per order), so the submitter does not
	// wait for answers, only for room in the window.
	answered := make([]bool, len(reqs)) // under mu
	window := o.Window
	if window <= 0 {
		window = 4096
	}
	var (
		mu        sync.Mutex
		hist      = hdrhistogram.New(1, int64(10*time.Second), 3)
		service   *hdrhistogram.Histogram
		sentNs    []int64 // open loop: when each request was handed to Submit
		count     int
		lastNs    int64
		doneWarm  = make(chan struct{})
		doneAll   = make(chan struct{})
		warmLeft  = nWarm
		outstand  atomic.Int64
		measuredN = len(reqs) - nWarm
	)
	if o.Rate > 0 {
		service = hdrhistogram.New(1, int64(10*time.Second), 3)
		sentNs = make([]int64, len(reqs))
	}
	onReports := func(reps []ordermanager.Report) {
		now := time.Now().UnixNano()
		mu.Lock()
		defer mu.Unlock()
		for i := range reps {
			r := &reps[i]
			idx := clIndex(r.ClOrdID.Bytes())
			if idx < 0 || idx >= len(reqs) || answered[idx] {
				continue
			}
			answered[idx] = true
			outstand.Add(-1)
			if idx < nWarm {
				warmLeft--
				if warmLeft == 0 {
					close(doneWarm)
				}
				continue
			}
			_ = hist.RecordValue(max(now-r.RecvNs, 1))
			if service != nil {
				_ = service.RecordValue(max(now-sentNs[idx], 1))
			}
			count++
			lastNs = now
			if count == measuredN {
				close(doneAll)
			}
		}
	}
	var x Venue
	if o.OpenVenue != nil {
		x, err = o.OpenVenue(cfg, onReports)
	} else {
		x, _, err = pipeline.Open(pipeline.Options{Config: cfg, Dir: o.Dir, Durability: o.Durability,
			Log: zerolog.Nop(), Reports: onReports, SnapshotEvery: 1 << 62})
	}
	if err != nil {
		return nil, err
	}
	defer x.Close()
	// submit waits for room in the window and hands r to the venue, stamped
	// with due (its scheduled time), or with the time of the hand-off when
	// due is 0.
	late := hdrhistogram.New(1, int64(10*time.Second), 3)
	submit := func(i int, due int64) {
		for outstand.Load() >= int64(window) {
			runtime.Gosched()
		}
		r := &reqs[i]
		now := time.Now().UnixNano()
		r.RecvNs = now
		if due != 0 {
			sentNs[i] = now
			r.RecvNs = due
			_ = late.RecordValue(max(now-due, 1))
		}
		outstand.Add(1)
		for !x.Submit(r) {
			runtime.Gosched()
		}
	}
	for i := 0; i < nWarm; i++ {
		submit(i, 0)
	}
	select {
	case <-doneWarm:
	case <-time.After(60 * time.Second):
		return nil, errors.New("bench: warmup not answered within 60 s")
	}
	start := time.Now()
	if o.Rate <= 0 {
		for i := nWarm; i < len(reqs); i++ {
			submit(i, 0)
		}
	} else {
		// Open loop: request k is due at start + k/Rate and is stamped with
		// that time, so a stalled pipeline (or a sender that overslept)
		// shows in the latencies instead of hiding in a slower send rate.
		// The sender sleeps between bursts of due requests rather than
		// polling the clock: a polling sender keeps one of the machine's
		// processors to itself, which the stages (and the journal's fsync
		// under batch durability) then lack. A Go timer under a millisecond
		// can fire up to a millisecond late when every processor is idle,
		// so SendLate records how late each request was handed over: its
		// tail is the part of Latency's tail the sender itself added.
		interval := float64(time.Second) / o.Rate
		base := start.UnixNano()
		for i := nWarm; i < len(reqs); {
			t := time.Now().UnixNano()
			for ; i < len(reqs); i++ {
				due := base + int64(float64(i-nWarm)*interval)
				if due > t {
					break
				}
				submit(i, due)
			}
			if i < len(reqs) {
				time.Sleep(20 * time.Microsecond)
			}
		}
	}
	timeout := 60*time.Second + time.Duration(float64(len(reqs))/max(o.Rate, 1)*float64(time.Second))
	select {
	case <-doneAll:
	case <-time.After(timeout):
		mu.Lock()
		n := count
		mu.Unlock()
		return nil, fmt.Errorf("bench: only %d of %d requests answered", n, measuredN)
	}
	mu.Lock()
	defer mu.Unlock()
	res := &PipelineResult{Options: o, Answered: count, Latency: hist, Service: service}
	if sx, ok := x.(interface{ Stats() pipeline.Stats }); ok {
		res.Stats = sx.Stats()
	}
	if o.Rate > 0 {
		res.SendLate = late
	}
	res.Elapsed = time.Duration(lastNs - start.UnixNano())
	res.Throughput = float64(count) / res.Elapsed.Seconds()
	return res, nil
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
