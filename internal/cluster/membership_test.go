package cluster

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// post sends an admin request to node i's AdminHandler and decodes the
// answer.
func (c *testCluster) post(i int, path string) (int, Status) {
	c.t.Helper()
	srv := httptest.NewServer(c.nodes[i].AdminHandler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+path, "", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st Status
	json.NewDecoder(resp.Body).Decode(&st)
	return resp.StatusCode, st
}

func TestMembershipAddTransferRemove(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	tr := c.trade()
	c.waitAcks(100)
	added := c.addNode()
	ld := c.leader()
	code, st := c.post(ld, "/cluster/add?id="+c.peers[added].ID+"&raft="+c.peers[added].Raft)
	if code != http.StatusOK || len(st.Servers) != 4 {
		t.Fatalf("add: status %d (%s), %d servers %+v", code, st.Err, len(st.Servers), st.Servers)
	}
	c.waitAcks(100)
	// The added node catches up with what the leader had journaled.
	target := c.nodes[c.leader()].AppliedSeq()
	deadline := time.Now().Add(testDeadline)
	for c.nodes[added].AppliedSeq() < target {
		if time.Now().After(deadline) {
			c.dump()
			t.Fatalf("the added node did not reach seq %d", target)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A change sent to a follower is refused, naming the leader.
	ld = c.leader()
	if code, _ := c.post((ld+1)%4, "/cluster/transfer"); code != http.StatusMisdirectedRequest {
		t.Errorf("a change sent to a follower: status %d, want 421", code)
	}
	// On a loaded machine (the race detector) leadership may move between
	// finding the leader and asking it: a 421 then names the new one.
	for attempt := 0; ld != added; attempt++ {
		code, _ := c.post(ld, "/cluster/transfer?id="+c.peers[added].ID)
		if code == http.StatusOK {
			break
		}
		if code != http.StatusMisdirectedRequest || attempt == 5 {
			t.Fatalf("transfer: status %d", code)
		}
		ld = c.leader()
	}
	deadline = time.Now().Add(testDeadline)
	for !c.nodes[added].IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("the added node did not take over leadership")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.waitAcks(100)
	gone := (added + 1) % 4
	if code, _ := c.post(added, "/cluster/remove?id="+c.peers[gone].ID); code != http.StatusOK {
		t.Fatalf("remove: status %d", code)
	}
	c.kill(gone)
	c.waitAcks(100)
	if n := len(c.nodes[added].Status().Servers); n != 3 {
		t.Errorf("after remove: %d servers", n)
	}
	tr.halt()
	c.closeAndCheck()
}
