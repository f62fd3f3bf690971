package cluster

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/hashicorp/raft"

	"github.com/exchange-sim/exchange/sequencer"
)

// fsm is the Node as raft's state machine. raft calls Apply, Snapshot and
// Restore from one goroutine.
type fsm Node

// Apply journals a committed entry on this node (fsynced per the policy) and
// then: on the leader, for its own entry, nothing more (the commands are
// already in its engine's ring, which they leave once this returns); on a
// standby, hands them to its venue. A leader that sees another leader's entry
// has lost leadership: it rebuilds as a standby from the journal, which now
// holds that entry too.
func (f *fsm) Apply(l *raft.Log) interface{} {
	n := (*Node)(f)
	if l.Type != raft.LogCommand {
		return nil
	}
	defer n.appliedIndex.Store(l.Index)
	if b, ok := marksRecord(l.Data); ok {
		if n.cfg.OnMarks != nil {
			n.cfg.OnMarks(b)
		}
		return nil
	}
	if d := n.applyDelayNs.Load(); d > 0 {
		time.Sleep(time.Duration(d))
	}
	n.mu.Lock()
	h, frames, err := decodeEntry(l.Data)
	if err != nil {
		n.failLocked(fmt.Errorf("raft index %d: %w", l.Index, err))
		n.mu.Unlock()
		return err
	}
	last := n.app.LastSeq()
	if h.firstSeq <= last {
		// Already journaled: raft re-applies its log after its last
		// snapshot when a node restarts.
		n.mu.Unlock()
		return nil
	}
	if h.firstSeq != last+1 {
		err := fmt.Errorf("raft index %d: entry starts at seq %d, the journal ends at seq %d", l.Index, h.firstSeq, last)
		n.failLocked(err)
		n.mu.Unlock()
		return err
	}
	if n.mode == modeFailed {
		n.mu.Unlock()
		return errors.New("cluster: node failed")
	}
	if err := n.app.Append(frames, h.firstSeq, h.lastSeq); err != nil {
		n.failLocked(fmt.Errorf("raft index %d: %w", l.Index, err))
		n.mu.Unlock()
		return err
	}
	n.stats.entries.Add(1)
	switch n.mode {
	case modeLeader:
		if h.epoch == n.epoch {
			n.mu.Unlock()
			return nil
		}
		n.mu.Unlock()
		n.demote("an entry from another leader")
		return nil
	case modeFollower:
		err := f.follow(frames)
		n.mu.Unlock()
		if err != nil {
			n.fail(err)
		}
		return err
	}
	n.mu.Unlock()
	return nil
}

// follow decodes an entry's frames and feeds them to the standby venue.
func (f *fsm) follow(frames []byte) error {
	n := (*Node)(f)
	var (
		items []sequencer.Item
		cps   []sequencer.Checkpoint
	)
	err := sequencer.DecodeFrames(frames, func(rec *sequencer.Record) error {
		if rec.Kind == sequencer.RecordCommand {
			items = append(items, rec.Item)
		} else {
			cps = append(cps, rec.Checkpoint)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return n.x.Load().Follow(items, cps)
}

// A raft snapshot of a node is the newest snapshot file of its venue plus the
// journal after it up to the snapshot's point, and the delivery marks
// (Config.MarksSnapshot):
//
//	magic uint32 "XRS2" | snapSeq uint64 | lastSeq uint64 | body length uint64 | body CRC32C uint32 |
//	marks length uint32 | marks CRC32C uint32 | body | marks | frames
//
// where body is the venue's snapshot at snapSeq (none when snapSeq is 0),
// marks the marks payloads (count uint32 | count × (length uint32 | payload))
// and frames the journal records of commands snapSeq+1..lastSeq. The
// existing snapshot files and journal serve as they are; raft needs no copy
// of the venue's state in memory. A snapshot written before the marks were
// in it (magic "XRSN", no marks fields, no marks) is still read.
const (
	snapMagicV1      uint32 = 0x4e535258 // "XRSN"
	snapMagic        uint32 = 0x32535258 // "XRS2"
	snapHeaderSizeV1        = 4 + 8 + 8 + 8 + 4
	snapHeaderSize          = snapHeaderSizeV1 + 4 + 4
	snapMarksMax            = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot notes the journal's end; Persist does the work, concurrently with
// Apply (the journal and snapshot files are append-only and atomic).
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	n := (*Node)(f)
	n.mu.Lock()
	defer n.mu.Unlock()
	var marks []byte
	if n.cfg.MarksSnapshot != nil {
		marks = encodeSnapMarks(n.cfg.MarksSnapshot())
	}
	return &fsmSnapshot{n: n, lastSeq: n.app.LastSeq(), marks: marks}, nil
}

type fsmSnapshot struct {
	n       *Node
	lastSeq uint64
	marks   []byte // the marks section (encodeSnapMarks)
}

// encodeSnapMarks is the snapshot's marks section: count uint32, then each
// payload as length uint32 | bytes (copied: the caller keeps its own).
func encodeSnapMarks(recs [][]byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(recs)))
	for _, r := range recs {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(r)))
		b = append(b, r...)
	}
	return b
}

// decodeSnapMarks splits a marks section; it never panics.
func decodeSnapMarks(b []byte) ([][]byte, error) {
	if len(b) < 4 {
		return nil, errors.New("cluster snapshot: marks section too short")
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	var recs [][]byte
	for i := uint32(0); i < n; i++ {
		if len(b) < 4 || uint64(len(b)-4) < uint64(binary.LittleEndian.Uint32(b)) {
			return nil, fmt.Errorf("cluster snapshot: marks record %d truncated", i)
		}
		l := binary.LittleEndian.Uint32(b)
		recs = append(recs, b[4:4+l])
		b = b[4+l:]
	}
	if len(b) != 0 {
		return nil, errors.New("cluster snapshot: bytes after the marks records")
	}
	return recs, nil
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	err := s.write(sink)
	if err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) write(w io.Writer) error {
	dir := s.n.cfg.Dir
	snap, _, err := sequencer.LatestSnapshot(dir, s.n.log)
	if err != nil {
		return err
	}
	var (
		snapSeq uint64
		body    []byte
	)
	if snap != nil {
		snapSeq, body = snap.Seq, snap.Body
	}
	lastSeq := max(s.lastSeq, snapSeq)
	bw := bufio.NewWriterSize(w, 1<<20)
	var hdr [snapHeaderSize]byte
	binary.LittleEndian.PutUint32(hdr[0:], snapMagic)
	binary.LittleEndian.PutUint64(hdr[4:], snapSeq)
	binary.LittleEndian.PutUint64(hdr[12:], lastSeq)
	binary.LittleEndian.PutUint64(hdr[20:], uint64(len(body)))
	binary.LittleEndian.PutUint32(hdr[28:], crc32.Checksum(body, castagnoli))
	marks := s.marks
	if marks == nil {
		marks = encodeSnapMarks(nil)
	}
	binary.LittleEndian.PutUint32(hdr[32:], uint32(len(marks)))
	binary.LittleEndian.PutUint32(hdr[36:], crc32.Checksum(marks, castagnoli))
	bw.Write(hdr[:])
	bw.Write(body)
	bw.Write(marks)
	if lastSeq > snapSeq {
		var frame []byte
		_, err := sequencer.Replay(dir, sequencer.ReplayOptions{FromSeq: snapSeq + 1, UntilSeq: lastSeq}, func(rec *sequencer.Record) error {
			if rec.Kind == sequencer.RecordCommand {
				frame = sequencer.AppendCommandFrame(frame[:0], &rec.Item)
			} else {
				frame = sequencer.AppendCheckpointFrame(frame[:0], &rec.Checkpoint)
			}
			_, err := bw.Write(frame)
			return err
		})
		if err != nil {
			return fmt.Errorf("cluster snapshot: %w", err)
		}
	}
	return bw.Flush()
}

func (s *fsmSnapshot) Release() {}

// Restore installs a snapshot from the leader: unless this node's journal
// already reaches its point, it replaces the node's journal and snapshot
// files with the snapshot's and reopens the venue from them.
func (f *fsm) Restore(rc io.ReadCloser) error {
	n := (*Node)(f)
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<20)
	var hdr [snapHeaderSize]byte
	if _, err := io.ReadFull(br, hdr[:snapHeaderSizeV1]); err != nil {
		return fmt.Errorf("cluster snapshot: header: %w", err)
	}
	m := binary.LittleEndian.Uint32(hdr[0:])
	if m != snapMagic && m != snapMagicV1 {
		return fmt.Errorf("cluster snapshot: magic %#x", m)
	}
	if m == snapMagic {
		if _, err := io.ReadFull(br, hdr[snapHeaderSizeV1:]); err != nil {
			return fmt.Errorf("cluster snapshot: header: %w", err)
		}
	}
	snapSeq := binary.LittleEndian.Uint64(hdr[4:])
	lastSeq := binary.LittleEndian.Uint64(hdr[12:])
	bodyLen := binary.LittleEndian.Uint64(hdr[20:])
	marksLen := binary.LittleEndian.Uint32(hdr[32:])
	if bodyLen > 1<<34 || lastSeq < snapSeq || marksLen > snapMarksMax {
		return fmt.Errorf("cluster snapshot: body of %d bytes, marks of %d, seqs %d..%d", bodyLen, marksLen, snapSeq, lastSeq)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	// readMarks reads the marks section (after the body) and hands its
	// records to OnMarks: a node restarting from its own snapshot, or
	// installing a leader's, knows the marks committed before it.
	readMarks := func() error {
		if m != snapMagic {
			return nil
		}
		b := make([]byte, marksLen)
		if _, err := io.ReadFull(br, b); err != nil {
			return fmt.Errorf("cluster snapshot: marks: %w", err)
		}
		if crc32.Checksum(b, castagnoli) != binary.LittleEndian.Uint32(hdr[36:]) {
			return errors.New("cluster snapshot: marks CRC mismatch")
		}
		recs, err := decodeSnapMarks(b)
		if err != nil {
			return err
		}
		if n.cfg.OnMarks != nil {
			for _, r := range recs {
				n.cfg.OnMarks(r)
			}
		}
		return nil
	}
	if n.app.LastSeq() >= lastSeq {
		// The journal already reaches the snapshot. At start (raft
		// restores the node's own snapshot before it applies anything)
		// the marks are still wanted: the process knows none. Later (a
		// leader sending a snapshot again) this node has applied them, and
		// maybe newer ones since, which older marks must not replace.
		fresh := n.appliedIndex.Load() == 0 && n.stats.restores.Load() == 0
		if _, err := io.CopyN(io.Discard, br, int64(bodyLen)); err != nil {
			return fmt.Errorf("cluster snapshot: body: %w", err)
		}
		if fresh {
			if err := readMarks(); err != nil {
				return err
			}
		}
		_, err := io.Copy(io.Discard, br)
		return err
	}
	body := make([]byte, bodyLen)
	if _, err := io.ReadFull(br, body); err != nil {
		return fmt.Errorf("cluster snapshot: body: %w", err)
	}
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(hdr[28:]) {
		return errors.New("cluster snapshot: body CRC mismatch")
	}
	if err := readMarks(); err != nil {
		return err
	}
	frames, err := io.ReadAll(br)
	if err != nil {
		return fmt.Errorf("cluster snapshot: journal: %w", err)
	}
	n.leading.Store(false)
	prev := n.mode
	n.mode = modeRestoring
	if x := n.x.Load(); x != nil {
		x.Close()
	}
	n.app.Close()
	fail := func(err error) error {
		n.mode = prev
		n.failLocked(fmt.Errorf("cluster snapshot at seq %d: %w", lastSeq, err))
		return err
	}
	if err := sequencer.ResetJournal(n.cfg.Dir, snapSeq+1); err != nil {
		return fail(err)
	}
	if snapSeq > 0 {
		if _, err := sequencer.WriteSnapshot(n.cfg.Dir, snapSeq, body); err != nil {
			return fail(err)
		}
	}
	if err := n.openJournal(); err != nil {
		return fail(err)
	}
	if len(frames) > 0 {
		if err := n.app.Append(frames, snapSeq+1, lastSeq); err != nil {
			return fail(err)
		}
	}
	x, err := n.openVenue()
	if err != nil {
		return fail(err)
	}
	n.x.Store(x)
	n.mode = modeFollower
	n.stats.restores.Add(1)
	n.log.Info().Uint64("snapshot_seq", snapSeq).Uint64("seq", lastSeq).Msg("installed a snapshot from the leader")
	return nil
}
