package sequencer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/exchange-sim/exchange/matching"
)

// MetaMax is the most opaque meta bytes a command record carries.
const MetaMax = 128

// FormatVersion is the journal segment format this build writes and reads.
// Version 2: commands carry the trading day's fields (stop price, iceberg
// peak, GTD expiry, phase), so a command record is longer.
const FormatVersion uint16 = 2

const segmentMagic uint32 = 0x4c4e4a58 // "XJNL"

const (
	segmentHeaderSize = 24

	frameOverhead = 4 + 4 // length before the payload, CRC after it

	kindCommand    = 1
	kindCheckpoint = 2

	commandPayloadMin     = 1 + matching.CommandSize + 1
	commandPayloadMax     = commandPayloadMin + MetaMax
	checkpointPayloadSize = 1 + 8 + 8 + 8
	payloadMax            = commandPayloadMax
	frameMax              = frameOverhead + payloadMax
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// RecordKind says what a journal record holds.
type RecordKind uint8

const (
	// RecordCommand is a sequenced command with its meta bytes.
	RecordCommand RecordKind = kindCommand
	// RecordCheckpoint is the engine stage's running output hash.
	RecordCheckpoint RecordKind = kindCheckpoint
)

// Checkpoint is reported by the engine stage: after applying every command up to
// InSeq it had emitted events up to OutSeq and their running hash
// (matching.Hasher) was EventHash. A replay that regenerates the same hash at
// InSeq has proved it reproduced the recorded output.
type Checkpoint struct {
	InSeq     uint64
	OutSeq    uint64
	EventHash uint64
}

// Item is one command on its way through the sequencer: the command and the
// order manager's opaque meta bytes. It is fixed-size so that it lives in
// preallocated rings without allocation.
type Item struct {
	Cmd     matching.Command
	MetaLen uint8
	Meta    [MetaMax]byte
}

// MetaBytes returns the meta bytes of it (a slice into it).
func (it *Item) MetaBytes() []byte { return it.Meta[:it.MetaLen] }

// Record is one journal record as a Reader returns it.
type Record struct {
	Kind RecordKind
	// Item is set for RecordCommand.
	Item Item
	// Checkpoint is set for RecordCheckpoint.
	Checkpoint Checkpoint
}

// appendCommandFrame appends the framed record of it to b. It does not allocate
// when b has frameMax spare bytes.
func appendCommandFrame(b []byte, it *Item) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, uint32(commandPayloadMin+int(it.MetaLen)))
	b = append(b, kindCommand)
	b = it.Cmd.AppendBinary(b)
	b = append(b, it.MetaLen)
	b = append(b, it.Meta[:it.MetaLen]...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// appendCheckpointFrame appends the framed record of cp to b.
func appendCheckpointFrame(b []byte, cp *Checkpoint) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, checkpointPayloadSize)
	b = append(b, kindCheckpoint)
	b = binary.LittleEndian.AppendUint64(b, cp.InSeq)
	b = binary.LittleEndian.AppendUint64(b, cp.OutSeq)
	b = binary.LittleEndian.AppendUint64(b, cp.EventHash)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// validPayloadLen reports whether n can be the length of some payload.
func validPayloadLen(n uint32) bool {
	return n == checkpointPayloadSize || (n >= commandPayloadMin && n <= commandPayloadMax)
}

// decodePayload decodes a payload whose CRC already matched into rec.
func decodePayload(p []byte, rec *Record) error {
	if len(p) == 0 {
		return errors.New("empty payload")
	}
	switch p[0] {
	case kindCommand:
		if len(p) < commandPayloadMin {
			return fmt.Errorf("command payload of %d bytes, want at least %d", len(p), commandPayloadMin)
		}
		metaLen := int(p[commandPayloadMin-1])
		if metaLen > MetaMax || len(p) != commandPayloadMin+metaLen {
			return fmt.Errorf("command payload of %d bytes with %d meta bytes", len(p), metaLen)
		}
		rec.Kind = RecordCommand
		if err := rec.Item.Cmd.UnmarshalBinary(p[1:]); err != nil {
			return err
		}
		rec.Item.MetaLen = uint8(metaLen)
		copy(rec.Item.Meta[:], p[commandPayloadMin:])
		return nil
	case kindCheckpoint:
		if len(p) != checkpointPayloadSize {
			return fmt.Errorf("checkpoint payload of %d bytes, want %d", len(p), checkpointPayloadSize)
		}
		rec.Kind = RecordCheckpoint
		rec.Checkpoint = Checkpoint{
			InSeq:     binary.LittleEndian.Uint64(p[1:]),
			OutSeq:    binary.LittleEndian.Uint64(p[9:]),
			EventHash: binary.LittleEndian.Uint64(p[17:]),
		}
		return nil
	default:
		return fmt.Errorf("unknown record kind %d", p[0])
	}
}

// segmentHeader is the fixed header at the start of every segment:
//
//	magic uint32 | version uint16 | reserved uint16 | firstSeq uint64 | reserved uint32 | CRC32C of bytes 0..20 uint32
type segmentHeader struct {
	version  uint16
	firstSeq uint64
}

func appendSegmentHeader(b []byte, firstSeq uint64) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, segmentMagic)
	b = binary.LittleEndian.AppendUint16(b, FormatVersion)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint64(b, firstSeq)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// VersionError refuses a file written in another format version.
type VersionError struct {
	File  string
	Found uint16
	Want  uint16
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("%s: format version %d found, this build reads version %d only", e.File, e.Found, e.Want)
}

// decodeSegmentHeader checks magic, version and CRC of a segment header.
func decodeSegmentHeader(path string, b []byte) (segmentHeader, error) {
	if len(b) < segmentHeaderSize {
		return segmentHeader{}, fmt.Errorf("journal %s: header of %d bytes, want %d", path, len(b), segmentHeaderSize)
	}
	if m := binary.LittleEndian.Uint32(b); m != segmentMagic {
		return segmentHeader{}, fmt.Errorf("journal %s: offset 0: not a journal segment (magic %#08x, want %#08x)", path, m, segmentMagic)
	}
	h := segmentHeader{version: binary.LittleEndian.Uint16(b[4:]), firstSeq: binary.LittleEndian.Uint64(b[8:])}
	if h.version != FormatVersion {
		return h, &VersionError{File: path, Found: h.version, Want: FormatVersion}
	}
	if got, want := crc32.Checksum(b[:20], castagnoli), binary.LittleEndian.Uint32(b[20:]); got != want {
		return h, fmt.Errorf("journal %s: offset 0: header CRC mismatch (stored %#08x, computed %#08x)", path, want, got)
	}
	return h, nil
}
