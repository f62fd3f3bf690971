package sequencer

import (
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

const (
	replaySymbols  = 4
	replayCommands = 30000
	replaySnapSeq  = 12000
)

// liveSession runs a random session through the sequencer into an engine
// stage that checkpoints after every batch and snapshots at replaySnapSeq, as
// the lead's engine goroutine would. It returns the final engine stage.
func liveSession(t *testing.T, dir string, seed uint64) *engineStage {
	t.Helper()
	var clock int64
	s, _, err := Open(Config{Dir: dir, Create: true, Durability: DurabilityBatch, SegmentBytesMax: 256 << 10,
		RingItems: 1024, Clock: func() int64 { clock += 1000; return clock }})
	if err != nil {
		t.Fatal(err)
	}
	live := newEngineStage(replaySymbols)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]Item, 100)
		for {
			items := s.Next(buf)
			if len(items) == 0 {
				return
			}
			for i := range items {
				live.apply(&items[i].Cmd)
				if seq := items[i].Cmd.Seq; seq == replaySnapSeq {
					if _, err := WriteSnapshot(dir, seq, live.snapshotBody()); err != nil {
						t.Error(err)
					}
				}
			}
			s.Checkpoint(items[len(items)-1].Cmd.Seq, live.e.OutSeq(), live.h.Sum())
		}
	}()
	sess := newSession(seed, replaySymbols)
	meta := []byte("session-1")
	for i := 0; i < replayCommands; {
		c := sess.next()
		for !s.TrySubmit(&c, meta) {
		}
		i++
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	return live
}

// replayInto replays the journal from fromSeq into st, verifying checkpoints.
func replayInto(t *testing.T, dir string, st *engineStage, fromSeq uint64, tamperSeq uint64) (*Verifier, error) {
	t.Helper()
	v := NewVerifier(0)
	if fromSeq > 1 {
		v.Applied(fromSeq-1, st.e.OutSeq(), st.h.Sum())
	}
	_, err := Replay(dir, ReplayOptions{FromSeq: fromSeq}, func(r *Record) error {
		if r.Kind == RecordCheckpoint {
			return v.Check(r.Checkpoint)
		}
		c := r.Item.Cmd
		if c.Seq == tamperSeq {
			c.Qty++ // a replay that diverges must be caught
		}
		st.apply(&c)
		v.Applied(c.Seq, st.e.OutSeq(), st.h.Sum())
		return nil
	})
	return v, err
}

func TestReplayDeterminism(t *testing.T) {
	dir := t.TempDir()
	live := liveSession(t, dir, 42)
	if live.evts < replayCommands {
		t.Fatalf("only %d events: the session does not trade", live.evts)
	}
	wantHash, wantState := live.h.Sum(), live.e.StateHash()

	full := newEngineStage(replaySymbols)
	v, err := replayInto(t, dir, full, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if full.h.Sum() != wantHash || full.e.StateHash() != wantState {
		t.Fatalf("full replay: hash %#x state %#x, live %#x %#x", full.h.Sum(), full.e.StateHash(), wantHash, wantState)
	}
	if v.Verified < 10 || v.Unverifiable != 0 {
		t.Fatalf("full replay verified %d checkpoints, %d unverifiable", v.Verified, v.Unverifiable)
	}

	snap, _, err := LatestSnapshot(dir, zerolog.Nop())
	if err != nil || snap == nil || snap.Seq != replaySnapSeq {
		t.Fatalf("snapshot %+v %v", snap, err)
	}
	tail, err := restoreEngineStage(snap.Body)
	if err != nil {
		t.Fatal(err)
	}
	v, err = replayInto(t, dir, tail, snap.Seq+1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if tail.h.Sum() != wantHash || tail.e.StateHash() != wantState {
		t.Fatalf("snapshot + tail replay differs from the live run")
	}
	if v.Verified < 5 {
		t.Fatalf("tail replay verified %d checkpoints", v.Verified)
	}

	// A replay that diverges is caught at the next checkpoint.
	bad := newEngineStage(replaySymbols)
	if _, err := replayInto(t, dir, bad, 1, 5000); err == nil || !strings.Contains(err.Error(), "checkpoint at seq") {
		t.Fatalf("tampered replay: %v", err)
	}
}
