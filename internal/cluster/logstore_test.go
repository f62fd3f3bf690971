package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/rs/zerolog"
)

// testLog is entry i of term as the tests store it: its data names both, so
// a read of the wrong record or of another term's is seen.
func testLog(i, term uint64) *raft.Log {
	l := &raft.Log{Index: i, Term: term, Type: raft.LogCommand, Data: fmt.Appendf(nil, "entry %d term %d", i, term)}
	if i%3 == 0 {
		l.Extensions = []byte{byte(i), 0xee}
		l.AppendedAt = time.Unix(1700000000, int64(i)).UTC()
	}
	if i%5 == 0 {
		l.Type = raft.LogNoop
		l.Data = nil
	}
	return l
}

func testLogs(from, to, term uint64) []*raft.Log {
	var ls []*raft.Log
	for i := from; i <= to; i++ {
		ls = append(ls, testLog(i, term))
	}
	return ls
}

// store is what the conformance table drives: raft's two interfaces and a
// way to reopen the same files.
type store interface {
	raft.LogStore
	raft.StableStore
	Close() error
}

type storeKind struct {
	name string
	open func(t *testing.T, dir string) store
	// middle: deletes a range inside the log (raft-boltdb does; ours
	// refuses, raft never asks).
	middle bool
}

var storeKinds = []storeKind{
	{name: "segments", open: func(t *testing.T, dir string) store {
		// Small segments: the cases cross segment boundaries.
		s, err := OpenSegmentStore(dir, SegmentStoreOptions{SegmentBytes: 200, Log: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{name: "boltdb", middle: true, open: func(t *testing.T, dir string) store {
		s, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

func checkBounds(t *testing.T, s raft.LogStore, first, last uint64) {
	t.Helper()
	f, err := s.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	if f != first || l != last {
		t.Fatalf("first/last %d/%d, want %d/%d", f, l, first, last)
	}
}

// checkHas reads from..to and compares each with testLog(i, term).
func checkHas(t *testing.T, s raft.LogStore, from, to, term uint64) {
	t.Helper()
	for i := from; i <= to; i++ {
		var got raft.Log
		if err := s.GetLog(i, &got); err != nil {
			t.Fatalf("GetLog(%d): %v", i, err)
		}
		want := testLog(i, term)
		if got.Index != want.Index || got.Term != want.Term || got.Type != want.Type ||
			!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Extensions, want.Extensions) || !got.AppendedAt.Equal(want.AppendedAt) {
			t.Fatalf("GetLog(%d) = %+v, want %+v", i, got, *want)
		}
	}
}

func checkMissing(t *testing.T, s raft.LogStore, idx ...uint64) {
	t.Helper()
	for _, i := range idx {
		var l raft.Log
		if err := s.GetLog(i, &l); !errors.Is(err, raft.ErrLogNotFound) {
			t.Fatalf("GetLog(%d) = %v, want ErrLogNotFound", i, err)
		}
	}
}

func mustStore(t *testing.T, s raft.LogStore, ls []*raft.Log) {
	t.Helper()
	if err := s.StoreLogs(ls); err != nil {
		t.Fatal(err)
	}
}

func mustDelete(t *testing.T, s raft.LogStore, min, max uint64) {
	t.Helper()
	if err := s.DeleteRange(min, max); err != nil {
		t.Fatalf("DeleteRange(%d, %d): %v", min, max, err)
	}
}

// TestLogStoreContract is the raft.LogStore and raft.StableStore contract as
// raft uses it, run on our segment store and on raft-boltdb (so the table
// itself is checked against the store raft's authors test with).
func TestLogStoreContract(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, k storeKind, dir string, s store) store
	}{
		{"empty", func(t *testing.T, k storeKind, dir string, s store) store {
			checkBounds(t, s, 0, 0)
			checkMissing(t, s, 0, 1, 2)
			if _, err := s.Get([]byte("CurrentTerm")); err == nil || err.Error() != "not found" {
				t.Fatalf("Get of a key never set: %v, want \"not found\" (raft compares the text)", err)
			}
			if _, err := s.GetUint64([]byte("CurrentTerm")); err == nil || err.Error() != "not found" {
				t.Fatalf("GetUint64 of a key never set: %v", err)
			}
			return s
		}},
		{"store and get", func(t *testing.T, k storeKind, dir string, s store) store {
			if err := s.StoreLog(testLog(1, 1)); err != nil {
				t.Fatal(err)
			}
			mustStore(t, s, testLogs(2, 30, 1))
			checkBounds(t, s, 1, 30)
			checkHas(t, s, 1, 30, 1)
			checkMissing(t, s, 0, 31, 1000)
			return s
		}},
		{"delete head", func(t *testing.T, k storeKind, dir string, s store) store {
			mustStore(t, s, testLogs(1, 30, 1))
			mustDelete(t, s, 1, 12)
			checkBounds(t, s, 13, 30)
			checkMissing(t, s, 1, 12)
			checkHas(t, s, 13, 30, 1)
			mustDelete(t, s, 13, 13)
			checkBounds(t, s, 14, 30)
			return s
		}},
		{"delete tail then store", func(t *testing.T, k storeKind, dir string, s store) store {
			mustStore(t, s, testLogs(1, 30, 1))
			mustDelete(t, s, 17, 30)
			checkBounds(t, s, 1, 16)
			checkMissing(t, s, 17, 30)
			mustStore(t, s, testLogs(17, 25, 2))
			checkBounds(t, s, 1, 25)
			checkHas(t, s, 1, 16, 1)
			checkHas(t, s, 17, 25, 2)
			return s
		}},
		{"delete everything then store elsewhere", func(t *testing.T, k storeKind, dir string, s store) store {
			mustStore(t, s, testLogs(1, 30, 1))
			mustDelete(t, s, 1, 30)
			checkBounds(t, s, 0, 0)
			mustStore(t, s, testLogs(500, 510, 3))
			checkBounds(t, s, 500, 510)
			checkHas(t, s, 500, 510, 3)
			return s
		}},
		{"gap after a snapshot", func(t *testing.T, k storeKind, dir string, s store) store {
			// A follower that installs a snapshot keeps its old entries
			// and stores the leader's after a gap.
			mustStore(t, s, testLogs(1, 10, 1))
			mustStore(t, s, testLogs(100, 110, 2))
			checkBounds(t, s, 1, 110)
			checkHas(t, s, 1, 10, 1)
			checkHas(t, s, 100, 110, 2)
			checkMissing(t, s, 11, 50, 99)
			mustDelete(t, s, 1, 99)
			checkBounds(t, s, 100, 110)
			return s
		}},
		{"store not after last", func(t *testing.T, k storeKind, dir string, s store) store {
			if k.middle {
				t.Skip("raft-boltdb overwrites")
			}
			mustStore(t, s, testLogs(1, 10, 1))
			if err := s.StoreLogs(testLogs(10, 11, 2)); err == nil {
				t.Fatal("stored index 10 over 10")
			}
			checkBounds(t, s, 1, 10)
			checkHas(t, s, 1, 10, 1)
			return s
		}},
		{"delete in the middle", func(t *testing.T, k storeKind, dir string, s store) store {
			mustStore(t, s, testLogs(1, 10, 1))
			err := s.DeleteRange(4, 6)
			if k.middle != (err == nil) {
				t.Fatalf("DeleteRange(4, 6): %v", err)
			}
			if err != nil {
				checkHas(t, s, 1, 10, 1)
			}
			return s
		}},
		{"stable store", func(t *testing.T, k storeKind, dir string, s store) store {
			if err := s.SetUint64([]byte("CurrentTerm"), 7); err != nil {
				t.Fatal(err)
			}
			if err := s.Set([]byte("LastVoteCand"), []byte("n2")); err != nil {
				t.Fatal(err)
			}
			if err := s.SetUint64([]byte("CurrentTerm"), 8); err != nil {
				t.Fatal(err)
			}
			if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 8 {
				t.Fatalf("GetUint64 = %d, %v", v, err)
			}
			if v, err := s.Get([]byte("LastVoteCand")); err != nil || string(v) != "n2" {
				t.Fatalf("Get = %q, %v", v, err)
			}
			return s
		}},
		{"reopen keeps everything", func(t *testing.T, k storeKind, dir string, s store) store {
			mustStore(t, s, testLogs(1, 40, 1))
			mustDelete(t, s, 1, 9)   // head: within a segment and whole ones
			mustDelete(t, s, 33, 40) // tail
			mustStore(t, s, testLogs(33, 35, 2))
			if err := s.SetUint64([]byte("CurrentTerm"), 2); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = k.open(t, dir)
			checkBounds(t, s, 10, 35)
			checkMissing(t, s, 9, 36)
			checkHas(t, s, 10, 32, 1)
			checkHas(t, s, 33, 35, 2)
			if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 2 {
				t.Fatalf("CurrentTerm after reopen = %d, %v", v, err)
			}
			mustStore(t, s, testLogs(36, 37, 2))
			checkHas(t, s, 36, 37, 2)
			return s
		}},
	}
	for _, k := range storeKinds {
		for _, c := range cases {
			t.Run(k.name+"/"+c.name, func(t *testing.T) {
				dir := t.TempDir()
				s := c.run(t, k, dir, k.open(t, dir))
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func openSeg(t *testing.T, dir string, segBytes int64) *SegmentStore {
	t.Helper()
	s, err := OpenSegmentStore(dir, SegmentStoreOptions{SegmentBytes: segBytes, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// segFiles lists the store's segments, oldest first.
func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segExt))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSegmentStoreRecovery damages the files of a closed store: a torn tail
// and a flipped byte in the last segment are cut (and the store takes new
// entries after the cut); a flipped byte in an earlier segment refuses the
// open; nothing panics.
func TestSegmentStoreRecovery(t *testing.T) {
	build := func(t *testing.T, segBytes int64) string {
		dir := t.TempDir()
		s := openSeg(t, dir, segBytes)
		mustStore(t, s, testLogs(1, 10, 1))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	t.Run("torn tail", func(t *testing.T) {
		dir := build(t, 0)
		seg := segFiles(t, dir)[0]
		st, _ := os.Stat(seg)
		if err := os.Truncate(seg, st.Size()-3); err != nil {
			t.Fatal(err)
		}
		s := openSeg(t, dir, 0)
		defer s.Close()
		checkBounds(t, s, 1, 9)
		checkHas(t, s, 1, 9, 1)
		mustStore(t, s, testLogs(10, 12, 2))
		checkHas(t, s, 10, 12, 2)
	})
	t.Run("zeroed tail", func(t *testing.T) {
		dir := build(t, 0)
		f, err := os.OpenFile(segFiles(t, dir)[0], os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(make([]byte, 4096)) // preallocated, never written
		f.Close()
		s := openSeg(t, dir, 0)
		defer s.Close()
		checkBounds(t, s, 1, 10)
		mustStore(t, s, testLogs(11, 11, 1))
		checkHas(t, s, 1, 11, 1)
	})
	t.Run("corrupt CRC in the last segment", func(t *testing.T) {
		dir := build(t, 0)
		seg := segFiles(t, dir)[0]
		s := openSeg(t, dir, 0)
		off := s.segs[0].offs[6] // record of index 7
		s.Close()
		b, _ := os.ReadFile(seg)
		b[off+4+recFixed+2] ^= 0x40 // a byte of its data
		os.WriteFile(seg, b, 0o644)
		s = openSeg(t, dir, 0)
		defer s.Close()
		checkBounds(t, s, 1, 6)
		checkHas(t, s, 1, 6, 1)
		checkMissing(t, s, 7)
	})
	t.Run("corrupt record in an earlier segment", func(t *testing.T) {
		dir := build(t, 100) // a segment per record or two
		segs := segFiles(t, dir)
		if len(segs) < 3 {
			t.Fatalf("%d segments, want several", len(segs))
		}
		b, _ := os.ReadFile(segs[0])
		b[segHeaderSize+10] ^= 1
		os.WriteFile(segs[0], b, 0o644)
		if s, err := OpenSegmentStore(dir, SegmentStoreOptions{Log: zerolog.Nop()}); err == nil {
			s.Close()
			t.Fatal("opened a log with a hole")
		}
	})
	t.Run("torn segment header", func(t *testing.T) {
		dir := build(t, 100)
		segs := segFiles(t, dir)
		last := segs[len(segs)-1]
		os.Truncate(last, 10)
		s := openSeg(t, dir, 100)
		defer s.Close()
		l, _ := s.LastIndex()
		if l == 10 || l == 0 {
			t.Fatalf("last index %d after the last segment lost its header", l)
		}
		checkHas(t, s, 1, l, 1)
		mustStore(t, s, testLogs(l+1, 12, 2))
		checkHas(t, s, l+1, 12, 2)
	})
	t.Run("damaged stable store", func(t *testing.T) {
		dir := build(t, 0)
		s := openSeg(t, dir, 0)
		s.SetUint64([]byte("CurrentTerm"), 3)
		s.Close()
		p := filepath.Join(dir, stableFile)
		b, _ := os.ReadFile(p)
		b[len(b)-6] ^= 1
		os.WriteFile(p, b, 0o644)
		if s, err := OpenSegmentStore(dir, SegmentStoreOptions{Log: zerolog.Nop()}); err == nil {
			s.Close()
			t.Fatal("opened with a damaged stable store (a vote forgotten)")
		}
	})
	t.Run("compaction interrupted", func(t *testing.T) {
		// head written, segments below it not yet removed.
		dir := build(t, 100)
		s := openSeg(t, dir, 100)
		before := len(segFiles(t, dir))
		h := encodeHead(8)
		if err := writeFileAtomic(dir, headFile, h); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = openSeg(t, dir, 100)
		defer s.Close()
		checkBounds(t, s, 8, 10)
		checkMissing(t, s, 7)
		if after := len(segFiles(t, dir)); after >= before {
			t.Fatalf("%d segments before, %d after: those below head stay", before, after)
		}
	})
}

// TestSegmentStoreConcurrent reads while it appends and compacts (run with
// -race): a reader sees every index between first and last.
func TestSegmentStoreConcurrent(t *testing.T) {
	s := openSeg(t, t.TempDir(), 4096)
	defer s.Close()
	mustStore(t, s, testLogs(1, 1, 1))
	const n = 600
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	done := make(chan struct{})
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				first, _ := s.FirstIndex()
				last, _ := s.LastIndex()
				for i := last; i >= first && i > 0 && i+20 > last; i-- {
					var l raft.Log
					err := s.GetLog(i, &l)
					if errors.Is(err, raft.ErrLogNotFound) {
						if f, _ := s.FirstIndex(); f > i {
							break // compacted meanwhile
						}
					}
					if err != nil || !bytes.Equal(l.Data, testLog(i, 1).Data) {
						errc <- fmt.Errorf("GetLog(%d) = %q, %v (first %d last %d)", i, l.Data, err, first, last)
						return
					}
				}
			}
		}()
	}
	for i := uint64(2); i <= n; i += 3 {
		if err := s.StoreLogs(testLogs(i, i+2, 1)); err != nil {
			t.Fatal(err)
		}
		if i%60 == 2 && i > 100 {
			mustDelete(t, s, 1, i-100)
		}
	}
	close(done)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	checkHas(t, s, n-50, n+1, 1)
}

// FuzzScanSegment feeds arbitrary bytes to the reader that open runs on
// every segment: it must not panic, and every record it accepts must read
// back through GetLog's decoding.
func FuzzScanSegment(f *testing.F) {
	seg := appendSegHeader(nil, 5)
	for _, l := range testLogs(5, 9, 1) {
		seg = appendRecord(seg, l)
	}
	f.Add(seg)
	f.Add(seg[:len(seg)-3])
	f.Add(seg[:segHeaderSize])
	f.Add(seg[:10])
	bad := bytes.Clone(seg)
	bad[segHeaderSize+30] ^= 0xff
	f.Add(bad)
	huge := append(appendSegHeader(nil, 5), 0xff, 0xff, 0xff, 0x7f)
	f.Add(huge)
	f.Fuzz(func(t *testing.T, b []byte) {
		offs, good, why := scanSegment(bytes.NewReader(b), int64(len(b)), 5)
		if good > int64(len(b)) || (why == "" && good != int64(len(b))) {
			t.Fatalf("good %d of %d bytes, why %q", good, len(b), why)
		}
		for i, off := range offs {
			end := good
			if i+1 < len(offs) {
				end = offs[i+1]
			}
			var l raft.Log
			idx, err := decodeRecordPayload(b[off+4:end-4], &l)
			if err != nil || idx != 5+uint64(i) {
				t.Fatalf("record %d accepted by the scan, then %d, %v", i, idx, err)
			}
		}
	})
}

// TestLogStoreKindGuard: a folder holding one kind's raft state refuses the
// other kind (a node would vote twice in a term or bootstrap again).
func TestLogStoreKindGuard(t *testing.T) {
	for _, c := range []struct{ first, then string }{{LogStoreBoltDB, LogStoreSegments}, {LogStoreSegments, LogStoreBoltDB}} {
		rdir := t.TempDir()
		s, err := openLogStore(c.first, rdir, false, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetUint64([]byte("CurrentTerm"), 4); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s, err := openLogStore(c.then, rdir, false, zerolog.Nop()); err == nil {
			s.Close()
			t.Fatalf("%s opened over %s's state", c.then, c.first)
		} else if !strings.Contains(err.Error(), "cluster.log_store") {
			t.Fatalf("error %v does not name cluster.log_store", err)
		}
		s, err = openLogStore(c.first, rdir, false, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 4 {
			t.Fatalf("%s reopened: term %d, %v", c.first, v, err)
		}
		s.Close()
	}
	if _, err := openLogStore("sqlite", t.TempDir(), false, zerolog.Nop()); err == nil {
		t.Fatal("opened an unknown kind")
	}
	// Unset: segments in a new folder, raft-boltdb where its state is.
	for _, c := range []struct {
		before string
		want   string
	}{{"", "segments"}, {LogStoreBoltDB, "raft.db"}, {LogStoreSegments, "segments"}} {
		rdir := t.TempDir()
		if c.before != "" {
			s, err := openLogStore(c.before, rdir, false, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
		}
		s, err := openLogStore("", rdir, false, zerolog.Nop())
		if err != nil {
			t.Fatalf("default over %q: %v", c.before, err)
		}
		s.Close()
		ents, _ := os.ReadDir(rdir)
		if len(ents) != 1 || ents[0].Name() != c.want {
			t.Errorf("default over %q: folder holds %v, want only %s", c.before, ents, c.want)
		}
	}
}

// FuzzDecodeStable: the stable store file read on open never panics, and
// what it accepts survives an encode and decode unchanged.
func FuzzDecodeStable(f *testing.F) {
	good := encodeStable(map[string][]byte{"CurrentTerm": {0, 0, 0, 0, 0, 0, 0, 3}, "LastVoteCand": []byte("n2")})
	f.Add(good)
	f.Add(good[:len(good)-5])
	f.Add(encodeStable(map[string][]byte{}))
	f.Add([]byte("XRST"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeStable(b)
		if err != nil {
			return
		}
		m2, err := decodeStable(encodeStable(m))
		if err != nil || len(m2) != len(m) {
			t.Fatalf("accepted %x as %q; encoded again it decodes as %q, %v", b, m, m2, err)
		}
		for k, v := range m {
			if !bytes.Equal(m2[k], v) {
				t.Fatalf("key %q: %x, then %x", k, v, m2[k])
			}
		}
	})
}
