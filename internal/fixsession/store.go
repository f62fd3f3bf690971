package fixsession

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// store keeps a session's sequence numbers and the application messages it
// sent, for resends after a reconnect or a restart. Two files per session:
//
//	<name>.msgs     records: u32 length, u64 MsgSeqNum, then the raw message bytes;
//	                with bit 31 of the length set (a keyed record), a u64 key
//	                comes before the message (the length counts it);
//	                or, with MsgSeqNum 0 and length 16 or 24, the sequence
//	                numbers: u64 next outbound MsgSeqNum, u64 next inbound
//	                MsgSeqNum, then (24) u64 the highest key stored
//	<name>.seqnums  16 or 24 bytes, the same numbers as of the last clean
//	                close or reset (little endian)
//
// The key is the caller's (the gateway records the ExecID of a report the
// journal can regenerate): it is written in the same record as its message,
// so whatever a kill tears off, a key on disk is the key of a message on
// disk, and keyMax, the highest of them, says exactly up to where the
// messages made it. keyMax survives resets and daily rollovers (it is in the
// numbers records and the .seqnums file).
//
// The writer appends each batch (its messages, then the sequence numbers if
// they changed) with one write call, before the batch goes on the socket,
// so a sequence number on disk never runs ahead of the messages it counts
// and never behind what the counterparty received. The last numbers record
// in msgs wins over the .seqnums file (which a store of an earlier version
// has alone). Unless Settings.StoreSync, writes go through the page cache
// without an fsync, like QuickFIX's FileStoreSync=N: the exchange's journal
// is its source of truth, and a message lost with the machine's page cache
// is answered with a gap fill. A store with no directory keeps everything
// in memory.
type store struct {
	seqF, msgF *os.File
	msgSize    int64

	nextOut, nextIn uint64
	keyMax          uint64 // highest key of a keyed record, ever (see above)
	// keyed: the store was written by a version that records keys (a
	// numbers record or .seqnums file with keyMax, or a keyed record), so
	// keyMax is a true mark; a store of an earlier version, or an empty one,
	// says nothing of the keys of what it holds.
	keyed    bool
	seqDirty bool
	sync     bool // fsync after each batch

	// The index is sparse: marks[k] is the offset in msgs (or in mem) of
	// the first record whose MsgSeqNum is at least base+k*markStride (or
	// where such a record will go). Records are in MsgSeqNum order, so a
	// message is found by reading forward from its mark, at most
	// markStride records; the cursor makes a resend's run of consecutive
	// numbers one step each. It costs 8 bytes per markStride numbers instead
	// of 8 per message: the index stays small however long the day.
	base  uint64
	marks []int64
	top   uint64 // highest MsgSeqNum recorded, 0 when none
	end   int64  // offset after the last record (file, pending and mem together)
	cur   storeCursor
	mem   []byte // the records, when there is no file

	name  string        // path without extension, "" in memory
	sched StoreSchedule // daily reset and retention
	epoch int64         // when the current sequence began (Unix ns)

	pending []byte // records not yet written to msgF
	// inflight holds the records the writer is writing (offsets from
	// inflightOff up to msgSize), so get never reads a half-written record.
	inflight    []byte
	inflightOff int64
}

const (
	recHeader      = 12
	seqRecBytes    = 16 // a numbers record's payload, as earlier versions wrote it
	seqRecKeyBytes = 24 // a numbers record's payload with keyMax
	recKeyed       = 1 << 31
	recKeyBytes    = 8
	markStride     = 32 // MsgSeqNums per index mark
)

// storeCursor remembers where the last lookup ended, so that the next
// number up is found without going back to its mark.
type storeCursor struct {
	seq  uint64 // MsgSeqNum of the record at off; 0: none
	off  int64
	next int64 // offset of the record after it
}

func storeName(h *Header) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
				return r
			}
			return '_'
		}, s)
	}
	return clean(h.BeginString) + "-" + clean(h.SenderCompID) + "-" + clean(h.TargetCompID)
}

// openStore opens (or creates) the store of h in dir; dir "" keeps it in
// memory.
func openStore(dir string, h *Header) (*store, error) {
	return openStoreAt(dir, h, StoreSchedule{}, time.Now())
}

// openStoreAt opens the store as of now under sched: when a daily reset
// fell between the store's last reset and now, it rolls over first.
func openStoreAt(dir string, h *Header, sched StoreSchedule, now time.Time) (*store, error) {
	s := &store{nextOut: 1, nextIn: 1, base: 1, sched: sched, epoch: now.UnixNano()}
	if dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fix store: %w", err)
	}
	name := filepath.Join(dir, storeName(h))
	s.name = name
	var err error
	if s.seqF, err = os.OpenFile(name+".seqnums", os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		return nil, fmt.Errorf("fix store: %w", err)
	}
	var b [seqRecKeyBytes]byte
	n, err := s.seqF.ReadAt(b[:], 0)
	switch {
	case n == seqRecBytes || n == seqRecKeyBytes:
		s.nextOut = binary.LittleEndian.Uint64(b[0:])
		s.nextIn = binary.LittleEndian.Uint64(b[8:])
		if n == seqRecKeyBytes {
			s.keyMax, s.keyed = binary.LittleEndian.Uint64(b[16:]), true
		}
		if s.nextOut == 0 || s.nextIn == 0 {
			s.closeFiles()
			return nil, fmt.Errorf("fix store %s.seqnums: sequence number 0", name)
		}
	case n == 0 && (err == nil || errors.Is(err, io.EOF)):
	default:
		s.closeFiles()
		return nil, fmt.Errorf("fix store %s.seqnums: %d bytes, want 16 or 24 (%v)", name, n, err)
	}
	if s.msgF, err = os.OpenFile(name+".msgs", os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("fix store: %w", err)
	}
	if err := s.loadIndex(name + ".msgs"); err != nil {
		s.closeFiles()
		return nil, err
	}
	if err := s.loadEpoch(now); err != nil {
		s.closeFiles()
		return nil, err
	}
	if _, err := s.rollIfDue(now); err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

// loadIndex reads the record headers of msgs; a torn last record (the
// process died mid-write) is cut off.
func (s *store) loadIndex(name string) error {
	st, err := s.msgF.Stat()
	if err != nil {
		return fmt.Errorf("fix store %s: %w", name, err)
	}
	size := st.Size()
	sc, err := scanRecords(s.msgF, size, func(seq uint64, off, end int64) { s.indexAt(seq, off, end) })
	if err != nil {
		return fmt.Errorf("fix store %s: %w", name, err)
	}
	if sc.numbers {
		s.nextOut, s.nextIn = sc.nextOut, sc.nextIn
	}
	s.keyMax = max(s.keyMax, sc.keyMax)
	s.keyed = s.keyed || sc.keyed
	// A message on disk was sent: never start below it.
	s.nextOut = max(s.nextOut, sc.lastApp+1)
	off := sc.end
	if off < size {
		if err := s.msgF.Truncate(off); err != nil {
			return fmt.Errorf("fix store %s: %w", name, err)
		}
	}
	s.msgSize = off
	s.end = off
	_, err = s.msgF.Seek(off, io.SeekStart)
	return err
}

// scanned is what scanRecords found in a msgs file.
type scanned struct {
	end             int64 // offset after the last whole record
	lastApp         uint64
	numbers         bool // a numbers record was found; the last one's are here
	nextOut, nextIn uint64
	keyMax          uint64
	keyed           bool // a record only a key-recording store writes was found
}

// scanRecords reads the record headers of a msgs file of size bytes from
// its start, calling onMsg for each message record, up to the first record
// that is torn or not one this store writes. Only headers, keys and numbers
// are read: the file holds every message sent and can be far larger than
// the index built from it.
func scanRecords(f io.Reader, size int64, onMsg func(seq uint64, off, end int64)) (scanned, error) {
	var sc scanned
	r := bufio.NewReaderSize(f, 64<<10)
	var h [recHeader]byte
	var nums [seqRecKeyBytes]byte
	off := int64(0)
	for off+recHeader <= size {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return sc, err
		}
		n32 := binary.LittleEndian.Uint32(h[0:])
		keyed := n32&recKeyed != 0
		n := int64(n32 &^ recKeyed)
		seq := binary.LittleEndian.Uint64(h[4:])
		if n > msgBytesMax*2+recKeyBytes || off+recHeader+n > size ||
			(seq == 0 && (keyed || n != seqRecBytes && n != seqRecKeyBytes)) || (keyed && n < recKeyBytes) {
			break
		}
		if seq == 0 {
			if _, err := io.ReadFull(r, nums[:n]); err != nil {
				return sc, err
			}
			out, in := binary.LittleEndian.Uint64(nums[0:]), binary.LittleEndian.Uint64(nums[8:])
			if out == 0 || in == 0 {
				break // not a record this store wrote: cut here
			}
			sc.numbers, sc.nextOut, sc.nextIn = true, out, in
			if n == seqRecKeyBytes {
				sc.keyMax = max(sc.keyMax, binary.LittleEndian.Uint64(nums[16:]))
				sc.keyed = true
			}
		} else {
			skip := int(n)
			if keyed {
				if _, err := io.ReadFull(r, nums[:recKeyBytes]); err != nil {
					return sc, err
				}
				sc.keyMax = max(sc.keyMax, binary.LittleEndian.Uint64(nums[:]))
				sc.keyed = true
				skip -= recKeyBytes
			}
			if _, err := r.Discard(skip); err != nil {
				return sc, err
			}
			if onMsg != nil {
				onMsg(seq, off, off+recHeader+n)
			}
			sc.lastApp = max(sc.lastApp, seq)
		}
		off += recHeader + n
	}
	sc.end = off
	return sc, nil
}

// indexAt records that the record of seq starts at off and ends at end.
// Records come in MsgSeqNum order; one that does not (never written by
// this store) is left out of the index.
func (s *store) indexAt(seq uint64, off, end int64) {
	if s.top == 0 {
		s.base = seq - seq%markStride // marks fall on multiples of the stride
		if s.base == 0 {
			s.base = 1
		}
	}
	if seq <= s.top || seq < s.base {
		return
	}
	// Every mark up to seq's points at this record: no number between the
	// last record and this one was stored.
	for k := uint64(len(s.marks)); s.base+k*markStride <= seq; k++ {
		s.marks = append(s.marks, off)
	}
	s.top = seq
	s.end = end
}

// save records the application message raw sent as seq (not yet written),
// with key when it is not 0 (a keyed record: keyMax counts it once the
// record is read back whole).
func (s *store) save(seq uint64, raw []byte, key uint64) {
	off := s.msgSize + int64(len(s.pending))
	if s.msgF == nil {
		off = int64(len(s.mem))
	}
	var h [recHeader + recKeyBytes]byte
	hn := recHeader
	binary.LittleEndian.PutUint32(h[0:], uint32(len(raw)))
	binary.LittleEndian.PutUint64(h[4:], seq)
	if key != 0 {
		binary.LittleEndian.PutUint32(h[0:], uint32(len(raw)+recKeyBytes)|recKeyed)
		binary.LittleEndian.PutUint64(h[recHeader:], key)
		hn += recKeyBytes
		s.keyMax, s.keyed = max(s.keyMax, key), true
	}
	if s.msgF == nil {
		s.mem = append(append(s.mem, h[:hn]...), raw...)
	} else {
		s.pending = append(append(s.pending, h[:hn]...), raw...)
	}
	s.indexAt(seq, off, off+int64(hn)+int64(len(raw)))
}

// flushBatch is what one flush writes; the writer takes it under the
// session's lock and writes it outside.
type flushBatch struct {
	f    *store
	sync bool
	msgs []byte
}

// take moves what needs writing into fb (fb.msgs is reused): the messages
// saved since the last take and, when they changed, the sequence numbers
// after them.
func (s *store) take(fb *flushBatch) {
	fb.f = s
	fb.sync = s.sync
	fb.msgs = fb.msgs[:0]
	if s.msgF == nil {
		s.seqDirty = false // nothing to write them to
		return
	}
	if s.seqDirty {
		s.pending = appendSeqRecord(s.pending, s.nextOut, s.nextIn, s.keyMax)
		s.keyed = true
		s.seqDirty = false
	}
	if len(s.pending) > 0 {
		fb.msgs, s.pending = s.pending, fb.msgs[:0]
		s.inflight, s.inflightOff = fb.msgs, s.msgSize
		s.msgSize += int64(len(fb.msgs))
	}
}

func appendSeqRecord(b []byte, nextOut, nextIn, keyMax uint64) []byte {
	var r [recHeader + seqRecKeyBytes]byte
	binary.LittleEndian.PutUint32(r[0:], seqRecKeyBytes)
	binary.LittleEndian.PutUint64(r[12:], nextOut)
	binary.LittleEndian.PutUint64(r[20:], nextIn)
	binary.LittleEndian.PutUint64(r[28:], keyMax)
	return append(b, r[:]...)
}

// write writes a taken batch with one write call (and an fsync with
// StoreSync).
func (fb *flushBatch) write() error {
	if len(fb.msgs) == 0 {
		return nil
	}
	if _, err := fb.f.msgF.Write(fb.msgs); err != nil {
		return fmt.Errorf("fix store: %w", err)
	}
	if fb.sync {
		if err := fb.f.msgF.Sync(); err != nil {
			return fmt.Errorf("fix store: %w", err)
		}
	}
	return nil
}

// writeSeqFile writes the sequence numbers to the .seqnums file.
func (s *store) writeSeqFile() error {
	if s.seqF == nil {
		return nil
	}
	var b [seqRecKeyBytes]byte
	binary.LittleEndian.PutUint64(b[0:], s.nextOut)
	binary.LittleEndian.PutUint64(b[8:], s.nextIn)
	binary.LittleEndian.PutUint64(b[16:], s.keyMax)
	s.keyed = true
	if _, err := s.seqF.WriteAt(b[:], 0); err != nil {
		return fmt.Errorf("fix store: %w", err)
	}
	if s.sync {
		if err := s.seqF.Sync(); err != nil {
			return fmt.Errorf("fix store: %w", err)
		}
	}
	return nil
}

// get returns the stored raw message seq, if it was an application message
// still in the store. It reads forward from seq's mark (or from the cursor,
// when seq is above it) through at most markStride records. Only the
// connection's writer appends to msgF, so a read of a written record is
// safe; a record not yet written is read from pending or inflight.
func (s *store) get(seq uint64) ([]byte, bool) {
	if seq < s.base || seq > s.top || s.top == 0 {
		return nil, false
	}
	k := (seq - s.base) / markStride
	off := s.marks[k]
	if c := s.cur; c.seq != 0 && c.seq <= seq && c.off >= off {
		if c.seq == seq {
			off = c.off
		} else {
			off = c.next
		}
	}
	for off < s.end {
		rs, _, next, ok := s.recordAt(off, false)
		if !ok || rs > seq {
			return nil, false
		}
		if rs == seq {
			rs, raw, _, ok := s.recordAt(off, true)
			if !ok {
				return nil, false
			}
			s.cur = storeCursor{seq: rs, off: off, next: next}
			return raw, true
		}
		s.cur = storeCursor{seq: rs, off: off, next: next}
		off = next
	}
	return nil, false
}

// recordAt reads the record at off: its MsgSeqNum, its message (when body
// is set) and the offset of the next record. A record is in mem (no file),
// pending (not yet taken), inflight (being written) or in the file.
func (s *store) recordAt(off int64, body bool) (seq uint64, raw []byte, next int64, ok bool) {
	var rec []byte
	switch {
	case s.msgF == nil:
		rec = s.mem[off:]
	case off >= s.msgSize:
		rec = s.pending[off-s.msgSize:]
	case off >= s.inflightOff && off < s.inflightOff+int64(len(s.inflight)):
		rec = s.inflight[off-s.inflightOff:]
	default:
		var h [recHeader]byte
		if _, err := s.msgF.ReadAt(h[:], off); err != nil {
			return 0, nil, 0, false
		}
		n, skip := recLen(binary.LittleEndian.Uint32(h[:]))
		seq = binary.LittleEndian.Uint64(h[4:])
		next = off + recHeader + int64(n)
		if body {
			raw = make([]byte, n-skip)
			if _, err := s.msgF.ReadAt(raw, off+recHeader+int64(skip)); err != nil {
				return 0, nil, 0, false
			}
		}
		return seq, raw, next, true
	}
	if len(rec) < recHeader {
		return 0, nil, 0, false
	}
	n, skip := recLen(binary.LittleEndian.Uint32(rec))
	seq = binary.LittleEndian.Uint64(rec[4:])
	if uint64(len(rec)) < recHeader+uint64(n) {
		return 0, nil, 0, false
	}
	return seq, rec[recHeader+skip : recHeader+n], off + recHeader + int64(n), true
}

// recLen splits a record's length word: the payload's length, and how much
// of it comes before the message (a keyed record's key).
func recLen(w uint32) (n, skip uint32) {
	if w&recKeyed != 0 {
		n = w &^ recKeyed
		return n, min(n, recKeyBytes)
	}
	return w, 0
}

// reset starts both sequences at 1 and forgets the sent messages. The
// .seqnums file is written at once: with msgs emptied it is what a restart
// would read.
func (s *store) reset() error {
	s.nextOut, s.nextIn, s.seqDirty = 1, 1, true
	s.marks, s.base, s.top, s.end, s.cur = s.marks[:0], 1, 0, 0, storeCursor{}
	s.mem, s.pending = s.mem[:0], s.pending[:0]
	s.inflight, s.inflightOff = nil, 0
	if s.msgF != nil {
		if err := s.writeSeqFile(); err != nil {
			return err
		}
		if err := s.msgF.Truncate(0); err != nil {
			return fmt.Errorf("fix store: %w", err)
		}
		if _, err := s.msgF.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("fix store: %w", err)
		}
		s.msgSize = 0
	}
	return nil
}

// close writes the final sequence numbers to the .seqnums file too and
// closes both files. Only the connection's writer writes msgs, and it has
// stopped.
func (s *store) close() {
	_ = s.writeSeqFile()
	s.closeFiles()
}

// closeFiles closes the files as they are (openStore's failures use it: a
// damaged .seqnums file is left as found).
func (s *store) closeFiles() {
	for _, f := range []*os.File{s.seqF, s.msgF} {
		if f != nil {
			_ = f.Sync()
			_ = f.Close()
		}
	}
}
