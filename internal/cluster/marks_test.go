package cluster

import (
	"bytes"
	"errors"
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
