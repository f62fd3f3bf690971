package sequencer

import (
	"errors"
	"fmt"
	"io"
)

// ReplayOptions selects the commands Replay delivers.
type ReplayOptions struct {
	// FromSeq is the first command delivered (the snapshot's seq + 1); 0 or 1
	// starts at the beginning.
	FromSeq uint64
	// UntilSeq is the last command delivered; 0 runs to the end.
	UntilSeq uint64
}

// ReplayStats says what Replay delivered.
type ReplayStats struct {
	Commands    uint64
	Checkpoints uint64
	// FirstSeq and LastSeq are the first and last commands delivered (0 when
	// none).
	FirstSeq, LastSeq uint64
	// Torn is a partial record at the end of the journal, not delivered (a
	// journal that crashed and was not reopened since).
	Torn TornTail
}

// Replay streams the records of the journal in data folder dir to fn, in
// order: the commands from opts.FromSeq to opts.UntilSeq and the checkpoint
// records among them. The *Record is reused: fn must copy what it keeps. An
// error from fn stops the replay and is returned. It is an error when the
// journal ends before FromSeq-1, or before UntilSeq (the snapshot or the
// requested end is newer than the journal). It allocates only at start.
func Replay(dir string, opts ReplayOptions, fn func(rec *Record) error) (ReplayStats, error) {
	var st ReplayStats
	r, err := NewReader(dir, opts.FromSeq)
	if err != nil {
		return st, err
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, err
		}
		if rec.Kind == RecordCommand {
			seq := rec.Item.Cmd.Seq
			if opts.UntilSeq != 0 && seq > opts.UntilSeq {
				return st, nil
			}
			if st.FirstSeq == 0 {
				st.FirstSeq = seq
			}
			st.LastSeq = seq
			st.Commands++
		} else {
			st.Checkpoints++
		}
		if err := fn(rec); err != nil {
			return st, err
		}
	}
	st.Torn = r.Torn()
	last := uint64(0)
	if r.started {
		last = r.nextSeq - 1
	}
	if opts.FromSeq > 1 && last+1 < opts.FromSeq {
		return st, fmt.Errorf("journal in %s ends at seq %d, replay from seq %d needs seq %d: the snapshot is newer than the journal", dir, last, opts.FromSeq, opts.FromSeq-1)
	}
	if opts.UntilSeq != 0 && last < opts.UntilSeq {
		return st, fmt.Errorf("journal in %s ends at seq %d, before the requested seq %d", dir, last, opts.UntilSeq)
	}
	return st, nil
}

// Verifier checks the checkpoint records of a journal against the state a
// replay regenerates. A checkpoint for InSeq is journaled some commands after
// InSeq (the engine stage reports it once it has applied InSeq), so the
// verifier remembers the last window states: call Applied after every command,
// Check for every checkpoint record. Memory: 24 bytes per window entry.
type Verifier struct {
	win []verifierEntry
	// Verified counts checkpoints that matched; Unverifiable those whose InSeq
	// was before the replay started or out of the window.
	Verified, Unverifiable uint64
}

type verifierEntry struct {
	inSeq, outSeq, hash uint64
	set                 bool
}

// NewVerifier returns a verifier that remembers window states. window must
// exceed the live stage's RingItems plus BatchRecordsMax; 0 means 1<<17.
func NewVerifier(window int) *Verifier {
	if window <= 0 {
		window = 1 << 17
	}
	return &Verifier{win: make([]verifierEntry, window)}
}

// Applied records the state after command inSeq: the last event's OutSeq and
// the running event hash. Call it for the snapshot's state too. It does not
// allocate.
func (v *Verifier) Applied(inSeq, outSeq, eventHash uint64) {
	v.win[inSeq%uint64(len(v.win))] = verifierEntry{inSeq, outSeq, eventHash, true}
}

// Check compares a journaled checkpoint with the replayed state at its InSeq.
func (v *Verifier) Check(cp Checkpoint) error {
	e := v.win[cp.InSeq%uint64(len(v.win))]
	if !e.set || e.inSeq != cp.InSeq {
		v.Unverifiable++
		return nil
	}
	if e.outSeq != cp.OutSeq || e.hash != cp.EventHash {
		return fmt.Errorf("checkpoint at seq %d: replay reached out seq %d with event hash %#016x, the journal recorded out seq %d with hash %#016x",
			cp.InSeq, e.outSeq, e.hash, cp.OutSeq, cp.EventHash)
	}
	v.Verified++
	return nil
}
