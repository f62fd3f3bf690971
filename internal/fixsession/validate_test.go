package fixsession

import (
	"testing"
	"time"
)

// TestValidateFIX42: each version's dictionary applies to its sessions
// (OrderCapacity 528 is a FIX 4.4 field that FIX 4.2 does not define).
func TestValidateFIX42(t *testing.T) {
	d42, err := dictionaryFor("FIX.4.2")
	if err != nil || d42 == nil {
		t.Fatal(err)
	}
	d44, _ := dictionaryFor("FIX.4.4")
	msg := func(begin string) []Field {
		raw := frameRaw(begin, "35=8", "34=2", "49=A", "56=B", "52="+ts(time.Now()), "37=1", "17=1", "20=0", "150=0", "39=0", "55=X", "54=1", "38=1", "151=1", "14=0", "6=0", "528=A")
		_, fs, err := frameFields(raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	if r, ok := d44.validate(msg("FIX.4.4")); !ok {
		t.Fatalf("FIX 4.4 ExecutionReport refused: %+v", r)
	}
	if r, ok := d42.validate(msg("FIX.4.2")); ok || r.reason != 0 || r.tag != 528 {
		t.Fatalf("FIX 4.2 with OrderCapacity: %+v %v, want 373=0 on tag 528", r, ok)
	}
}

// TestSessionTimestampPrecision: FIX 4.x's UTCTimestamp takes
// milliseconds at most; microseconds only where the version allows them.
func TestSessionTimestampPrecision(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.UTC)
	for begin, want := range map[string]string{
		"FIX.4.2":  "20260102-03:04:05.678",
		"FIX.4.4":  "20260102-03:04:05.678",
		"FIXT.1.1": "20260102-03:04:05.678901",
	} {
		if got := string(appendSessionTimestamp(nil, begin, at)); got != want {
			t.Errorf("%s: %s, want %s", begin, got, want)
		}
	}
}

// BenchmarkValidateNewOrder is the dictionary check of one
// NewOrderSingle, as the acceptor runs it for every application message.
func BenchmarkValidateNewOrder(b *testing.B) {
	d, _ := dictionaryFor("FIX.4.4")
	raw := frameRaw("FIX.4.4", "35=D", "34=2", "49=ALPHA", "56=EXCH", "52="+ts(time.Now()), "11=r1", "1=ACC", "55=AAPL", "54=1", "38=10", "40=2", "44=100.01", "59=0", "60="+ts(time.Now()), "7928=1")
	_, fs, err := frameFields(raw, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if r, ok := d.validate(fs); !ok {
			b.Fatal(r)
		}
	}
}
