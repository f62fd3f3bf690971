// Package pipeline is the running venue: it wires the order manager, the
// sequencer and the matching engine into the LMAX-style stages of ARCHITECTURE.md,
// each on its own goroutine with bounded queues between them, recovers their
// state from the journal on start, and takes snapshots. It holds no trading
// rules of its own.
//
//	gateway ──Submit──► [inbound queue] ──► order-manager goroutine ──TrySubmit──► sequencer (journal, group commit)
//	                                               ▲                                   │ durable batches
//	                                               │ event batches                     ▼
//	gateway ◄──Reports── report goroutine ◄────────┴───────────────── engine goroutine ──► market data
package pipeline

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// Publisher receives every batch of engine events on the engine goroutine. It
// must not block (market data copies into its own queue).
type Publisher interface {
	Publish(evs []matching.Event)
}

// Resyncer is a Publisher that can drop events when it falls behind; it is then
// Reset from the engine's books on the engine goroutine.
type Resyncer interface {
	NeedsResync() bool
	Reset(outSeq uint64, orders []matching.OrderInfo)
}

// appendOrders appends every resting order of eng, book by book, bids then
// asks, in priority order.
func appendOrders(eng *matching.Engine, out []matching.OrderInfo) []matching.OrderInfo {
	for s := 1; s <= eng.Symbols(); s++ {
		for _, side := range []matching.Side{matching.Buy, matching.Sell} {
			eng.Orders(matching.SymbolID(s), side, func(o matching.OrderInfo) bool {
				out = append(out, o)
				return true
			})
		}
	}
	return out
}

// Orders returns every resting order of the state's engine (for seeding market
// data at start-up).
func (s *State) Orders() []matching.OrderInfo { return appendOrders(s.Engine, nil) }

// Options configures Open. The venue's configuration file reaches it
// through cmd/exchange, which maps each setting onto these fields; a zero
// field takes the default given (the configuration file's default too).
type Options struct {
	// Ref is the venue's reference data (required): symbols, firms,
	// sessions, accounts. Symbols an operator lists are registered in it.
	Ref *refdata.Registry
	// Dir is the data folder: journal, snapshots (required).
	Dir string
	// Durability is the journal's fsync policy (default batch).
	Durability sequencer.Durability
	// SegmentBytes rotates journal segments (default 256 MiB).
	SegmentBytes int64
	// BatchRecordsMax bounds the commands of one group commit (default
	// RingItems/2).
	BatchRecordsMax int
	// BatchDelay, with durability batch, is how long a batch smaller than
	// BatchRecordsMax waits for more commands to share its fsync (default 0:
	// only those that arrived during the last fsync).
	BatchDelay time.Duration
	// QueueDepth bounds the requests waiting for the order manager, from
	// every session (default 65536).
	QueueDepth int
	// Clock stamps commands (Unix ns); default time.Now.
	Clock func() int64
	Log   zerolog.Logger
	// Publisher, when set, sees every engine event (market data).
	Publisher Publisher
	// Reports receives every batch of reports, in order and never two calls
	// at once: on the report goroutine while it has batches queued, or, when
	// it is idle, on the order manager's goroutine (one goroutine hand-off
	// less per order at low load). The slice is reused after the call
	// returns.
	Reports func(reps []ordermanager.Report)
	// Recovered, when set, receives the reports Open's recovery regenerates
	// from the journal after the snapshot, command by command, on Open's
	// goroutine before any stage starts; reports the process was killed
	// before delivering are among them (gateway.ReportMarks picks those).
	// The slice is reused after the call.
	Recovered func(reps []ordermanager.Report)
	// SyncReports, when set, is called before a snapshot is written, once
	// every report of the commands it covers has been handed to Reports:
	// it must make them durable where they go (the gateway writes its FIX
	// stores), since recovery regenerates reports only after the snapshot.
	SyncReports func()
	// RingItems is the sequencer's in-flight capacity (power of two; default
	// 16384, not the sequencer's own default).
	RingItems int
	// SnapshotEvery is the number of commands between snapshots (default
	// 1,000,000).
	SnapshotEvery uint64
	// CheckpointEvery is the number of commands between checkpoint records
	// (default 4096).
	CheckpointEvery uint64

	// ClusterLog, when set, makes the venue a cluster node (see follow.go):
	// batches go to it instead of the journal, which the cluster writes itself;
	// NextSeq is the seq after the journal's last. Follow starts it as a
	// standby; OnDiverge is called once if it finds its output different
	// from the leader's checkpoints.
	ClusterLog sequencer.Log
	NextSeq    uint64
	Follow     bool
	OnDiverge  func(error)
}

// Exchange is the running venue. Submit may be called from any goroutine.
type Exchange struct {
	opts  Options // with Open's defaults filled in
	dir   string
	log   zerolog.Logger
	seq   *sequencer.Sequencer
	state *State

	in      *inbound
	evCh    chan *evBatch
	evFree  chan *evBatch
	repCh   chan *repBatch
	repFree chan *repBatch
	quit    chan struct{}
	omDone  chan struct{}
	engDone chan struct{}
	repDone chan struct{}
	// repQueued counts report batches sent to repCh whose Reports call has
	// not returned yet. Only the order manager adds, only the report
	// goroutine subtracts (after the call), so when the order manager sees
	// 0 every earlier batch has been delivered and it may call Reports
	// itself without reordering anything.
	repQueued atomic.Int64
	// repIn counts report batches the order manager handed on, repOut
	// those whose Reports call returned: a snapshot waits for repOut to
	// reach repIn as of its seq (syncReports).
	repIn, repOut atomic.Uint64
	// repWaiters counts syncReports calls waiting; while it is not zero,
	// deliver closes repWake (under repWakeMu) after each batch to wake them.
	repWaiters atomic.Int32
	repWakeMu  sync.Mutex
	repWake    chan struct{}

	closed atomic.Bool
	// submitting counts Submits between their closed check and the end of
	// their push, so Close can wait for them before the last drain.
	submitting atomic.Int64
	closeOnce  sync.Once
	closeErr   error
	// dirty is set once the order manager holds commands that never became
	// durable (the sequencer failed): its state is then not a snapshot of
	// the journal.
	dirty atomic.Bool

	// Counters for metrics, readable from any goroutine.
	stats struct {
		requests, busy, commands, processed, events, reports, snapshots atomic.Uint64
		snapshotErrs, mdResyncs                                         atomic.Uint64
		omNs, engineNs                                                  atomic.Uint64
	}

	snapWG sync.WaitGroup

	ops    chan *opReq // operator actions and reads (operate.go)
	opWait []*opReq    // order manager goroutine only
	followState
}

type evBatch struct {
	evs     []matching.Event
	lastSeq uint64
	items   int
}

type repBatch struct {
	reps []ordermanager.Report
}

// Recovery says what Open found in the data folder.
type Recovery struct {
	Journal sequencer.RecoveryInfo
	Rebuild RebuildStats
}

const (
	// checkpointIdle is the longest a venue goes without a checkpoint record
	// while commands arrive.
	checkpointIdle = 100 * time.Millisecond
	evBatches      = 64
	// omBurstMax bounds the requests the order manager handles before it
	// hands their reports on.
	omBurstMax = 256
	// engineItemsMax bounds the commands the engine applies per event batch.
	engineItemsMax = 1024
	repBatches     = 64
)

// Open recovers the venue's state from the data folder (newest valid snapshot
// plus the journal after it; a torn tail is truncated and logged; any other
// damage is an error naming file, offset and seq) and starts the stages.
func Open(opts Options) (*Exchange, Recovery, error) {
	var rec Recovery
	if opts.Ref == nil {
		return nil, rec, errors.New("pipeline: no reference data")
	}
	if opts.Dir == "" {
		return nil, rec, errors.New("pipeline: no data folder")
	}
	dir := opts.Dir
	if opts.Clock == nil {
		opts.Clock = func() int64 { return time.Now().UnixNano() }
	}
	if opts.RingItems == 0 {
		opts.RingItems = 1 << 14
	}
	if opts.SnapshotEvery == 0 {
		opts.SnapshotEvery = 1_000_000
	}
	if opts.QueueDepth == 0 {
		opts.QueueDepth = 1 << 16
	}
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = 4096
	}
	// Open the journal first: it creates the folder, truncates a torn tail and
	// refuses a damaged journal before anything is rebuilt from it.
	var (
		snap       *sequencer.Snapshot
		skipped    []error
		verifyFrom uint64
		err        error
	)
	if _, statErr := os.Stat(dir); statErr == nil {
		snap, skipped, err = sequencer.OpenLatestSnapshot(dir, opts.Log)
		if err != nil {
			return nil, rec, err
		}
		defer snap.Close() // mapped: released once Rebuild restored it, or on an early return
		if snap != nil {
			verifyFrom = snap.Seq + 1
		}
	}
	seq, jinfo, err := sequencer.Open(sequencer.Config{
		Dir:             dir,
		Create:          true,
		Durability:      opts.Durability,
		SegmentBytesMax: opts.SegmentBytes,
		RingItems:       opts.RingItems,
		BatchRecordsMax: opts.BatchRecordsMax,
		BatchLinger:     opts.BatchDelay,
		VerifyFromSeq:   verifyFrom,
		Clock:           opts.Clock,
		Logger:          opts.Log,
		Log:             opts.ClusterLog,
		NextSeq:         opts.NextSeq,
	})
	rec.Journal = jinfo
	if err != nil {
		return nil, rec, err
	}
	state, rst, err := Rebuild(opts.Ref, RebuildOptions{Dir: dir, Log: opts.Log, OnReports: opts.Recovered, snapshot: snap, snapshotLoaded: true})
	snap.Close()
	rst.SkippedSnaps = skipped
	rec.Rebuild = rst
	if err != nil {
		seq.Close()
		return nil, rec, err
	}
	if state.Seq != jinfo.LastSeq {
		seq.Close()
		return nil, rec, fmt.Errorf("recovery of %s: state rebuilt to seq %d but the journal ends at seq %d", dir, state.Seq, jinfo.LastSeq)
	}
	x := &Exchange{
		opts:    opts,
		dir:     dir,
		log:     opts.Log,
		seq:     seq,
		state:   state,
		in:      newInbound(opts.QueueDepth),
		evCh:    make(chan *evBatch, evBatches),
		evFree:  make(chan *evBatch, evBatches),
		repCh:   make(chan *repBatch, repBatches),
		repFree: make(chan *repBatch, repBatches),
		quit:    make(chan struct{}),
		omDone:  make(chan struct{}),
		engDone: make(chan struct{}),
		repDone: make(chan struct{}),
		ops:     make(chan *opReq, opsQueued),
	}
	if uint64(opts.RingItems) < uint64(state.Manager.CommandsMax())*2 {
		seq.Close()
		return nil, rec, fmt.Errorf("pipeline: RingItems %d is too small for %d commands per request", opts.RingItems, state.Manager.CommandsMax())
	}
	// ExecIDs of rejects are not journaled state; seed them from the clock so
	// a restarted venue does not repeat them.
	state.Manager.SeedRejectExecIDs(uint64(opts.Clock()) >> 1)
	if opts.ClusterLog != nil {
		x.followCh = make(chan *followBatch, followQueue)
		x.ver = sequencer.NewVerifier(0)
		x.ver.Applied(state.Seq, state.Engine.OutSeq(), state.Hasher.Sum())
		x.verSeq = state.Seq
		x.followedSeq = state.Seq
		seq.SetPassthrough(opts.Follow)
		x.standby.Store(opts.Follow)
	}
	for range evBatches {
		x.evFree <- &evBatch{evs: make([]matching.Event, 0, 4096)}
	}
	for range repBatches {
		x.repFree <- &repBatch{reps: make([]ordermanager.Report, 0, 1024)}
	}
	go x.engineLoop()
	go x.omLoop()
	go x.reportLoop()
	return x, rec, nil
}

// State returns the live state. Only safe to read after Close, or before any
// request was submitted (for example to seed market data at start-up).
func (x *Exchange) State() *State { return x.state }

// Dir is the data folder.
func (x *Exchange) Dir() string { return x.dir }

// Submit queues a request for the order manager without blocking. It returns
// false when the queue is full or the venue is closing: the caller answers
// "busy".
func (x *Exchange) Submit(req *ordermanager.Request) bool {
	x.submitting.Add(1)
	defer x.submitting.Add(-1)
	if x.closed.Load() || x.standby.Load() {
		return false
	}
	if !x.in.push(req) {
		x.stats.busy.Add(1)
		return false
	}
	return true
}

// Closed reports whether the venue has stopped taking requests (Close was
// called, or the journal failed). A caller that retries a refused Submit
// should give up once it is true.
func (x *Exchange) Closed() bool { return x.closed.Load() }

// Close stops taking requests, lets every accepted request finish (journaled,
// matched, reported), writes a snapshot, and closes the journal.
func (x *Exchange) Close() error {
	x.closeOnce.Do(func() {
		x.closed.Store(true)
		// A Submit that saw closed false finishes its push before the
		// order manager's last drain, so no accepted request is lost.
		for x.submitting.Load() != 0 {
			runtime.Gosched()
		}
		close(x.quit)
		<-x.omDone
		err := x.seq.Close()
		<-x.engDone
		close(x.repCh)
		<-x.repDone
		x.snapWG.Wait()
		if err == nil && !x.dirty.Load() {
			x.syncReports(x.repIn.Load())
			if err = x.writeSnapshot(); err != nil {
				err = fmt.Errorf("final snapshot: %w", err)
			}
		}
		x.closeErr = err
	})
	return x.closeErr
}

// omLoop is the order manager's goroutine: it owns x.state.Manager while the
// venue runs.
func (x *Exchange) omLoop() {
	defer close(x.omDone)
	s := &omStage{
		x:         x,
		om:        x.state.Manager,
		cmdsMax:   uint64(x.state.Manager.CommandsMax()),
		ringItems: uint64(x.opts.RingItems),
		rb:        <-x.repFree,
		lastSnap:  x.state.Seq,
		lastSeq:   x.state.Seq,
		seq0:      x.state.Seq,
	}
	s.run()
}

// omStage is the order manager's goroutine state: it owns the order manager,
// counts the commands in flight through the sequencer and the engine, and
// collects the reports their events give.
type omStage struct {
	x         *Exchange
	om        *ordermanager.Manager
	cmdsMax   uint64 // most commands one request can become
	ringItems uint64
	pend      []ordermanager.Pending
	rb        *repBatch // reports collected, not yet handed on
	submitted uint64    // commands handed to the sequencer
	processed uint64    // commands whose events came back
	lastSnap  uint64    // seq of the last snapshot taken
	snapCap   int       // capacity for the next snapshot's body: the last one's size and an eighth
	lastSeq   uint64    // last seq whose events came back
	seq0      uint64    // seq the venue opened at
}

func (s *omStage) run() {
	x := s.x
	for {
		// Event batches first: they free room in the sequencer and carry the
		// reports of earlier requests.
		busy := false
		for more := true; more; {
			select {
			case b := <-x.evCh:
				s.onEvents(b)
				busy = true
			default:
				more = false
			}
		}
		select {
		case r := <-x.ops:
			s.operate(r)
			busy = true
		default:
		}
		for more := x.followCh != nil; more; {
			select {
			case b := <-x.followCh:
				if !x.omFollow(b, &s.submitted, s.room) {
					s.quiesce()
					return
				}
				busy = true
			default:
				more = false
			}
		}
		if req := x.in.peek(); req != nil {
			// One clock pair and one counter update per burst, not per
			// request.
			t0 := time.Now()
			s.handleQueued(req, omBurstMax)
			x.stats.omNs.Add(uint64(time.Since(t0)))
			busy = true
		}
		if !busy {
			x.in.sleeping.Store(true)
			if x.in.peek() != nil {
				x.in.sleeping.Store(false)
				continue
			}
			select {
			case <-x.in.wake:
			case b := <-x.evCh:
				s.onEvents(b)
			case r := <-x.ops:
				s.operate(r)
			case b := <-x.followCh:
				x.in.sleeping.Store(false)
				if !x.omFollow(b, &s.submitted, s.room) {
					s.quiesce()
					return
				}
			case <-x.quit:
				x.in.sleeping.Store(false)
				// Take what was queued before Close, then wait for every
				// accepted command to come back so nothing accepted goes
				// unreported.
				s.handleQueued(x.in.peek(), math.MaxUint64)
				s.quiesce()
				return
			}
			x.in.sleeping.Store(false)
		}
		s.flush()
		s.maybeSnapshot()
	}
}

// flush hands the collected reports on: delivered here when the report
// stage has nothing queued, else queued to it.
func (s *omStage) flush() {
	x := s.x
	if len(s.rb.reps) > 0 {
		x.repIn.Add(1)
	}
	switch {
	case len(s.rb.reps) == 0:
	case x.repQueued.Load() == 0:
		x.deliver(s.rb)
	default:
		x.repQueued.Add(1)
		x.repCh <- s.rb
		s.rb = <-x.repFree // emptied by deliver
	}
}

// onEvents applies an engine event batch to the order manager and returns
// the batch to the engine.
func (s *omStage) onEvents(b *evBatch) {
	x := s.x
	for i := range b.evs {
		s.rb.reps = s.om.OnEvent(&b.evs[i], s.rb.reps)
	}
	s.processed += uint64(b.items)
	x.stats.processed.Add(uint64(b.items))
	x.opsProcessed(s.processed)
	if b.lastSeq != 0 {
		s.lastSeq = b.lastSeq
	}
	b.evs = b.evs[:0]
	x.evFree <- b
}

// room waits until the ring has room for one more command.
func (s *omStage) room() {
	for s.submitted-s.processed+1 > s.ringItems {
		s.onEvents(<-s.x.evCh)
	}
}

// submit hands one accepted command to the sequencer, taking event batches
// while its ring is full. It reports false when the sequencer has failed.
func (s *omStage) submit(p *ordermanager.Pending) bool {
	x := s.x
	for !x.seq.TrySubmit(&p.Cmd, p.Meta[:p.MetaLen]) {
		if err := x.seq.Err(); err != nil {
			x.closed.Store(true)
			return false
		}
		s.onEvents(<-x.evCh)
	}
	s.submitted++
	return true
}

func (s *omStage) handle(req *ordermanager.Request) {
	x := s.x
	// Keep room for the largest request, so an accepted request (whose
	// state change the order manager has already made) always fits.
	for s.submitted-s.processed+s.cmdsMax > s.ringItems {
		if req.Kind == ordermanager.ReqNew || req.Kind == ordermanager.ReqReplace {
			s.rb.reps = s.om.RejectBusy(req, s.rb.reps)
			x.stats.busy.Add(1)
			return
		}
		// Cancels and operator actions wait for room rather than fail.
		s.onEvents(<-x.evCh)
	}
	s.pend, s.rb.reps = s.om.Submit(req, s.pend[:0], s.rb.reps)
	for i := range s.pend {
		if !s.submit(&s.pend[i]) {
			x.log.Error().Err(x.seq.Err()).Msg("sequencer failed; the venue stops accepting orders")
			return
		}
	}
	x.stats.commands.Add(uint64(len(s.pend)))
}

func (s *omStage) operate(r *opReq) {
	s.x.runOp(r, s.om, func(p *ordermanager.Pending) (seq, n uint64) {
		if !s.submit(p) {
			return 0, 0
		}
		return s.seq0 + s.submitted, s.submitted
	}, func() uint64 { return s.processed })
}

// handleQueued handles req, the oldest queued request, and those after it,
// up to limit in all, in place in the queue.
func (s *omStage) handleQueued(req *ordermanager.Request, limit uint64) {
	x := s.x
	n := uint64(0)
	for ; req != nil && n < limit; req = x.in.peek() {
		s.handle(req)
		x.in.pop()
		n++
	}
	x.stats.requests.Add(n)
}

// quiesce waits until every command the order manager accepted has come back
// from the engine and hands on their reports: only then does its state equal
// the replayed state at lastSeq.
func (s *omStage) quiesce() {
	x := s.x
	for s.processed < s.submitted {
		select {
		case b := <-x.evCh:
			s.onEvents(b)
			continue
		case <-x.engDone:
		}
		// The engine stopped (the sequencer failed): take what it sent and
		// give up on the rest, which was never made durable. The order
		// manager has applied those commands, so its state is no longer
		// the journal's: no snapshot may be taken of it.
		x.dirty.Store(true)
		for more := true; more; {
			select {
			case b := <-x.evCh:
				s.onEvents(b)
			default:
				more = false
			}
		}
		break
	}
	s.flush()
	x.state.Seq = s.lastSeq
}

// maybeSnapshot takes a snapshot once SnapshotEvery commands have passed
// since the last one, writing it in the background.
func (s *omStage) maybeSnapshot() {
	x := s.x
	if x.opts.SnapshotEvery == 0 || s.lastSeq-s.lastSnap < x.opts.SnapshotEvery || x.dirty.Load() {
		return
	}
	s.quiesce()
	if x.dirty.Load() {
		return
	}
	// Sized from the last snapshot: grown by appending from nil, a body of
	// tens of MB left about twice its size of garbage, and the soak's
	// resident set rose in steps at each snapshot.
	body := x.state.AppendSnapshot(make([]byte, 0, s.snapCap))
	s.snapCap = len(body) + len(body)/8
	s.lastSnap = s.lastSeq
	x.snapWG.Add(1)
	reported := x.repIn.Load()
	go func(seq uint64, body []byte) {
		defer x.snapWG.Done()
		x.syncReports(reported)
		if _, err := sequencer.WriteSnapshot(x.dir, seq, body); err != nil {
			x.stats.snapshotErrs.Add(1)
			x.log.Error().Err(err).Uint64("seq", seq).Msg("snapshot failed")
			return
		}
		x.stats.snapshots.Add(1)
	}(s.lastSeq, body)
}

// engineLoop is the matching engine's goroutine: it owns x.state.Engine and the
// event hash while the venue runs.
func (x *Exchange) engineLoop() {
	defer close(x.engDone)
	eng := x.state.Engine
	h := &x.state.Hasher
	var sinceCheckpoint uint64
	checkpointEvery := x.opts.CheckpointEvery
	var resync []matching.OrderInfo
	resyncer, _ := x.opts.Publisher.(Resyncer)
	lastCheckpoint := time.Now()
	for {
		// The engine reads commands in place in the sequencer's ring; they
		// stay valid until the next Take.
		items := x.seq.Take(engineItemsMax)
		if len(items) == 0 {
			return
		}
		t0 := time.Now()
		b := <-x.evFree
		for i := range items {
			start := len(b.evs)
			b.evs = eng.Apply(&items[i].Cmd, b.evs)
			for j := start; j < len(b.evs); j++ {
				h.Add(&b.evs[j])
			}
			if x.ver != nil {
				x.verBuf = append(x.verBuf, verState{items[i].Cmd.Seq, eng.OutSeq(), h.Sum()})
			}
			sinceCheckpoint++
			if sinceCheckpoint >= checkpointEvery {
				x.seq.Checkpoint(items[i].Cmd.Seq, eng.OutSeq(), h.Sum())
				sinceCheckpoint = 0
				lastCheckpoint = t0
			}
		}
		// A quiet venue still gets a checkpoint at least every
		// checkpointIdle, so a short session can be verified by replay too.
		if sinceCheckpoint > 0 && t0.Sub(lastCheckpoint) >= checkpointIdle {
			x.seq.Checkpoint(items[len(items)-1].Cmd.Seq, eng.OutSeq(), h.Sum())
			sinceCheckpoint = 0
			lastCheckpoint = t0
		}
		b.items = len(items)
		b.lastSeq = items[len(items)-1].Cmd.Seq
		if x.ver != nil {
			x.verified()
		}
		x.stats.events.Add(uint64(len(b.evs)))
		if x.opts.Publisher != nil && len(b.evs) > 0 {
			x.opts.Publisher.Publish(b.evs)
			if resyncer != nil && resyncer.NeedsResync() {
				// Market data fell behind and dropped events: hand it the
				// books as they stand. Rare, and cheaper than ever making the
				// engine wait for a consumer.
				resync = appendOrders(eng, resync[:0])
				resyncer.Reset(eng.OutSeq(), resync)
				x.stats.mdResyncs.Add(1)
			}
		}
		x.stats.engineNs.Add(uint64(time.Since(t0)))
		x.evCh <- b
	}
}

// reportLoop hands queued report batches to the gateway in order.
func (x *Exchange) reportLoop() {
	defer close(x.repDone)
	for rb := range x.repCh {
		x.deliver(rb)
		x.repQueued.Add(-1)
		x.repFree <- rb
	}
}

// deliver hands one batch to Reports and empties it.
func (x *Exchange) deliver(rb *repBatch) {
	x.stats.reports.Add(uint64(len(rb.reps)))
	if x.opts.Reports != nil {
		x.opts.Reports(rb.reps)
	}
	rb.reps = rb.reps[:0]
	x.delivered()
}

// delivered counts one batch as delivered and wakes syncReports' waiters.
func (x *Exchange) delivered() {
	x.repOut.Add(1)
	if x.repWaiters.Load() != 0 {
		x.repWakeMu.Lock()
		if x.repWake != nil {
			close(x.repWake)
			x.repWake = nil
		}
		x.repWakeMu.Unlock()
	}
}

// syncReports waits until the report batches up to the in-th have been
// delivered and has them made durable (Options.SyncReports), so that a
// snapshot never covers a report that is neither stored nor regenerated
// by the next recovery. It runs off the critical path (on the snapshot's
// goroutine, or in Close).
func (x *Exchange) syncReports(in uint64) {
	if x.opts.SyncReports == nil {
		return
	}
	x.repWaiters.Add(1)
	for {
		// Registered as a waiter before the check: a batch delivered after
		// it closes the channel taken here.
		x.repWakeMu.Lock()
		if x.repWake == nil {
			x.repWake = make(chan struct{})
		}
		wake := x.repWake
		x.repWakeMu.Unlock()
		if x.repOut.Load() >= in {
			break
		}
		select {
		case <-x.repDone:
			// The report goroutine has ended: everything was delivered.
		case <-wake:
			continue
		}
		break
	}
	x.repWaiters.Add(-1)
	x.opts.SyncReports()
}

func (x *Exchange) writeSnapshot() error {
	body := x.state.AppendSnapshot(nil)
	_, err := sequencer.WriteSnapshot(x.dir, x.state.Seq, body)
	if err == nil {
		x.stats.snapshots.Add(1)
	}
	return err
}

// Stats are counters since Open.
type Stats struct {
	Requests, Busy, Commands, Events, Reports, Snapshots, SnapshotErrors uint64
	// Processed counts commands whose engine events the order manager has
	// taken; Commands-Processed are in flight.
	Processed uint64
	// MarketDataResyncs counts times market data fell behind and was reset
	// from the books.
	MarketDataResyncs uint64
	// OrderManagerNs and EngineNs are the total time spent in each stage.
	OrderManagerNs, EngineNs uint64
	Sequencer                sequencer.Stats
}

// Stats reads the counters; safe from any goroutine.
func (x *Exchange) Stats() Stats {
	return Stats{
		Requests:          x.stats.requests.Load(),
		Busy:              x.stats.busy.Load(),
		Commands:          x.stats.commands.Load(),
		Processed:         x.stats.processed.Load(),
		MarketDataResyncs: x.stats.mdResyncs.Load(),
		Events:            x.stats.events.Load(),
		Reports:           x.stats.reports.Load(),
		Snapshots:         x.stats.snapshots.Load(),
		SnapshotErrors:    x.stats.snapshotErrs.Load(),
		OrderManagerNs:    x.stats.omNs.Load(),
		EngineNs:          x.stats.engineNs.Load(),
		Sequencer:         x.seq.Stats(),
	}
}

// QueueDepth is the number of requests waiting for the order manager.
func (x *Exchange) QueueDepth() int { return x.in.len() }
