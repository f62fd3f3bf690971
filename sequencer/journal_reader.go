package sequencer

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
)

// CorruptError stops reading or recovery at a record that is damaged, out of
// order or missing. It is never skipped: data after it would be lost silently.
type CorruptError struct {
	File   string
	Offset int64
	// Seq is the sequence number the record at Offset was expected to hold.
	Seq    uint64
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("journal %s: offset %d: seq %d: %s", e.File, e.Offset, e.Seq, e.Reason)
}

// TornTail describes a partial record at the end of the last segment, what a
// crash in the middle of a write leaves behind: a frame that runs past the end
// of the file, a last frame whose CRC does not match, or a tail of zero bytes.
type TornTail struct {
	File   string
	Offset int64 // where the partial record starts
	Bytes  int64 // how many bytes follow Offset
}

type segmentFile struct {
	path     string
	firstSeq uint64 // from the file name
}

// checkHeader decodes the segment header b (magic, version, CRC) and checks
// that it names the same first seq as the file name.
func (seg segmentFile) checkHeader(b []byte) (segmentHeader, error) {
	h, err := decodeSegmentHeader(seg.path, b)
	if err != nil {
		return h, err
	}
	if h.firstSeq != seg.firstSeq {
		return h, &CorruptError{File: seg.path, Offset: 0, Seq: h.firstSeq,
			Reason: fmt.Sprintf("header says first seq %d, file name says %d", h.firstSeq, seg.firstSeq)}
	}
	return h, nil
}

const segmentSuffix = ".seg"

func journalDir(dir string) string { return filepath.Join(dir, "journal") }

func segmentPath(jdir string, firstSeq uint64) string {
	return filepath.Join(jdir, fmt.Sprintf("%020d%s", firstSeq, segmentSuffix))
}

// listSegments returns the segments of jdir sorted by first seq. Files that do
// not look like segments are ignored.
func listSegments(jdir string) ([]segmentFile, error) {
	entries, err := os.ReadDir(jdir)
	if err != nil {
		return nil, fmt.Errorf("journal folder %s: %w", jdir, err)
	}
	var segs []segmentFile
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, segmentSuffix) || len(name) != 20+len(segmentSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, segmentSuffix), 10, 64)
		if err != nil {
			continue
		}
		segs = append(segs, segmentFile{path: filepath.Join(jdir, name), firstSeq: seq})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].firstSeq < segs[j].firstSeq })
	return segs, nil
}

// Reader streams the records of a journal in order, across segments, checking
// every CRC and that command sequence numbers have no gap. It reuses one record
// and one buffer: a record returned by Next is valid until the next call. A
// partial record at the end of the last segment ends the stream (io.EOF) and is
// reported by Torn; damage anywhere else is a *CorruptError.
type Reader struct {
	jdir    string
	segs    []segmentFile
	idx     int
	f       *os.File
	br      *bufio.Reader
	size    int64 // bytes in the current segment when it was opened
	off     int64 // offset of the next frame in the current segment
	recOff  int64 // offset of the record last returned
	started bool  // nextSeq is known
	nextSeq uint64
	fromSeq uint64
	rec     Record
	hdr     [segmentHeaderSize]byte // frames are decoded in place in br
	torn    TornTail
	err     error
}

// NewReader opens the journal of data folder dir for reading from command
// fromSeq on (records before it are skipped; 0 starts wherever the journal
// starts). Only segments that can hold fromSeq or later are read. It costs one
// directory listing and a 1 MiB read buffer.
func NewReader(dir string, fromSeq uint64) (*Reader, error) {
	jdir := journalDir(dir)
	segs, err := listSegments(jdir)
	if err != nil {
		return nil, err
	}
	r := &Reader{jdir: jdir, segs: segs, fromSeq: fromSeq, br: bufio.NewReaderSize(nil, 1<<20)}
	if len(segs) == 0 {
		return r, nil
	}
	if fromSeq != 0 && fromSeq < segs[0].firstSeq {
		return nil, fmt.Errorf("journal %s: starts at seq %d, cannot read from seq %d", segs[0].path, segs[0].firstSeq, fromSeq)
	}
	for r.idx+1 < len(segs) && segs[r.idx+1].firstSeq <= fromSeq {
		r.idx++
	}
	return r, nil
}

// Torn reports the partial record that ended the stream, if any (Bytes > 0).
func (r *Reader) Torn() TornTail { return r.torn }

// NextSeq is the sequence number the next command record must hold: one more
// than the last command read.
func (r *Reader) NextSeq() uint64 { return r.nextSeq }

// Position returns the segment file and byte offset of the record last
// returned by Next, for error messages.
func (r *Reader) Position() (file string, offset int64) {
	if r.idx >= len(r.segs) {
		return "", 0
	}
	return r.path(), r.recOff
}

// Close releases the open segment.
func (r *Reader) Close() error {
	if r.f != nil {
		err := r.f.Close()
		r.f = nil
		return err
	}
	return nil
}

func (r *Reader) path() string { return r.segs[r.idx].path }

func (r *Reader) isLast() bool { return r.idx == len(r.segs)-1 }

// Next returns the next record at or after fromSeq, or io.EOF at the end of the
// journal. It does not allocate.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		if r.f == nil {
			if r.idx >= len(r.segs) {
				r.err = io.EOF
				return nil, r.err
			}
			if err := r.openSegment(); err != nil {
				r.Close()
				r.err = err
				return nil, err
			}
			continue
		}
		if r.off == r.size {
			r.Close()
			r.idx++
			continue
		}
		isCmd, err := r.readFrame()
		if err != nil {
			r.Close()
			r.err = err
			return nil, err
		}
		if isCmd {
			if r.rec.Item.Cmd.Seq < r.fromSeq {
				continue
			}
		} else if r.nextSeq < r.fromSeq {
			continue
		}
		return &r.rec, nil
	}
}

// openSegment opens r.segs[r.idx] and checks its header.
func (r *Reader) openSegment() error {
	seg := r.segs[r.idx]
	f, err := os.Open(seg.path)
	if err != nil {
		return fmt.Errorf("journal %s: %w", seg.path, err)
	}
	r.f = f
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("journal %s: %w", seg.path, err)
	}
	r.size, r.off = st.Size(), 0
	r.br.Reset(f)
	if r.size < segmentHeaderSize {
		if r.isLast() {
			// A crash right after the segment was created.
			if r.started && seg.firstSeq != r.nextSeq {
				return &CorruptError{File: seg.path, Offset: 0, Seq: r.nextSeq,
					Reason: fmt.Sprintf("missing records: segment named for seq %d follows seq %d", seg.firstSeq, r.nextSeq-1)}
			}
			r.started, r.nextSeq = true, seg.firstSeq
			return r.tornTail(true, fmt.Sprintf("segment of %d bytes is shorter than its header", r.size))
		}
		return &CorruptError{File: seg.path, Offset: 0, Seq: r.nextSeq,
			Reason: fmt.Sprintf("segment of %d bytes is shorter than its %d-byte header", r.size, segmentHeaderSize)}
	}
	hb := r.hdr[:]
	if _, err := io.ReadFull(r.br, hb); err != nil {
		return fmt.Errorf("journal %s: reading header: %w", seg.path, err)
	}
	h, err := seg.checkHeader(hb)
	if err != nil {
		return err
	}
	if !r.started {
		r.started, r.nextSeq = true, h.firstSeq
	} else if h.firstSeq != r.nextSeq {
		return &CorruptError{File: seg.path, Offset: 0, Seq: r.nextSeq,
			Reason: fmt.Sprintf("missing records: segment starts at seq %d but %s ended at seq %d", h.firstSeq, r.segs[r.idx-1].path, r.nextSeq-1)}
	}
	r.off = segmentHeaderSize
	return nil
}

// readFrame reads and decodes the frame at r.off into r.rec.
func (r *Reader) readFrame() (isCmd bool, err error) {
	remaining := r.size - r.off
	if remaining < 4 {
		return false, r.tornTail(true, "segment ends inside a record length")
	}
	lb, err := r.br.Peek(4)
	if err != nil {
		return false, fmt.Errorf("journal %s: offset %d: %w", r.path(), r.off, err)
	}
	n := binary.LittleEndian.Uint32(lb)
	if !validPayloadLen(n) {
		return false, r.tornTail(false, fmt.Sprintf("impossible record length %d", n))
	}
	frameLen := int64(frameOverhead) + int64(n)
	if frameLen > remaining {
		return false, r.tornTail(true, fmt.Sprintf("record of %d bytes but only %d left in the segment", frameLen, remaining))
	}
	// The frame is decoded in place in the read buffer (it is never larger
	// than frameMax, far below the buffer's size), then discarded.
	frame, err := r.br.Peek(int(frameLen))
	if err != nil {
		return false, fmt.Errorf("journal %s: offset %d: %w", r.path(), r.off, err)
	}
	defer r.br.Discard(int(frameLen))
	body := frame[:4+n]
	stored := binary.LittleEndian.Uint32(frame[4+n:])
	if got := crc32.Checksum(body, castagnoli); got != stored {
		return false, r.tornTail(r.off+frameLen == r.size, fmt.Sprintf("CRC mismatch (stored %#08x, computed %#08x)", stored, got))
	}
	if err := decodePayload(body[4:], &r.rec); err != nil {
		return false, &CorruptError{File: r.path(), Offset: r.off, Seq: r.nextSeq, Reason: err.Error()}
	}
	if r.rec.Kind == RecordCommand {
		if seq := r.rec.Item.Cmd.Seq; seq != r.nextSeq {
			return false, &CorruptError{File: r.path(), Offset: r.off, Seq: r.nextSeq,
				Reason: fmt.Sprintf("record holds seq %d, want %d (gap or reorder)", seq, r.nextSeq)}
		}
		r.nextSeq++
	}
	r.recOff = r.off
	r.off += frameLen
	return r.rec.Kind == RecordCommand, nil
}

// tornTail decides whether the bad frame at r.off is the torn end of the
// journal (it ends the stream) or damage in the middle (an error). It is torn
// only in the last segment, and only when the frame runs past the end of the
// file, is the last frame in it, or everything from it to the end is zero.
func (r *Reader) tornTail(atEnd bool, reason string) error {
	if r.isLast() && (atEnd || r.restIsZero()) {
		r.torn = TornTail{File: r.path(), Offset: r.off, Bytes: r.size - r.off}
		return io.EOF
	}
	return &CorruptError{File: r.path(), Offset: r.off, Seq: r.nextSeq, Reason: reason}
}

func (r *Reader) restIsZero() bool {
	var chunk [4096]byte
	for off := r.off; off < r.size; {
		n, err := r.f.ReadAt(chunk[:min(int64(len(chunk)), r.size-off)], off)
		for _, c := range chunk[:n] {
			if c != 0 {
				return false
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return false
		}
		if n == 0 {
			return false
		}
		off += int64(n)
	}
	return true
}
