package config

import (
	"fmt"
	"time"
)

// ClusterFile is the `cluster:` section as written in YAML. A configuration
// without it runs one venue alone.
//
//	cluster:
//	  node_id: n1
//	  peers:
//	    - {id: n1, raft: 127.0.0.1:7001, fix: 127.0.0.1:9878, http: 127.0.0.1:8080}
//	    - {id: n2, raft: 127.0.0.1:7002, fix: 127.0.0.1:9879, http: 127.0.0.1:8081}
//	    - {id: n3, raft: 127.0.0.1:7003, fix: 127.0.0.1:9880, http: 127.0.0.1:8082}
//	  heartbeat_timeout: 150ms   # optional: raft timeouts (see package cluster)
//	  election_timeout: 150ms
//	  leader_lease_timeout: 100ms
//	  log_store: segments        # optional: raft's log store, segments or boltdb
type ClusterFile struct {
	NodeID             string        `yaml:"node_id"`
	Peers              []PeerFile    `yaml:"peers"`
	HeartbeatTimeout   time.Duration `yaml:"heartbeat_timeout"`
	ElectionTimeout    time.Duration `yaml:"election_timeout"`
	LeaderLeaseTimeout time.Duration `yaml:"leader_lease_timeout"`
	SnapshotThreshold  uint64        `yaml:"snapshot_threshold"`
	// LogStore is where raft keeps its log and term/vote: "segments" (our
	// own segment files) or "boltdb" (raft-boltdb); unset, segments unless
	// the folder already holds raft-boltdb's state. See
	// cluster.Config.LogStore.
	LogStore string `yaml:"log_store"`
	// Join: this node is added to a running cluster (exchange cluster add)
	// instead of bootstrapping one from peers.
	Join bool `yaml:"join"`
}

// PeerFile is one node of cluster.peers.
type PeerFile struct {
	ID   string `yaml:"id"`
	Raft string `yaml:"raft"`
	FIX  string `yaml:"fix"`
	HTTP string `yaml:"http"`
}

// Cluster is the resolved `cluster:` section; this node's FIX and HTTP
// addresses replace listen.fix and listen.http.
type Cluster struct {
	NodeID                                                string
	Peers                                                 []PeerFile
	HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout time.Duration
	SnapshotThreshold                                     uint64
	LogStore                                              string
	Join                                                  bool
}

// resolveCluster checks the section and points c's listeners at this node's
// addresses.
func resolveCluster(f *ClusterFile, c *Config) error {
	if f == nil {
		return nil
	}
	if f.NodeID == "" {
		return fmt.Errorf("cluster.node_id: empty")
	}
	self := -1
	seen := map[string]bool{}
	for i, p := range f.Peers {
		switch {
		case p.ID == "":
			return fmt.Errorf("cluster.peers[%d].id: empty", i)
		case seen[p.ID]:
			return fmt.Errorf("cluster.peers[%d].id: %q twice", i, p.ID)
		case p.Raft == "":
			return fmt.Errorf("cluster.peers[%d].raft: empty", i)
		case p.FIX == "":
			return fmt.Errorf("cluster.peers[%d].fix: empty", i)
		}
		seen[p.ID] = true
		if p.ID == f.NodeID {
			self = i
		}
	}
	if self < 0 {
		return fmt.Errorf("cluster.node_id: %q is not among cluster.peers", f.NodeID)
	}
	switch f.LogStore {
	case "", "segments", "boltdb":
	default:
		return fmt.Errorf("cluster.log_store: %q (want segments or boltdb)", f.LogStore)
	}
	c.ListenFIX = f.Peers[self].FIX
	if f.Peers[self].HTTP != "" {
		c.ListenHTTP = f.Peers[self].HTTP
	}
	c.Cluster = &Cluster{NodeID: f.NodeID, Peers: f.Peers, HeartbeatTimeout: f.HeartbeatTimeout,
		ElectionTimeout: f.ElectionTimeout, LeaderLeaseTimeout: f.LeaderLeaseTimeout, SnapshotThreshold: f.SnapshotThreshold, LogStore: f.LogStore, Join: f.Join}
	return nil
}
