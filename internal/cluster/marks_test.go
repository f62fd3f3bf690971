package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/ordermanager"
)

// recorder keeps what each node's continuity hooks saw.
type recorder struct {
	mu      sync.Mutex
	marks   map[string][][]byte
	standby map[string][]uint64 // ExecIDs of the journal's reports, in order
}

func (r *recorder) tune(cc *Config) {
	id := cc.ID
	cc.OnMarks = func(b []byte) {
		r.mu.Lock()
		r.marks[id] = append(r.marks[id], append([]byte(nil), b...))
		r.mu.Unlock()
	}
	cc.StandbyReports = func(reps []ordermanager.Report) {
		r.mu.Lock()
		for i := range reps {
			if reps[i].OutSeq != 0 {
				r.standby[id] = append(r.standby[id], reps[i].ExecID)
			}
		}
		r.mu.Unlock()
	}
}

func (r *recorder) seen(id string) (marks [][]byte, standby []uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.marks[id]...), append([]uint64(nil), r.standby[id]...)
}

// TestMarksReplicated checks the two hooks of FIX session continuity: a
// marks record published by the leader reaches every node's OnMarks, in log
// order, and a standby refuses to publish; the standbys' venues hand their
// reports to StandbyReports (the same ones on each standby, in the same
// order), and the leader's go to the venue's Reports only.
func TestMarksReplicated(t *testing.T) {
	r := &recorder{marks: map[string][][]byte{}, standby: map[string][]uint64{}}
	c := newTestCluster(t, 3, r.tune)
	lead := c.leader()
	tr := c.trade()
	c.waitAcks(100)
	recs := [][]byte{[]byte("first"), []byte("second")}
	for _, b := range recs {
		if err := c.nodes[lead].PublishMarks(b); err != nil {
			t.Fatalf("leader: PublishMarks: %v", err)
		}
	}
	other := (lead + 1) % 3
	if err := c.nodes[other].PublishMarks([]byte("x")); !errors.Is(err, ErrNotLeader) {
		t.Errorf("standby: PublishMarks = %v, want ErrNotLeader", err)
	}
	if err := c.nodes[lead].PublishMarks(nil); err == nil {
		t.Error("an empty marks record was published")
	}
	tr.halt()
	c.converge()
	deadline := time.Now().Add(testDeadline)
	for i := range c.nodes {
		id := c.peers[i].ID
		for {
			m, _ := r.seen(id)
			if len(m) >= len(recs) {
				for k := range recs {
					if !bytes.Equal(m[k], recs[k]) {
						t.Errorf("%s: marks record %d = %q, want %q", id, k, m[k], recs[k])
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s saw %d marks records, want %d", id, len(m), len(recs))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Every report a standby's venue generated: the same on both standbys
	// once they have caught up; none on the leader, which never stood by
	// with reports to generate (it led from the start). Only when the
	// leadership never moved (a loaded machine may hold an election).
	for i, n := range c.nodes {
		if st := n.Stats(); st.Demotions != 0 || (i != lead && st.Elections != 0) {
			t.Logf("leadership moved during the test (node %d: %+v): the standby reports are not compared", i, st)
			return
		}
	}
	var want []uint64
	for i := range c.nodes {
		if i == lead {
			continue
		}
		id := c.peers[i].ID
		for {
			_, s := r.seen(id)
			if want == nil && len(s) > 0 {
				want = s
			}
			if len(s) == len(want) && len(s) > 0 {
				for k := range s {
					if s[k] != want[k] {
						t.Fatalf("%s: standby report %d has ExecID %d, the other standby's %d", id, k, s[k], want[k])
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d standby reports, the other standby %d", id, len(s), len(want))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if _, s := r.seen(c.peers[lead].ID); len(s) != 0 {
		t.Errorf("the leader handed %d reports to StandbyReports", len(s))
	}
	if c.nodes[lead].LeaderTerm() == 0 || c.nodes[other].LeaderTerm() != 0 {
		t.Errorf("LeaderTerm: leader %d, standby %d", c.nodes[lead].LeaderTerm(), c.nodes[other].LeaderTerm())
	}
	t.Logf("%d reports on each standby", len(want))
}

// TestMarksInSnapshot: a node that catches up from a raft snapshot (an
// empty data folder, its peers' logs compacted) learns the delivery marks
// committed before the snapshot from the snapshot itself (MarksSnapshot on
// the sender, OnMarks on the receiver), then the later ones from the log,
// in order. Without the marks in the snapshot it would know only "after".
func TestMarksInSnapshot(t *testing.T) {
	r := &recorder{marks: map[string][][]byte{}, standby: map[string][]uint64{}}
	c := &testCluster{t: t, snapEvery: 300, tune: func(cc *Config) {
		r.tune(cc)
		id := cc.ID
		cc.MarksSnapshot = func() [][]byte {
			m, _ := r.seen(id)
			return m
		}
		cc.TrailingLogs = 1
		cc.SnapshotThreshold = 1 << 20 // snapshots only when asked
	}}
	newTestClusterWith(t, c, 3)
	follower := (c.leader() + 1) % 3
	tr := c.trade()
	c.waitAcks(100)
	publish := func(b string) {
		t.Helper()
		deadline := time.Now().Add(testDeadline)
		for {
			err := c.nodes[c.leader(follower)].PublishMarks([]byte(b))
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("PublishMarks(%s): %v", b, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	publish("before-1")
	c.kill(follower)
	if err := os.RemoveAll(c.dirs[follower]); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	delete(r.marks, c.peers[follower].ID) // a new process: it knows nothing
	r.mu.Unlock()
	publish("before-2")
	c.waitAcks(200)
	for _, n := range c.liveNodes() {
		if err := n.Raft().Snapshot().Error(); err != nil {
			t.Fatalf("snapshot of %s: %v", n.ID(), err)
		}
	}
	publish("after")
	c.start(follower, nil)
	c.waitAcks(100)
	tr.halt()
	c.converge()
	if c.nodes[follower].Stats().Restores == 0 {
		t.Fatal("the empty follower caught up without installing a snapshot")
	}
	want := []string{"before-1", "before-2", "after"}
	deadline := time.Now().Add(testDeadline)
	for {
		m, _ := r.seen(c.peers[follower].ID)
		var got []string
		for _, b := range m {
			got = append(got, string(b))
		}
		if len(got) > 0 && got[len(got)-1] == "after" {
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("the restored follower's marks %q, want %q", got, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restored follower's marks %q, want %q", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.closeAndCheck()
}

// TestSnapshotMarksSection: the marks section round-trips and a damaged
// one is an error, not a panic.
func TestSnapshotMarksSection(t *testing.T) {
	recs := [][]byte{[]byte("a"), {}, []byte("ccc")}
	b := encodeSnapMarks(recs)
	got, err := decodeSnapMarks(b)
	if err != nil || len(got) != 3 || string(got[0]) != "a" || len(got[1]) != 0 || string(got[2]) != "ccc" {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	for i := range len(b) {
		if _, err := decodeSnapMarks(b[:i]); err == nil {
			t.Fatalf("a section cut at %d of %d bytes decoded", i, len(b))
		}
	}
	if _, err := decodeSnapMarks(append(b, 0)); err == nil {
		t.Fatal("trailing bytes accepted")
	}
}
