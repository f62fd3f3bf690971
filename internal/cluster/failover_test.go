package cluster

import (
	"flag"
	"slices"
	"testing"
	"time"
)

var kills = flag.Int("cluster.kills", 0, "TestRepeatedFailover: kill the leader this many times (0 skips the test)")

// TestRepeatedFailover kills the leader again and again while orders flow,
// restarting each killed node from its data folder, and reports the time from
// the kill to the first order the new leader acknowledged. Run it with
// -cluster.kills=20.
func TestRepeatedFailover(t *testing.T) {
	if *kills <= 0 {
		t.Skip("run with -cluster.kills=N")
	}
	c := newTestCluster(t, 3, nil)
	tr := c.trade()
	var took []time.Duration
	for k := range *kills {
		old := c.leader()
		c.waitAcks(100)
		before := make([]int64, len(c.nodes))
		for i := range c.nodes {
			before[i] = c.acks.byNode[i].Load()
		}
		t0 := time.Now()
		c.kill(old)
		deadline := t0.Add(testDeadline)
		for {
			acked := false
			for i := range c.nodes {
				if i != old && c.acks.byNode[i].Load() > before[i] {
					acked = true
				}
			}
			if acked {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: no order acknowledged by another node within %v", k+1, testDeadline)
			}
			time.Sleep(100 * time.Microsecond)
		}
		took = append(took, time.Since(t0))
		t.Logf("kill %d: n%d killed, an order acknowledged %v later", k+1, old+1, took[len(took)-1])
		c.start(old, nil)
	}
	tr.halt()
	slices.Sort(took)
	t.Logf("%d kills: kill to first acknowledged order p50 %v, max %v (all: %v)", len(took), took[len(took)/2], took[len(took)-1], took)
	c.closeAndCheck()
}
