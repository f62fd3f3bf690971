package sequencer

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/matching"
)

// benchMeta is a typical meta payload: a ClOrdID and a session number.
var benchMeta = []byte("CL-000012345678-7")

func benchFrameBytes() int64 { return int64(frameOverhead + commandPayloadMin + len(benchMeta)) }

// BenchmarkAppend measures the whole stage: one producer submitting, the
// writer journaling with the given policy, one consumer taking the durable
// commands. Reported: records/s and MB/s of journal written.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name  string
		d     Durability
		items int
	}{{"batch", DurabilityBatch, 0}, {"batch-ring128k", DurabilityBatch, 1 << 17}, {"none", DurabilityNone, 0}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			s, _, err := Open(Config{Dir: dir, Create: true, Durability: bc.d, RingItems: bc.items, BatchRecordsMax: bc.items / 2})
			if err != nil {
				b.Fatal(err)
			}
			done := drain(s)
			c := testCmd(1)
			b.SetBytes(benchFrameBytes())
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				for !s.TrySubmit(&c, benchMeta) {
				}
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			<-done
			el := time.Since(start)
			b.StopTimer()
			st := s.Stats()
			b.ReportMetric(float64(b.N)/el.Seconds(), "records/s")
			if st.Batches > 0 {
				b.ReportMetric(float64(st.Records)/float64(st.Batches), "records/batch")
			}
			if st.Fsyncs > 0 {
				b.ReportMetric(float64(st.FsyncNs)/float64(st.Fsyncs)/1e3, "µs/fsync")
			}
			os.RemoveAll(dir)
		})
	}
}

// benchJournal writes n session commands to a fresh journal (no fsync).
func benchJournal(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	s, _, err := Open(Config{Dir: dir, Create: true, Durability: DurabilityNone})
	if err != nil {
		b.Fatal(err)
	}
	done := drain(s)
	sess := newSession(1, replaySymbols)
	for i := 0; i < n; i++ {
		c := sess.next()
		for !s.TrySubmit(&c, benchMeta) {
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	<-done
	return dir
}

const benchReplayRecords = 1_000_000

// BenchmarkReplay reads a 1,000,000-command journal and applies every command
// to a matching engine, hashing the events. records/s counts commands.
func BenchmarkReplay(b *testing.B) {
	dir := benchJournal(b, benchReplayRecords)
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			r, err := NewReader(dir, 0)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				_, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			r.Close()
			if n != benchReplayRecords {
				b.Fatalf("%d records", n)
			}
		}
		b.ReportMetric(float64(b.N)*benchReplayRecords/time.Since(start).Seconds(), "records/s")
	})
	b.Run("matching", func(b *testing.B) {
		b.ReportAllocs()
		var el time.Duration
		var evts uint64
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			st := newEngineStage(replaySymbols)
			b.StartTimer()
			start := time.Now()
			if _, err := Replay(dir, ReplayOptions{}, func(r *Record) error {
				st.apply(&r.Item.Cmd)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			el += time.Since(start)
			evts += st.evts
		}
		b.ReportMetric(float64(b.N)*benchReplayRecords/el.Seconds(), "records/s")
		b.ReportMetric(float64(evts)/el.Seconds(), "events/s")
	})
	b.Run("matching-only", func(b *testing.B) {
		// The engine alone on the same commands, for comparison.
		cmds := make([]matching.Command, 0, benchReplayRecords)
		Replay(dir, ReplayOptions{}, func(r *Record) error { cmds = append(cmds, r.Item.Cmd); return nil })
		b.ResetTimer()
		var el time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			st := newEngineStage(replaySymbols)
			b.StartTimer()
			start := time.Now()
			for j := range cmds {
				st.apply(&cmds[j])
			}
			el += time.Since(start)
		}
		b.ReportMetric(float64(b.N)*benchReplayRecords/el.Seconds(), "records/s")
	})
}
