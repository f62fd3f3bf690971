package sequencer

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestSnapshotLatestSkipsDamaged runs for the snapshots read onto the heap
// (LatestSnapshot) and the mapped ones (OpenLatestSnapshot).
func TestSnapshotLatestSkipsDamaged(t *testing.T) {
	for name, latest := range map[string]func(string, zerolog.Logger) (*Snapshot, []error, error){
		"read": LatestSnapshot, "mapped": OpenLatestSnapshot,
	} {
		t.Run(name, func(t *testing.T) {
			testSnapshotLatestSkipsDamaged(t, latest, name == "mapped" && runtime.GOOS == "linux")
		})
	}
}

func testSnapshotLatestSkipsDamaged(t *testing.T, latest func(string, zerolog.Logger) (*Snapshot, []error, error), mapped bool) {
	dir := t.TempDir()
	if s, skipped, err := latest(dir, zerolog.Nop()); s != nil || skipped != nil || err != nil {
		t.Fatalf("empty folder: %v %v %v", s, skipped, err)
	}
	bodies := map[uint64][]byte{}
	for _, seq := range []uint64{10, 200, 3000} {
		bodies[seq] = bytes.Repeat([]byte{byte(seq)}, int(seq))
		if _, err := WriteSnapshot(dir, seq, bodies[seq]); err != nil {
			t.Fatal(err)
		}
	}
	s, skipped, err := latest(dir, zerolog.Nop())
	if err != nil || s == nil || s.Seq != 3000 || !bytes.Equal(s.Body, bodies[3000]) || len(skipped) != 0 {
		t.Fatalf("latest: %+v %v %v", s, skipped, err)
	}
	if (s.release != nil) != mapped {
		t.Fatalf("body mapped %v, want %v", s.release != nil, mapped)
	}
	if err := s.Close(); err != nil || s.Close() != nil || (mapped && s.Body != nil) {
		t.Fatalf("close: %v", err)
	}
	// Damage the newest body and the middle one's header: both are skipped.
	p3000 := snapshotPath(snapshotDir(dir), 3000)
	patchFile(t, p3000, snapshotHeaderSize+100, []byte{1})
	p200 := snapshotPath(snapshotDir(dir), 200)
	patchFile(t, p200, 4, []byte{9})
	// A leftover temporary file and a truncated one are ignored or skipped.
	os.WriteFile(filepath.Join(snapshotDir(dir), "snap-00000000000000009999.bin.tmp"), []byte("x"), 0o644)
	os.WriteFile(snapshotPath(snapshotDir(dir), 5000), []byte("short"), 0o644)
	s, skipped, err = latest(dir, zerolog.Nop())
	if err != nil || s == nil || s.Seq != 10 || !bytes.Equal(s.Body, bodies[10]) {
		t.Fatalf("fallback: %+v %v", s, err)
	}
	if len(skipped) != 3 ||
		!strings.Contains(skipped[0].Error(), "shorter") ||
		!strings.Contains(skipped[1].Error(), "body CRC mismatch") ||
		!strings.Contains(skipped[2].Error(), "version 9 found") {
		t.Fatalf("skipped %v", skipped)
	}
	// A snapshot renamed to another seq is refused.
	os.Rename(snapshotPath(snapshotDir(dir), 10), snapshotPath(snapshotDir(dir), 11))
	if s, _, _ := latest(dir, zerolog.Nop()); s != nil {
		t.Fatalf("renamed snapshot accepted: %+v", s)
	}
}

func TestSnapshotThenTail(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, Create: true, SegmentBytesMax: 16 << 10, Durability: DurabilityNone}
	writeTest(t, cfg, 2000)
	if _, err := WriteSnapshot(dir, 2000, []byte("state at 2000")); err != nil {
		t.Fatal(err)
	}
	writeTest(t, cfg, 500)
	snap, _, err := LatestSnapshot(dir, zerolog.Nop())
	if err != nil || snap == nil || snap.Seq != 2000 {
		t.Fatalf("%+v %v", snap, err)
	}
	// Recovery that trusts the snapshot checks only the tail's segments.
	cfg.VerifyFromSeq = snap.Seq + 1
	s, info, err := Open(cfg)
	if err != nil || info.LastSeq != 2500 {
		t.Fatalf("%+v %v", info, err)
	}
	s.Close()
	if info.Records >= 2500 {
		t.Fatalf("checked %d records despite the snapshot", info.Records)
	}
	n := uint64(0)
	if _, err := Replay(dir, ReplayOptions{FromSeq: snap.Seq + 1}, func(r *Record) error {
		if r.Kind == RecordCommand {
			n++
			checkRecord(t, r, snap.Seq+n)
		}
		return nil
	}); err != nil || n != 500 {
		t.Fatalf("tail replay: %d %v", n, err)
	}
}
