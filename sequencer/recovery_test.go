package sequencer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recordAt returns the file and offset of command seq.
func recordAt(t *testing.T, dir string, seq uint64) (string, int64) {
	t.Helper()
	r, err := NewReader(dir, seq)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if err != nil {
			t.Fatalf("seq %d not found: %v", seq, err)
		}
		if rec.Kind == RecordCommand && rec.Item.Cmd.Seq == seq {
			return r.Position()
		}
	}
}

func segments(t *testing.T, dir string) []segmentFile {
	t.Helper()
	segs, err := listSegments(journalDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func patchFile(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func openErr(t *testing.T, dir string) error {
	t.Helper()
	s, _, err := Open(Config{Dir: dir})
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on a damaged journal")
	}
	return err
}

func wantCorrupt(t *testing.T, err error, file string, off int64, seq uint64, reason string) {
	t.Helper()
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T), want *CorruptError", err, err)
	}
	if ce.File != file || ce.Offset != off || ce.Seq != seq || !strings.Contains(ce.Reason, reason) {
		t.Fatalf("error %q, want file %s offset %d seq %d reason %q", err, file, off, seq, reason)
	}
	msg := err.Error()
	for _, s := range []string{file, fmt.Sprint(off), fmt.Sprint(seq)} {
		if !strings.Contains(msg, s) {
			t.Fatalf("error %q does not name %s", msg, s)
		}
	}
}

const faultRecords = 3000

// faultJournal writes faultRecords commands in segments of about 16 KiB.
func faultJournal(t *testing.T) (string, Config) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, SegmentBytesMax: 16 << 10, Durability: DurabilityNone}
	writeTest(t, cfg, faultRecords)
	if n := len(segments(t, dir)); n < 5 {
		t.Fatalf("only %d segments", n)
	}
	return dir, cfg
}

func TestRecoverTornTail(t *testing.T) {
	for _, cut := range []int64{1, 4, 5, 9, 30} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			dir, cfg := faultJournal(t)
			file, off := recordAt(t, dir, faultRecords)
			size := fileSize(t, file)
			if err := os.Truncate(file, size-cut); err != nil {
				t.Fatal(err)
			}
			s, info, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if info.LastSeq != faultRecords-1 || info.Torn.File != file || info.Torn.Offset != off || info.Torn.Bytes != size-cut-off {
				t.Fatalf("recovery %+v, want last seq %d and %d bytes torn at %s:%d", info, faultRecords-1, size-cut-off, file, off)
			}
			s.Close()
			if got := fileSize(t, file); got != off {
				t.Fatalf("segment is %d bytes after recovery, want %d", got, off)
			}
			writeTest(t, cfg, 10) // the journal goes on from the cut
			if cmds, _ := readAll(t, dir); cmds != faultRecords+9 {
				t.Fatalf("%d commands after recovery", cmds)
			}
		})
	}
}

func TestRecoverZeroTail(t *testing.T) {
	dir, cfg := faultJournal(t)
	segs := segments(t, dir)
	last := segs[len(segs)-1].path
	size := fileSize(t, last)
	patchFile(t, last, size, make([]byte, 4096)) // a crash after the size grew, before the data landed
	_, info, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if info.LastSeq != faultRecords || info.Torn.Bytes != 4096 || fileSize(t, last) != size {
		t.Fatalf("recovery %+v", info)
	}
}

func TestRecoverFlippedByte(t *testing.T) {
	dir, _ := faultJournal(t)
	for _, seq := range []uint64{1, 700, faultRecords - 1} {
		file, off := recordAt(t, dir, seq)
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		orig := b[off+20]
		patchFile(t, file, off+20, []byte{orig ^ 0x40})
		wantCorrupt(t, openErr(t, dir), file, off, seq, "CRC mismatch")
		patchFile(t, file, off+20, []byte{orig})
		// With the flip undone the journal reads again.
		if _, err := Replay(dir, ReplayOptions{}, func(*Record) error { return nil }); err != nil {
			t.Fatalf("after undoing the flip: %v", err)
		}
	}
	// A flipped length field in the middle is damage, not a torn tail.
	file, off := recordAt(t, dir, 1500)
	patchFile(t, file, off, []byte{0xff, 0xff})
	wantCorrupt(t, openErr(t, dir), file, off, 1500, "impossible record length")
}

func TestRecoverSeqGap(t *testing.T) {
	dir, _ := faultJournal(t)
	file, off := recordAt(t, dir, 1234)
	// Rewrite seq 1234 as 1235 with a valid CRC: only the seq check catches it.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint32(b[off:])
	seqOff := off + 4 + 1 + 6
	binary.LittleEndian.PutUint64(b[seqOff:], 1235)
	binary.LittleEndian.PutUint32(b[off+4+int64(n):], crc32.Checksum(b[off:off+4+int64(n)], castagnoli))
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	wantCorrupt(t, openErr(t, dir), file, off, 1234, "gap")
}

func TestRecoverMissingSegment(t *testing.T) {
	dir, _ := faultJournal(t)
	segs := segments(t, dir)
	if err := os.Remove(segs[2].path); err != nil {
		t.Fatal(err)
	}
	wantCorrupt(t, openErr(t, dir), segs[3].path, 0, segs[2].firstSeq, "missing records")
}

func TestRecoverEmptySegment(t *testing.T) {
	t.Run("last 0 bytes", func(t *testing.T) {
		dir, cfg := faultJournal(t)
		segs := segments(t, dir)
		// A crash right after the next segment was created.
		next := segmentPath(journalDir(dir), faultRecords+1)
		if err := os.WriteFile(next, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		_, info, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if info.LastSeq != faultRecords || info.Segments != len(segs)+1 || fileSize(t, next) != segmentHeaderSize {
			t.Fatalf("recovery %+v", info)
		}
		writeTest(t, cfg, 5)
		if cmds, _ := readAll(t, dir); cmds != faultRecords+5 {
			t.Fatalf("%d commands", cmds)
		}
	})
	t.Run("last partial header", func(t *testing.T) {
		dir, cfg := faultJournal(t)
		next := segmentPath(journalDir(dir), faultRecords+1)
		var hb [segmentHeaderSize]byte
		if err := os.WriteFile(next, appendSegmentHeader(hb[:0], faultRecords+1)[:10], 0o644); err != nil {
			t.Fatal(err)
		}
		_, info, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if info.Torn.Bytes != 10 || info.LastSeq != faultRecords {
			t.Fatalf("recovery %+v", info)
		}
		writeTest(t, cfg, 5)
		if cmds, _ := readAll(t, dir); cmds != faultRecords+5 {
			t.Fatalf("%d commands", cmds)
		}
	})
	t.Run("last header only", func(t *testing.T) {
		dir, cfg := faultJournal(t)
		next := segmentPath(journalDir(dir), faultRecords+1)
		var hb [segmentHeaderSize]byte
		if err := os.WriteFile(next, appendSegmentHeader(hb[:0], faultRecords+1), 0o644); err != nil {
			t.Fatal(err)
		}
		_, info, err := Open(cfg)
		if err != nil || info.Torn.Bytes != 0 || info.LastSeq != faultRecords {
			t.Fatalf("recovery %+v, %v", info, err)
		}
		writeTest(t, cfg, 5)
		if cmds, _ := readAll(t, dir); cmds != faultRecords+5 {
			t.Fatalf("%d commands", cmds)
		}
	})
	t.Run("middle 0 bytes", func(t *testing.T) {
		dir, _ := faultJournal(t)
		segs := segments(t, dir)
		if err := os.Truncate(segs[1].path, 0); err != nil {
			t.Fatal(err)
		}
		wantCorrupt(t, openErr(t, dir), segs[1].path, 0, segs[1].firstSeq, "shorter than its")
	})
	t.Run("wrong seq in name", func(t *testing.T) {
		dir, _ := faultJournal(t)
		// A 0-byte last segment named for the wrong seq is a gap, not a torn tail.
		next := segmentPath(journalDir(dir), faultRecords+7)
		if err := os.WriteFile(next, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		wantCorrupt(t, openErr(t, dir), next, 0, faultRecords+1, "missing records")
	})
}

func TestRecoverWrongVersionAndMagic(t *testing.T) {
	dir, _ := faultJournal(t)
	segs := segments(t, dir)
	patchFile(t, segs[0].path, 4, []byte{9, 0})
	err := openErr(t, dir)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Found != 9 || ve.Want != FormatVersion || ve.File != segs[0].path {
		t.Fatalf("error %v, want a VersionError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "version 9 found") || !strings.Contains(msg, "version 2") {
		t.Fatalf("message %q does not say found and expected version", msg)
	}
	patchFile(t, segs[0].path, 0, []byte("NOPE"))
	if err := openErr(t, dir); !strings.Contains(err.Error(), "not a journal segment") || !strings.Contains(err.Error(), segs[0].path) {
		t.Fatalf("error %v", err)
	}
}

func TestOpenDataDir(t *testing.T) {
	base := t.TempDir()
	missing := filepath.Join(base, "nope")
	_, _, err := Open(Config{Dir: missing})
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("error %v", err)
	}
	s, info, err := Open(Config{Dir: missing, Create: true})
	if err != nil || !info.Created || info.LastSeq != 0 {
		t.Fatalf("create: %+v %v", info, err)
	}
	s.Close()
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o644)
	if _, _, err := Open(Config{Dir: file}); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Fatalf("error %v", err)
	}
	if os.Getuid() != 0 { // root reads everything
		locked := filepath.Join(base, "locked")
		os.Mkdir(locked, 0)
		if _, _, err := Open(Config{Dir: locked}); err == nil || !strings.Contains(err.Error(), locked) {
			t.Fatalf("error %v", err)
		}
	}
}

func TestReaderFromSeq(t *testing.T) {
	dir, _ := faultJournal(t)
	for _, from := range []uint64{1, 2, 999, 1500, faultRecords, faultRecords + 1} {
		n := uint64(0)
		st, err := Replay(dir, ReplayOptions{FromSeq: from, UntilSeq: 0}, func(r *Record) error {
			checkRecord(t, r, from+n)
			n++
			return nil
		})
		if err != nil || n != faultRecords+1-from || st.Commands != n {
			t.Fatalf("from %d: %d records, %+v, %v", from, n, st, err)
		}
	}
	if _, err := Replay(dir, ReplayOptions{FromSeq: faultRecords + 5}, func(*Record) error { return nil }); err == nil {
		t.Fatal("a replay past the journal's end succeeded")
	}
	st, err := Replay(dir, ReplayOptions{FromSeq: 10, UntilSeq: 20}, func(*Record) error { return nil })
	if err != nil || st.FirstSeq != 10 || st.LastSeq != 20 || st.Commands != 11 {
		t.Fatalf("until: %+v %v", st, err)
	}
	// The reader stops at a torn tail without an error.
	segs := segments(t, dir)
	last := segs[len(segs)-1].path
	os.Truncate(last, fileSize(t, last)-3)
	st, err = Replay(dir, ReplayOptions{}, func(*Record) error { return nil })
	if err != nil || st.LastSeq != faultRecords-1 || st.Torn.Bytes == 0 {
		t.Fatalf("torn: %+v %v", st, err)
	}
}

func TestReplayEmptyJournal(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(Config{Dir: dir, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	st, err := Replay(dir, ReplayOptions{FromSeq: 1}, func(*Record) error { t.Fatal("record in an empty journal"); return nil })
	if err != nil || st.Commands != 0 {
		t.Fatalf("%+v %v", st, err)
	}
	if _, err := Replay(dir, ReplayOptions{FromSeq: 5}, func(*Record) error { return nil }); err == nil || !strings.Contains(err.Error(), "ends at seq 0") {
		t.Fatalf("replay past an empty journal: %v", err)
	}
	if err := os.RemoveAll(journalDir(dir)); err != nil {
		t.Fatal(err)
	}
	if _, err := Replay(dir, ReplayOptions{}, func(*Record) error { return nil }); err == nil || !strings.Contains(err.Error(), journalDir(dir)) {
		t.Fatalf("replay without a journal folder: %v", err)
	}
}
