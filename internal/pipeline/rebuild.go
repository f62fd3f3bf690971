package pipeline

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// RebuildOptions controls Rebuild.
type RebuildOptions struct {
	// Dir is the data folder.
	Dir string
	// UntilSeq stops after this command (0: the whole journal).
	UntilSeq uint64
	// IgnoreSnapshots replays from the first command even when a snapshot
	// exists.
	IgnoreSnapshots bool
	// Pace, when positive, replays at the recorded pace divided by Pace (1 is
	// the recorded pace, 10 ten times faster); 0 is as fast as possible.
	Pace float64
	// OnEvents, when set, sees every command's engine events (for market data,
	// CSV output, summaries). The slice is reused after the call.
	OnEvents func(cmd *matching.Command, evs []matching.Event)
	// OnReports, when set, sees every command's order-manager reports, in
	// order (recovery hands those its FIX stores lack to the gateway:
	// Options.Recovered). The slice is reused after the call.
	OnReports func(reps []ordermanager.Report)
	// OnItem, when set, sees every journaled command with its meta bytes
	// (exchange replay lists operator actions from it) after it is applied.
	OnItem func(it *sequencer.Item)
	// Progress, when set, is called about every ProgressEvery commands.
	//
	// The callbacks are called on one goroutine, in journal order, but a
	// replay at full speed runs the engine on another goroutine ahead of
	// them (replaySplit): they must not read the State being rebuilt.
	Progress      func(seq uint64)
	ProgressEvery uint64
	Log           zerolog.Logger

	// snapshot is the newest valid snapshot when the caller (Open) has
	// already loaded it, so start-up reads and checks it only once.
	snapshot       *sequencer.Snapshot
	snapshotLoaded bool
}

// RebuildStats says what Rebuild found.
type RebuildStats struct {
	SnapshotSeq    uint64 // 0 when no snapshot was used
	SnapshotFile   string
	SkippedSnaps   []error // snapshots found corrupt and skipped
	Commands       uint64  // commands replayed after the snapshot
	Checkpoints    uint64  // checkpoint records read
	Verified       uint64  // checkpoints whose hash the replay reproduced
	Unverifiable   uint64  // checkpoints before the snapshot or out of the window
	LastSeq        uint64
	Torn           sequencer.TornTail
	Elapsed        time.Duration
	EventsReplayed uint64
}

// Rebuild loads the newest valid snapshot of opts.Dir (unless told not to) and
// replays the journal after it, checking every checkpoint record against the
// regenerated event hash. A mismatch is an error: the build no longer
// reproduces the recorded output.
func Rebuild(ref *refdata.Registry, opts RebuildOptions) (*State, RebuildStats, error) {
	var st RebuildStats
	start := time.Now()
	if fi, err := os.Stat(opts.Dir); err != nil {
		return nil, st, fmt.Errorf("data folder %s: %w", opts.Dir, err)
	} else if !fi.IsDir() {
		return nil, st, fmt.Errorf("data folder %s: not a directory", opts.Dir)
	}
	var state *State
	if !opts.IgnoreSnapshots {
		snap := opts.snapshot
		if !opts.snapshotLoaded {
			var skipped []error
			var err error
			// Mapped, not read onto the heap; released once restored.
			snap, skipped, err = sequencer.OpenLatestSnapshot(opts.Dir, opts.Log)
			st.SkippedSnaps = skipped
			if err != nil {
				return nil, st, err
			}
			defer snap.Close()
		}
		if snap != nil && (opts.UntilSeq == 0 || snap.Seq <= opts.UntilSeq) {
			s, err := RestoreState(ref, snap.Body)
			if err != nil {
				return nil, st, fmt.Errorf("snapshot %s: %w", snap.File, err)
			}
			if s.Seq != snap.Seq {
				return nil, st, fmt.Errorf("snapshot %s: file says seq %d, body says %d", snap.File, snap.Seq, s.Seq)
			}
			state = s
			st.SnapshotSeq, st.SnapshotFile = snap.Seq, snap.File
		}
		if !opts.snapshotLoaded {
			snap.Close() // before the replay, not after it
		}
	}
	if state == nil {
		state = NewState(ref)
	}
	ap := newApplier(state)
	var (
		rs  sequencer.ReplayStats
		err error
	)
	if opts.Pace > 0 || forceSerialReplay {
		rs, err = replaySerial(ap, &opts, &st)
	} else {
		// A replay at full speed allocates almost nothing but the state it
		// rebuilds, which stays live, so the collector's cycles while the
		// heap grows only mark it again and take a core from the two
		// replay goroutines (as in RestoreState). Not with OnEvents, whose
		// consumers (market data, summaries) make garbage of their own.
		if opts.OnEvents == nil {
			release := holdGC()
			rs, err = replaySplit(state, ap.ver, &opts, &st)
			release()
		} else {
			rs, err = replaySplit(state, ap.ver, &opts, &st)
		}
	}
	st.Torn = rs.Torn
	st.LastSeq = state.Seq
	st.Verified, st.Unverifiable = ap.ver.Verified, ap.ver.Unverifiable
	st.Elapsed = time.Since(start)
	if err != nil {
		var ce *sequencer.CorruptError
		if errors.As(err, &ce) {
			return nil, st, err
		}
		return nil, st, fmt.Errorf("replay of %s: %w", opts.Dir, err)
	}
	return state, st, nil
}

// applier applies journaled commands to a State and checks checkpoint
// records against it: the one replay path behind Rebuild (recovery and
// `exchange replay`) and Follower (the reporter).
type applier struct {
	state *State
	ver   *sequencer.Verifier
	evs   []matching.Event      // the last command's events
	reps  []ordermanager.Report // the last command's reports
}

func newApplier(state *State) *applier {
	ap := &applier{state: state, ver: sequencer.NewVerifier(0)}
	ap.ver.Applied(state.Seq, state.Engine.OutSeq(), state.Hasher.Sum())
	return ap
}

// apply runs one command; its events and reports are in ap.evs and ap.reps
// until the next call.
func (ap *applier) apply(it *sequencer.Item) error {
	var err error
	ap.evs, ap.reps, err = ap.state.Apply(it, ap.evs[:0], ap.reps[:0])
	if err != nil {
		return err
	}
	ap.ver.Applied(it.Cmd.Seq, ap.state.Engine.OutSeq(), ap.state.Hasher.Sum())
	return nil
}

// forceSerialReplay makes Rebuild replay on one goroutine even at full
// speed (tests compare the two ways).
var forceSerialReplay = false

// replaySerial is Rebuild's journal replay on the calling goroutine: the
// way a paced replay runs (see replaySplit for the other).
func replaySerial(ap *applier, opts *RebuildOptions, st *RebuildStats) (sequencer.ReplayStats, error) {
	var (
		firstNs int64
		wall0   time.Time
	)
	every := opts.ProgressEvery
	if every == 0 {
		every = 100_000
	}
	return sequencer.Replay(opts.Dir, sequencer.ReplayOptions{FromSeq: ap.state.Seq + 1, UntilSeq: opts.UntilSeq}, func(rec *sequencer.Record) error {
		if rec.Kind == sequencer.RecordCheckpoint {
			st.Checkpoints++
			return ap.ver.Check(rec.Checkpoint)
		}
		it := &rec.Item
		if opts.Pace > 0 {
			if firstNs == 0 {
				firstNs, wall0 = it.Cmd.TimeNs, time.Now()
			}
			due := wall0.Add(time.Duration(float64(it.Cmd.TimeNs-firstNs) / opts.Pace))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		if err := ap.apply(it); err != nil {
			return err
		}
		st.EventsReplayed += uint64(len(ap.evs))
		if opts.OnEvents != nil {
			opts.OnEvents(&it.Cmd, ap.evs)
		}
		if opts.OnReports != nil && len(ap.reps) > 0 {
			opts.OnReports(ap.reps)
		}
		if opts.OnItem != nil {
			opts.OnItem(it)
		}
		st.Commands++
		if opts.Progress != nil && st.Commands%every == 0 {
			opts.Progress(it.Cmd.Seq)
		}
		return nil
	})
}
