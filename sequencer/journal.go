package sequencer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
)

// RecoveryInfo says what opening a journal found and repaired.
type RecoveryInfo struct {
	// Created is set when the data folder did not exist and was created.
	Created bool
	// Segments is the number of segment files.
	Segments int
	// FirstSeq is the first command seq the journal can hold (1 unless older
	// segments were removed) and LastSeq the last one it holds (FirstSeq-1 when
	// it holds none). The next command gets LastSeq+1.
	FirstSeq, LastSeq uint64
	// Records is the number of records read and checked: every record, or only
	// those from the segment that holds VerifyFromSeq on.
	Records uint64
	// LastCheckpoint is the newest checkpoint record read (zero when none).
	LastCheckpoint Checkpoint
	// Torn is the partial record cut from the end of the last segment (Bytes 0
	// when there was none).
	Torn TornTail
	// Elapsed is how long recovery took.
	Elapsed time.Duration
}

// prepareDataDir checks that dir is a usable data folder, creating it when it
// does not exist and create is set, and makes its journal and snapshot folders.
func prepareDataDir(dir string, create bool) (created bool, err error) {
	if dir == "" {
		return false, errors.New("no data folder given")
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !create {
			return false, fmt.Errorf("data folder %s does not exist (create it, or ask for it to be created)", dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, fmt.Errorf("data folder %s: cannot create it: %w", dir, err)
		}
		created = true
	case err != nil:
		return false, fmt.Errorf("data folder %s: cannot read it: %w", dir, err)
	case !st.IsDir():
		return false, fmt.Errorf("data folder %s is not a folder", dir)
	}
	for _, sub := range []string{journalDir(dir), snapshotDir(dir)} {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return created, fmt.Errorf("data folder %s: %w", dir, err)
		}
		if _, err := os.ReadDir(sub); err != nil {
			return created, fmt.Errorf("data folder %s: cannot read it: %w", dir, err)
		}
	}
	return created, nil
}

// journal appends framed records to the last segment, rotating to a new
// segment when one grows past segBytesMax. It buffers frames until flush; it is
// used by one goroutine only.
type journal struct {
	jdir        string
	f           *os.File
	path        string
	firstSeq    uint64 // of the open segment
	size        int64  // bytes written to the open segment
	segBytesMax int64
	fsync       bool // fsync on sync and rotation
	buf         []byte
	bytes       uint64 // bytes written, for stats
	segments    uint64 // segments created, for stats
}

// openJournal recovers the journal of data folder dir (see Open) and opens its
// last segment for appending.
func openJournal(dir string, create bool, verifyFromSeq uint64, segBytesMax int64, bufBytes int, fsync bool, log zerolog.Logger) (*journal, RecoveryInfo, error) {
	start := time.Now()
	var info RecoveryInfo
	created, err := prepareDataDir(dir, create)
	info.Created = created
	if err != nil {
		return nil, info, err
	}
	jdir := journalDir(dir)
	segs, err := listSegments(jdir)
	if err != nil {
		return nil, info, err
	}
	j := &journal{jdir: jdir, segBytesMax: segBytesMax, fsync: fsync, buf: make([]byte, 0, bufBytes)}
	if len(segs) == 0 {
		if err := j.create(1); err != nil {
			return nil, info, err
		}
		info.Segments, info.FirstSeq = 1, 1
		info.Elapsed = time.Since(start)
		log.Info().Str("dir", dir).Msg("journal created")
		return j, info, nil
	}
	// Segments before the one holding verifyFromSeq: headers only.
	r, err := NewReader(dir, verifyFromSeq)
	if err != nil {
		return nil, info, err
	}
	defer r.Close()
	for i := 0; i < r.idx; i++ {
		if err := checkSegmentHeader(segs[i]); err != nil {
			return nil, info, err
		}
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, info, err
		}
		info.Records++
		if rec.Kind == RecordCheckpoint {
			info.LastCheckpoint = rec.Checkpoint
		}
	}
	last := segs[len(segs)-1]
	info.Segments = len(segs)
	info.FirstSeq = segs[0].firstSeq
	info.LastSeq = r.NextSeq() - 1
	info.Torn = r.Torn()
	r.Close()
	lastSize := int64(-1)
	if st, err := os.Stat(last.path); err == nil {
		lastSize = st.Size()
	}
	if t := info.Torn; t.Bytes > 0 || (lastSize >= 0 && lastSize < segmentHeaderSize) {
		if t.Offset < segmentHeaderSize {
			if err := os.Remove(last.path); err != nil {
				return nil, info, fmt.Errorf("journal %s: removing torn segment: %w", last.path, err)
			}
			if err := j.create(last.firstSeq); err != nil {
				return nil, info, err
			}
		} else if err := truncateFile(last.path, t.Offset); err != nil {
			return nil, info, err
		}
		log.Warn().Str("file", t.File).Int64("offset", t.Offset).Int64("bytes_dropped", t.Bytes).
			Uint64("last_seq", info.LastSeq).Msg("journal torn tail truncated")
	}
	if j.f == nil {
		f, err := os.OpenFile(last.path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, info, fmt.Errorf("journal %s: %w", last.path, err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, info, fmt.Errorf("journal %s: %w", last.path, err)
		}
		j.f, j.path, j.firstSeq, j.size = f, last.path, last.firstSeq, st.Size()
	}
	info.Elapsed = time.Since(start)
	log.Info().Str("dir", dir).Int("segments", info.Segments).Uint64("last_seq", info.LastSeq).
		Uint64("records_checked", info.Records).Stringer("elapsed", info.Elapsed.Round(time.Microsecond)).Msg("journal recovered")
	return j, info, nil
}

func checkSegmentHeader(seg segmentFile) error {
	f, err := os.Open(seg.path)
	if err != nil {
		return fmt.Errorf("journal %s: %w", seg.path, err)
	}
	defer f.Close()
	var b [segmentHeaderSize]byte
	n, err := io.ReadFull(f, b[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("journal %s: %w", seg.path, err)
	}
	if n < segmentHeaderSize {
		return &CorruptError{File: seg.path, Offset: 0, Seq: seg.firstSeq,
			Reason: fmt.Sprintf("segment of %d bytes is shorter than its %d-byte header", n, segmentHeaderSize)}
	}
	_, err = seg.checkHeader(b[:])
	return err
}

func truncateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("journal %s: truncating torn tail: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
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

// create starts a new segment whose first command will be firstSeq.
func (j *journal) create(firstSeq uint64) error {
	path := segmentPath(j.jdir, firstSeq)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("journal: creating segment: %w", err)
	}
	var hb [segmentHeaderSize]byte
	if _, err := f.Write(appendSegmentHeader(hb[:0], firstSeq)); err != nil {
		f.Close()
		return fmt.Errorf("journal %s: writing header: %w", path, err)
	}
	if j.fsync {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("journal %s: %w", path, err)
		}
		if err := syncDir(j.jdir); err != nil {
			f.Close()
			return fmt.Errorf("journal folder %s: %w", j.jdir, err)
		}
	}
	j.f, j.path, j.firstSeq, j.size = f, path, firstSeq, segmentHeaderSize
	j.bytes += segmentHeaderSize
	j.segments++
	return nil
}

// reserve makes room for one more frame: it flushes a full buffer and rotates
// a full segment. nextSeq is the seq of the next command to be appended.
func (j *journal) reserve(nextSeq uint64) error {
	if len(j.buf)+frameMax > cap(j.buf) {
		if err := j.flush(); err != nil {
			return err
		}
	}
	if j.size+int64(len(j.buf))+frameMax > j.segBytesMax && nextSeq > j.firstSeq {
		return j.rotate(nextSeq)
	}
	return nil
}

// appendCommand buffers the record of it. It does not allocate.
func (j *journal) appendCommand(it *Item) error {
	if err := j.reserve(it.Cmd.Seq); err != nil {
		return err
	}
	j.buf = appendCommandFrame(j.buf, it)
	return nil
}

// appendCheckpoint buffers a checkpoint record; nextSeq is the seq the next
// command will get.
func (j *journal) appendCheckpoint(cp *Checkpoint, nextSeq uint64) error {
	if err := j.reserve(nextSeq); err != nil {
		return err
	}
	j.buf = appendCheckpointFrame(j.buf, cp)
	return nil
}

// flush writes the buffered frames to the open segment (one write call).
func (j *journal) flush() error {
	if len(j.buf) == 0 {
		return nil
	}
	n, err := j.f.Write(j.buf)
	j.size += int64(n)
	j.bytes += uint64(n)
	j.buf = j.buf[:0]
	if err != nil {
		return fmt.Errorf("journal %s: offset %d: %w", j.path, j.size, err)
	}
	return nil
}

// sync flushes and, with fsync on, makes the open segment durable.
func (j *journal) sync() error {
	if err := j.flush(); err != nil {
		return err
	}
	if !j.fsync {
		return nil
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: fsync: %w", j.path, err)
	}
	return nil
}

// rotate closes the open segment (durably) and starts the next one.
func (j *journal) rotate(nextSeq uint64) error {
	if err := j.sync(); err != nil {
		return err
	}
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	j.f = nil
	return j.create(nextSeq)
}

// close flushes, fsyncs (whatever the policy: a clean stop is durable) and
// closes the open segment.
func (j *journal) close() error {
	if j.f == nil {
		return nil
	}
	j.fsync = true // the journal is done: no later call sees the policy
	err := j.sync()
	if cerr := j.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("journal %s: %w", j.path, cerr)
	}
	j.f = nil
	return err
}

func snapshotDir(dir string) string { return filepath.Join(dir, "snapshots") }
