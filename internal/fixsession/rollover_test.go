package fixsession

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func storeHeader() *Header {
	return &Header{BeginString: "FIX.4.4", SenderCompID: "EXCH", TargetCompID: "ALPHA"}
}

// saveRun saves app messages from..to (every seventh number left out, as
// an admin message would be) and writes them unless keepPending.
func saveRun(st *store, tag string, from, to uint64, keepPending bool) map[uint64]string {
	want := map[uint64]string{}
	for seq := from; seq <= to; seq++ {
		st.nextOut = seq + 1
		if seq%7 == 0 {
			continue
		}
		msg := fmt.Sprintf("%s-%d-%s", tag, seq, string(make([]byte, int(seq%13))))
		st.save(seq, []byte(msg), 0)
		want[seq] = msg
	}
	st.seqDirty = true
	if !keepPending {
		var fb flushBatch
		st.take(&fb)
		if err := fb.write(); err != nil {
			panic(err)
		}
		st.inflight = nil
	}
	return want
}

// checkStore asks for every number up to top, in order and then at
// random, and compares with want.
func checkStore(t *testing.T, st *store, want map[uint64]string, top uint64) {
	t.Helper()
	look := func(seq uint64) {
		raw, ok := st.get(seq)
		w, stored := want[seq]
		if ok != stored || string(raw) != w {
			t.Fatalf("get(%d) = %q, %v; want %q, %v", seq, raw, ok, w, stored)
		}
	}
	for seq := uint64(0); seq <= top+3; seq++ {
		look(seq)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		look(uint64(r.IntN(int(top + 5))))
	}
}

// TestStoreSparseIndex: the index keeps one mark per markStride numbers,
// and every stored message is found, in memory, written, pending and after
// a restart.
func TestStoreSparseIndex(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		st, err := openStore(dir, storeHeader())
		if err != nil {
			t.Fatal(err)
		}
		want := saveRun(st, "a", 1, 3000, false)
		for k, v := range saveRun(st, "b", 3001, 3100, true) { // still pending
			want[k] = v
		}
		checkStore(t, st, want, 3100)
		if n := len(st.marks); n > 3100/markStride+1 {
			t.Fatalf("%d marks for 3100 numbers", n)
		}
		if dir == "" {
			continue
		}
		var fb flushBatch
		st.take(&fb)
		if err := fb.write(); err != nil {
			t.Fatal(err)
		}
		st.close()
		st, err = openStore(dir, storeHeader())
		if err != nil {
			t.Fatal(err)
		}
		checkStore(t, st, want, 3100)
		if st.nextOut != 3101 {
			t.Fatalf("next out %d after a restart, want 3101", st.nextOut)
		}
		st.close()
	}
}

// TestStoreRollsOverDaily: with a daily reset at 17:00 UTC the store keeps
// answering resends for the day's numbers until the reset, across a
// restart; at the reset both numbers start again at 1 and the day's file is
// set aside; days older than the retention are removed.
func TestStoreRollsOverDaily(t *testing.T) {
	dir := t.TempDir()
	sched := StoreSchedule{Daily: true, ResetAt: 17 * time.Hour, Retention: 48 * time.Hour}
	day := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.UTC) }
	st, err := openStoreAt(dir, storeHeader(), sched, day(1, 10, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := saveRun(st, "day1", 1, 500, false)
	st.nextIn = 77
	checkStore(t, st, want, 500)
	if rolled, err := st.rollIfDue(day(1, 16, 59)); rolled || err != nil {
		t.Fatalf("rolled before the reset time: %v %v", rolled, err)
	}
	if rolled, err := st.rollIfDue(day(1, 17, 1)); !rolled || err != nil {
		t.Fatalf("did not roll after the reset time: %v %v", rolled, err)
	}
	if st.nextOut != 1 || st.nextIn != 1 {
		t.Fatalf("numbers %d/%d after the reset, want 1/1", st.nextOut, st.nextIn)
	}
	if _, ok := st.get(10); ok {
		t.Fatal("yesterday's message 10 still answered under today's numbers")
	}
	base := filepath.Join(dir, storeName(storeHeader()))
	if _, err := os.Stat(base + ".20260301T170000Z.msgs"); err != nil {
		t.Fatalf("day 1's messages not set aside: %v", err)
	}
	want = saveRun(st, "day2", 1, 300, false)
	checkStore(t, st, want, 300)
	st.close()

	// A restart inside day 2: no reset, every message of the day answered.
	st, err = openStoreAt(dir, storeHeader(), sched, day(2, 12, 0))
	if err != nil {
		t.Fatal(err)
	}
	checkStore(t, st, want, 300)
	if st.nextOut != 301 {
		t.Fatalf("next out %d after a restart within the day, want 301", st.nextOut)
	}
	st.close()

	// A restart after day 2's reset rolls over on opening.
	st, err = openStoreAt(dir, storeHeader(), sched, day(2, 18, 0))
	if err != nil {
		t.Fatal(err)
	}
	if st.nextOut != 1 {
		t.Fatalf("next out %d after opening past the reset, want 1", st.nextOut)
	}
	if _, err := os.Stat(base + ".20260301T170000Z.msgs"); err != nil {
		t.Fatalf("day 1 removed within the retention: %v", err)
	}
	saveRun(st, "day3", 1, 10, false)
	// Two days later: day 1 (ended 1 March 17:00) and day 2 are past the
	// retention; the day that just ended is kept.
	if rolled, err := st.rollIfDue(day(4, 17, 30)); !rolled || err != nil {
		t.Fatalf("did not roll: %v %v", rolled, err)
	}
	for _, gone := range []string{"20260301T170000Z", "20260302T170000Z"} {
		if _, err := os.Stat(base + "." + gone + ".msgs"); !os.IsNotExist(err) {
			t.Fatalf("%s kept past the retention (%v)", gone, err)
		}
	}
	if _, err := os.Stat(base + ".20260304T170000Z.msgs"); err != nil {
		t.Fatalf("the day that just ended was not kept: %v", err)
	}
	st.close()
}

// TestSessionRollsOver: a session whose store was last reset before the
// latest daily reset starts again at 1 when it is opened (the counterparty,
// on the same schedule, logs on with MsgSeqNum 1); a logged-on session due
// for its reset is logged out rather than reset under its feet, and rolls
// over once it is gone.
func TestSessionRollsOver(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	sched := StoreSchedule{Daily: true, ResetAt: time.Duration(now.Hour()) * time.Hour} // within the last hour
	h := *storeHeader()
	// The store's day began two days ago, with numbers well past 1.
	st, err := openStoreAt(dir, &h, StoreSchedule{}, now)
	if err != nil {
		t.Fatal(err)
	}
	st.nextOut, st.nextIn, st.seqDirty = 40, 30, true
	var fb flushBatch
	st.take(&fb)
	if err := fb.write(); err != nil {
		t.Fatal(err)
	}
	st.close()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(now.Add(-48*time.Hour).UnixNano()))
	if err := os.WriteFile(filepath.Join(dir, storeName(&h))+epochExt, b[:], 0o644); err != nil {
		t.Fatal(err)
	}

	a := NewAcceptor(&echoApp{}, zerolog.Nop())
	s, err := a.AddSession(Settings{Header: h, StoreDir: dir, Schedule: sched})
	if err != nil {
		t.Fatal(err)
	}
	if out, in := s.NextSeqNums(); out != 1 || in != 1 {
		t.Fatalf("numbers %d/%d after opening past the reset, want 1/1", out, in)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go a.Serve(ln)
	defer a.Stop("bye", time.Second)
	r := dialRaw(t, ln.Addr().String())
	r.send("A", "98=0\x01108=30\x01554=pw\x01")
	r.expect("35=A", "34=1")
	// Logged on: a reset that is due now is not applied under its feet.
	if rolled, err := s.RollOver(now.Add(48 * time.Hour)); rolled || err != nil {
		t.Fatalf("rolled a connected session: %v %v", rolled, err)
	}
	r.expect("35=5") // told to log on again
	r.send("5", "")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		rolled, err := s.RollOver(now.Add(48 * time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if rolled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never rolled over once logged off")
		}
	}
}
