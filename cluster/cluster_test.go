package cluster

import (
	"testing"
	"time"
)

func TestFailoverKeepsAcknowledgedOrders(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	first := c.leader()
	tr := c.trade()
	c.waitAcks(200)
	t0 := time.Now()
	c.kill(first)
	next := c.leader(first)
	c.waitAcks(200)
	t.Logf("leader n%d killed; n%d leads %v later", first+1, next+1, c.nodes[next].LeaderSince().Sub(t0))
	tr.halt()
	c.closeAndCheck()
}
