package cluster

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/rs/zerolog"
)

// SegmentStore is raft's log store and stable store over append-only segment
// files of our own, the alternative to raft-boltdb (cluster.log_store:
// segments). One StoreLogs call is one write and one fsync (none under
// durability none), where a bolt commit writes B+tree pages and its meta page
// with two fsyncs.
//
// Folder (DIR/raft/segments/):
//
//	NNNNNNNNNNNNNNNNNNNN.rlog  a segment; the name is the raft index of its first record
//	head                       the first index still in the log (head compaction), CRC-checked
//	stable                     the stable store (raft's term and vote), CRC-checked
//
// A segment is a 24-byte header (magic "XRLG", version, first index, CRC)
// followed by records framed as the journal's (sequencer/doc.go):
//
//	length uint32 | payload (length bytes) | CRC32C(length | payload) uint32
//
// with the payload
//
//	index uint64 | term uint64 | type uint8 | appendedAt int64 (Unix ns, 0: none) |
//	extensions length uint32 | extensions | data
//
// Records in a segment have dense indexes from the segment's first; raft may
// leave a gap between segments (a follower's log after it installs a
// snapshot). An in-memory index keeps, per segment, the offset of each record.
//
// Deletion: from the head (compaction after a raft snapshot) the new first
// index is written to head (write temp, fsync, rename, fsync the folder) and
// then whole segments below it are removed; a partly compacted segment stays
// on disk and its records below head are not served. From the tail (a
// follower's conflicting entries) the segment holding the first deleted
// record is truncated at its offset and fsynced, and later segments removed.
//
// Recovery on open: every record's length, CRC and index are checked; the
// last segment is cut at its first bad record (a torn or corrupt tail, the
// bytes dropped are logged), a bad record in an earlier segment refuses the
// open (the log would have a hole). A damaged file never panics the reader.
//
// Safe for concurrent use: StoreLogs and DeleteRange are serialised; GetLog
// does not wait for a StoreLogs' fsync (appends land past every record the
// index already serves).
type SegmentStore struct {
	dir      string
	sync     bool
	segBytes int64
	log      zerolog.Logger

	// wmu serialises the writers (StoreLogs, DeleteRange, Set, Close).
	wmu sync.Mutex
	buf []byte // StoreLogs' encoding buffer, under wmu

	// mu guards the index (segs) and stable; GetLog holds it shared.
	mu     sync.RWMutex
	segs   []*segment
	stable map[string][]byte
	closed bool
}

type segment struct {
	base uint64 // index of the segment's first record (offs[0])
	lo   uint64 // first index served (above base after head compaction)
	path string
	f    *os.File
	offs []int64 // offset of each record; record i has index base+i
	size int64   // end of the last record
	// published: in segs (a new segment joins the index with its first
	// records, so every segment the index holds has one at least).
	published bool
}

func (s *segment) last() uint64 { return s.base + uint64(len(s.offs)) - 1 }

const (
	segMagic       = 0x474c5258 // "XRLG" little-endian
	segVersion     = 1
	segHeaderSize  = 24
	recOverhead    = 4 + 4             // length, CRC
	recFixed       = 8 + 8 + 1 + 8 + 4 // index, term, type, appendedAt, extensions length
	recPayloadMax  = 1 << 30           // a length above this is damage, not a record
	segExt         = ".rlog"
	headFile       = "head"
	stableFile     = "stable"
	stableMagic    = 0x54535258 // "XRST"
	defaultSegSize = 64 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrKeyNotFound is the stable store's answer for a key never set. raft
// compares the error's text with "not found" (as raft-boltdb's is).
var ErrKeyNotFound = errors.New("not found")

// SegmentStoreOptions configure OpenSegmentStore.
type SegmentStoreOptions struct {
	// NoSync skips every fsync of the log (durability none).
	NoSync bool
	// SegmentBytes starts a new segment once one is this large; default 64 MiB.
	SegmentBytes int64
	Log          zerolog.Logger
}

// OpenSegmentStore opens (creating it if needed) the store in dir, checking
// and repairing its files (see SegmentStore).
func OpenSegmentStore(dir string, o SegmentStoreOptions) (*SegmentStore, error) {
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = defaultSegSize
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("raft log %s: %w", dir, err)
	}
	s := &SegmentStore{dir: dir, sync: !o.NoSync, segBytes: o.SegmentBytes, log: o.Log}
	var err error
	if s.stable, err = readStable(filepath.Join(dir, stableFile)); err != nil {
		return nil, err
	}
	os.Remove(filepath.Join(dir, stableFile+".tmp"))
	os.Remove(filepath.Join(dir, headFile+".tmp"))
	if err := s.load(); err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

// load reads every segment, builds the index and cuts a damaged tail.
func (s *SegmentStore) load() error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("raft log %s: %w", s.dir, err)
	}
	var bases []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segExt)
		if !ok || e.IsDir() {
			continue
		}
		base, err := strconv.ParseUint(name, 10, 64)
		if err != nil || base == 0 || len(name) != 20 {
			return fmt.Errorf("raft log %s: unexpected file %s", s.dir, e.Name())
		}
		bases = append(bases, base)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	head, err := readHead(filepath.Join(s.dir, headFile))
	if err != nil {
		return err
	}
	for i, base := range bases {
		lastSeg := i == len(bases)-1
		seg := &segment{base: base, lo: base, path: filepath.Join(s.dir, segName(base)), published: true}
		f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("raft log %s: %w", seg.path, err)
		}
		seg.f = f
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("raft log %s: %w", seg.path, err)
		}
		offs, good, why := scanSegment(f, st.Size(), base)
		if why != "" {
			if !lastSeg {
				f.Close()
				return fmt.Errorf("raft log %s: offset %d: %s, and later segments follow it: the log has a hole; restore this node from a peer (empty its data folder)", seg.path, good, why)
			}
			s.log.Warn().Str("file", seg.path).Int64("offset", good).Int64("bytes_dropped", st.Size()-good).Str("why", why).Msg("raft log: cutting a damaged tail")
			if good < segHeaderSize {
				good = 0 // not even a header: the segment goes
			}
			if err := f.Truncate(good); err != nil {
				f.Close()
				return fmt.Errorf("raft log %s: cutting its tail: %w", seg.path, err)
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return fmt.Errorf("raft log %s: %w", seg.path, err)
			}
		}
		seg.offs, seg.size = offs, good
		if len(offs) == 0 || seg.last() < head {
			// Empty (a segment created just before a crash) or wholly
			// below the head (a compaction interrupted after head was
			// written): nothing in it is served.
			f.Close()
			if err := os.Remove(seg.path); err != nil {
				return fmt.Errorf("raft log %s: %w", seg.path, err)
			}
			continue
		}
		if n := len(s.segs); n > 0 && s.segs[n-1].last() >= base {
			f.Close()
			return fmt.Errorf("raft log %s: overlaps the previous segment (its last index %d)", seg.path, s.segs[n-1].last())
		}
		s.segs = append(s.segs, seg)
	}
	if len(s.segs) > 0 && head > s.segs[0].base {
		s.segs[0].lo = head
	}
	return syncDir(s.dir)
}

// scanSegment reads a segment's header and records from r (size bytes) and
// returns each good record's offset, the end of the last good one, and why
// it stopped early ("" when the whole file is good). It never panics and
// never allocates more than the file holds.
func scanSegment(r io.ReaderAt, size int64, base uint64) (offs []int64, good int64, why string) {
	var hdr [segHeaderSize]byte
	if size < segHeaderSize {
		return nil, 0, "short segment header"
	}
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, 0, "reading the header: " + err.Error()
	}
	if binary.LittleEndian.Uint32(hdr[0:]) != segMagic || binary.LittleEndian.Uint16(hdr[4:]) != segVersion {
		return nil, 0, "bad segment magic or version"
	}
	if crc32.Checksum(hdr[:20], crcTable) != binary.LittleEndian.Uint32(hdr[20:]) {
		return nil, 0, "segment header CRC mismatch"
	}
	if got := binary.LittleEndian.Uint64(hdr[8:]); got != base {
		return nil, 0, fmt.Sprintf("header names first index %d, file name %d", got, base)
	}
	off := int64(segHeaderSize)
	br := bufio.NewReaderSize(io.NewSectionReader(r, off, size-off), 1<<20)
	var rec []byte
	for off < size {
		var lb [4]byte
		if _, err := io.ReadFull(br, lb[:]); err != nil {
			return offs, off, "torn record length"
		}
		n := binary.LittleEndian.Uint32(lb[:])
		if n < recFixed || n > recPayloadMax || int64(n)+recOverhead > size-off {
			return offs, off, fmt.Sprintf("record length %d does not fit", n)
		}
		if cap(rec) < int(n)+4 {
			rec = make([]byte, int(n)+4)
		}
		rec = rec[:int(n)+4]
		if _, err := io.ReadFull(br, rec); err != nil {
			return offs, off, "torn record"
		}
		crc := crc32.Update(crc32.Checksum(lb[:], crcTable), crcTable, rec[:n])
		if crc != binary.LittleEndian.Uint32(rec[n:]) {
			return offs, off, "record CRC mismatch"
		}
		want := base + uint64(len(offs))
		if idx := binary.LittleEndian.Uint64(rec); idx != want {
			return offs, off, fmt.Sprintf("record index %d where %d belongs", idx, want)
		}
		if _, err := decodeRecordPayload(rec[:n], &raft.Log{}); err != nil {
			return offs, off, err.Error()
		}
		offs = append(offs, off)
		off += int64(n) + recOverhead
	}
	return offs, off, ""
}

func segName(base uint64) string { return fmt.Sprintf("%020d%s", base, segExt) }

func appendSegHeader(b []byte, base uint64) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, segMagic)
	b = binary.LittleEndian.AppendUint16(b, segVersion)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint64(b, base)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], crcTable))
}

// appendRecord frames l as one record.
func appendRecord(b []byte, l *raft.Log) []byte {
	start := len(b)
	n := recFixed + len(l.Extensions) + len(l.Data)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint64(b, l.Index)
	b = binary.LittleEndian.AppendUint64(b, l.Term)
	b = append(b, byte(l.Type))
	var at int64
	if !l.AppendedAt.IsZero() {
		at = l.AppendedAt.UnixNano()
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(at))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(l.Extensions)))
	b = append(b, l.Extensions...)
	b = append(b, l.Data...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], crcTable))
}

// decodeRecordPayload fills l from a payload whose CRC matched; Data and
// Extensions alias p. It returns the record's index.
func decodeRecordPayload(p []byte, l *raft.Log) (uint64, error) {
	if len(p) < recFixed {
		return 0, errors.New("record shorter than its fixed fields")
	}
	ext := binary.LittleEndian.Uint32(p[25:])
	if uint64(ext) > uint64(len(p)-recFixed) {
		return 0, fmt.Errorf("record extensions length %d does not fit", ext)
	}
	l.Index = binary.LittleEndian.Uint64(p[0:])
	l.Term = binary.LittleEndian.Uint64(p[8:])
	l.Type = raft.LogType(p[16])
	l.AppendedAt = time.Time{}
	if at := int64(binary.LittleEndian.Uint64(p[17:])); at != 0 {
		l.AppendedAt = time.Unix(0, at)
	}
	l.Extensions = nil
	if ext > 0 {
		l.Extensions = p[recFixed : recFixed+ext : recFixed+ext]
	}
	l.Data = nil
	if len(p) > recFixed+int(ext) {
		l.Data = p[recFixed+int(ext):]
	}
	return l.Index, nil
}

// FirstIndex is the first index served, 0 for an empty log.
func (s *SegmentStore) FirstIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.segs) == 0 {
		return 0, nil
	}
	return s.segs[0].lo, nil
}

// LastIndex is the last index stored, 0 for an empty log.
func (s *SegmentStore) LastIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.segs) == 0 {
		return 0, nil
	}
	return s.segs[len(s.segs)-1].last(), nil
}

// find returns the segment holding index, or nil. Under mu.
func (s *SegmentStore) find(index uint64) *segment {
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].last() >= index })
	if i == len(s.segs) || index < s.segs[i].lo {
		return nil
	}
	return s.segs[i]
}

// GetLog reads the entry at index (raft.ErrLogNotFound when it is not held).
// The bytes are read and CRC-checked again: a record damaged after open is
// an error, not a wrong entry.
func (s *SegmentStore) GetLog(index uint64, l *raft.Log) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errors.New("raft log: closed")
	}
	seg := s.find(index)
	if seg == nil {
		return raft.ErrLogNotFound
	}
	i := index - seg.base
	start, end := seg.offs[i], seg.size
	if i+1 < uint64(len(seg.offs)) {
		end = seg.offs[i+1]
	}
	b := make([]byte, end-start)
	if _, err := seg.f.ReadAt(b, start); err != nil {
		return fmt.Errorf("raft log %s: reading index %d: %w", seg.path, index, err)
	}
	n := len(b) - recOverhead
	if n < recFixed || binary.LittleEndian.Uint32(b) != uint32(n) || crc32.Checksum(b[:4+n], crcTable) != binary.LittleEndian.Uint32(b[4+n:]) {
		return fmt.Errorf("raft log %s: index %d at offset %d: record damaged since open", seg.path, index, start)
	}
	got, err := decodeRecordPayload(b[4:4+n], l)
	if err != nil || got != index {
		return fmt.Errorf("raft log %s: index %d at offset %d: record damaged since open", seg.path, index, start)
	}
	return nil
}

// StoreLog appends one entry.
func (s *SegmentStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs appends entries with increasing indexes after the last one (a
// gap starts a new segment): one write and, unless NoSync, one fsync per
// segment written (one, except when a segment fills up or after a gap).
func (s *SegmentStore) StoreLogs(logs []*raft.Log) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.RLock()
	closed := s.closed
	var last uint64
	var cur *segment
	if n := len(s.segs); n > 0 {
		cur = s.segs[n-1]
		last = cur.last()
	}
	s.mu.RUnlock()
	if closed {
		return errors.New("raft log: closed")
	}
	var (
		dirty   []*segment
		pending []int64 // offsets of the records in buf, for cur
		buf     = s.buf[:0]
	)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if _, err := cur.f.WriteAt(buf, cur.size); err != nil {
			if cur.published {
				cur.f.Truncate(cur.size) // best effort: the index never served it
			} else {
				cur.f.Close()
				os.Remove(cur.path)
			}
			return fmt.Errorf("raft log %s: %w", cur.path, err)
		}
		s.mu.Lock()
		if !cur.published {
			s.segs = append(s.segs, cur)
			cur.published = true
		}
		cur.offs = append(cur.offs, pending...)
		cur.size += int64(len(buf))
		s.mu.Unlock()
		pending, buf = pending[:0], buf[:0]
		return nil
	}
	// Published records are visible to GetLog before their fsync; raft
	// reads an entry only after StoreLogs returned it, so that is harmless.
	prev := last
	for _, l := range logs {
		if l.Index == 0 || l.Index <= prev {
			return fmt.Errorf("raft log: index %d stored after %d (delete the tail first)", l.Index, prev)
		}
		prev = l.Index
	}
	for _, l := range logs {
		if cur == nil || l.Index != last+1 || cur.size+int64(len(buf)) >= s.segBytes {
			if err := flush(); err != nil {
				return err
			}
			seg, err := s.newSegment(l.Index)
			if err != nil {
				return err
			}
			cur = seg
			dirty = append(dirty, seg)
		} else if len(dirty) == 0 {
			dirty = append(dirty, cur)
		}
		pending = append(pending, cur.size+int64(len(buf)))
		buf = appendRecord(buf, l)
		last = l.Index
	}
	err := flush()
	if cap(buf) <= 4<<20 {
		s.buf = buf[:0]
	}
	if err != nil || !s.sync {
		return err
	}
	for _, seg := range dirty {
		if err := seg.f.Sync(); err != nil {
			return fmt.Errorf("raft log %s: %w", seg.path, err)
		}
	}
	return nil
}

// newSegment creates the segment whose first record will be base; the first
// flush of records into it adds it to the index. Under wmu.
func (s *SegmentStore) newSegment(base uint64) (*segment, error) {
	path := filepath.Join(s.dir, segName(base))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("raft log %s: %w", path, err)
	}
	if _, err := f.Write(appendSegHeader(nil, base)); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("raft log %s: %w", path, err)
	}
	if s.sync {
		err := f.Sync()
		if err == nil {
			err = syncDir(s.dir)
		}
		if err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("raft log %s: %w", path, err)
		}
	}
	return &segment{base: base, lo: base, path: path, f: f, size: segHeaderSize}, nil
}

// DeleteRange deletes the entries min..max inclusive. raft deletes from the
// head (compaction after a snapshot) or from the tail (entries that conflict
// with the leader's); a range in the middle of the log is refused.
func (s *SegmentStore) DeleteRange(min, max uint64) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.RLock()
	closed, empty := s.closed, len(s.segs) == 0
	var first, last uint64
	if !empty {
		first, last = s.segs[0].lo, s.segs[len(s.segs)-1].last()
	}
	s.mu.RUnlock()
	switch {
	case closed:
		return errors.New("raft log: closed")
	case empty || min > max || max < first || min > last:
		return nil
	case min <= first:
		return s.deleteHead(max)
	case max >= last:
		return s.deleteTail(min)
	}
	return fmt.Errorf("raft log: deleting %d..%d from the middle of %d..%d", min, max, first, last)
}

// deleteHead drops every entry up to max: head is written first, then whole
// segments below it are removed (an interruption leaves files that open
// removes).
func (s *SegmentStore) deleteHead(max uint64) error {
	if err := writeFileAtomic(s.dir, headFile, encodeHead(max+1)); err != nil {
		return err
	}
	s.mu.Lock()
	var drop []*segment
	for len(s.segs) > 0 && s.segs[0].last() <= max {
		drop = append(drop, s.segs[0])
		s.segs = s.segs[1:]
	}
	if len(s.segs) > 0 && s.segs[0].lo <= max {
		s.segs[0].lo = max + 1
	}
	empty := len(s.segs) == 0
	s.mu.Unlock()
	if err := s.removeSegments(drop); err != nil {
		return err
	}
	if empty {
		// Whatever index raft stores next (after a snapshot, usually
		// max+1) is served: no head below it.
		return writeFileAtomic(s.dir, headFile, encodeHead(0))
	}
	return nil
}

// deleteTail drops every entry from min on: the segment holding min is
// truncated at its record and fsynced, later segments removed.
func (s *SegmentStore) deleteTail(min uint64) error {
	s.mu.Lock()
	var drop []*segment
	for n := len(s.segs); n > 0 && s.segs[n-1].base >= min; n-- {
		drop = append(drop, s.segs[n-1])
		s.segs = s.segs[:n-1]
	}
	var cut *segment
	if n := len(s.segs); n > 0 && s.segs[n-1].last() >= min {
		cut = s.segs[n-1]
	}
	s.mu.Unlock()
	if cut != nil {
		// Truncate before the index forgets the records: a failed
		// truncate leaves them served, which is what is on disk.
		off := cut.offs[min-cut.base]
		if err := cut.f.Truncate(off); err != nil {
			return fmt.Errorf("raft log %s: truncating at index %d: %w", cut.path, min, err)
		}
		if err := cut.f.Sync(); err != nil {
			return fmt.Errorf("raft log %s: %w", cut.path, err)
		}
		s.mu.Lock()
		cut.offs = cut.offs[:min-cut.base]
		cut.size = off
		s.mu.Unlock()
	}
	return s.removeSegments(drop)
}

func (s *SegmentStore) removeSegments(segs []*segment) error {
	if len(segs) == 0 {
		return nil
	}
	var err error
	for _, seg := range segs {
		seg.f.Close()
		if rerr := os.Remove(seg.path); rerr != nil && err == nil {
			err = fmt.Errorf("raft log: %w", rerr)
		}
	}
	if serr := syncDir(s.dir); err == nil && serr != nil {
		err = fmt.Errorf("raft log %s: %w", s.dir, serr)
	}
	return err
}

// Close closes the segment files; the store serves nothing after it.
func (s *SegmentStore) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.closeFiles()
}

func (s *SegmentStore) closeFiles() error {
	var err error
	for _, seg := range s.segs {
		if cerr := seg.f.Close(); err == nil {
			err = cerr
		}
	}
	s.segs = nil
	return err
}

// Set stores a stable-store key durably (always fsynced, whatever the
// durability: terms and votes are few and raft's safety rests on them).
func (s *SegmentStore) Set(key, val []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.RLock()
	next := make(map[string][]byte, len(s.stable)+1)
	for k, v := range s.stable {
		next[k] = v
	}
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return errors.New("raft stable store: closed")
	}
	next[string(key)] = append([]byte(nil), val...)
	if err := writeFileAtomic(s.dir, stableFile, encodeStable(next)); err != nil {
		return err
	}
	s.mu.Lock()
	s.stable = next
	s.mu.Unlock()
	return nil
}

// Get returns a stable-store key's value, ErrKeyNotFound when never set.
func (s *SegmentStore) Get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.stable[string(key)]
	if !ok {
		return nil, ErrKeyNotFound
	}
	return append([]byte(nil), v...), nil
}

// SetUint64 stores val as 8 bytes.
func (s *SegmentStore) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 reads a value SetUint64 stored (0 and ErrKeyNotFound when never set).
func (s *SegmentStore) GetUint64(key []byte) (uint64, error) {
	v, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("raft stable store: key %q holds %d bytes, not a uint64", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// encodeStable: magic uint32 | count uint32 | (key length uint16 | key |
// value length uint32 | value)... | CRC32C of everything before uint32.
func encodeStable(m map[string][]byte) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := binary.LittleEndian.AppendUint32(nil, stableMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(keys)))
	for _, k := range keys {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(k)))
		b = append(b, k...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(m[k])))
		b = append(b, m[k]...)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

func decodeStable(b []byte) (map[string][]byte, error) {
	if len(b) < 12 || binary.LittleEndian.Uint32(b) != stableMagic {
		return nil, errors.New("not a stable store file")
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, errors.New("CRC mismatch")
	}
	n := binary.LittleEndian.Uint32(body[4:])
	p := body[8:]
	m := make(map[string][]byte)
	for range n {
		if len(p) < 2 || len(p) < 2+int(binary.LittleEndian.Uint16(p)) {
			return nil, errors.New("truncated key")
		}
		kl := int(binary.LittleEndian.Uint16(p))
		k := string(p[2 : 2+kl])
		p = p[2+kl:]
		if len(p) < 4 || uint64(len(p)-4) < uint64(binary.LittleEndian.Uint32(p)) {
			return nil, errors.New("truncated value")
		}
		vl := int(binary.LittleEndian.Uint32(p))
		m[k] = append([]byte(nil), p[4:4+vl]...)
		p = p[4+vl:]
	}
	if len(p) != 0 {
		return nil, errors.New("bytes after the last key")
	}
	return m, nil
}

// readStable reads the stable store; a missing file is an empty store, a
// damaged one an error (forgetting a vote could elect two leaders in a term).
func readStable(path string) (map[string][]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string][]byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("raft stable store %s: %w", path, err)
	}
	m, err := decodeStable(b)
	if err != nil {
		return nil, fmt.Errorf("raft stable store %s: %w", path, err)
	}
	return m, nil
}

// encodeHead is the head file: first index uint64 | CRC32C of it uint32.
func encodeHead(first uint64) []byte {
	b := binary.LittleEndian.AppendUint64(nil, first)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// readHead reads the persisted first index (0 when none).
func readHead(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("raft log %s: %w", path, err)
	}
	if len(b) != 12 || crc32.Checksum(b[:8], crcTable) != binary.LittleEndian.Uint32(b[8:]) {
		return 0, fmt.Errorf("raft log %s: damaged (written by rename, so not torn)", path)
	}
	return binary.LittleEndian.Uint64(b), nil
}

// writeFileAtomic replaces dir/name with b: write a temporary file, fsync,
// rename, fsync the folder.
func writeFileAtomic(dir, name string, b []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("raft store %s: %w", tmp, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("raft store %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// syncDir makes a file's creation, rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

var (
	_ raft.LogStore    = (*SegmentStore)(nil)
	_ raft.StableStore = (*SegmentStore)(nil)
)
