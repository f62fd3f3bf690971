package sequencer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
)

// SnapshotVersion is the snapshot file format this build writes and reads.
const SnapshotVersion uint16 = 1

const (
	snapshotMagic      uint32 = 0x504e5358 // "XSNP"
	snapshotHeaderSize        = 32
	snapshotPrefix            = "snap-"
	snapshotSuffix            = ".bin"
)

// Snapshot is the state after command Seq, as opaque bytes chosen by the caller.
type Snapshot struct {
	Seq  uint64
	Body []byte
	File string
	// release unmaps Body (OpenSnapshot); nil when Body is on the heap.
	release func() error
}

// Close releases the body of a snapshot from OpenSnapshot or
// OpenLatestSnapshot: the file's pages are unmapped, and Body must not be
// used after. It does nothing for a snapshot from ReadSnapshot or
// LatestSnapshot, or a nil one, and nothing the second time.
func (s *Snapshot) Close() error {
	if s == nil || s.release == nil {
		return nil
	}
	release := s.release
	s.release, s.Body = nil, nil
	return release()
}

func snapshotPath(sdir string, seq uint64) string {
	return filepath.Join(sdir, fmt.Sprintf("%s%020d%s", snapshotPrefix, seq, snapshotSuffix))
}

// WriteSnapshot stores body as the state after command seq in
// DIR/snapshots/snap-<seq>.bin, atomically: it writes a temporary file, fsyncs
// it, renames it into place and fsyncs the folder, so a crash leaves either the
// whole snapshot or none. The file starts with a 32-byte header:
//
//	magic uint32 | version uint16 | reserved uint16 | seq uint64 | body length uint64 | body CRC32C uint32 | header CRC32C uint32
func WriteSnapshot(dir string, seq uint64, body []byte) (path string, err error) {
	sdir := snapshotDir(dir)
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	path = snapshotPath(sdir, seq)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	var h [snapshotHeaderSize]byte
	binary.LittleEndian.PutUint32(h[0:], snapshotMagic)
	binary.LittleEndian.PutUint16(h[4:], SnapshotVersion)
	binary.LittleEndian.PutUint64(h[8:], seq)
	binary.LittleEndian.PutUint64(h[16:], uint64(len(body)))
	binary.LittleEndian.PutUint32(h[24:], crc32.Checksum(body, castagnoli))
	binary.LittleEndian.PutUint32(h[28:], crc32.Checksum(h[:28], castagnoli))
	if _, err = f.Write(h[:]); err != nil {
		return "", fmt.Errorf("snapshot %s: %w", tmp, err)
	}
	if _, err = f.Write(body); err != nil {
		return "", fmt.Errorf("snapshot %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return "", fmt.Errorf("snapshot %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return "", fmt.Errorf("snapshot %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	if err = syncDir(sdir); err != nil {
		return "", fmt.Errorf("snapshot folder %s: %w", sdir, err)
	}
	return path, nil
}

// ReadSnapshot reads and checks one snapshot file. Its body is on the heap.
func ReadSnapshot(path string) (*Snapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return checkSnapshot(path, b, nil)
}

// OpenSnapshot checks one snapshot file as ReadSnapshot does, but where the
// platform allows (Linux) maps the file instead of reading it: the body is
// the page cache's own pages, not a copy of them on the heap, so recovery
// neither copies a body of hundreds of megabytes nor keeps a heap as large
// after it. The caller must Close the snapshot when done with Body (the
// restored state keeps no reference to it).
func OpenSnapshot(path string) (*Snapshot, error) {
	b, release, err := mapSnapshotFile(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	s, err := checkSnapshot(path, b, release)
	if err != nil && release != nil {
		release()
	}
	return s, err
}

// checkSnapshot checks the header and the body's CRC of file b.
func checkSnapshot(path string, b []byte, release func() error) (*Snapshot, error) {
	if len(b) < snapshotHeaderSize {
		return nil, fmt.Errorf("snapshot %s: %d bytes, shorter than its %d-byte header", path, len(b), snapshotHeaderSize)
	}
	if m := binary.LittleEndian.Uint32(b); m != snapshotMagic {
		return nil, fmt.Errorf("snapshot %s: not a snapshot (magic %#08x, want %#08x)", path, m, snapshotMagic)
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != SnapshotVersion {
		return nil, &VersionError{File: path, Found: v, Want: SnapshotVersion}
	}
	if got, want := crc32.Checksum(b[:28], castagnoli), binary.LittleEndian.Uint32(b[28:]); got != want {
		return nil, fmt.Errorf("snapshot %s: header CRC mismatch (stored %#08x, computed %#08x)", path, want, got)
	}
	seq := binary.LittleEndian.Uint64(b[8:])
	n := binary.LittleEndian.Uint64(b[16:])
	body := b[snapshotHeaderSize:]
	if uint64(len(body)) != n {
		return nil, fmt.Errorf("snapshot %s: body of %d bytes, header says %d", path, len(body), n)
	}
	if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(b[24:]); got != want {
		return nil, fmt.Errorf("snapshot %s: body CRC mismatch (stored %#08x, computed %#08x)", path, want, got)
	}
	return &Snapshot{Seq: seq, Body: body, File: path, release: release}, nil
}

// LatestSnapshot loads the newest valid snapshot of data folder dir. Damaged
// snapshots are skipped (each is returned in skipped and logged) in favour of
// older ones. It returns a nil snapshot when there is none: recovery then
// replays the journal from its start.
func LatestSnapshot(dir string, log zerolog.Logger) (snap *Snapshot, skipped []error, err error) {
	return latestSnapshot(dir, log, ReadSnapshot)
}

// OpenLatestSnapshot is LatestSnapshot with the snapshot opened by
// OpenSnapshot: the caller must Close it when done with its body.
func OpenLatestSnapshot(dir string, log zerolog.Logger) (snap *Snapshot, skipped []error, err error) {
	return latestSnapshot(dir, log, OpenSnapshot)
}

func latestSnapshot(dir string, log zerolog.Logger, open func(string) (*Snapshot, error)) (snap *Snapshot, skipped []error, err error) {
	sdir := snapshotDir(dir)
	entries, err := os.ReadDir(sdir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot folder %s: %w", sdir, err)
	}
	type cand struct {
		seq  uint64
		path string
	}
	var cands []cand
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, snapshotPrefix) || !strings.HasSuffix(name, snapshotSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, snapshotPrefix), snapshotSuffix), 10, 64)
		if err != nil {
			continue
		}
		cands = append(cands, cand{seq, filepath.Join(sdir, name)})
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].seq > cands[j].seq })
	for _, c := range cands {
		s, err := open(c.path)
		if err == nil && s.Seq != c.seq {
			err = fmt.Errorf("snapshot %s: header says seq %d, file name says %d", c.path, s.Seq, c.seq)
			s.Close()
		}
		if err != nil {
			log.Warn().Err(err).Msg("snapshot skipped")
			skipped = append(skipped, err)
			continue
		}
		return s, skipped, nil
	}
	return nil, skipped, nil
}
