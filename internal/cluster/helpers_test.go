package cluster

import (
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

var heartbeat = flag.Duration("cluster.heartbeat", 0, "raft heartbeat and election timeout of the test clusters (default 300ms)")

// logStoreFlag runs the test clusters and BenchmarkReplicatedPipeline on
// the other log store (Config.LogStore; empty: the default).
var logStoreFlag = flag.String("cluster.logstore", "", "raft log store of the test clusters and benchmarks: segments or boltdb (default: Config's)")

// testCluster is n in-process nodes on loopback.
type testCluster struct {
	t     *testing.T
	cfg   *config.Config
	peers []Peer
	dirs  []string
	nodes []*Node
	acks  *ackSet
	// dial, when set, routes node i's raft connections (see proxy_test.go).
	dial func(from int) func(string, time.Duration) (net.Conn, error)
	tune func(*Config)
	// mu guards nodes, which the trader reads while a test kills and
	// starts nodes.
	mu sync.Mutex
	// snapEvery is the venues' SnapshotEvery (0: the configuration's).
	snapEvery uint64
	// founders is the number of nodes that bootstrapped the cluster;
	// nodes added later join it.
	founders int
	// setup runs once the peers' addresses are known, before any node
	// starts.
	setup func(c *testCluster)
}

// ackSet holds the orders a leader acknowledged (an ExecutionReport New
// reached the Reports callback, which only happens after commit).
type ackSet struct {
	mu     sync.Mutex
	orders map[matching.OrderID]string
	n      atomic.Int64
	byNode [8]atomic.Int64
}

func (a *ackSet) add(node int, reps []ordermanager.Report) {
	a.mu.Lock()
	for i := range reps {
		r := &reps[i]
		if r.ExecType == ordermanager.ExecNew {
			a.orders[r.OrderID] = r.ClOrdID.String()
			a.n.Add(1)
			a.byNode[node].Add(1)
		}
	}
	a.mu.Unlock()
}

func (a *ackSet) copy() map[matching.OrderID]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := make(map[matching.OrderID]string, len(a.orders))
	for k, v := range a.orders {
		m[k] = v
	}
	return m
}

func newTestCluster(t *testing.T, size int, tune func(*Config)) *testCluster {
	t.Helper()
	return newTestClusterWith(t, &testCluster{t: t, tune: tune}, size)
}

// newTestClusterWith starts size nodes for c, whose t, tune, snapEvery and
// dial may be set.
func newTestClusterWith(t *testing.T, c *testCluster, size int) *testCluster {
	t.Helper()
	c.cfg = config.Default()
	c.acks = &ackSet{orders: map[matching.OrderID]string{}}
	lns := make([]net.Listener, size)
	for i := range size {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i] = ln
		c.peers = append(c.peers, Peer{ID: fmt.Sprintf("n%d", i+1), Raft: ln.Addr().String()})
		c.dirs = append(c.dirs, filepath.Join(t.TempDir(), fmt.Sprintf("n%d", i+1)))
	}
	c.founders = size
	if c.setup != nil {
		c.setup(c)
	}
	c.nodes = make([]*Node, size)
	for i := range size {
		c.start(i, lns[i])
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			if n != nil {
				n.Close()
			}
		}
	})
	return c
}

func (c *testCluster) nodeConfig(i int, ln net.Listener) Config {
	cc := Config{ID: c.peers[i].ID, Peers: c.peers, Dir: c.dirs[i], Durability: "batch", Join: i >= c.founders, LogStore: *logStoreFlag}
	cc.Transport.Listener = ln
	if c.dial != nil {
		cc.Transport.Dial = c.dial(i)
	}
	// Loopback, but on a machine that may be loaded (the race detector,
	// other tests): twice the default timeouts so elections do not flap.
	hb := 300 * time.Millisecond
	if *heartbeat > 0 {
		hb = *heartbeat
	}
	cc.HeartbeatTimeout, cc.ElectionTimeout, cc.LeaderLeaseTimeout = hb, hb, hb/2
	if c.tune != nil {
		c.tune(&cc)
	}
	return cc
}

// start opens node i (ln nil: listen on its configured raft address again).
func (c *testCluster) start(i int, ln net.Listener) {
	c.t.Helper()
	if ln == nil {
		var err error
		deadline := time.Now().Add(5 * time.Second)
		for {
			ln, err = net.Listen("tcp", c.peers[i].Raft)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			c.t.Fatal(err)
		}
	}
	n, err := Open(c.nodeConfig(i, ln), pipeline.Options{
		Ref: c.cfg.Registry, Log: zerolog.Nop(), CheckpointEvery: 64, RingItems: 1 << 12, SnapshotEvery: c.snapEvery,
		Reports: func(reps []ordermanager.Report) { c.acks.add(i, reps) },
	})
	if err != nil {
		c.t.Fatalf("node %d: %v", i, err)
	}
	c.mu.Lock()
	c.nodes[i] = n
	c.mu.Unlock()
}

// kill stops node i the way a crash looks to the others.
func (c *testCluster) kill(i int) {
	c.mu.Lock()
	n := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	n.Kill()
}

// testDeadline bounds every wait of these tests: generous, because a loaded
// machine under the race detector is slow; a healthy run takes seconds.
const testDeadline = 60 * time.Second

// leader waits for a node (among those not excluded) to lead.
func (c *testCluster) leader(exclude ...int) int {
	c.t.Helper()
	deadline := time.Now().Add(testDeadline)
	for time.Now().Before(deadline) {
	next:
		for i, n := range c.nodes {
			for _, e := range exclude {
				if e == i {
					continue next
				}
			}
			if n != nil && n.IsLeader() {
				return i
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("no leader within %v", testDeadline)
	return -1
}

// converge waits until every live node has journaled the same last seq.
func (c *testCluster) converge() uint64 {
	c.t.Helper()
	deadline := time.Now().Add(testDeadline)
	for {
		var seqs []uint64
		same := true
		for _, n := range c.nodes {
			if n == nil {
				continue
			}
			s := n.AppliedSeq()
			if len(seqs) > 0 && s != seqs[0] {
				same = false
			}
			// Nothing in flight: every command sequenced came back from
			// the engine, and the sequencer has nothing unjournaled.
			x := n.Exchange()
			st := x.Stats()
			if x.QueueDepth() != 0 || st.Commands != st.Processed || st.Sequencer.DurableSeq != s {
				same = false
			}
			seqs = append(seqs, s)
		}
		if same && len(seqs) > 0 {
			return seqs[0]
		}
		if time.Now().After(deadline) {
			c.dump()
			c.t.Fatalf("nodes did not converge: journal ends %v", seqs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// trader submits orders to whichever node leads until stopped.
type trader struct {
	c        *testCluster
	stop     chan struct{}
	done     chan struct{}
	accepted atomic.Int64
}

func (c *testCluster) trade() *trader {
	tr := &trader{c: c, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(tr.done)
		cfg := c.cfg
		comps := []string{"ALPHA", "BRAVO"}
		for k := 0; ; k++ {
			select {
			case <-tr.stop:
				return
			default:
			}
			// ALPHA buys, BRAVO sells, BRAVO buys, ALPHA sells: positions
			// and cash swing back, so no wallet runs dry however long the
			// test runs.
			comp := comps[(k+k/2)%2]
			sid := cfg.SessionByCompID(comp)
			s, _ := cfg.Session(sid)
			cl, _ := ordermanager.MakeClOrdID(fmt.Sprintf("%s-%d", comp, k))
			// Buys and sells at one price: they trade, so no account
			// reaches its open-order limit however long the test runs.
			side, price := matching.Buy, int64(19000)
			if k%2 == 1 {
				side = matching.Sell
			}
			req := ordermanager.Request{Kind: ordermanager.ReqNew, Session: sid, Firm: s.Firm, Account: s.DefaultAccount,
				Symbol: 1, Side: side, Type: matching.Limit, TIF: matching.GTC, Price: price, Qty: 1, ClOrdID: cl}
			sent := false
			for _, n := range c.liveNodes() {
				if n.Submit(&req) {
					sent = true
					tr.accepted.Add(1)
					break
				}
			}
			if !sent {
				time.Sleep(time.Millisecond)
			}
			if k%16 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	return tr
}

func (tr *trader) halt() { close(tr.stop); <-tr.done }

func (c *testCluster) liveNodes() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Node
	for _, n := range c.nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// waitAcks waits until at least n more orders have been acknowledged.
func (c *testCluster) waitAcks(more int64) {
	c.t.Helper()
	want := c.acks.n.Load() + more
	deadline := time.Now().Add(testDeadline)
	for c.acks.n.Load() < want {
		if time.Now().After(deadline) {
			c.dump()
			c.t.Fatalf("only %d of %d acknowledgements within %v", c.acks.n.Load(), want, testDeadline)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// nodeState is what the end-of-test comparison reads from a closed node.
type nodeState struct {
	seq, eventHash, omHash uint64
	engine                 string
	orders                 map[matching.OrderID]bool
}

// closeAndCheck closes every live node and checks that their states are equal
// and that every acknowledged order is in each of them.
func (c *testCluster) closeAndCheck() {
	c.t.Helper()
	seq := c.converge()
	acks := c.acks.copy()
	var states []nodeState
	checked := 0
	for i, n := range c.nodes {
		if n == nil {
			continue
		}
		x := n.Exchange()
		if err := n.Close(); err != nil {
			c.t.Errorf("node %d close: %v", i, err)
		}
		c.nodes[i] = nil
		st := x.State()
		ns := nodeState{seq: st.Seq, eventHash: st.Hasher.Sum(), omHash: st.Manager.StateHash(),
			engine: string(st.Engine.AppendSnapshot(nil)), orders: map[matching.OrderID]bool{}}
		if !journalFromStart(c.dirs[i]) {
			// It installed a snapshot: its journal starts after it, and
			// the state comparison below covers what came before.
			c.t.Logf("node %d: journal starts after a snapshot; orders checked through its state", i)
			states = append(states, ns)
			continue
		}
		checked++
		_, _, err := pipeline.Rebuild(c.cfg.Registry, pipeline.RebuildOptions{Dir: c.dirs[i], IgnoreSnapshots: true, Log: zerolog.Nop(),
			OnEvents: func(_ *matching.Command, evs []matching.Event) {
				for _, ev := range evs {
					if ev.Kind == matching.EvAccepted {
						ns.orders[ev.OrderID] = true
					}
				}
			}})
		if err != nil {
			c.t.Errorf("node %d: replay of its journal: %v", i, err)
		}
		if ns.seq != seq {
			c.t.Errorf("node %d: state at seq %d, journal at %d", i, ns.seq, seq)
		}
		for id, cl := range acks {
			if !ns.orders[id] {
				c.t.Errorf("node %d: acknowledged order %d (%s) lost", i, id, cl)
			}
		}
		states = append(states, ns)
	}
	for i := 1; i < len(states); i++ {
		a, b := states[0], states[i]
		if a.eventHash != b.eventHash || a.omHash != b.omHash || a.engine != b.engine || a.seq != b.seq {
			c.t.Errorf("state %d differs from state 0: seq %d/%d event hash %x/%x order manager %x/%x engine equal %v",
				i, a.seq, b.seq, a.eventHash, b.eventHash, a.omHash, b.omHash, a.engine == b.engine)
		}
	}
	if checked == 0 {
		c.t.Error("no node has its whole journal to check acknowledged orders against")
	}
	if len(acks) == 0 {
		c.t.Error("no order was acknowledged")
	}
	c.t.Logf("%d nodes equal at seq %d; %d acknowledged orders all present", len(states), seq, len(acks))
}

// journalFromStart reports whether dir's journal starts at seq 1.
func journalFromStart(dir string) bool {
	r, err := sequencer.NewReader(dir, 1)
	if err != nil {
		return false
	}
	r.Close()
	return true
}

// dump logs every live node's state, for a test about to fail.
func (c *testCluster) dump() {
	for i, n := range c.liveNodes() {
		st := n.Raft().Stats()
		x := n.Exchange()
		c.t.Logf("node %s: leading %v err %v stats %+v raft %s last_log %s applied %s commit %s journal %d venue closed %v diverged %v",
			n.ID(), n.IsLeader(), n.Err(), n.Stats(), st["state"], st["last_log_index"], st["applied_index"], st["commit_index"],
			n.AppliedSeq(), x.Closed(), x.Diverged())
		_ = i
	}
}

// addNode starts one more node that joins the running cluster; it is a member
// once the leader adds it.
func (c *testCluster) addNode() int {
	c.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	i := len(c.peers)
	c.peers = append(c.peers, Peer{ID: fmt.Sprintf("n%d", i+1), Raft: ln.Addr().String()})
	c.dirs = append(c.dirs, filepath.Join(c.t.TempDir(), fmt.Sprintf("n%d", i+1)))
	c.mu.Lock()
	c.nodes = append(c.nodes, nil)
	c.mu.Unlock()
	c.start(i, ln)
	return i
}
