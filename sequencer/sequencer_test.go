package sequencer

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestSequencerPolicies(t *testing.T) {
	for _, d := range []Durability{DurabilityBatch, DurabilityAlways, DurabilityNone} {
		t.Run(d.String(), func(t *testing.T) {
			dir := t.TempDir()
			n := uint64(5000)
			if d == DurabilityAlways {
				n = 200
			}
			cfg := Config{Dir: dir, Durability: d, SegmentBytesMax: 64 << 10, RingItems: 1024}
			writeTest(t, cfg, n)
			info := writeTest(t, cfg, n) // reopen and continue
			if info.LastSeq != n {
				t.Fatalf("recovered last seq %d, want %d", info.LastSeq, n)
			}
			if cmds, _ := readAll(t, dir); cmds != 2*n {
				t.Fatalf("read %d commands, want %d", cmds, 2*n)
			}
		})
	}
}

func TestSequencerLinger(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, Create: true, BatchLinger: 200 * time.Microsecond, RingItems: 256}
	writeTest(t, cfg, 3000)
	if cmds, _ := readAll(t, dir); cmds != 3000 {
		t.Fatalf("%d commands", cmds)
	}
}

func TestSequencerStampsAndCheckpoints(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(1000)
	clock := func() int64 { return now.Add(-1) } // goes backwards: stamps must not
	s, _, err := Open(Config{Dir: dir, Create: true, Clock: clock, RingItems: 64})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []uint64, 1)
	go func() {
		var seqs []uint64
		buf := make([]Item, 7)
		last := int64(0)
		for {
			items := s.Next(buf)
			if len(items) == 0 {
				break
			}
			for _, it := range items {
				if it.Cmd.TimeNs < last {
					t.Errorf("time went backwards at seq %d", it.Cmd.Seq)
				}
				last = it.Cmd.TimeNs
				seqs = append(seqs, it.Cmd.Seq)
			}
			s.Checkpoint(items[len(items)-1].Cmd.Seq, 42, 7)
		}
		got <- seqs
	}()
	var mb [MetaMax]byte
	for seq := uint64(1); seq <= 1000; {
		c := testCmd(seq)
		c.Seq, c.TimeNs = 999999, 999999 // overwritten by the stage
		if s.TrySubmit(&c, testMeta(seq, mb[:0])) {
			seq++
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	seqs := <-got
	for i, seq := range seqs {
		if seq != uint64(i+1) {
			t.Fatalf("consumer got seq %d at %d", seq, i)
		}
	}
	if len(seqs) != 1000 {
		t.Fatalf("consumer got %d", len(seqs))
	}
	cmds, cps := readAll(t, dir)
	if cmds != 1000 || cps == 0 {
		t.Fatalf("journal has %d commands, %d checkpoints", cmds, cps)
	}
	// The last checkpoint, sent before the final Next, is journaled.
	var lastCp Checkpoint
	if _, err := Replay(dir, ReplayOptions{}, func(r *Record) error {
		if r.Kind == RecordCheckpoint {
			lastCp = r.Checkpoint
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if lastCp != (Checkpoint{InSeq: 1000, OutSeq: 42, EventHash: 7}) {
		t.Fatalf("last checkpoint %+v", lastCp)
	}
	st := s.Stats()
	if st.Records != 1000 || st.DurableSeq != 1000 || st.Fsyncs == 0 || st.Bytes == 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSequencerBusyWhenFull(t *testing.T) {
	s, _, err := Open(Config{Dir: t.TempDir(), Create: true, RingItems: 8, Durability: DurabilityNone})
	if err != nil {
		t.Fatal(err)
	}
	c := testCmd(1)
	for i := 0; i < 8; i++ {
		if !s.TrySubmit(&c, nil) {
			t.Fatalf("submit %d refused", i)
		}
	}
	if s.TrySubmit(&c, nil) {
		t.Fatal("a full ring accepted a command")
	}
	buf := make([]Item, 8)
	n := 0
	for n < 8 {
		n += len(s.Next(buf))
	}
	if !s.TrySubmit(&c, nil) {
		t.Fatal("ring still full after the consumer took everything")
	}
	if s.Stats().Busy != 1 {
		t.Fatalf("busy %d", s.Stats().Busy)
	}
	go func() {
		for len(s.Next(buf)) > 0 {
		}
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.TrySubmit(&c, nil) {
		t.Fatal("a closed stage accepted a command")
	}
}

func TestSequencerSteadyStateAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	s, _, err := Open(Config{Dir: t.TempDir(), Create: true, RingItems: 1024, Durability: DurabilityNone})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]Item, 64)
	c := testCmd(1)
	meta := []byte("clordid-1")
	allocs := testing.AllocsPerRun(200, func() {
		for i := 0; i < 64; i++ {
			for !s.TrySubmit(&c, meta) {
			}
		}
		for got := 0; got < 64; {
			got += len(s.Next(buf))
		}
		s.Checkpoint(1, 1, 1)
	})
	if allocs > 0 {
		t.Fatalf("%v allocations per 64 commands", allocs)
	}
	go func() {
		for len(s.Next(buf)) > 0 {
		}
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestConsumerSeesOnlyDurable checks that the consumer never receives a
// command before the fsync (write, with none) that covers it has returned, and
// that what it receives is already readable from the journal files.
func TestConsumerSeesOnlyDurable(t *testing.T) {
	for _, d := range []Durability{DurabilityBatch, DurabilityAlways, DurabilityNone} {
		t.Run(d.String(), func(t *testing.T) {
			dir := t.TempDir()
			s, _, err := Open(Config{Dir: dir, Create: true, Durability: d, RingItems: 512})
			if err != nil {
				t.Fatal(err)
			}
			n := uint64(3000)
			if d == DurabilityAlways {
				n = 100
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				buf := make([]Item, 64)
				checks, failed := 0, false
				for {
					items := s.Next(buf)
					if len(items) == 0 {
						return
					}
					if failed {
						continue // keep draining so that Close returns
					}
					last := items[len(items)-1].Cmd.Seq
					if durable := s.DurableSeq(); durable < last {
						t.Errorf("consumer got seq %d, durable only to %d", last, durable)
						failed = true
					}
					if checks < 5 && !failed { // the files hold it already
						checks++
						if _, err := Replay(dir, ReplayOptions{UntilSeq: last}, func(*Record) error { return nil }); err != nil {
							t.Errorf("seq %d handed on but not in the journal: %v", last, err)
							failed = true
						}
					}
				}
			}()
			var mb [MetaMax]byte
			for seq := uint64(1); seq <= n; {
				c := testCmd(seq)
				if s.TrySubmit(&c, testMeta(seq, mb[:0])) {
					seq++
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			<-done
		})
	}
}

// TestIdleDoesNotSpin checks that an idle stage (writer and consumer waiting)
// parks instead of burning CPU.
func TestIdleDoesNotSpin(t *testing.T) {
	for _, d := range []Durability{DurabilityBatch, DurabilityNone} {
		t.Run(d.String(), func(t *testing.T) { idleDoesNotSpin(t, d) })
	}
}

func idleDoesNotSpin(t *testing.T, d Durability) {
	s, _, err := Open(Config{Dir: t.TempDir(), Create: true, Durability: d})
	if err != nil {
		t.Fatal(err)
	}
	done := drain(s)
	c := testCmd(1)
	for !s.TrySubmit(&c, nil) {
	}
	// Wait until both goroutines have parked.
	for deadline := time.Now().Add(5 * time.Second); s.writerPark.sleeping.Load() == 0 || s.consumerPark.sleeping.Load() == 0; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatal("the writer and the consumer never parked")
		}
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	before := cpu()
	time.Sleep(300 * time.Millisecond)
	used := cpu() - before
	s.Close()
	<-done
	if used > 60*time.Millisecond {
		t.Fatalf("idle stage used %v of CPU in 300ms", used)
	}
}

// TestTakeInPlace checks that Take hands over every command once, in seq
// order and intact, across many wraps of a small ring, with the producer
// refilling slots as Take frees them.
func TestTakeInPlace(t *testing.T) {
	s, _, err := Open(Config{Dir: t.TempDir(), Create: true, Durability: DurabilityNone, RingItems: 16})
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	errs := make(chan error, 1)
	go func() {
		next := uint64(1)
		var mb [MetaMax]byte
		for {
			items := s.Take(7)
			if len(items) == 0 {
				break
			}
			more := s.TakeMore(3)
			if len(more) > 0 && &more[0] == &items[0] {
				errs <- fmt.Errorf("TakeMore returned the items Take did")
				return
			}
			items = append(items[:len(items):len(items)], more...)
			for i := range items {
				it := &items[i]
				want := testCmd(next)
				want.Seq, want.TimeNs = next, it.Cmd.TimeNs
				if it.Cmd != want || string(it.MetaBytes()) != string(testMeta(next, mb[:0])) {
					errs <- fmt.Errorf("item seq %d: got %+v, want %+v", next, it.Cmd, want)
					return
				}
				next++
			}
		}
		if next != n+1 {
			errs <- fmt.Errorf("took %d commands, want %d", next-1, n)
			return
		}
		errs <- nil
	}()
	var mb [MetaMax]byte
	for seq := uint64(1); seq <= n; {
		c := testCmd(seq)
		if s.TrySubmit(&c, testMeta(seq, mb[:0])) {
			seq++
		} else {
			runtime.Gosched()
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// Durability is one type from the configuration's words to the writer:
// the three words parse, anything else is refused by ParseDurability and by
// Open, and the zero value is group commit.
func TestDurabilityWords(t *testing.T) {
	for _, d := range []Durability{DurabilityBatch, DurabilityAlways, DurabilityNone} {
		if got, err := ParseDurability(d.String()); err != nil || got != d {
			t.Errorf("ParseDurability(%q) = %q, %v", d, got, err)
		}
	}
	if Durability("").String() != "batch" {
		t.Errorf("the zero Durability is %q, want batch", Durability(""))
	}
	if _, err := ParseDurability("sometimes"); err == nil {
		t.Error("ParseDurability accepted \"sometimes\"")
	}
	if _, _, err := Open(Config{Dir: t.TempDir(), Create: true, Durability: "sometimes"}); err == nil {
		t.Error("Open accepted durability \"sometimes\"")
	}
}
