package cluster

import (
	"testing"
	"time"
)

// TestStandbyCloseJournalsCommitted stops a standby whose state machine lags
// its raft log: a clean Close must journal every entry the node knew to be
// committed before raft shuts down (the kill test's survivors once differed
// because the first one stopped left committed entries unjournaled).
func TestStandbyCloseJournalsCommitted(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	l := c.leader()
	f := (l + 1) % 3
	c.nodes[f].applyDelayNs.Store(int64(30 * time.Millisecond))
	tr := c.trade()
	c.waitAcks(300)
	tr.halt()
	leader, slow := c.nodes[l], c.nodes[f]
	// Wait until the leader has journaled everything it sequenced and the
	// slow standby knows the leader's commit index.
	deadline := time.Now().Add(testDeadline)
	for {
		x := leader.Exchange()
		st := x.Stats()
		if x.QueueDepth() == 0 && st.Commands == st.Processed && st.Sequencer.DurableSeq == leader.AppliedSeq() &&
			slow.Raft().CommitIndex() >= leader.Raft().CommitIndex() {
			break
		}
		if time.Now().After(deadline) {
			c.dump()
			t.Fatal("the leader did not settle")
		}
		time.Sleep(5 * time.Millisecond)
	}
	want := leader.AppliedSeq()
	lag := want - slow.AppliedSeq()
	if err := slow.Close(); err != nil {
		t.Fatal(err)
	}
	c.nodes[f] = nil
	if got := slow.AppliedSeq(); got != want {
		t.Fatalf("standby closed with its journal at seq %d, the cluster committed %d (it lagged %d commands when closed)", got, want, lag)
	}
	t.Logf("standby lagged %d commands when closed; its journal reached seq %d", lag, want)
}
