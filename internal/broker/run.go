package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/pace"
)

// Run logs every session on, sends the flow (the seeded model, or
// opts.Source) under the chosen load model until the flow ends, Duration
// passes, OrdersMax requests are sent or ctx is cancelled, waits up to
// DrainTimeout for the outstanding answers, logs out and returns the
// measurements. An error means the run could not start (bad options, logon
// failed) or the source failed; answers the exchange never gave are not an
// error but Result.Unanswered.
func Run(ctx context.Context, opts Options) (*Result, error) {
	opts.Sessions = append([]Session(nil), opts.Sessions...) // check fills defaults in place
	if err := opts.check(); err != nil {
		return nil, err
	}
	log := zerolog.Nop()
	if opts.Logger != nil {
		log = *opts.Logger
	}
	src := opts.Source
	if src == nil {
		names := make([]string, len(opts.Sessions))
		for i, s := range opts.Sessions {
			names[i] = s.SenderCompID
		}
		src = newFlow(opts.Seed, opts.Mix, names, opts.Symbols, opts.OrdersMax)
	}

	window := 0
	if opts.Mode == ModeClosed {
		window = opts.Window
	}
	prefix := clOrdIDPrefix()
	tr := newTracker(len(opts.Sessions), window, prefix)
	tr.onAck = opts.OnAck
	var tp transport
	var err error
	if opts.Engine == EngineQuickFIX {
		tp, err = startQuickfix(ctx, &opts, tr, log)
	} else {
		tp, err = startNative(ctx, &opts, tr, log)
	}
	if err != nil {
		return nil, err
	}
	defer tp.close()
	log.Info().Int("sessions", len(opts.Sessions)).Str("mode", opts.Mode.String()).Str("engine", opts.Engine).Msg("sending")

	s := &sender{opts: &opts, src: src, tr: tr, tp: tp, prefix: prefix, log: log,
		batches: make([]batch, len(opts.Sessions)), bySender: map[string]int{}, late: newHistogram()}
	for i, sess := range opts.Sessions {
		s.bySender[sess.SenderCompID] = i
	}
	start := time.Now()
	s.start = start

	var prog *progress
	if opts.Progress != nil {
		prog = newProgress(opts.Progress, tr, start)
		prog.startLoop()
	}
	sendErr := s.loop(ctx)
	if err := s.flush(); sendErr == nil {
		sendErr = err
	}
	sendEnd := time.Now()

	// Drain: wait for answers to what was sent.
	drainEnd := time.Now().Add(opts.DrainTimeout)
	for tr.outstanding() > 0 && time.Now().Before(drainEnd) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	if prog != nil {
		prog.stop()
	}
	res := tr.result(&opts, start, sendEnd)
	res.Unsent = s.unsent
	if s.late.TotalCount() > 0 {
		res.SendLate = s.late
	}
	res.Unanswered += s.unsent
	log.Info().Int64("sent", res.Sent).Int64("unanswered", res.Unanswered).Msg("done")
	if sendErr != nil {
		return res, sendErr
	}
	if err := res.writeFiles(&opts); err != nil {
		return res, err
	}
	return res, nil
}

// transport carries a run's requests over one FIX engine, its sessions
// already logged on.
type transport interface {
	// send sends the requests of session i's batch, in order. An error
	// ends the run.
	send(i int, b *batch) error
	// close logs every session out and stops the engine.
	close()
}

// batchRequestsMax bounds the requests the sender builds before it hands
// them to the transport: a batch costs the fixsession engine one lock and
// one wake-up of the writer, however many requests it holds.
const batchRequestsMax = 64

// batch is one session's requests built and not yet sent: their bodies
// back to back in one buffer, reused from batch to batch.
type batch struct {
	ends []int // body of request i is body[ends[i-1]:ends[i]]
	body []byte
	reqs []*request
}

func (b *batch) len() int { return len(b.reqs) }

// msg returns request i's MsgType and body.
func (b *batch) msg(i int) (string, []byte) {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return msgTypeOf(b.reqs[i].kind), b.body[start:b.ends[i]]
}

func (b *batch) reset() {
	clear(b.reqs) // let answered requests be collected
	b.ends, b.body, b.reqs = b.ends[:0], b.body[:0], b.reqs[:0]
}

// sender turns intents into FIX messages on one goroutine.
type sender struct {
	opts     *Options
	src      OrderSource
	tr       *tracker
	tp       transport
	batches  []batch // per session
	pending  int     // requests in batches
	bySender map[string]int
	prefix   string
	idBuf    []byte
	next     uint64
	unsent   int64 // scheduled but not sent because the exchange stalled
	log      zerolog.Logger
	start    time.Time
	paced    bool
	// late records, in open loop, how long after its scheduled time each
	// request was handed to the FIX engine: the load generator's own
	// lateness, which the ack latencies include.
	late *hdrhistogram.Histogram
}

// flush hands every session's batch to the transport.
func (s *sender) flush() error {
	if s.pending == 0 {
		return nil
	}
	s.pending = 0
	var now time.Time
	if s.paced {
		now = time.Now()
	}
	for i := range s.batches {
		b := &s.batches[i]
		if b.len() == 0 {
			continue
		}
		if s.paced {
			for _, r := range b.reqs {
				_ = s.late.RecordValue(max(int64(now.Sub(r.origin)), 1))
			}
		}
		err := s.tp.send(i, b)
		b.reset()
		if err != nil {
			return err
		}
	}
	return nil
}

// clOrdIDPrefix makes ClOrdIDs unique across runs against the same
// exchange (which refuses a duplicate ClOrdID), without touching the
// seeded flow: it only names the requests.
func clOrdIDPrefix() string {
	return strconv.FormatInt(time.Now().UnixMilli()%(36*36*36*36*36*36), 36)
}

// loop sends until the flow ends, the deadline or OrdersMax. It gives up
// when the exchange stops taking requests: in open loop when sending falls
// StallTimeout behind the schedule (the rest of the schedule is then counted
// as unsent), in closed loop when no answer frees a slot for StallTimeout.
func (s *sender) loop(ctx context.Context) error {
	o := s.opts
	var deadline time.Time
	if o.Duration > 0 {
		deadline = s.start.Add(o.Duration)
	}
	paced := o.Mode == ModeOpen && (o.Source == nil || !o.Pace.Max)
	s.paced = paced
	speed := o.Pace.Speed
	if speed == 0 {
		speed = 1
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	fine := pace.NewFine()
	defer fine.Close()
	var deadlineC <-chan time.Time // closed loop: stop waiting for a free slot at the deadline
	if !deadline.IsZero() {
		dt := time.NewTimer(time.Until(deadline))
		defer dt.Stop()
		deadlineC = dt.C
	}
	stalled := false
	for i := 0; o.OrdersMax == 0 || i < o.OrdersMax; i++ {
		in, err := s.src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var sched time.Time
		if paced {
			if o.Source == nil {
				sched = s.start.Add(time.Duration(float64(i) * float64(time.Second) / o.Rate))
			} else {
				sched = s.start.Add(time.Duration(float64(in.At) / speed))
			}
			if !deadline.IsZero() && !sched.Before(deadline) {
				return nil
			}
			if stalled {
				s.unsent++
				continue
			}
			if d := time.Until(sched); d > 0 {
				// Ahead of schedule: what is due goes out before the wait.
				if err := s.flush(); err != nil {
					return err
				}
				if !pace.Until(ctx, sched, timer, fine) {
					return nil
				}
			} else if -d > o.StallTimeout {
				s.log.Warn().Stringer("behind", -d).Msg("exchange not keeping up: sending stopped, the rest of the schedule counts as unanswered")
				stalled = true
				s.unsent++
				continue
			}
		} else if !deadline.IsZero() && !time.Now().Before(deadline) {
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		if s.tr.tokens != nil {
			select {
			case s.tr.tokens <- struct{}{}:
			default:
				// The window is full: send what waits, then wait for answers.
				if err := s.flush(); err != nil {
					return err
				}
				timer.Reset(o.StallTimeout)
				select {
				case s.tr.tokens <- struct{}{}:
				case <-ctx.Done():
					return nil
				case <-deadlineC:
					return nil
				case <-timer.C:
					s.log.Warn().Stringer("silent", o.StallTimeout).Msg("no answers: sending stopped")
					return nil
				}
			}
		}
		if err := s.send(&in, sched); err != nil {
			return err
		}
	}
	return nil
}

// send registers and sends one intent. sched is the latency origin in open
// loop; zero means "now", the actual send time.
func (s *sender) send(in *Intent, sched time.Time) error {
	si := 0
	if in.Session != "" {
		var ok bool
		if si, ok = s.bySender[in.Session]; !ok {
			s.release()
			return fmt.Errorf("broker: intent %s: unknown session %q", in.Ref, in.Session)
		}
	}
	s.next++
	s.idBuf = strconv.AppendUint(append(append(s.idBuf[:0], s.prefix...), '-'), s.next, 36)
	clOrdID := string(s.idBuf)
	var r *request
	if in.Kind == KindNew {
		// One allocation for the request, its order and room for the
		// order's first two requests (the new order and a cancel or
		// replace), which most chains never outgrow.
		ro := &struct {
			r    request
			o    order
			reqs [2]*request
		}{}
		r = &ro.r
		ref := in.Ref
		if ref == "" {
			ref = clOrdID
		}
		ro.o = order{ref: ref, session: si, clOrdID: clOrdID, symbol: in.Symbol, side: in.Side,
			typ: in.Type, tif: in.TIF, account: s.opts.Sessions[si].Account}
		ro.o.requests = ro.reqs[:0]
		if ro.o.typ == 0 {
			ro.o.typ = FIXLimit
		}
		r.order = &ro.o
	} else {
		r = &request{}
	}
	r.clOrdID, r.id, r.kind = clOrdID, s.next, in.Kind
	now := time.Now()
	r.origin = sched
	if sched.IsZero() {
		r.origin = now
	}
	orig, ok := s.tr.register(r, in.Ref)
	if !ok {
		// The order is done (filled, cancelled, rejected) or was never
		// sent: a broker would not ask, so neither do we.
		s.release()
		return nil
	}
	b := &s.batches[r.order.session]
	b.body = appendBody(b.body, in, r.order, clOrdID, orig, now)
	b.ends = append(b.ends, len(b.body))
	b.reqs = append(b.reqs, r)
	if s.pending++; s.pending >= batchRequestsMax {
		return s.flush()
	}
	return nil
}

// release returns the closed-loop token taken for an intent that was not sent.
func (s *sender) release() {
	if s.tr.tokens != nil {
		select {
		case <-s.tr.tokens:
		default:
		}
	}
}

func (r *Result) writeFiles(o *Options) error {
	write := func(path string, f func(io.Writer) error) error {
		if path == "" {
			return nil
		}
		fh, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("broker: %w", err)
		}
		if err := f(fh); err != nil {
			fh.Close()
			return fmt.Errorf("broker: write %s: %w", path, err)
		}
		return fh.Close()
	}
	if err := write(o.HgrmPath, r.WriteHgrm); err != nil {
		return err
	}
	return write(o.PlotPath, r.WritePlotSVG)
}
