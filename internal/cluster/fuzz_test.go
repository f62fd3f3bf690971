package cluster

import (
	"testing"

	"github.com/exchange-sim/exchange/sequencer"
)

// FuzzDecodeEntry feeds arbitrary bytes to what a node does with a raft entry
// before trusting it: the header, then every frame's length, CRC and payload.
// Neither may panic.
func FuzzDecodeEntry(f *testing.F) {
	frames := batchFrames(7, 3)
	frames = sequencer.AppendCheckpointFrame(frames, &sequencer.Checkpoint{InSeq: 9, OutSeq: 20, EventHash: 42})
	f.Add(appendEntry(nil, entryHeader{epoch: 1, firstSeq: 7, lastSeq: 9}, frames))
	f.Add(appendEntry(nil, entryHeader{epoch: 1, firstSeq: 7, lastSeq: 6}, nil))
	f.Add([]byte("XRFT"))
	f.Add(append(appendEntry(nil, entryHeader{epoch: 1, firstSeq: 7, lastSeq: 9}, frames[:len(frames)-3]), 0xff))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, fr, err := decodeEntry(b)
		if err != nil {
			return
		}
		if h.firstSeq == 0 || h.lastSeq+1 < h.firstSeq {
			t.Fatalf("accepted header %+v", h)
		}
		_ = sequencer.DecodeFrames(fr, func(*sequencer.Record) error { return nil })
	})
}
