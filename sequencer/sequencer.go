package sequencer

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/matching"
)

// Durability says when a journal write counts as done. Its values are the
// words of the configuration file (journal.durability) and of the
// --durability flags; the zero value means DurabilityBatch. It is the one
// type for the policy: configuration, pipeline and benchmarks all use it.
type Durability string

const (
	// DurabilityBatch is group commit: one fsync covers every record that
	// arrived while the previous fsync ran (at most BatchRecordsMax). Records are
	// handed on only once durable.
	DurabilityBatch Durability = "batch"
	// DurabilityAlways fsyncs each record on its own before handing it on.
	DurabilityAlways Durability = "always"
	// DurabilityNone writes records to the operating system and hands them on at
	// once, without fsync: a process crash loses nothing, a machine crash may.
	DurabilityNone Durability = "none"
)

func (d Durability) String() string {
	if d == "" {
		return string(DurabilityBatch)
	}
	return string(d)
}

// ParseDurability parses "always", "batch" or "none".
func ParseDurability(s string) (Durability, error) {
	switch d := Durability(s); d {
	case DurabilityBatch, DurabilityAlways, DurabilityNone:
		return d, nil
	}
	return "", fmt.Errorf("journal durability %q: want always, batch or none", s)
}

// Config configures Open. Zero fields take the defaults given.
type Config struct {
	// Dir is the data folder (journal/ and snapshots/ live in it).
	Dir string
	// Create makes Dir when it does not exist; otherwise that is an error.
	Create     bool
	Durability Durability
	// SegmentBytesMax rotates to a new segment file once one would grow past
	// it. Default 256 MiB.
	SegmentBytesMax int64
	// RingItems is the number of commands in flight between the producer and
	// the consumer (submitted, being written, durable but not yet taken). A
	// power of two; default 65536 (an Item is 200 bytes: 13 MB). TrySubmit
	// refuses when it is full.
	RingItems int
	// BatchRecordsMax bounds the commands written per write call and per
	// fsync, so with DurabilityBatch the stage's throughput is at most
	// BatchRecordsMax per fsync time. Default RingItems/2 (never more than
	// RingItems).
	BatchRecordsMax int
	// BatchLinger, with DurabilityBatch, waits this long before writing a batch
	// smaller than BatchRecordsMax so that more commands share an fsync. Default
	// 0: group commit only (records that arrived during the last fsync).
	BatchLinger time.Duration
	// VerifyFromSeq limits recovery to the segments holding this command seq
	// and later (the snapshot's seq + 1); earlier segments get a header check
	// only. 0 checks every record.
	VerifyFromSeq uint64
	// Clock returns Unix nanoseconds; default time.Now. It is read once per
	// batch: the commands of one batch share a stamp. Timestamps never go
	// backwards: a smaller reading repeats the previous stamp.
	Clock func() int64
	// Logger gets one line per recovery and per error; never one per record.
	Logger zerolog.Logger
	// Log, when set, takes each batch instead of the journal (see Log):
	// Open then recovers nothing and the first command gets NextSeq.
	Log     Log
	NextSeq uint64
}

const (
	checkpointRingSize = 256
	spinMax            = 64
)

type pad [64]byte

// Sequencer is the stage between the order manager (producer) and the engine
// (consumer). It owns one preallocated ring of Items with three cursors:
// submitted (producer), durable (writer goroutine) and taken (consumer). The
// writer stamps items in place, so an item is copied only into the ring (and
// out of it by Next; Take hands it over in place). One goroutine may call
// TrySubmit, one other goroutine Take, TakeMore, Next and Checkpoint.
type Sequencer struct {
	ring       []Item
	mask       uint64
	baseSeq    uint64 // seq of the ring's item 0
	durability Durability
	batchMax   uint64
	linger     time.Duration
	clock      func() int64
	log        zerolog.Logger
	j          *journal
	cps        [checkpointRingSize]Checkpoint
	logTo      Log    // nil: the journal j
	logBuf     []byte // writer goroutine only
	// With a PipelinedLog: batches in flight, in order, to commitLoop.
	pipe     chan inflightBatch
	pipeDone chan struct{}
	pending  atomic.Int64
	pipeErr  atomic.Pointer[error]

	_        pad
	head     atomic.Uint64 // items submitted
	_        pad
	durable  atomic.Uint64 // items durable, visible to the consumer
	_        pad
	released atomic.Uint64 // items taken by the consumer; their slots are free
	_        pad
	cpHead   atomic.Uint64 // checkpoints submitted
	cpTail   atomic.Uint64 // checkpoints written
	_        pad

	// Producer goroutine only.
	prodHead     uint64
	prodReleased uint64
	_            pad
	// Consumer goroutine only.
	taken      uint64
	consCpHead uint64
	_          pad
	// Writer goroutine only.
	written    uint64
	cpWritten  uint64
	lastTimeNs int64

	writerPark, consumerPark parker
	closing                  atomic.Bool
	drained                  atomic.Bool // closing, and every submitted item is durable
	consumerAttached         atomic.Bool
	consumerDone             atomic.Bool
	stopped                  atomic.Bool // the writer goroutine has finished
	passthrough              atomic.Bool // see SetPassthrough
	done                     chan struct{}
	err                      error // set before stopped

	stats struct {
		records, checkpoints, batches, bytes, segments atomic.Uint64
		fsyncs, fsyncNsTotal, fsyncNsMax, busy         atomic.Uint64
	}
}

// Open recovers the journal of cfg.Dir (see RecoveryInfo: a torn tail is
// truncated, damage elsewhere is an error naming file, offset and seq) and
// starts the writer goroutine. The first command submitted gets seq
// info.LastSeq+1. Records already in the journal are not handed to the
// consumer: replay them first (Replay, from the snapshot's seq on).
func Open(cfg Config) (*Sequencer, RecoveryInfo, error) {
	if cfg.SegmentBytesMax <= 0 {
		cfg.SegmentBytesMax = 256 << 20
	}
	if cfg.SegmentBytesMax < segmentHeaderSize+frameMax {
		cfg.SegmentBytesMax = segmentHeaderSize + frameMax
	}
	if cfg.RingItems <= 0 {
		cfg.RingItems = 1 << 16
	}
	if cfg.RingItems&(cfg.RingItems-1) != 0 {
		return nil, RecoveryInfo{}, fmt.Errorf("sequencer: RingItems %d is not a power of two", cfg.RingItems)
	}
	if cfg.BatchRecordsMax <= 0 {
		cfg.BatchRecordsMax = cfg.RingItems / 2
	}
	cfg.BatchRecordsMax = min(cfg.BatchRecordsMax, cfg.RingItems)
	if cfg.Durability == DurabilityAlways {
		cfg.BatchRecordsMax = 1
	}
	if cfg.Durability == "" {
		cfg.Durability = DurabilityBatch
	}
	if _, err := ParseDurability(string(cfg.Durability)); err != nil {
		return nil, RecoveryInfo{}, fmt.Errorf("sequencer: %w", err)
	}
	if cfg.Clock == nil {
		cfg.Clock = func() int64 { return time.Now().UnixNano() }
	}
	bufBytes := (cfg.BatchRecordsMax + checkpointRingSize) * frameMax
	var (
		j    *journal
		info RecoveryInfo
		err  error
	)
	if cfg.Log == nil {
		j, info, err = openJournal(cfg.Dir, cfg.Create, cfg.VerifyFromSeq, cfg.SegmentBytesMax, bufBytes,
			cfg.Durability != DurabilityNone, cfg.Logger)
		if err != nil {
			return nil, info, err
		}
	} else {
		info.FirstSeq, info.LastSeq = max(cfg.NextSeq, 1), max(cfg.NextSeq, 1)-1
	}
	s := &Sequencer{
		ring:       make([]Item, cfg.RingItems),
		mask:       uint64(cfg.RingItems - 1),
		baseSeq:    info.LastSeq + 1,
		durability: cfg.Durability,
		batchMax:   uint64(cfg.BatchRecordsMax),
		linger:     cfg.BatchLinger,
		clock:      cfg.Clock,
		log:        cfg.Logger,
		j:          j,
		done:       make(chan struct{}),
	}
	if cfg.Log != nil {
		s.logTo = cfg.Log
		s.logBuf = make([]byte, 0, bufBytes)
		if _, ok := cfg.Log.(PipelinedLog); ok {
			s.pipe = make(chan inflightBatch, logInflightMax)
			s.pipeDone = make(chan struct{})
			go s.commitLoop()
		}
	}
	s.writerPark.ch = make(chan struct{}, 1)
	s.consumerPark.ch = make(chan struct{}, 1)
	go s.run()
	return s, info, nil
}

// TrySubmit copies cmd and meta into the ring for sequencing and returns true,
// or returns false at once when the ring is full or the stage is closed (the
// caller rejects the order as busy). cmd.Seq and cmd.TimeNs are overwritten by
// the writer. It does not allocate. Only one goroutine may call it, and not
// concurrently with Close. meta longer than MetaMax is a programming error and
// panics.
func (s *Sequencer) TrySubmit(cmd *matching.Command, meta []byte) bool {
	if len(meta) > MetaMax {
		panic(fmt.Sprintf("sequencer: %d meta bytes, at most %d", len(meta), MetaMax))
	}
	h := s.prodHead
	if h-s.prodReleased >= uint64(len(s.ring)) {
		s.prodReleased = s.released.Load()
		if h-s.prodReleased >= uint64(len(s.ring)) {
			s.stats.busy.Add(1)
			return false
		}
	}
	if s.closing.Load() || s.stopped.Load() {
		return false
	}
	it := &s.ring[h&s.mask]
	it.Cmd = *cmd
	it.MetaLen = uint8(len(meta))
	copy(it.Meta[:], meta)
	s.prodHead = h + 1
	s.head.Store(h + 1)
	s.writerPark.wake()
	return true
}

// Next copies durable commands, in seq order, into dst[:cap(dst)] and returns
// them. It blocks (spinning briefly, then parked) until there is at least one,
// and returns an empty slice only once the stage is closed and every command has
// been taken, or the writer failed (see Err). Only one goroutine may call it;
// dst must have capacity. It does not allocate.
func (s *Sequencer) Next(dst []Item) []Item {
	if cap(dst) == 0 {
		panic("sequencer: Next needs a dst with capacity")
	}
	items := s.Take(cap(dst))
	dst = dst[:len(items)]
	copy(dst, items)
	if len(items) > 0 && len(items) < cap(dst) {
		// The run stopped at the ring's end: take what follows too.
		more := s.TakeMore(cap(dst) - len(items))
		dst = append(dst, more...)
	}
	s.release()
	return dst
}

// Take is Next without the copy: it returns up to itemsMax durable commands,
// in seq order, in place in the ring (never wrapping past its end, so a call
// may return fewer than are ready). They stay valid, and their slots stay
// out of the producer's reach, until the next call to Take or Next (TakeMore
// keeps them).
// It blocks and ends like Next, and the same goroutine rules hold. It does
// not allocate.
func (s *Sequencer) Take(itemsMax int) []Item {
	if itemsMax <= 0 {
		panic("sequencer: Take needs itemsMax > 0")
	}
	s.release()
	if !s.consumerAttached.Load() { // only this goroutine sets it: store once, not per call
		s.consumerAttached.Store(true)
	}
	for {
		if items := s.TakeMore(itemsMax); len(items) > 0 {
			return items
		}
		if s.drained.Load() || s.stopped.Load() {
			if s.durable.Load() > s.taken {
				continue
			}
			s.consumerDone.Store(true)
			s.writerPark.wake()
			return nil
		}
		s.consumerPark.wait(s.consumerReady)
	}
}

// TakeMore returns, without blocking, up to itemsMax more durable commands
// after those the last Take or TakeMore returned, in place; the earlier ones
// stay valid too. It returns nil when none is ready.
func (s *Sequencer) TakeMore(itemsMax int) []Item {
	d := s.durable.Load()
	if d <= s.taken || itemsMax <= 0 {
		return nil
	}
	i := s.taken & s.mask
	n := min(d-s.taken, uint64(itemsMax), uint64(len(s.ring))-i)
	s.taken += n
	return s.ring[i : i+n]
}

// release hands the slots of the items taken so far back to the producer.
// Only this goroutine stores released, so it stores only when taken moved.
func (s *Sequencer) release() {
	if s.released.Load() != s.taken {
		s.released.Store(s.taken)
	}
}

func (s *Sequencer) consumerReady() bool {
	return s.durable.Load() > s.taken || s.drained.Load() || s.stopped.Load()
}

// Checkpoint asks the writer to journal the engine stage's state after command
// inSeq (see Checkpoint). Call it from the consumer goroutine, before the Take
// or Next call that returns empty. It returns false when too many checkpoints are
// pending or the stage has stopped; a checkpoint is a proof point, so dropping
// one loses no data. It does not allocate.
func (s *Sequencer) Checkpoint(inSeq, outSeq, eventHash uint64) bool {
	h := s.consCpHead
	if h-s.cpTail.Load() >= checkpointRingSize || s.stopped.Load() {
		return false
	}
	s.cps[h%checkpointRingSize] = Checkpoint{InSeq: inSeq, OutSeq: outSeq, EventHash: eventHash}
	s.consCpHead = h + 1
	s.cpHead.Store(h + 1)
	s.writerPark.wake()
	return true
}

// Close stops the stage: TrySubmit refuses from now on, everything submitted
// is written and made durable, and, when a consumer has called Take or Next,
// Close waits until that consumer has taken everything (its Take or Next
// returned empty) so that its last checkpoints are journaled too. Then the
// segment is fsynced and closed. Close returns the writer's error, if any.
// Call it once the producer has stopped; further calls return the same result.
func (s *Sequencer) Close() error {
	s.closing.Store(true)
	s.writerPark.wake()
	<-s.done
	return s.err
}

// Err returns the error that stopped the writer, or nil.
func (s *Sequencer) Err() error {
	if !s.stopped.Load() {
		return nil
	}
	return s.err
}

// DurableSeq is the last seq that is durable (per the policy) and visible to
// the consumer.
func (s *Sequencer) DurableSeq() uint64 { return s.baseSeq + s.durable.Load() - 1 }

// Stats are counters since Open, for metrics.
type Stats struct {
	Records     uint64 // command records written
	Checkpoints uint64 // checkpoint records written
	Batches     uint64 // write calls (each followed by one fsync unless none)
	Bytes       uint64 // bytes written, headers included
	Segments    uint64 // segments created
	Fsyncs      uint64
	FsyncNs     uint64 // total time in fsync
	FsyncNsMax  uint64
	Busy        uint64 // TrySubmit refusals because the ring was full
	DurableSeq  uint64
}

// Stats reads the counters; it is safe from any goroutine.
func (s *Sequencer) Stats() Stats {
	return Stats{
		Records:     s.stats.records.Load(),
		Checkpoints: s.stats.checkpoints.Load(),
		Batches:     s.stats.batches.Load(),
		Bytes:       s.stats.bytes.Load(),
		Segments:    s.stats.segments.Load(),
		Fsyncs:      s.stats.fsyncs.Load(),
		FsyncNs:     s.stats.fsyncNsTotal.Load(),
		FsyncNsMax:  s.stats.fsyncNsMax.Load(),
		Busy:        s.stats.busy.Load(),
		DurableSeq:  s.DurableSeq(),
	}
}

// run is the writer goroutine.
func (s *Sequencer) run() {
	err := s.loop()
	if s.pipe != nil {
		close(s.pipe)
		<-s.pipeDone
		if err == nil {
			err = s.pipeError()
		}
	}
	if s.j != nil {
		if cerr := s.j.close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		s.log.Error().Err(err).Uint64("durable_seq", s.DurableSeq()).Msg("sequencer stopped")
	}
	s.err = err
	s.stopped.Store(true)
	s.consumerPark.wake()
	close(s.done)
}

func (s *Sequencer) loop() error {
	for {
		if s.pipe != nil {
			if err := s.pipeError(); err != nil {
				return err
			}
		}
		h := s.head.Load()
		if h != s.written || s.cpHead.Load() != s.cpWritten {
			if err := s.writeBatch(h); err != nil {
				return err
			}
			continue
		}
		if s.closing.Load() {
			if s.head.Load() != h {
				continue
			}
			if s.pipe != nil {
				if err := s.waitPipe(); err != nil {
					return err
				}
			}
			s.drained.Store(true)
			s.consumerPark.wake()
			if !s.consumerAttached.Load() || s.consumerDone.Load() {
				if s.cpHead.Load() != s.cpWritten {
					continue
				}
				return nil
			}
		}
		s.writerPark.wait(s.writerReady)
	}
}

func (s *Sequencer) writerReady() bool {
	return s.pipeErr.Load() != nil || s.head.Load() != s.written || s.cpHead.Load() != s.cpWritten ||
		(s.closing.Load() && (!s.drained.Load() || s.consumerDone.Load() || !s.consumerAttached.Load()))
}

// writeBatch journals up to batchMax submitted items and every pending
// checkpoint with one write call and (unless none) one fsync, then publishes
// the items to the consumer.
func (s *Sequencer) writeBatch(h uint64) error {
	if s.logTo != nil {
		return s.writeBatchLog(h)
	}
	bytes0, segs0 := s.j.bytes, s.j.segments
	n := min(h-s.written, s.batchMax)
	if s.linger > 0 && s.durability == DurabilityBatch && n > 0 && n < s.batchMax {
		time.Sleep(s.linger)
		n = min(s.head.Load()-s.written, s.batchMax)
	}
	ts := s.clock()
	if ts < s.lastTimeNs {
		ts = s.lastTimeNs
	}
	s.lastTimeNs = ts
	seq := s.baseSeq + s.written
	for i := uint64(0); i < n; i++ {
		it := &s.ring[(s.written+i)&s.mask]
		it.Cmd.Seq = seq
		it.Cmd.TimeNs = ts
		seq++
		if err := s.j.appendCommand(it); err != nil {
			return err
		}
	}
	cpHead := s.cpHead.Load()
	for t := s.cpWritten; t != cpHead; t++ {
		if err := s.j.appendCheckpoint(&s.cps[t%checkpointRingSize], seq); err != nil {
			return err
		}
	}
	ncp := cpHead - s.cpWritten
	s.cpWritten = cpHead
	s.cpTail.Store(cpHead)
	if s.durability == DurabilityNone {
		if err := s.j.flush(); err != nil {
			return err
		}
	} else {
		t0 := time.Now()
		if err := s.j.sync(); err != nil {
			return err
		}
		ns := uint64(time.Since(t0))
		s.stats.fsyncs.Add(1)
		s.stats.fsyncNsTotal.Add(ns)
		if ns > s.stats.fsyncNsMax.Load() {
			s.stats.fsyncNsMax.Store(ns)
		}
	}
	// Counted before the consumer can see the records, so a report never
	// precedes the stats that include its command.
	s.stats.records.Add(n)
	s.stats.checkpoints.Add(ncp)
	s.stats.batches.Add(1)
	s.stats.bytes.Add(s.j.bytes - bytes0)
	s.stats.segments.Add(s.j.segments - segs0)
	s.written += n
	s.durable.Store(s.written)
	s.consumerPark.wake()
	return nil
}

// parker lets a goroutine spin briefly, then sleep until woken. The waker
// sends only when the sleeper has announced itself, so the fast path costs one
// atomic load.
type parker struct {
	sleeping atomic.Int32
	ch       chan struct{}
}

func (p *parker) wake() {
	if p.sleeping.Load() != 0 {
		select {
		case p.ch <- struct{}{}:
		default:
		}
	}
}

// wait returns once ready reports true. ready must be made true only by
// goroutines that call wake after changing what it reads.
func (p *parker) wait(ready func() bool) {
	for i := 0; i < spinMax; i++ {
		if ready() {
			return
		}
		runtime.Gosched()
	}
	for {
		p.sleeping.Store(1)
		if ready() {
			p.sleeping.Store(0)
			return
		}
		<-p.ch
		p.sleeping.Store(0)
		if ready() {
			return
		}
	}
}
