package cluster

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/sequencer"
)

// mode is what a node's venue does with committed entries.
type mode uint8

const (
	modeFollower  mode = iota // entries are fed to the standby venue
	modeLeader                // the venue sequences; its own entries are already in its ring
	modeDemoting              // the leader's venue is closing; entries only go to the journal
	modeRestoring             // a snapshot is being installed
	modeFailed                // the node stopped loudly (divergence, a journal error)
)

// Node is one member of the cluster: a raft node whose log carries the
// sequencer's batches, and the venue (pipeline.Exchange) that applies them.
type Node struct {
	cfg   Config
	venue pipeline.Options
	log   zerolog.Logger
	dur   sequencer.Durability

	raft      *raft.Raft
	transport *raft.NetworkTransport
	store     logStore
	notifyCh  chan bool
	rlog      *raftLog
	addr      string

	// mu serialises the FSM (Apply, Snapshot, Restore) with role changes
	// and guards app, mode and epoch.
	mu    sync.Mutex
	app   *sequencer.Appender
	mode  mode
	epoch uint64

	x       atomic.Pointer[pipeline.Exchange]
	leading atomic.Bool
	failErr atomic.Pointer[error]

	// appliedIndex is the raft index of the last command entry the state
	// machine has handled (journaled, or found already journaled).
	appliedIndex atomic.Uint64
	// applyDelayNs slows the state machine down (tests: a standby whose
	// journal lags its raft log).
	applyDelayNs atomic.Int64

	// leaderSince is when this node last started accepting orders (Unix ns).
	leaderSince atomic.Int64
	stats       struct{ elections, demotions, restores, entries atomic.Uint64 }

	closeOnce sync.Once
	closeErr  error
	done      chan struct{}
	watchDone chan struct{}
}

// Open starts a node: it recovers its journal, opens its venue as a standby
// from it (snapshot plus journal, as a single venue starts), and joins the
// cluster (bootstrapping it from cfg.Peers when this node has no raft state).
// venue configures the venue as pipeline.Open would; Dir, Durability and
// the cluster fields are set here. venue.Reports sees reports only while this
// node leads.
func Open(cfg Config, venue pipeline.Options) (*Node, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dur, err := sequencer.ParseDurability(cfg.Durability)
	if err != nil {
		return nil, err
	}
	if venue.Ref == nil {
		return nil, errors.New("cluster: no venue configuration")
	}
	n := &Node{cfg: cfg, venue: venue, log: venue.Log.With().Str("node", cfg.ID).Logger(), dur: dur,
		notifyCh: make(chan bool, 16), done: make(chan struct{}), watchDone: make(chan struct{})}
	n.rlog = &raftLog{n: n}
	if err := n.openJournal(); err != nil {
		return nil, err
	}
	x, err := n.openVenue()
	if err != nil {
		n.app.Close()
		return nil, err
	}
	n.x.Store(x)
	if err := n.startRaft(); err != nil {
		x.Close()
		n.app.Close()
		return nil, err
	}
	go n.watch()
	return n, nil
}

func (n *Node) openJournal() error {
	var verifyFrom uint64
	if _, err := os.Stat(n.cfg.Dir); err == nil {
		if snap, _, err := sequencer.LatestSnapshot(n.cfg.Dir, n.log); err == nil && snap != nil {
			verifyFrom = snap.Seq + 1
		}
	}
	// The journal is written without fsync whatever the policy: raft's log
	// store holds every entry durably (per the policy) until a raft snapshot,
	// which is itself durable, covers it; after a machine crash a node whose
	// journal lost its tail gets it back from raft's log or snapshot.
	app, _, err := sequencer.OpenAppender(n.cfg.Dir, sequencer.DurabilityNone, n.venue.SegmentBytes, verifyFrom, n.log)
	if err != nil {
		return err
	}
	n.app = app
	return nil
}

// openVenue opens the venue as a standby from the node's data folder.
func (n *Node) openVenue() (*pipeline.Exchange, error) {
	o := n.venue
	o.Dir = n.cfg.Dir
	o.Durability = n.dur
	o.ClusterLog = n.rlog
	o.NextSeq = n.app.LastSeq() + 1
	o.Follow = true
	o.OnDiverge = func(err error) { n.fail(err) }
	o.Reports = n.reports
	x, _, err := pipeline.Open(o)
	if err == nil && n.cfg.OnVenue != nil {
		n.cfg.OnVenue(x)
	}
	return x, err
}

func (n *Node) reports(reps []ordermanager.Report) {
	if n.leading.Load() {
		if n.venue.Reports != nil {
			n.venue.Reports(reps)
		}
	} else if n.cfg.StandbyReports != nil {
		n.cfg.StandbyReports(reps)
	}
}

func (n *Node) startRaft() error {
	rdir := filepath.Join(n.cfg.Dir, "raft")
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	ln := n.cfg.Transport.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", n.cfg.Bind); err != nil {
			return fmt.Errorf("cluster: raft address %s: %w", n.cfg.Bind, err)
		}
	}
	n.addr = ln.Addr().String()
	dial := n.cfg.Transport.Dial
	if dial == nil {
		dial = dialTCP
	}
	logw := raftLogWriter{n.log}
	n.transport = raft.NewNetworkTransport(&streamLayer{ln: ln, dial: dial}, 3, 2*time.Second, logw)
	store, err := openLogStore(n.cfg.LogStore, rdir, n.dur == sequencer.DurabilityNone, n.log)
	if err != nil {
		n.transport.Close()
		return err
	}
	n.store = store
	snaps, err := raft.NewFileSnapshotStore(rdir, 2, logw)
	if err != nil {
		n.closeStores()
		return fmt.Errorf("cluster: raft snapshot store: %w", err)
	}
	logs, err := raft.NewLogCache(1024, store)
	if err != nil {
		n.closeStores()
		return err
	}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.cfg.ID)
	rc.HeartbeatTimeout = n.cfg.HeartbeatTimeout
	rc.ElectionTimeout = n.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = n.cfg.LeaderLeaseTimeout
	rc.CommitTimeout = n.cfg.CommitTimeout
	rc.SnapshotThreshold = n.cfg.SnapshotThreshold
	rc.TrailingLogs = n.cfg.TrailingLogs
	rc.SnapshotInterval = n.cfg.SnapshotInterval
	rc.NotifyCh = n.notifyCh
	rc.LogOutput = logw
	rc.LogLevel = "WARN"
	has, err := raft.HasExistingState(logs, store, snaps)
	if err != nil {
		n.closeStores()
		return err
	}
	r, err := raft.NewRaft(rc, (*fsm)(n), logs, store, snaps, n.transport)
	if err != nil {
		n.closeStores()
		return fmt.Errorf("cluster: %w", err)
	}
	n.raft = r
	if !has && !n.cfg.Join {
		var servers []raft.Server
		for _, p := range n.cfg.Peers {
			addr := p.Raft
			if p.ID == n.cfg.ID {
				addr = n.addr
			}
			servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(addr)})
		}
		if err := r.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			r.Shutdown()
			n.closeStores()
			return fmt.Errorf("cluster: bootstrap: %w", err)
		}
	}
	return nil
}

func (n *Node) closeStores() {
	if n.transport != nil {
		n.transport.Close()
	}
	if n.store != nil {
		n.store.Close()
	}
}

// watch follows raft's leadership notifications.
func (n *Node) watch() {
	defer close(n.watchDone)
	for {
		select {
		case <-n.done:
			return
		case lead := <-n.notifyCh:
			if lead {
				n.becomeLeader()
			} else {
				n.stepDown()
			}
		}
	}
}

// becomeLeader waits until every earlier entry is applied (raft's barrier),
// then turns the standby venue into the sequencer in place.
func (n *Node) becomeLeader() {
	// A leader that cannot pass the barrier (a slow apply, a brief loss of
	// its majority) retries while it still leads: giving up would leave the
	// cluster with a leader that refuses every order.
	for {
		err := n.raft.Barrier(n.cfg.ApplyTimeout).Error()
		if err == nil {
			break
		}
		n.log.Warn().Err(err).Msg("elected, but the barrier failed")
		if n.raft.State() != raft.Leader || n.Closed() || len(n.notifyCh) > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mode != modeFollower || n.raft.State() != raft.Leader {
		return
	}
	var b [8]byte
	rand.Read(b[:])
	n.epoch = binary.LittleEndian.Uint64(b[:]) | 1
	n.rlog.epoch.Store(n.epoch)
	x := n.x.Load()
	if err := x.Lead(); err != nil {
		n.log.Error().Err(err).Msg("elected, but the venue cannot lead")
		return
	}
	n.settleReports(x)
	n.mode = modeLeader
	n.stats.elections.Add(1)
	n.leaderSince.Store(time.Now().UnixNano())
	n.leading.Store(true)
	n.log.Info().Uint64("seq", n.app.LastSeq()).Msg("leader: sequencing")
}

// stepDown stops accepting orders and rebuilds the venue as a standby from
// the journal, which holds exactly the committed entries: whatever the old
// venue had accepted and not committed is gone with it.
func (n *Node) stepDown() {
	n.leading.Store(false)
	n.demote("lost leadership")
}

func (n *Node) demote(why string) {
	n.leading.Store(false)
	n.mu.Lock()
	if n.mode != modeLeader {
		n.mu.Unlock()
		return
	}
	n.mode = modeDemoting
	old := n.x.Load()
	n.mu.Unlock()
	// Not under mu: the old venue's writer may wait on an entry the FSM
	// still has to apply.
	if err := old.Close(); err != nil {
		n.log.Info().Err(err).Msg("old leader's venue closed with uncommitted commands")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mode != modeDemoting {
		return
	}
	x, err := n.openVenue()
	if err != nil {
		n.failLocked(fmt.Errorf("cluster: reopening as a standby: %w", err))
		return
	}
	n.x.Store(x)
	n.mode = modeFollower
	n.stats.demotions.Add(1)
	n.log.Warn().Str("why", why).Uint64("seq", n.app.LastSeq()).Msg("stepped down: standby again")
}

// fail stops the node loudly: it leaves the cluster's work to the others and
// never serves again.
func (n *Node) fail(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failLocked(err)
}

func (n *Node) failLocked(err error) {
	if n.mode == modeFailed {
		return
	}
	n.mode = modeFailed
	n.leading.Store(false)
	n.failErr.Store(&err)
	n.log.Error().Err(err).Msg("CLUSTER NODE FAILED: it stops serving")
	go func() {
		if n.raft != nil {
			n.raft.Shutdown()
		}
	}()
}

// Err returns why the node failed, or nil.
func (n *Node) Err() error {
	if p := n.failErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Submit hands a request to the venue when this node leads; false means
// "busy" (or not the leader: see Leader).
func (n *Node) Submit(req *ordermanager.Request) bool {
	if !n.leading.Load() {
		return false
	}
	x := n.x.Load()
	return x != nil && x.Submit(req)
}

// Closed reports whether the node no longer takes requests (closed or
// failed), so a caller that retries a refused Submit gives up.
func (n *Node) Closed() bool {
	select {
	case <-n.done:
		return true
	default:
	}
	return n.Err() != nil
}

// IsLeader reports whether this node sequences and accepts orders.
func (n *Node) IsLeader() bool { return n.leading.Load() }

// LeaderSince is when this node last started accepting orders (zero if
// never).
func (n *Node) LeaderSince() time.Time {
	ns := n.leaderSince.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Leader returns the current leader as configured (FIX and HTTP addresses
// known only for configured peers), and false when there is none.
func (n *Node) Leader() (Peer, bool) {
	addr, id := n.raft.LeaderWithID()
	if id == "" {
		return Peer{}, false
	}
	if p, ok := n.cfg.Peer(string(id)); ok {
		return p, true
	}
	return Peer{ID: string(id), Raft: string(addr)}, true
}

// ID is this node's id; Addr its raft address.
func (n *Node) ID() string   { return n.cfg.ID }
func (n *Node) Addr() string { return n.addr }

// Exchange is the node's current venue (it changes when the node steps down
// or installs a snapshot).
func (n *Node) Exchange() *pipeline.Exchange { return n.x.Load() }

// AppliedSeq is the last command seq in the node's journal (committed).
func (n *Node) AppliedSeq() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.app.LastSeq()
}

// Raft is the underlying raft node, for membership changes and tests.
func (n *Node) Raft() *raft.Raft { return n.raft }

// Stats are counters since Open.
type Stats struct {
	Elections, Demotions, Restores, Entries uint64
}

// Stats reads the counters.
func (n *Node) Stats() Stats {
	return Stats{n.stats.elections.Load(), n.stats.demotions.Load(), n.stats.restores.Load(), n.stats.entries.Load()}
}

// Close leaves the cluster abruptly as far as the others can tell (no
// leadership transfer: they elect a new leader as after a crash). A leader
// first drains its venue: what it accepted is committed and answered. Then
// the venue is closed (final snapshot) and the journal.
func (n *Node) Close() error { return n.close(true) }

// Kill stops the node the way a crash looks to the others: it leaves raft at
// once, so the commands its venue accepted and had not committed are never
// acknowledged (and are gone: its journal holds committed entries only).
// For tests and the demo; it still closes files cleanly.
func (n *Node) Kill() error { return n.close(false) }

func (n *Node) close(drain bool) error {
	n.closeOnce.Do(func() {
		n.leading.Store(false)
		// A leader first drains its venue while raft still runs, so the
		// commands it accepted are committed and answered (not under mu:
		// the state machine journals them).
		n.mu.Lock()
		leader := n.mode == modeLeader
		n.mu.Unlock()
		if leader && drain {
			if err := n.x.Load().Close(); err != nil {
				n.log.Info().Err(err).Msg("leader's venue closed with uncommitted commands")
			}
		}
		if !leader && drain {
			n.applyCommitted(n.cfg.ApplyTimeout)
		}
		err := n.raft.Shutdown().Error()
		close(n.done)
		<-n.watchDone
		n.transport.Close()
		n.mu.Lock()
		if x := n.x.Load(); x != nil {
			if cerr := x.Close(); cerr != nil && n.mode != modeDemoting {
				n.log.Info().Err(cerr).Msg("venue closed with uncommitted commands")
			}
		}
		if cerr := n.app.Close(); err == nil {
			err = cerr
		}
		n.mu.Unlock()
		if cerr := n.store.Close(); err == nil {
			err = cerr
		}
		n.closeErr = err
	})
	return n.closeErr
}

// applyCommitted waits (at most d) until the state machine has journaled
// every command entry this node knows to be committed. raft's Shutdown does
// not wait for that: a standby whose state machine lagged its raft log would
// stop with a journal short of what it had acknowledged to the leader (raft
// applies the rest when the node is back in a cluster, but `exchange replay`
// of a stopped node's folder would not see it).
func (n *Node) applyCommitted(d time.Duration) {
	commit := n.raft.CommitIndex()
	// The last committed entry may be raft's own (a no-op, a configuration
	// change, a barrier), which the state machine never sees: wait for the
	// last command entry at or before it.
	var (
		target uint64
		l      raft.Log
	)
	for i := commit; i > n.appliedIndex.Load(); i-- {
		if err := n.store.GetLog(i, &l); err != nil {
			break
		}
		if l.Type == raft.LogCommand {
			target = i
			break
		}
	}
	deadline := time.Now().Add(d)
	for n.appliedIndex.Load() < target && n.Err() == nil {
		if time.Now().After(deadline) {
			n.log.Warn().Uint64("applied_index", n.appliedIndex.Load()).Uint64("commit_index", target).Msg("stopping before every committed entry was journaled")
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// raftLog is the sequencer's Log on a cluster node: one batch, one raft
// entry, acknowledged once committed by a majority and applied (journaled)
// here.
type raftLog struct {
	n     *Node
	epoch atomic.Uint64
}

// Start hands the batch to raft without waiting (sequencer.PipelinedLog):
// the leader stamps the next batch while this one replicates.
func (l *raftLog) Start(frames []byte, firstSeq, lastSeq uint64) func() error {
	b := appendEntry(make([]byte, 0, entryHeaderSize+len(frames)), entryHeader{l.epoch.Load(), firstSeq, lastSeq}, frames)
	f := l.n.raft.Apply(b, l.n.cfg.ApplyTimeout)
	return func() error {
		if err := f.Error(); err != nil {
			return fmt.Errorf("cluster: replicating seqs %d..%d: %w", firstSeq, lastSeq, err)
		}
		if err, ok := f.Response().(error); ok && err != nil {
			return err
		}
		return nil
	}
}

func (l *raftLog) Append(frames []byte, firstSeq, lastSeq uint64) error {
	// raft keeps the entry's bytes (log cache, transport, FSM): a fresh
	// buffer per batch.
	b := appendEntry(make([]byte, 0, entryHeaderSize+len(frames)), entryHeader{l.epoch.Load(), firstSeq, lastSeq}, frames)
	f := l.n.raft.Apply(b, l.n.cfg.ApplyTimeout)
	if err := f.Error(); err != nil {
		return fmt.Errorf("cluster: replicating seqs %d..%d: %w", firstSeq, lastSeq, err)
	}
	if err, ok := f.Response().(error); ok && err != nil {
		return err
	}
	return nil
}

// raftLogWriter sends raft's own log lines to zerolog at debug level.
type raftLogWriter struct{ log zerolog.Logger }

func (w raftLogWriter) Write(p []byte) (int, error) {
	// raft logs every failed heartbeat to a dead peer (every few tens of
	// ms): debug level; the node logs role changes itself.
	w.log.Debug().Str("raft", string(trimNL(p))).Send()
	return len(p), nil
}

func trimNL(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}

var _ io.Writer = raftLogWriter{}
