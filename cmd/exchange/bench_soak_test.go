package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestSoakScenario runs the soak at a small scale (3 sessions, 300 orders/s,
// 2 s): every sample has a resident set, the journal and the session stores
// grow, every order sent is answered, and the rows carry the figures.
func TestSoakScenario(t *testing.T) {
	var log bytes.Buffer
	r, err := runSoak(soakOptions{Dir: t.TempDir(), Duration: 2 * time.Second, Rate: 300, Sessions: 3, Every: 400 * time.Millisecond}, &log)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Samples) < 3 {
		t.Fatalf("%d samples", len(r.Samples))
	}
	for _, s := range r.Samples {
		if s.RSS == 0 || s.Goroutines == 0 {
			t.Fatalf("sample %+v", s)
		}
	}
	last := r.Samples[len(r.Samples)-1]
	if last.JournalBytes == 0 || last.SessionBytes == 0 {
		t.Fatalf("journal %d B, session stores %d B at the end", last.JournalBytes, last.SessionBytes)
	}
	if r.Summary.SessionPerJournal <= 0 || r.Summary.RSSMinLastHalf == 0 || r.Summary.RSSMaxLastHalf < r.Summary.RSSMinLastHalf {
		t.Fatalf("summary %+v", r.Summary)
	}
	b := r.Broker
	if b.Sent < 100 || b.Acked+b.Rejected != b.Sent || b.Unanswered != 0 {
		t.Fatalf("sent %d, acked %d, rejected %d, unanswered %d", b.Sent, b.Acked, b.Rejected, b.Unanswered)
	}
	if r.LogWarns != 0 {
		t.Fatalf("venue warnings: %v", r.LogFirst)
	}
	rows := soakRows(r)
	if len(rows) != 3 || !strings.Contains(rows[1].note, "RSS first") || !strings.Contains(rows[2].note, "x the journal") {
		t.Fatalf("rows %+v", rows)
	}
	if n := strings.Count(log.String(), "soak "); n != len(r.Samples) {
		t.Fatalf("%d progress lines for %d samples:\n%s", n, len(r.Samples), log.String())
	}
}
