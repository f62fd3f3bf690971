package sequencer

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes as a segment (after a valid header, or in
// place of one) to the reader and to recovery: they must return records or an
// error, never panic, and recovery must leave a journal that reads cleanly.
func FuzzReader(f *testing.F) {
	var frames []byte
	var mb [MetaMax]byte
	for seq := uint64(1); seq <= 3; seq++ {
		it := Item{Cmd: testCmd(seq)}
		it.Cmd.Seq = seq
		it.MetaLen = uint8(copy(it.Meta[:], testMeta(seq, mb[:0])))
		frames = appendCommandFrame(frames, &it)
		frames = appendCheckpointFrame(frames, &Checkpoint{InSeq: seq, OutSeq: seq * 2, EventHash: seq * 3})
	}
	f.Add(false, frames)
	f.Add(false, frames[:len(frames)-3])
	f.Add(true, append(appendSegmentHeader(nil, 1), frames...))
	f.Add(true, []byte{})
	f.Add(false, []byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw bool, data []byte) {
		dir := t.TempDir()
		jdir := journalDir(dir)
		if err := os.MkdirAll(jdir, 0o755); err != nil {
			t.Fatal(err)
		}
		content := data
		if !raw {
			content = append(appendSegmentHeader(nil, 1), data...)
		}
		path := filepath.Join(jdir, "00000000000000000001.seg")
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			if rec.Kind != RecordCommand && rec.Kind != RecordCheckpoint {
				t.Fatalf("record kind %d", rec.Kind)
			}
			n++
		}
		r.Close()
		s, _, err := Open(Config{Dir: dir, Durability: DurabilityNone})
		if err != nil {
			return // refused with an error: fine
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		r, err = NewReader(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		m := 0
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("journal unreadable after recovery: %v", err)
			}
			m++
		}
		if m != n {
			t.Fatalf("%d records before recovery, %d after", n, m)
		}
		if r.Torn().Bytes != 0 {
			t.Fatalf("torn tail left after recovery: %+v", r.Torn())
		}
	})
}
