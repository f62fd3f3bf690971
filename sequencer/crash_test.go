//go:build linux

package sequencer

import (
	"bufio"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const crashChildEnv = "SEQUENCER_CRASH_CHILD_DIR"

// crashChild writes commands with batch durability as fast as it can (up to a
// bound per run) and prints every seq the consumer received, that is every seq
// that was durable, until it is killed.
func crashChild(dir string) {
	s, info, err := Open(Config{Dir: dir, Create: true, Durability: DurabilityBatch,
		SegmentBytesMax: 1 << 20, RingItems: 4096, BatchRecordsMax: 1024})
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(2)
	}
	go func() {
		buf := make([]Item, 512)
		line := make([]byte, 0, 32)
		for {
			items := s.Next(buf)
			if len(items) == 0 {
				return
			}
			line = append(strconv.AppendUint(append(line[:0], "durable "...), items[len(items)-1].Cmd.Seq, 10), '\n')
			os.Stdout.Write(line)
		}
	}()
	os.Stdout.WriteString("ready " + strconv.FormatUint(info.LastSeq, 10) + "\n")
	var mb [MetaMax]byte
	const perRunMax = 300_000
	for i := uint64(0); i < perRunMax; {
		seq := info.LastSeq + 1 + i
		c := testCmd(seq)
		if s.TrySubmit(&c, testMeta(seq, mb[:0])) {
			i++
		}
	}
	time.Sleep(time.Minute) // wait to be killed
}

// TestCrash kills a writing child with SIGKILL at random moments: after each
// kill, recovery must yield exactly a prefix of what was written (every record
// is the deterministic command for its seq, with no gap) that includes every
// seq the child saw as durable.
func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d", seed)
	budget := time.Now().Add(15 * time.Second)
	var verified uint64
	kills := 0
	for i := 0; i < 20 && time.Now().Before(budget); i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var durable atomic.Uint64
		ready := make(chan struct{})
		lines := make(chan struct{})
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			first := true
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) == 2 && (f[0] == "durable" || f[0] == "ready") {
					n, _ := strconv.ParseUint(f[1], 10, 64)
					if f[0] == "durable" && n > durable.Load() {
						durable.Store(n)
					}
					if first {
						first = false
						close(ready)
					}
				} else {
					t.Errorf("child: %s", sc.Text())
				}
			}
		}()
		select {
		case <-ready:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatal("child did not start")
		}
		time.Sleep(time.Duration(rng.IntN(120_000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-lines
		cmd.Wait()
		kills++
		acked := durable.Load()

		s, info, err := Open(Config{Dir: dir, VerifyFromSeq: verified + 1})
		if err != nil {
			t.Fatalf("kill %d: recovery: %v", i, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if info.LastSeq < acked {
			t.Fatalf("kill %d: recovered up to seq %d, but seq %d had been reported durable", i, info.LastSeq, acked)
		}
		// The new records are exactly what the child wrote for their seqs.
		n := verified
		if _, err := Replay(dir, ReplayOptions{FromSeq: verified + 1}, func(r *Record) error {
			if r.Kind == RecordCommand {
				n++
				checkRecord(t, r, n)
			}
			return nil
		}); err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		if n != info.LastSeq {
			t.Fatalf("kill %d: read up to %d, recovery said %d", i, n, info.LastSeq)
		}
		t.Logf("kill %d: %d durable acked, %d recovered, torn %d bytes", i, acked, info.LastSeq, info.Torn.Bytes)
		verified = info.LastSeq
	}
	if kills < 5 {
		t.Fatalf("only %d kills in the time budget", kills)
	}
	if cmds, _ := readAll(t, dir); cmds != verified {
		t.Fatalf("full read: %d commands, want %d", cmds, verified)
	}
}
