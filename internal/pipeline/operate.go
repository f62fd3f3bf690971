package pipeline

import (
	"context"
	"errors"

	"github.com/exchange-sim/exchange/internal/ordermanager"
)

// opsQueued bounds the operator requests waiting for the order manager.
const opsQueued = 64

// ErrClosed is returned by Operate and Inspect once the venue is closing.
var ErrClosed = errors.New("pipeline: the venue is closed")

// opReq is one operator action or read, run on the order manager's
// goroutine between two requests.
type opReq struct {
	fn     func(om *ordermanager.Manager, cmds []ordermanager.Pending) ([]ordermanager.Pending, error)
	cmds   []ordermanager.Pending
	target uint64 // processed commands at which the op's last command is through
	res    OperateResult
	err    error
	done   chan struct{}
}

// OperateResult says where an operator action went in the journal.
type OperateResult struct {
	// Seq is the sequence number of the action's first command (its note);
	// LastSeq that of its last. Both 0 for a read.
	Seq, LastSeq uint64
	Commands     int
}

// Operate carries out one operator action: the order manager validates it
// and turns it into commands (Manager.Operate), the pipeline sequences them
// like a request's, and Operate returns once every one of them is journaled
// (durable under the journal policy) and matched, so the caller sees their
// effect. It returns the order manager's error for an action it refuses,
// ErrClosed when the venue closes first, ErrStandby on a cluster standby,
// or ctx's error.
func (x *Exchange) Operate(ctx context.Context, op *ordermanager.Operation) (OperateResult, error) {
	if x.standby.Load() {
		return OperateResult{}, ErrStandby
	}
	r := &opReq{done: make(chan struct{}), fn: func(om *ordermanager.Manager, cmds []ordermanager.Pending) ([]ordermanager.Pending, error) {
		return om.Operate(op, cmds)
	}}
	err := x.runOnManager(ctx, r)
	return r.res, err
}

// Inspect runs fn on the order manager's goroutine, between two requests,
// and returns once it has: fn may read the manager (and must not keep
// references into it, nor change it).
func (x *Exchange) Inspect(ctx context.Context, fn func(om *ordermanager.Manager)) error {
	r := &opReq{done: make(chan struct{}), fn: func(om *ordermanager.Manager, cmds []ordermanager.Pending) ([]ordermanager.Pending, error) {
		fn(om)
		return cmds, nil
	}}
	return x.runOnManager(ctx, r)
}

func (x *Exchange) runOnManager(ctx context.Context, r *opReq) error {
	if x.closed.Load() {
		return ErrClosed
	}
	select {
	case x.ops <- r:
	case <-x.omDone:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the op runs (or the venue stops): waiting for it even
	// after ctx ends would be kinder, but a caller that gives up must not
	// hang.
	select {
	case <-r.done:
		return r.err
	case <-x.omDone:
		select {
		case <-r.done:
			return r.err
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runOp runs r on the order manager's goroutine: submit sequences one
// command and returns its sequence number (0: the sequencer failed) and the
// count of commands submitted since Open;
// processed reads the order manager's count of commands back from the
// engine.
func (x *Exchange) runOp(r *opReq, om *ordermanager.Manager, submit func(*ordermanager.Pending) (seq, submitted uint64), processed func() uint64) {
	var err error
	r.cmds, err = r.fn(om, r.cmds[:0])
	if err != nil {
		r.err = err
		close(r.done)
		return
	}
	for i := range r.cmds {
		p := &r.cmds[i]
		seq, n := submit(p)
		if seq == 0 {
			r.err = x.seq.Err()
			if r.err == nil {
				r.err = ErrClosed
			}
			close(r.done)
			return
		}
		if i == 0 {
			r.res.Seq = seq
			if _, ok := ordermanager.DecodeOperatorNote(&p.Cmd, p.MetaBytes()); ok {
				om.StampNote(seq, x.opts.Clock())
			}
		}
		r.res.LastSeq = seq
		r.res.Commands++
		// The commands submitted so far are through once processed reaches
		// their count since Open.
		r.target = n
	}
	x.stats.commands.Add(uint64(len(r.cmds)))
	if r.res.Commands == 0 || processed() >= r.target {
		close(r.done)
		return
	}
	x.opWait = append(x.opWait, r)
}

// opsProcessed finishes the operator actions whose commands the engine has
// all applied.
func (x *Exchange) opsProcessed(processed uint64) {
	if len(x.opWait) == 0 {
		return
	}
	n := 0
	for _, r := range x.opWait {
		if processed >= r.target {
			close(r.done)
			continue
		}
		x.opWait[n] = r
		n++
	}
	clear(x.opWait[n:])
	x.opWait = x.opWait[:n]
}
