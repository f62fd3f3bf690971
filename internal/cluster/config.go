package cluster

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
)

// Peer is one node of the cluster as every node knows it.
type Peer struct {
	// ID names the node (raft's ServerID); unique in the cluster.
	ID string `json:"id"`
	// Raft is the node's raft address (host:port), FIX and HTTP the
	// addresses its FIX acceptor and web server listen on, so that a
	// follower can name the leader's.
	Raft string `json:"raft"`
	FIX  string `json:"fix,omitempty"`
	HTTP string `json:"http,omitempty"`
}

// Config is what a Node needs; the binary fills it from the `cluster:`
// section of the configuration. Zero fields take the defaults given.
type Config struct {
	// ID is this node's Peer.ID; it must be among Peers.
	ID string `json:"id"`
	// Bind is the raft address to listen on; default this node's Peer.Raft.
	Bind string
	// Peers is every voting node of the initial cluster, this one included.
	// A node with no raft state bootstraps the cluster from it, unless Join
	// is set: a node added to a running cluster waits for the leader to add
	// it (AddVoter, `exchange cluster add`).
	Peers []Peer
	Join  bool
	// Dir is the node's data folder: journal/ and snapshots/ as a single
	// venue has them, and raft/ (raft's log, its stable store and its
	// snapshots).
	Dir string
	// Durability is the journal policy ("always", "batch", "none"): with
	// always and batch, raft's log store fsyncs every appended entry on every
	// node, so an entry is committed only once a majority has
	// it on disk; with none it does not. The node's own journal is written
	// without fsync either way (see openJournal).
	Durability string
	// LogStore is where raft keeps its log and stable store: "segments"
	// (SegmentStore, our own segment files, DIR/raft/segments/) or
	// "boltdb" (raft-boltdb, DIR/raft/raft.db). Empty: segments (see
	// BENCHMARKS.md, "Log store"), unless the folder already holds
	// raft-boltdb's state (a node from before segments was the default),
	// which it keeps. A node refuses to start with the other kind's files
	// in its folder when the kind is named.
	LogStore string

	// HeartbeatTimeout and ElectionTimeout: a follower that hears nothing
	// from the leader for between 1 and 2 HeartbeatTimeouts stands for
	// election. Defaults 150 ms each, tuned for loopback and LANs: failover
	// in well under a second.
	HeartbeatTimeout, ElectionTimeout time.Duration
	// LeaderLeaseTimeout: a leader that cannot reach a majority for this
	// long steps down and stops acknowledging. Default 100 ms.
	LeaderLeaseTimeout time.Duration
	// CommitTimeout bounds how long an idle leader waits before it tells the
	// followers the commit index. Default 5 ms.
	CommitTimeout time.Duration
	// SnapshotThreshold is the number of log entries (batches) between raft
	// snapshots, TrailingLogs those kept after one so a follower slightly
	// behind catches up from the log instead of a snapshot. Defaults 8192
	// and 10240.
	SnapshotThreshold, TrailingLogs uint64
	// SnapshotInterval is how often raft checks the threshold; default 30 s.
	SnapshotInterval time.Duration
	// ApplyTimeout bounds the wait to hand a batch to raft; default 5 s.
	ApplyTimeout time.Duration
	// Transport overrides how raft listens and dials.
	Transport Transport
	// OnVenue, when set, is called with every venue the node opens (at
	// start, after stepping down, after installing a snapshot) before any
	// command reaches it: the binary resets market data from its books.
	OnVenue func(x *pipeline.Exchange)
	// StandbyReports, when set, gets the execution reports this node's
	// venue generates while it does not lead (a leader's go to the venue
	// options' Reports): the binary's gateway keeps them for the FIX
	// session continuity of a failover (marks.go).
	StandbyReports func(reps []ordermanager.Report)
	// OnMarks, when set, gets every delivery-marks record committed in the
	// raft log (PublishMarks), on every node, the leader included, in log
	// order. It runs on raft's apply goroutine: it must not block.
	OnMarks func(b []byte)
	// MarksSnapshot, when set, returns the delivery-marks state that
	// OnMarks has built, as marks payloads which, handed to OnMarks in
	// order, rebuild it. raft calls it when it snapshots the node, on its
	// apply goroutine, so the state is exactly that of the marks records up
	// to the snapshot's index; the payloads travel in the raft snapshot, and
	// a node that installs or restarts from it hands them to OnMarks before
	// any later entry. It must not block; the node keeps no reference.
	MarksSnapshot func() [][]byte
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.HeartbeatTimeout, 150*time.Millisecond)
	def(&c.ElectionTimeout, 150*time.Millisecond)
	def(&c.LeaderLeaseTimeout, 100*time.Millisecond)
	def(&c.CommitTimeout, 5*time.Millisecond)
	def(&c.SnapshotInterval, 30*time.Second)
	def(&c.ApplyTimeout, 5*time.Second)
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 8192
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 10240
	}
	if c.Durability == "" {
		c.Durability = "batch"
	}
	if c.Bind == "" {
		if p, ok := c.Peer(c.ID); ok {
			c.Bind = p.Raft
		}
	}
}

// Validate checks the configuration, naming the field at fault.
func (c *Config) Validate() error {
	if c.ID == "" {
		return errors.New("cluster.node_id: empty")
	}
	if len(c.Peers) == 0 {
		return errors.New("cluster.peers: none")
	}
	seen := map[string]bool{}
	for i, p := range c.Peers {
		if p.ID == "" {
			return fmt.Errorf("cluster.peers[%d].id: empty", i)
		}
		if seen[p.ID] {
			return fmt.Errorf("cluster.peers[%d].id: %q twice", i, p.ID)
		}
		seen[p.ID] = true
		if p.Raft == "" {
			return fmt.Errorf("cluster.peers[%d].raft: empty", i)
		}
	}
	if !seen[c.ID] {
		return fmt.Errorf("cluster.node_id: %q is not among cluster.peers", c.ID)
	}
	if c.Dir == "" {
		return errors.New("cluster: no data folder")
	}
	if c.LogStore != "" && c.LogStore != LogStoreSegments && c.LogStore != LogStoreBoltDB {
		return fmt.Errorf("cluster.log_store: %q (want %s or %s)", c.LogStore, LogStoreSegments, LogStoreBoltDB)
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout && c.HeartbeatTimeout > 0 {
		return fmt.Errorf("cluster.leader_lease_timeout %v exceeds the heartbeat timeout %v", c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	}
	return nil
}

// Peer returns the peer with id.
func (c *Config) Peer(id string) (Peer, bool) {
	for _, p := range c.Peers {
		if p.ID == id {
			return p, true
		}
	}
	return Peer{}, false
}

// Transport hooks, for tests and embedding; nil takes the default.
type Transport struct {
	// Listener, when set, is used instead of listening on Config.Bind; its
	// address is then this node's raft address.
	Listener net.Listener
	// Dial opens a connection to a peer's raft address (default
	// net.DialTimeout over TCP). Tests route it through proxies that can cut
	// links.
	Dial func(address string, timeout time.Duration) (net.Conn, error)
}
