package config

import (
	"strings"
	"testing"
)

func TestClusterSection(t *testing.T) {
	base := string(DefaultYAML())
	c, err := Parse([]byte(base), "default")
	if err != nil {
		t.Fatal(err)
	}
	if c.Cluster != nil {
		t.Fatal("the default configuration has a cluster")
	}
	sec := `
cluster:
  node_id: n2
  peers:
    - {id: n1, raft: 127.0.0.1:7001, fix: 127.0.0.1:9878, http: 127.0.0.1:8080}
    - {id: n2, raft: 127.0.0.1:7002, fix: 127.0.0.1:9879, http: 127.0.0.1:8081}
  heartbeat_timeout: 120ms
  log_store: boltdb
`
	c, err = Parse([]byte(base+sec), "with cluster")
	if err != nil {
		t.Fatal(err)
	}
	if c.Cluster == nil || c.Cluster.NodeID != "n2" || len(c.Cluster.Peers) != 2 || c.ListenFIX != "127.0.0.1:9879" ||
		c.ListenHTTP != "127.0.0.1:8081" || c.Cluster.HeartbeatTimeout.Milliseconds() != 120 || c.Cluster.LogStore != "boltdb" {
		t.Fatalf("cluster section resolved to %+v, listen %s %s", c.Cluster, c.ListenFIX, c.ListenHTTP)
	}
	for _, tc := range []struct{ sec, want string }{
		{strings.Replace(sec, "node_id: n2", "node_id: n9", 1), "cluster.node_id"},
		{strings.Replace(sec, "id: n1", "id: n2", 1), "twice"},
		{strings.Replace(sec, "raft: 127.0.0.1:7001", "raft: ''", 1), "cluster.peers[0].raft"},
		{strings.Replace(sec, "log_store: boltdb", "log_store: sqlite", 1), "cluster.log_store"},
	} {
		if _, err := Parse([]byte(base+tc.sec), "bad"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one naming %q", err, tc.want)
		}
	}
}
