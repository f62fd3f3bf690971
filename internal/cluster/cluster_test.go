package cluster

import (
	"os"
	"testing"
	"time"
)

func TestFailoverKeepsAcknowledgedOrders(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	first := c.leader()
	tr := c.trade()
	c.waitAcks(100)
	t0 := time.Now()
	c.kill(first)
	next := c.leader(first)
	c.waitAcks(100)
	t.Logf("leader n%d killed; n%d leads %v later", first+1, next+1, c.nodes[next].LeaderSince().Sub(t0))
	tr.halt()
	c.closeAndCheck()
}

func TestPartitionedLeaderStopsAndRejoins(t *testing.T) {
	net := &network{}
	c := &testCluster{t: t}
	c.setup = func(c *testCluster) {
		for _, p := range c.peers {
			net.addrs = append(net.addrs, p.Raft)
		}
		net.links = make([][]*proxy, len(c.peers))
		for a := range c.peers {
			net.links[a] = make([]*proxy, len(c.peers))
			for b := range c.peers {
				if a != b {
					net.links[a][b] = newProxy(t, c.peers[b].Raft)
				}
			}
		}
		c.dial = net.dialer(c)
	}
	newTestClusterWith(t, c, 3)
	old := c.leader()
	tr := c.trade()
	c.waitAcks(100)
	net.isolate(old, true)
	cutAt := time.Now()
	// The minority leader's lease runs out: it stops leading and
	// acknowledging.
	deadline := time.Now().Add(testDeadline)
	for c.nodes[old].IsLeader() {
		if time.Now().After(deadline) {
			t.Fatalf("the isolated leader still leads after %v", testDeadline)
		}
		time.Sleep(2 * time.Millisecond)
	}
	stepDown := time.Since(cutAt)
	acksOld := c.acks.byNode[old].Load()
	next := c.leader(old)
	c.waitAcks(100)
	if got := c.acks.byNode[old].Load(); got != acksOld {
		t.Errorf("the isolated node acknowledged %d orders after it stepped down", got-acksOld)
	}
	t.Logf("isolated leader n%d stepped down after %v; n%d leads", old+1, stepDown, next+1)
	net.isolate(old, false)
	c.waitAcks(100)
	tr.halt()
	// closeAndCheck: the old leader caught up, holds what the majority
	// committed and nothing else (states equal), no acknowledged order lost.
	c.closeAndCheck()
}

func TestEmptyFollowerCatchesUpFromSnapshot(t *testing.T) {
	c := &testCluster{t: t, snapEvery: 300, tune: func(cc *Config) {
		cc.TrailingLogs = 1
		cc.SnapshotThreshold = 1 << 20 // snapshots only when asked
	}}
	newTestClusterWith(t, c, 3)
	follower := (c.leader() + 1) % 3
	tr := c.trade()
	c.waitAcks(150)
	c.kill(follower)
	if err := os.RemoveAll(c.dirs[follower]); err != nil {
		t.Fatal(err)
	}
	c.waitAcks(400)
	// Both live nodes compact their logs, so whichever leads when the
	// follower returns has only a snapshot for it.
	for _, n := range c.liveNodes() {
		if err := n.Raft().Snapshot().Error(); err != nil {
			t.Fatalf("snapshot of %s: %v", n.ID(), err)
		}
		st := n.Raft().Stats()
		t.Logf("%s after its snapshot: last_snapshot_index %s last_log_index %s", n.ID(), st["last_snapshot_index"], st["last_log_index"])
	}
	c.waitAcks(100)
	c.start(follower, nil)
	c.waitAcks(100)
	tr.halt()
	c.converge()
	if c.nodes[follower].Stats().Restores == 0 {
		t.Error("the empty follower caught up without installing a snapshot")
	}
	c.closeAndCheck()
}
