// Package sequencer owns sequence numbers, the journal (write, read, recover) and
// snapshots. It is the pipeline stage between the order manager and the matching
// engine: it stamps every accepted command with a gap-free sequence number and a
// timestamp, appends it to the journal, and hands it on once it is durable. It
// never interprets a command beyond its sequence number and timestamp, and never
// interprets the opaque Meta bytes or snapshot bodies it stores; it knows no
// matching rules.
//
// On disk, a data folder DIR holds
//
//	DIR/journal/NNNNNNNNNNNNNNNNNNNN.seg   segments, named by the first seq they hold
//	DIR/snapshots/snap-NNNNNNNNNNNNNNNNNNNN.bin
//
// A segment is a 24-byte header (magic, format version, first seq, CRC) followed
// by records. A record is framed as
//
//	length uint32 | payload (length bytes) | CRC32C(length | payload) uint32
//
// and its payload is a kind byte followed by either a command (the fixed binary
// form of matching.Command, a meta length byte and up to MetaMax meta bytes) or a
// checkpoint (InSeq, OutSeq, EventHash). All integers are little-endian.
//
// Wiring, as the exchange uses it (snap.Seq is 0 without a snapshot):
//
//	snap, _, err := sequencer.OpenLatestSnapshot(dir, log)    // nil: start empty; mapped, Close once restored
//	s, info, err := sequencer.Open(sequencer.Config{Dir: dir, Create: true,
//		VerifyFromSeq: snap.Seq + 1, ...})                   // recovers, truncates a torn tail
//	sequencer.Replay(dir, sequencer.ReplayOptions{FromSeq: snap.Seq + 1}, apply)
//	go engineLoop()   // s.Take(n) (or s.Next(buf)) → engine.Apply → events; s.Checkpoint(seq, outSeq, hash)
//	// order manager goroutine: s.TrySubmit(&cmd, meta); false → reject as busy
//	// shutdown: stop the order manager, s.Close(); engineLoop sees an empty Take,
//	// then write the final snapshot with sequencer.WriteSnapshot.
//
// Records are handed to the consumer only once durable (DurabilityAlways and
// DurabilityBatch), so an execution report built from engine output always
// follows the journal write of the order that caused it.
package sequencer
