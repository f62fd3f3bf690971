package pipeline

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/exchange-sim/exchange/sequencer"
)

// A venue opened with Options.Log is one node of a cluster (see package
// cluster). As a standby (Options.Follow) it does not sequence: Follow feeds it
// commands that the leader sequenced and the cluster committed, and they take
// the same path as the leader's own (order manager, sequencer ring, engine,
// market data, reports), so the standby's state is always current and a
// failover replays nothing. Lead turns it into the leader in place.

// followBatch is one committed log entry on its way to the order manager
// goroutine, or (lead set) the request to start sequencing.
type followBatch struct {
	items []sequencer.Item
	cps   []sequencer.Checkpoint
	lead  chan struct{}
}

// followQueue bounds the committed entries waiting for the order manager:
// Follow blocks when it is full, which holds back the cluster's apply loop
// rather than growing memory.
const followQueue = 64

// ErrDiverged is wrapped by the error a standby reports through
// Options.OnDiverge when its engine's output hash differs from the leader's
// checkpoint.
var ErrDiverged = errors.New("standby diverged from the leader")

// ErrStandby is returned by Operate on a standby: it only applies the
// leader's log (Submit refuses too).
var ErrStandby = errors.New("pipeline: a standby takes no requests: only the leader does")

// followState is the part of Exchange a cluster node uses.
type followState struct {
	followCh chan *followBatch
	// cpMu guards cpPending (the leader's checkpoints, handed over by the
	// order manager goroutine), ver and verSeq. A checkpoint is checked by
	// whichever goroutine finds both it and its InSeq's state: the engine
	// after a batch, or the order manager when the checkpoint arrives after
	// the engine applied its InSeq (a quiet leader's last checkpoints come
	// in a batch with no commands, which wakes no engine).
	cpMu      sync.Mutex
	cpPending []sequencer.Checkpoint
	ver       *sequencer.Verifier
	verSeq    uint64 // the last InSeq given to ver.Applied
	// verBuf holds the engine's states of the batch in hand until it hands
	// them to ver under cpMu (engine goroutine only).
	verBuf   []verState
	diverged atomic.Bool
	// followedSeq is the last command Follow put in the ring (order manager
	// goroutine only).
	followedSeq uint64
	// standby is true from Open (Options.Follow) until Lead: Submit and
	// Operate refuse, so nothing but the log changes a standby's state.
	// It only ever goes from true to false.
	standby atomic.Bool
}

// Follow hands a committed batch of already sequenced commands and the
// leader's checkpoints to a standby. It blocks while the standby is
// followQueue batches behind. It returns an error when the venue is not a
// cluster node or is closed. Call it from one goroutine (the cluster's apply
// loop); items and cps are copied.
func (x *Exchange) Follow(items []sequencer.Item, cps []sequencer.Checkpoint) error {
	if x.followCh == nil {
		return errors.New("pipeline: Follow on a venue that is not a cluster node")
	}
	if x.closed.Load() {
		return errors.New("pipeline: Follow on a closed venue")
	}
	b := &followBatch{items: append([]sequencer.Item(nil), items...), cps: append([]sequencer.Checkpoint(nil), cps...)}
	select {
	case x.followCh <- b:
		return nil
	case <-x.quit:
		return errors.New("pipeline: Follow on a closed venue")
	}
}

// Lead makes a standby the sequencer: it returns once every batch given to
// Follow before it has been handed to the engine; commands submitted after it
// are stamped and sent to Options.Log. Call it from the goroutine that calls
// Follow.
func (x *Exchange) Lead() error {
	if x.followCh == nil {
		return errors.New("pipeline: Lead on a venue that is not a cluster node")
	}
	done := make(chan struct{})
	select {
	case x.followCh <- &followBatch{lead: done}:
	case <-x.quit:
		return errors.New("pipeline: Lead on a closed venue")
	}
	select {
	case <-done:
		return nil
	case <-x.omDone:
		return errors.New("pipeline: venue closed before it could lead")
	}
}

// Diverged reports whether the standby found its output hash different from
// the leader's.
func (x *Exchange) Diverged() bool { return x.diverged.Load() }

// omFollow is the order manager goroutine's handling of one follow batch:
// the leader's state change, then the command into the sequencer ring (in
// passthrough it keeps its seq and time stamp). room waits for ring space.
func (x *Exchange) omFollow(b *followBatch, submitted *uint64, room func()) bool {
	if b.lead != nil {
		// Every followed command is in the ring; let the writer pass them
		// through before it stamps again.
		for x.seq.Err() == nil && x.seq.DurableSeq() < x.followedSeq {
			runtime.Gosched()
		}
		x.seq.SetPassthrough(false)
		x.standby.Store(false)
		close(b.lead)
		return true
	}
	if len(b.cps) > 0 {
		x.cpMu.Lock()
		x.cpPending = append(x.cpPending, b.cps...)
		x.checkPendingLocked()
	}
	om := x.state.Manager
	for i := range b.items {
		it := &b.items[i]
		if err := om.ApplySequenced(&it.Cmd, it.MetaBytes()); err != nil {
			x.divergedErr(fmt.Errorf("%w: seq %d: order manager: %v", ErrDiverged, it.Cmd.Seq, err))
			return false
		}
		room()
		for !x.seq.TrySubmit(&it.Cmd, it.MetaBytes()) {
			if err := x.seq.Err(); err != nil {
				x.log.Error().Err(err).Msg("sequencer failed; the standby stops")
				x.closed.Store(true)
				return false
			}
			room()
		}
		*submitted++
		x.followedSeq = it.Cmd.Seq
	}
	x.stats.commands.Add(uint64(len(b.items)))
	return true
}

type verState struct{ inSeq, outSeq, hash uint64 }

// verified runs on the engine goroutine after a batch: it records the states
// the batch reached and checks every pending leader checkpoint it can.
func (x *Exchange) verified() {
	x.cpMu.Lock()
	for _, v := range x.verBuf {
		x.ver.Applied(v.inSeq, v.outSeq, v.hash)
		x.verSeq = v.inSeq
	}
	x.verBuf = x.verBuf[:0]
	x.checkPendingLocked()
}

// checkPendingLocked checks the pending checkpoints whose InSeq ver has seen
// and keeps the others. It is called with cpMu held and releases it.
func (x *Exchange) checkPendingLocked() {
	n := 0
	for _, cp := range x.cpPending {
		if cp.InSeq > x.verSeq {
			x.cpPending[n] = cp
			n++
			continue
		}
		if err := x.ver.Check(cp); err != nil {
			x.cpMu.Unlock()
			x.divergedErr(fmt.Errorf("%w: %v", ErrDiverged, err))
			return
		}
	}
	x.cpPending = x.cpPending[:n]
	x.cpMu.Unlock()
}

// divergedErr stops the standby loudly: it never serves with a state that
// differs from the leader's.
func (x *Exchange) divergedErr(err error) {
	if x.diverged.Swap(true) {
		return
	}
	x.closed.Store(true)
	x.log.Error().Err(err).Msg("STANDBY DIVERGED FROM THE LEADER: it stops and must be rebuilt")
	if x.opts.OnDiverge != nil {
		go x.opts.OnDiverge(err)
	}
}
