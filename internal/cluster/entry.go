package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A raft entry is one batch of the leader's sequencer:
//
//	magic uint32 | epoch uint64 | firstSeq uint64 | lastSeq uint64 | frames
//
// where frames are the batch's journal records (commands firstSeq..lastSeq,
// none when lastSeq < firstSeq, then checkpoints) exactly as the journal
// stores them, each with its own length and CRC32C. epoch identifies the
// term of leadership that produced it on its node, so the node tells its own
// entries (already in its engine's ring) from another leader's.
const (
	entryMagic      uint32 = 0x54465258 // "XRFT"
	entryHeaderSize        = 4 + 8 + 8 + 8
)

type entryHeader struct {
	epoch, firstSeq, lastSeq uint64
}

func appendEntry(b []byte, h entryHeader, frames []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, entryMagic)
	b = binary.LittleEndian.AppendUint64(b, h.epoch)
	b = binary.LittleEndian.AppendUint64(b, h.firstSeq)
	b = binary.LittleEndian.AppendUint64(b, h.lastSeq)
	return append(b, frames...)
}

var errEntry = errors.New("cluster: bad log entry")

func decodeEntry(b []byte) (entryHeader, []byte, error) {
	if len(b) < entryHeaderSize {
		return entryHeader{}, nil, fmt.Errorf("%w: %d bytes", errEntry, len(b))
	}
	if m := binary.LittleEndian.Uint32(b); m != entryMagic {
		return entryHeader{}, nil, fmt.Errorf("%w: magic %#x", errEntry, m)
	}
	h := entryHeader{
		epoch:    binary.LittleEndian.Uint64(b[4:]),
		firstSeq: binary.LittleEndian.Uint64(b[12:]),
		lastSeq:  binary.LittleEndian.Uint64(b[20:]),
	}
	if h.firstSeq == 0 || h.lastSeq+1 < h.firstSeq {
		return h, nil, fmt.Errorf("%w: seqs %d..%d", errEntry, h.firstSeq, h.lastSeq)
	}
	return h, b[entryHeaderSize:], nil
}
