package fixsession

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestStoreKeys: a keyed message is read back (resent) without its key;
// StoredKeyMax counts exactly the keyed records that are whole on disk, so
// a kill that tears the last one gives the key before it; ReadStoredKeyMax
// agrees without opening the session; a reset keeps the key.
func TestStoreKeys(t *testing.T) {
	dir := t.TempDir()
	cfg := Settings{Header: Header{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}, StoreDir: dir}
	s, err := newSession(cfg, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{"17=10\x01", "11=REJ\x01", "17=12\x01", "17=13\x01"}
	keys := []uint64{10, 0, 12, 13}
	if _, _, err := s.DeliverOut(len(bodies), func(i int, o *Out) {
		o.MsgType, o.Body, o.Key = "8", []byte(bodies[i]), keys[i]
	}); err != nil {
		t.Fatal(err)
	}
	if k, known := s.StoredKeyMax(); k != 13 || !known {
		t.Fatalf("StoredKeyMax %d %v, want 13, known", k, known)
	}
	for i, b := range bodies {
		raw, ok := s.store.get(uint64(i + 1))
		if !ok {
			t.Fatalf("message %d not found", i+1)
		}
		if _, _, body := bodyOf(raw); !bytes.Equal(body, []byte(b)) {
			t.Fatalf("message %d body %q, want %q", i+1, body, b)
		}
	}
	// Killed: the last record is torn (its last byte never reached the
	// file), and .seqnums was never written.
	s.store.closeFiles()
	msgs := filepath.Join(dir, storeName(&cfg.Header)+".msgs")
	raw, err := os.ReadFile(msgs)
	if err != nil {
		t.Fatal(err)
	}
	// The file ends with the numbers record after the batch: cut it and one
	// byte of message 4.
	cut := len(raw) - (recHeader + seqRecKeyBytes) - 1
	if err := os.WriteFile(msgs, raw[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	if k, known, err := ReadStoredKeyMax(cfg); err != nil || k != 12 || !known {
		t.Fatalf("ReadStoredKeyMax after the tear: %d %v %v, want 12", k, known, err)
	}
	s, err = newSession(cfg, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := s.StoredKeyMax(); k != 12 {
		t.Fatalf("StoredKeyMax after the tear %d, want 12", k)
	}
	if out, _ := s.NextSeqNums(); out != 4 {
		t.Fatalf("next outbound after the tear %d, want 4 (message 4 is gone)", out)
	}
	if raw, ok := s.store.get(3); !ok || !bytes.Contains(raw, []byte("\x0117=12\x01")) {
		t.Fatalf("message 3 after the tear: %q %v", raw, ok)
	}
	s.mu.Lock()
	err = s.store.reset()
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := s.StoredKeyMax(); k != 12 {
		t.Fatalf("StoredKeyMax after a reset %d, want 12", k)
	}
	s.Close()
	if k, known, err := ReadStoredKeyMax(cfg); err != nil || k != 12 || !known {
		t.Fatalf("ReadStoredKeyMax after a reset: %d %v %v, want 12", k, known, err)
	}
	s, err = newSession(cfg, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if k, _ := s.StoredKeyMax(); k != 12 {
		t.Fatalf("StoredKeyMax reopened after a reset %d, want 12", k)
	}
}

// TestStoreKeysUnknown: a store that never recorded keys (absent, or
// written only by the earlier layout: 16-byte numbers, unkeyed messages)
// has no known mark; once this version writes to it, it has.
func TestStoreKeysUnknown(t *testing.T) {
	dir := t.TempDir()
	cfg := Settings{Header: Header{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}, StoreDir: dir}
	if _, known, err := ReadStoredKeyMax(cfg); known || err != nil {
		t.Fatalf("absent store: known %v, %v", known, err)
	}
	name := filepath.Join(dir, storeName(&cfg.Header))
	var old []byte
	old = binary.LittleEndian.AppendUint32(old, 3)
	old = binary.LittleEndian.AppendUint64(old, 1)
	old = append(old, "abc"...)
	old = binary.LittleEndian.AppendUint32(old, seqRecBytes)
	old = binary.LittleEndian.AppendUint64(old, 0)
	old = binary.LittleEndian.AppendUint64(old, 2)
	old = binary.LittleEndian.AppendUint64(old, 5)
	if err := os.WriteFile(name+".msgs", old, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, known, err := ReadStoredKeyMax(cfg); known || err != nil {
		t.Fatalf("store of the earlier layout: known %v, %v", known, err)
	}
	s, err := newSession(cfg, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if out, in := s.NextSeqNums(); out != 2 || in != 5 {
		t.Fatalf("earlier layout read as out %d in %d, want 2 and 5", out, in)
	}
	if _, known := s.StoredKeyMax(); known {
		t.Fatal("store of the earlier layout known before this version wrote to it")
	}
	if _, _, err := s.Deliver(1, func(int) (string, []byte) { return "8", []byte("11=A\x01") }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if k, known, err := ReadStoredKeyMax(cfg); !known || k != 0 || err != nil {
		t.Fatalf("after a write by this version: %d %v %v, want 0, known", k, known, err)
	}
}

// TestStoreKeysRollover: the daily rollover moves the day's messages aside;
// the highest key stays with the session.
func TestStoreKeysRollover(t *testing.T) {
	dir := t.TempDir()
	h := &Header{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}
	sched := StoreSchedule{Daily: true, ResetAt: 0}
	day1 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	st, err := openStoreAt(dir, h, sched, day1)
	if err != nil {
		t.Fatal(err)
	}
	st.save(1, []byte("8=FIX.4.4\x01"), 7)
	if err := st.flushPending(); err != nil {
		t.Fatal(err)
	}
	st.close()
	st, err = openStoreAt(dir, h, sched, day1.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	if st.nextOut != 1 || st.keyMax != 7 {
		t.Fatalf("after the rollover: next out %d key %d, want 1 and 7", st.nextOut, st.keyMax)
	}
	if k, _, err := ReadStoredKeyMax(Settings{Header: *h, StoreDir: dir}); err != nil || k != 7 {
		t.Fatalf("ReadStoredKeyMax after the rollover: %d %v", k, err)
	}
}

// TestDeliverOutRoute: routing header fields given with a message go out
// after the standard header, on the wire and in the store.
func TestDeliverOutRoute(t *testing.T) {
	cfg := Settings{Header: Header{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}}
	s, err := newSession(cfg, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.DeliverOut(1, func(_ int, o *Out) {
		o.MsgType, o.Body, o.Route = "8", []byte("17=2\x01"), []byte("128=CLIENT\x01")
	}); err != nil {
		t.Fatal(err)
	}
	raw, ok := s.store.get(1)
	if !ok || !bytes.Contains(raw, []byte("\x01128=CLIENT\x0117=2\x01")) {
		t.Fatalf("stored %q", raw)
	}
}

// FuzzScanRecords: whatever a store file holds (damage, another program's
// bytes), reading it never panics and stops within it.
func FuzzScanRecords(f *testing.F) {
	var s store
	s.save(1, []byte("8=FIX.4.4\x01"), 7)
	s.save(2, []byte("8=FIX.4.4\x01"), 0)
	f.Add(append(appendSeqRecord(nil, 3, 4, 7), s.mem...))
	f.Add(appendSeqRecord(nil, 0, 4, 7))
	f.Add([]byte{8, 0, 0, 0x80, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := scanRecords(bytes.NewReader(b), int64(len(b)), func(seq uint64, off, end int64) {
			if off < 0 || end > int64(len(b)) || off >= end {
				t.Fatalf("record %d at %d..%d of %d bytes", seq, off, end, len(b))
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if sc.end > int64(len(b)) {
			t.Fatalf("end %d beyond %d bytes", sc.end, len(b))
		}
	})
}

// TestDeliverOutNonReaderStored: a counterparty that does not read is
// disconnected once its buffer is full, and the messages that did not fit
// are stored all the same (ErrTooMuch, queued), for its next logon: every
// MsgSeqNum given out is in the store.
func TestDeliverOutNonReaderStored(t *testing.T) {
	app := &echoApp{}
	a, addr := startAcceptor(t, app, "")
	defer a.Stop("bye", time.Second)
	s := a.Session(SessionID{BeginString: "FIX.4.4", SenderCompID: "EXCH", TargetCompID: "ALPHA"})
	s.mu.Lock()
	s.cfg.OutBytesMax = 1 << 20
	s.mu.Unlock()
	r := dialRaw(t, addr)
	r.send("A", "98=0\x01108=30\x01554=pw\x01")
	r.expect("35=A")
	body := AppendString(nil, 58, strings.Repeat("x", 8000))
	var first, last uint64
	var err error
	for i := 0; i < 100_000 && err == nil; i++ {
		var f uint64
		var queued bool
		f, queued, err = s.DeliverOut(2, func(_ int, o *Out) { o.MsgType, o.Body, o.Key = "8", body, uint64(i+1) })
		if first == 0 {
			first = f
		}
		last = f + 1
		if err == ErrTooMuch && !queued {
			t.Fatal("ErrTooMuch without queued")
		}
	}
	if err != ErrTooMuch {
		t.Fatalf("sending to a non-reader: %v", err)
	}
	for seq := first; seq <= last; seq++ {
		s.mu.Lock()
		_, ok := s.store.get(seq)
		s.mu.Unlock()
		if !ok {
			t.Fatalf("message %d (of %d..%d) not in the store", seq, first, last)
		}
	}
	if out, _ := s.NextSeqNums(); out != last+1 {
		t.Fatalf("next outbound %d, want %d", out, last+1)
	}
}
