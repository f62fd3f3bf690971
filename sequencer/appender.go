package sequencer

import (
	"fmt"
	"os"

	"github.com/rs/zerolog"
)

// Appender writes records that were sequenced elsewhere (a cluster's
// committed log entries, as Log.Append framed them) to a data folder's
// journal, so that every node keeps a journal that Replay, Rebuild and
// `exchange replay` read as they read a single venue's. One goroutine uses
// it.
type Appender struct {
	j       *journal
	lastSeq uint64
	sync    bool
}

// OpenAppender recovers the journal of dir like Open (a torn tail is
// truncated) and opens it for appending. With DurabilityNone Append writes
// without fsync.
func OpenAppender(dir string, dur Durability, segmentBytesMax int64, verifyFromSeq uint64, log zerolog.Logger) (*Appender, RecoveryInfo, error) {
	if segmentBytesMax <= 0 {
		segmentBytesMax = 256 << 20
	}
	j, info, err := openJournal(dir, true, verifyFromSeq, segmentBytesMax, 0, dur != DurabilityNone, log)
	if err != nil {
		return nil, info, err
	}
	return &Appender{j: j, lastSeq: info.LastSeq, sync: dur != DurabilityNone}, info, nil
}

// LastSeq is the last command seq in the journal.
func (a *Appender) LastSeq() uint64 { return a.lastSeq }

// Append writes frames holding commands firstSeq..lastSeq (lastSeq <
// firstSeq when there are none) with one write call and, unless the
// durability is none, one fsync. firstSeq must follow LastSeq. A segment
// that would grow past its size is rotated before the batch, never inside
// it.
func (a *Appender) Append(frames []byte, firstSeq, lastSeq uint64) error {
	if firstSeq != a.lastSeq+1 {
		return fmt.Errorf("journal append: batch starts at seq %d, journal ends at %d", firstSeq, a.lastSeq)
	}
	if a.j.size+int64(len(frames)) > a.j.segBytesMax && firstSeq > a.j.firstSeq && lastSeq >= firstSeq {
		if err := a.j.rotate(firstSeq); err != nil {
			return err
		}
	}
	a.j.buf = frames
	err := a.j.flush()
	a.j.buf = nil
	if err == nil && a.sync {
		if err = a.j.f.Sync(); err != nil {
			err = fmt.Errorf("journal %s: fsync: %w", a.j.path, err)
		}
	}
	if err != nil {
		return err
	}
	if lastSeq >= firstSeq {
		a.lastSeq = lastSeq
	}
	return nil
}

// Close fsyncs and closes the journal.
func (a *Appender) Close() error { return a.j.close() }

// ResetJournal removes dir's journal and snapshots and starts an empty
// journal whose first command will be nextSeq (a node that installs a
// snapshot at seq nextSeq-1 from its cluster). It is for a folder no
// Sequencer or Appender has open.
func ResetJournal(dir string, nextSeq uint64) error {
	for _, sub := range []string{journalDir(dir), snapshotDir(dir)} {
		if err := os.RemoveAll(sub); err != nil {
			return fmt.Errorf("data folder %s: %w", dir, err)
		}
	}
	if _, err := prepareDataDir(dir, true); err != nil {
		return err
	}
	j := &journal{jdir: journalDir(dir), segBytesMax: 1 << 30, fsync: true}
	if err := j.create(nextSeq); err != nil {
		return err
	}
	return j.close()
}
