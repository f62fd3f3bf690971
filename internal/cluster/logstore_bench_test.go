package cluster

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// batchFrames returns the journal frames of a batch of cmds commands.
func batchFrames(first uint64, cmds int) []byte {
	var b []byte
	for i := range cmds {
		it := sequencer.Item{Cmd: matching.Command{Kind: matching.CmdNew, Seq: first + uint64(i), Symbol: 1, OrderID: matching.OrderID(first) + matching.OrderID(i), Price: 19000, Qty: 1}}
		b = sequencer.AppendCommandFrame(b, &it)
	}
	return b
}

// BenchmarkLogStore compares the candidates for raft's log store on the
// cost that bounds the replicated pipeline: appending one batch durably.
// raft-boltdb and our SegmentStore as raft calls them, and our journal's
// Appender given the same bytes (the floor: one write, one fsync).
// -benchtime=200x; figures in BENCHMARKS.md.
func BenchmarkLogStore(b *testing.B) {
	for _, cmds := range []int{10, 1000} {
		frames := batchFrames(1, cmds)
		b.Run("boltdb/cmds="+strconv.Itoa(cmds), func(b *testing.B) {
			st, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(b.TempDir(), "raft.db")})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			b.SetBytes(int64(len(frames)))
			for i := range b.N {
				if err := st.StoreLogs([]*raft.Log{{Index: uint64(i + 1), Term: 1, Type: raft.LogCommand, Data: frames}}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("segments/cmds="+strconv.Itoa(cmds), func(b *testing.B) {
			st, err := OpenSegmentStore(b.TempDir(), SegmentStoreOptions{Log: zerolog.Nop()})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			b.SetBytes(int64(len(frames)))
			for i := range b.N {
				if err := st.StoreLogs([]*raft.Log{{Index: uint64(i + 1), Term: 1, Type: raft.LogCommand, Data: frames}}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("journal/cmds="+strconv.Itoa(cmds), func(b *testing.B) {
			app, _, err := sequencer.OpenAppender(b.TempDir(), sequencer.DurabilityBatch, 0, 0, zerolog.Nop())
			if err != nil {
				b.Fatal(err)
			}
			defer app.Close()
			b.SetBytes(int64(len(frames)))
			for i := range b.N {
				first := uint64(i*cmds + 1)
				// The same bytes each time: the journal does not read them back.
				if err := app.Append(frames, first, first+uint64(cmds)-1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
