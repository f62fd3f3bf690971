package pipeline

import (
	"errors"
	"fmt"
	"io"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// Follower replays a journal while it grows, for consumers beside the
// trading flow (the reporter): it regenerates every command's engine events
// and order-manager reports through the same path as Rebuild, and checks the
// journal's checkpoint records on the way. It is owned by one goroutine.
type Follower struct {
	r  *sequencer.Reader
	ap *applier
}

// NewFollower rebuilds the state after command afterSeq (from the newest
// snapshot at or before it plus the journal; afterSeq 0 starts from an empty
// venue of reference data ref) and opens the journal of dir after it.
func NewFollower(ref *refdata.Registry, dir string, afterSeq uint64, log zerolog.Logger) (*Follower, error) {
	state := NewState(ref)
	if afterSeq > 0 {
		s, _, err := Rebuild(ref, RebuildOptions{Dir: dir, UntilSeq: afterSeq, Log: log})
		if err != nil {
			return nil, err
		}
		state = s
	}
	r, err := sequencer.NewReader(dir, afterSeq+1)
	if err != nil {
		return nil, err
	}
	return &Follower{r: r, ap: newApplier(state)}, nil
}

// State is the state after the last command Next returned.
func (f *Follower) State() *State { return f.ap.state }

// Next applies the next command of the journal and returns it with its
// events and reports (valid until the next call). At the end of what has
// been written so far it returns io.EOF; call it again later to continue.
// Cost: one record's replay; at the end, a directory listing and a stat.
func (f *Follower) Next() (*matching.Command, []matching.Event, []ordermanager.Report, error) {
	resumed := false
	for {
		rec, err := f.r.Next()
		if errors.Is(err, io.EOF) && !resumed {
			if err := f.r.Resume(); err != nil {
				return nil, nil, nil, err
			}
			resumed = true
			continue
		}
		if err != nil {
			return nil, nil, nil, err
		}
		if rec.Kind == sequencer.RecordCheckpoint {
			if err := f.ap.ver.Check(rec.Checkpoint); err != nil {
				return nil, nil, nil, err
			}
			continue
		}
		if err := f.ap.apply(&rec.Item); err != nil {
			return nil, nil, nil, fmt.Errorf("journal: %w", err)
		}
		return &rec.Item.Cmd, f.ap.evs, f.ap.reps, nil
	}
}

// Close releases the journal.
func (f *Follower) Close() error { return f.r.Close() }
