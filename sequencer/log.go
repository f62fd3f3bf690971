package sequencer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

// Log is where a Sequencer's batches go instead of its own journal when
// Config.Log is set (the cluster's replicated log). Append gets the framed
// records of one batch (commands firstSeq..lastSeq, possibly none, and any
// checkpoints), exactly as the journal would have stored them, and returns
// once they are durable by the Log's own rules; an error stops the
// Sequencer. The frames are reused after the call.
type Log interface {
	Append(frames []byte, firstSeq, lastSeq uint64) error
}

// PipelinedLog is a Log that keeps several batches in flight: Start hands a
// batch over and returns at once, and its wait function returns once that
// batch is durable (or failed). Batches become durable in the order they
// were started, and a batch after a failed one is never durable by this
// Sequencer's account. With it the writer stamps and starts the next batch
// while earlier ones replicate (at most logInflightMax at once).
type PipelinedLog interface {
	Log
	Start(frames []byte, firstSeq, lastSeq uint64) (wait func() error)
}

// logInflightMax bounds the batches a PipelinedLog holds at once.
const logInflightMax = 8

type inflightBatch struct {
	wait    func() error
	written uint64 // s.written after the batch
	lastSeq uint64
	records uint64
}

// commitLoop publishes pipelined batches in order as they become durable.
func (s *Sequencer) commitLoop() {
	defer close(s.pipeDone)
	failed := false
	for b := range s.pipe {
		if !failed {
			t0 := time.Now()
			if err := b.wait(); err != nil {
				failed = true
				s.pipeErr.Store(&err)
			} else {
				ns := uint64(time.Since(t0))
				s.stats.fsyncs.Add(1)
				s.stats.fsyncNsTotal.Add(ns)
				if ns > s.stats.fsyncNsMax.Load() {
					s.stats.fsyncNsMax.Store(ns)
				}
				// Counted before the consumer can see them, so a report never
				// precedes the stats that include its command.
				s.stats.records.Add(b.records)
				s.durable.Store(b.written)
				s.consumerPark.wake()
			}
		}
		s.pending.Add(-1)
		s.writerPark.wake()
	}
}

func (s *Sequencer) pipeError() error {
	if p := s.pipeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// waitPipe returns once no pipelined batch is in flight, or one failed.
func (s *Sequencer) waitPipe() error {
	for s.pending.Load() != 0 {
		if err := s.pipeError(); err != nil {
			return err
		}
		time.Sleep(20 * time.Microsecond)
	}
	return s.pipeError()
}

// SetPassthrough switches the writer between stamping (false, the default:
// the leader sequences) and passing through commands that arrive already
// sequenced (true: a standby fed from the replicated log). In passthrough the
// writer keeps each command's Seq and TimeNs, checks that the seqs continue
// the sequence, and calls no Log: the commands were made durable before they
// were submitted. Switch only while every submitted command is durable
// (DurableSeq is the last one submitted). Only meaningful with Config.Log.
func (s *Sequencer) SetPassthrough(on bool) { s.passthrough.Store(on) }

// writeBatchLog is writeBatch for a sequencer whose journal is a Log.
func (s *Sequencer) writeBatchLog(h uint64) error {
	n := min(h-s.written, s.batchMax)
	pass := s.passthrough.Load()
	if !pass && s.linger > 0 && s.durability == DurabilityBatch && n > 0 && n < s.batchMax {
		time.Sleep(s.linger)
		n = min(s.head.Load()-s.written, s.batchMax)
	}
	ts := s.clock()
	if ts < s.lastTimeNs {
		ts = s.lastTimeNs
	}
	first := s.baseSeq + s.written
	seq := first
	s.logBuf = s.logBuf[:0]
	for i := uint64(0); i < n; i++ {
		it := &s.ring[(s.written+i)&s.mask]
		if pass {
			if it.Cmd.Seq != seq {
				return fmt.Errorf("sequencer: passthrough command has seq %d, want %d", it.Cmd.Seq, seq)
			}
			if it.Cmd.TimeNs > s.lastTimeNs {
				s.lastTimeNs = it.Cmd.TimeNs
			}
		} else {
			it.Cmd.Seq = seq
			it.Cmd.TimeNs = ts
			s.lastTimeNs = ts
		}
		seq++
		if !pass {
			s.logBuf = appendCommandFrame(s.logBuf, it)
		}
	}
	cpHead := s.cpHead.Load()
	if !pass {
		for t := s.cpWritten; t != cpHead; t++ {
			s.logBuf = appendCheckpointFrame(s.logBuf, &s.cps[t%checkpointRingSize])
		}
	}
	ncp := cpHead - s.cpWritten
	s.cpWritten = cpHead
	s.cpTail.Store(cpHead)
	if s.pipe != nil {
		if err := s.pipeError(); err != nil {
			return err
		}
		if pass {
			// Nothing started may be overtaken.
			if err := s.waitPipe(); err != nil {
				return err
			}
		} else if len(s.logBuf) > 0 {
			wait := s.logTo.(PipelinedLog).Start(s.logBuf, first, seq-1)
			s.written += n
			s.stats.bytes.Add(uint64(len(s.logBuf)))
			s.stats.checkpoints.Add(ncp)
			s.stats.batches.Add(1)
			s.pending.Add(1)
			s.pipe <- inflightBatch{wait: wait, written: s.written, lastSeq: seq - 1, records: n}
			return nil
		}
	}
	if !pass && len(s.logBuf) > 0 {
		t0 := time.Now()
		if err := s.logTo.Append(s.logBuf, first, seq-1); err != nil {
			return err
		}
		ns := uint64(time.Since(t0))
		s.stats.fsyncs.Add(1)
		s.stats.fsyncNsTotal.Add(ns)
		if ns > s.stats.fsyncNsMax.Load() {
			s.stats.fsyncNsMax.Store(ns)
		}
		s.stats.bytes.Add(uint64(len(s.logBuf)))
	}
	s.stats.records.Add(n)
	s.stats.checkpoints.Add(ncp)
	s.stats.batches.Add(1)
	s.written += n
	s.durable.Store(s.written)
	s.consumerPark.wake()
	return nil
}

// ErrFrames is wrapped by DecodeFrames' errors.
var ErrFrames = errors.New("bad frames")

// DecodeFrames calls fn for every record framed in b (as Log.Append receives
// them), in order, checking each frame's length and CRC. The Record is reused
// between calls. It does not allocate.
func DecodeFrames(b []byte, fn func(rec *Record) error) error {
	var rec Record
	for off := 0; off < len(b); {
		if len(b)-off < frameOverhead {
			return fmt.Errorf("%w: %d bytes left at offset %d", ErrFrames, len(b)-off, off)
		}
		n := binary.LittleEndian.Uint32(b[off:])
		if !validPayloadLen(n) || int(n) > len(b)-off-frameOverhead {
			return fmt.Errorf("%w: payload length %d at offset %d", ErrFrames, n, off)
		}
		end := off + 4 + int(n)
		if crc32.Checksum(b[off:end], castagnoli) != binary.LittleEndian.Uint32(b[end:]) {
			return fmt.Errorf("%w: CRC mismatch at offset %d", ErrFrames, off)
		}
		if err := decodePayload(b[off+4:end], &rec); err != nil {
			return fmt.Errorf("%w: offset %d: %v", ErrFrames, off, err)
		}
		if err := fn(&rec); err != nil {
			return err
		}
		off = end + 4
	}
	return nil
}

// AppendCommandFrame appends the framed record of it to b, as the journal and
// Log.Append frame it.
func AppendCommandFrame(b []byte, it *Item) []byte { return appendCommandFrame(b, it) }

// AppendCheckpointFrame appends the framed record of cp to b.
func AppendCheckpointFrame(b []byte, cp *Checkpoint) []byte { return appendCheckpointFrame(b, cp) }
