package sequencer

import (
	"errors"
	"io"
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

// testCmd is a deterministic command for seq, so that a reader can check
// every record's content from its seq alone.
func testCmd(seq uint64) matching.Command {
	return matching.Command{
		Kind:    matching.CmdNew,
		Side:    matching.Side(1 + seq%2),
		Type:    matching.Limit,
		TIF:     matching.GTC,
		Symbol:  matching.SymbolID(1 + seq%3),
		Account: matching.AccountID(1 + seq%50),
		OrderID: matching.OrderID(seq),
		Price:   int64(1 + seq*7%1000),
		Qty:     int64(1 + seq%100),
	}
}

// testMeta is deterministic meta bytes for seq (0 to 19 bytes).
func testMeta(seq uint64, buf []byte) []byte {
	n := int(seq % 20)
	buf = buf[:0]
	for i := 0; i < n; i++ {
		buf = append(buf, byte(seq>>(i%8*8))+byte(i))
	}
	return buf
}

// checkRecord fails unless rec is the command testCmd/testMeta wrote for seq.
func checkRecord(t testing.TB, rec *Record, seq uint64) {
	t.Helper()
	if rec.Kind != RecordCommand {
		t.Fatalf("seq %d: kind %d", seq, rec.Kind)
	}
	want := testCmd(seq)
	got := rec.Item.Cmd
	want.Seq, want.TimeNs = got.Seq, got.TimeNs
	if got.Seq != seq || got != want {
		t.Fatalf("seq %d: record %+v, want %+v", seq, got, want)
	}
	var mb [MetaMax]byte
	if m := testMeta(seq, mb[:0]); string(rec.Item.MetaBytes()) != string(m) {
		t.Fatalf("seq %d: meta %x, want %x", seq, rec.Item.MetaBytes(), m)
	}
}

// readAll reads every command of the journal in dir, checking content, and
// returns the number of commands and checkpoints.
func readAll(t testing.TB, dir string) (cmds, cps uint64) {
	t.Helper()
	r, err := NewReader(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return cmds, cps
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Kind == RecordCheckpoint {
			cps++
			continue
		}
		cmds++
		checkRecord(t, rec, cmds)
	}
}

// drain runs a consumer that takes everything until the stage closes and
// reports the number of items taken on the returned channel.
func drain(s *Sequencer) <-chan uint64 {
	done := make(chan uint64, 1)
	go func() {
		buf := make([]Item, 256)
		var n uint64
		for {
			items := s.Next(buf)
			if len(items) == 0 {
				done <- n
				return
			}
			n += uint64(len(items))
		}
	}()
	return done
}

// writeTest journals commands lastSeq+1..lastSeq+n with testCmd/testMeta
// through a sequencer opened with cfg, then closes it.
func writeTest(t testing.TB, cfg Config, n uint64) RecoveryInfo {
	t.Helper()
	s, info, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := drain(s)
	var mb [MetaMax]byte
	for i := uint64(0); i < n; {
		seq := info.LastSeq + 1 + i
		c := testCmd(seq)
		if s.TrySubmit(&c, testMeta(seq, mb[:0])) {
			i++
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != n {
		t.Fatalf("consumer took %d, want %d", got, n)
	}
	return info
}
