package pipeline

import (
	"errors"
	"sync/atomic"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// A replay as fast as possible runs on two goroutines, as the live venue
// runs its engine and its order manager on two stages: the journal reader
// and the engine on one, the order manager (and the caller's callbacks) on
// the other. That is possible because in replay the engine depends on the
// journal alone: its commands are the journaled ones, whatever the order
// manager decides. The order manager sees each command and then that
// command's events in journal order, exactly as State.Apply gives them, so
// both ways rebuild the same state (the determinism and golden tests
// replay through this path). On a book of millions of resting orders each
// side costs a few random table accesses per command, about as much as the
// other, so with two free cores the wall time is the longer side's instead
// of their sum.
//
// Commands go over in batches (replayBatchCmds commands with their events),
// through a ring of replayBatches of them: a hand-over costs one channel
// operation per batch, not per command.
const (
	replayBatchCmds = 256
	replayBatches   = 6
)

// replayBatch is a run of journaled commands with the engine's events.
type replayBatch struct {
	items []sequencer.Item
	evEnd []int // evs[evEnd[i-1]:evEnd[i]] are items[i]'s events
	evs   []matching.Event
}

// touchSink keeps what the touches read, so the compiler cannot drop them.
var touchSink atomic.Uint64

// errReplayStopped ends the reader's replay when the order manager's side
// has failed; it is never returned to the caller.
var errReplayStopped = errors.New("replay stopped")

// engineSide is the state of the goroutine that reads the journal and runs
// the engine.
type engineSide struct {
	state       *State
	ver         *sequencer.Verifier
	cur         *replayBatch
	applied     int // cur.items[:applied] have been through the engine
	free, full  chan *replayBatch
	stop        chan struct{}
	checkpoints uint64
	sink        uint64 // what Touch read
}

// touchAhead is how many commands each side touches the table slots of in
// a row (Engine.Touch, Manager.Touch) before it applies them: about as many
// cache misses as a core keeps in flight.
const touchAhead = 8

// record handles one journal record: a command is queued in the current
// batch; a checkpoint is checked once the engine has applied the commands
// before it.
func (es *engineSide) record(rec *sequencer.Record) error {
	if rec.Kind == sequencer.RecordCheckpoint {
		es.checkpoints++
		es.runEngine()
		return es.ver.Check(rec.Checkpoint)
	}
	if es.cur == nil {
		select {
		case <-es.stop:
			return errReplayStopped
		default:
		}
		select {
		case es.cur = <-es.free:
		case <-es.stop:
			return errReplayStopped
		}
		es.cur.items, es.cur.evEnd, es.cur.evs = es.cur.items[:0], es.cur.evEnd[:0], es.cur.evs[:0]
		es.applied = 0
	}
	es.cur.items = append(es.cur.items, rec.Item)
	if len(es.cur.items) == replayBatchCmds {
		es.flush()
	}
	return nil
}

// runEngine applies the current batch's commands that the engine has not
// seen yet, touching the index slots of each touchAhead of them in a row
// first.
func (es *engineSide) runEngine() {
	b := es.cur
	if b == nil {
		return
	}
	s := es.state
	for i := es.applied; i < len(b.items); i++ {
		if (i-es.applied)%touchAhead == 0 {
			for j := i; j < min(i+touchAhead, len(b.items)); j++ {
				es.sink ^= s.Engine.Touch(&b.items[j].Cmd)
			}
		}
		it := &b.items[i]
		start := len(b.evs)
		b.evs = s.Engine.Apply(&it.Cmd, b.evs)
		for k := start; k < len(b.evs); k++ {
			s.Hasher.Add(&b.evs[k])
		}
		b.evEnd = append(b.evEnd, len(b.evs))
		es.ver.Applied(it.Cmd.Seq, s.Engine.OutSeq(), s.Hasher.Sum())
	}
	es.applied = len(b.items)
}

// flush runs the engine over the current batch, if any, and hands it to
// the order manager's side.
func (es *engineSide) flush() {
	if es.cur != nil && len(es.cur.items) > 0 {
		es.runEngine()
		es.full <- es.cur // never blocks: the ring holds every batch
		es.cur = nil
	}
}

// replaySplit is Rebuild's journal replay on two goroutines (see above). It
// fills st and returns the first error in journal order: the order
// manager's, which can only concern a command before the point where the
// reader or the engine stopped, or else theirs.
func replaySplit(state *State, ver *sequencer.Verifier, opts *RebuildOptions, st *RebuildStats) (sequencer.ReplayStats, error) {
	es := &engineSide{
		state: state, ver: ver,
		free: make(chan *replayBatch, replayBatches),
		full: make(chan *replayBatch, replayBatches),
		stop: make(chan struct{}),
	}
	for range replayBatches {
		es.free <- &replayBatch{
			items: make([]sequencer.Item, 0, replayBatchCmds),
			evEnd: make([]int, 0, replayBatchCmds),
			evs:   make([]matching.Event, 0, 2*replayBatchCmds),
		}
	}
	var (
		rs   sequencer.ReplayStats
		rerr error
	)
	ropts := sequencer.ReplayOptions{FromSeq: state.Seq + 1, UntilSeq: opts.UntilSeq}
	go func() {
		defer close(es.full)
		rs, rerr = sequencer.Replay(opts.Dir, ropts, es.record)
		es.flush()
	}()

	every := opts.ProgressEvery
	if every == 0 {
		every = 100_000
	}
	var (
		omErr error
		reps  []ordermanager.Report
		sink  uint64
	)
	m := state.Manager
	for b := range es.full {
		if omErr != nil {
			continue // drain, so the reader is never blocked on a full ring
		}
		from := 0
		for i := range b.items {
			if i%touchAhead == 0 {
				for j := i; j < min(i+touchAhead, len(b.items)); j++ {
					sink ^= m.Touch(&b.items[j].Cmd, b.items[j].MetaBytes())
				}
			}
			it := &b.items[i]
			if err := m.ApplySequenced(&it.Cmd, it.MetaBytes()); err != nil {
				omErr = omError(it, err)
				close(es.stop)
				break
			}
			evs := b.evs[from:b.evEnd[i]]
			from = b.evEnd[i]
			reps = reps[:0]
			for j := range evs {
				reps = m.OnEvent(&evs[j], reps)
			}
			state.Seq = it.Cmd.Seq
			st.EventsReplayed += uint64(len(evs))
			if opts.OnEvents != nil {
				opts.OnEvents(&it.Cmd, evs)
			}
			if opts.OnReports != nil && len(reps) > 0 {
				opts.OnReports(reps)
			}
			if opts.OnItem != nil {
				opts.OnItem(it)
			}
			st.Commands++
			if opts.Progress != nil && st.Commands%every == 0 {
				opts.Progress(it.Cmd.Seq)
			}
		}
		es.free <- b
	}
	// es.full is closed: the reader's goroutine has returned.
	st.Checkpoints = es.checkpoints
	touchSink.Store(sink ^ es.sink)
	if omErr != nil {
		return rs, omErr
	}
	return rs, rerr
}
