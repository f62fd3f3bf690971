package sequencer

import (
	"os"
	"testing"
	"time"
)

// TestRecoveryTime10M measures recovery of a 10,000,000-command journal (about
// 850 MB) with and without a snapshot near its end. It only logs times: a slow
// machine is not a failure. Not in the default run:
//
//	SEQUENCER_RECOVERY_10M=1 go test ./sequencer -run RecoveryTime10M -v
func TestRecoveryTime10M(t *testing.T) {
	if os.Getenv("SEQUENCER_RECOVERY_10M") == "" {
		t.Skip("set SEQUENCER_RECOVERY_10M=1 to run (writes about 850 MB)")
	}
	const n = 10_000_000
	dir := t.TempDir()
	defer os.RemoveAll(dir)
	s, _, err := Open(Config{Dir: dir, Durability: DurabilityNone})
	if err != nil {
		t.Fatal(err)
	}
	done := drain(s)
	t0 := time.Now()
	for i := uint64(1); i <= n; {
		c := testCmd(i)
		if s.TrySubmit(&c, benchMeta) {
			i++
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	st := s.Stats()
	t.Logf("wrote %d records, %d MB in %d segments, in %v", st.Records, st.Bytes>>20, st.Segments+1, time.Since(t0))
	const snapSeq = n - 100_000
	if _, err := WriteSnapshot(dir, snapSeq, []byte("state")); err != nil {
		t.Fatal(err)
	}
	for _, from := range []uint64{0, snapSeq + 1} {
		t0 := time.Now()
		s, info, err := Open(Config{Dir: dir, Durability: DurabilityNone, VerifyFromSeq: from})
		if err != nil {
			t.Fatal(err)
		}
		el := time.Since(t0)
		s.Close()
		if info.LastSeq != n {
			t.Fatalf("recovered to %d", info.LastSeq)
		}
		t.Logf("recovery checking from seq %d: %d records in %v (%.1f M records/s), warm page cache",
			from, info.Records, el, float64(info.Records)/el.Seconds()/1e6)
	}
}
