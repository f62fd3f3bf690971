package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/rs/zerolog"
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
		src = NewFlow(opts.Seed, opts.Mix, names, opts.Symbols, opts.OrdersMax)
	}

	// Each session connects through a relay of its own, which tells its
	// gate when the writer is free (gate.go).
	gates := make([]*gate, len(opts.Sessions))
	ports := make([]int, len(opts.Sessions))
	for i := range gates {
		gates[i] = newGate()
		r, err := startRelay(opts.Host, opts.Port, gates[i])
		if err != nil {
			return nil, fmt.Errorf("broker: relay: %w", err)
		}
		defer r.close()
		ports[i] = r.port()
	}
	st, ids, err := fixSettings(&opts, ports)
	if err != nil {
		return nil, err
	}
	window := 0
	if opts.Mode == ModeClosed {
		window = opts.Window
	}
	tr := newTracker(len(ids), window)
	a := newApp(&opts, ids, tr, log)
	var lf quickfix.LogFactory = quickfix.NewNullLogFactory()
	if opts.FIXLogging {
		lf = fixLogFactory{log.With().Str("component", "quickfix").Logger()}
	}
	gf := gatedLogFactory{inner: lf, gates: map[quickfix.SessionID]*gate{}}
	for i, id := range ids {
		gf.gates[id] = gates[i]
	}
	ini, err := quickfix.NewInitiator(a, storeFactory(&opts, st), st, gf)
	if err != nil {
		return nil, fmt.Errorf("broker: initiator: %w", err)
	}
	if err := ini.Start(); err != nil {
		return nil, fmt.Errorf("broker: initiator: %w", err)
	}
	defer ini.Stop()
	if err := a.waitLogon(opts.LogonTimeout, ctx.Done()); err != nil {
		return nil, err
	}
	// QuickFIX/Go calls OnLogon just before it moves the session to its
	// logged-on state; a message sent in between is queued instead of
	// written, and a queued message makes the session loop spin until the
	// writer drains it. A short grace keeps the first orders off that path.
	time.Sleep(logonGrace)
	log.Info().Int("sessions", len(ids)).Str("mode", opts.Mode.String()).Msg("sending")

	s := &sender{opts: &opts, src: src, tr: tr, ids: ids, gates: gates, stop: ctx.Done(), prefix: clOrdIDPrefix(), log: log}
	for i, sess := range opts.Sessions {
		if s.bySender == nil {
			s.bySender = map[string]int{}
		}
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

const logonGrace = 50 * time.Millisecond

// sender turns intents into FIX messages on one goroutine.
type sender struct {
	opts     *Options
	src      OrderSource
	tr       *tracker
	ids      []quickfix.SessionID
	gates    []*gate
	stop     <-chan struct{}
	bySender map[string]int
	prefix   string
	next     uint64
	unsent   int64 // scheduled but not sent because the exchange stalled
	log      zerolog.Logger
	start    time.Time
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
	speed := o.Pace.Speed
	if speed == 0 {
		speed = 1
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
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
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-ctx.Done():
					return nil
				}
			} else if -d > o.StallTimeout {
				s.log.Warn().Dur("behind", -d).Msg("exchange not keeping up: sending stopped, the rest of the schedule counts as unanswered")
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
				timer.Reset(o.StallTimeout)
				select {
				case s.tr.tokens <- struct{}{}:
				case <-ctx.Done():
					return nil
				case <-deadlineC:
					return nil
				case <-timer.C:
					s.log.Warn().Dur("silent", o.StallTimeout).Msg("no answers: sending stopped")
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
	clOrdID := s.prefix + "-" + strconv.FormatUint(s.next, 36)
	r := &request{clOrdID: clOrdID, kind: in.Kind}
	if in.Kind == KindNew {
		ref := in.Ref
		if ref == "" {
			ref = clOrdID
		}
		r.order = &order{ref: ref, session: si, clOrdID: clOrdID, symbol: in.Symbol, side: in.Side,
			typ: in.Type, tif: in.TIF, account: s.opts.Sessions[si].Account}
		if r.order.typ == 0 {
			r.order.typ = Limit
		}
	}
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
	m := buildMessage(in, r.order, clOrdID, orig, now)
	s.gates[r.order.session].acquire(s.stop)
	if err := quickfix.SendToTarget(m, s.ids[r.order.session]); err != nil {
		return fmt.Errorf("broker: send %s: %w", clOrdID, err)
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
