package cluster

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/bench"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/sequencer"
)

// replicated is a 3-node in-process cluster driven through its leader.
type replicated struct {
	nodes  []*Node
	leader atomic.Pointer[Node]
	stop   chan struct{}
	done   chan struct{} // the watcher has returned
}

// failed counts the nodes that stopped loudly (Node.Err): a run with a
// failed standby did less work than three nodes do, so the benchmark reports
// the count beside its figures.
func (r *replicated) failed() (n int, errs []error) {
	for _, x := range r.nodes {
		if err := x.Err(); err != nil {
			n++
			errs = append(errs, fmt.Errorf("%s: %w", x.ID(), err))
		}
	}
	return n, errs
}

// watch ends the process loudly once no majority is left: the commands
// the leader took and could not commit are never answered, and
// bench.RunPipeline would wait for them for ever.
func (r *replicated) watch() {
	defer close(r.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			if n, errs := r.failed(); 2*n >= len(r.nodes) {
				panic(fmt.Sprintf("replicated benchmark: %d of %d nodes failed, no majority left: %v", n, len(r.nodes), errors.Join(errs...)))
			}
			// A second election (or a leader stepping down and back)
			// drops what the old leader had taken and not committed:
			// never answered, so the run would never end.
			var elections, demotions uint64
			for _, n := range r.nodes {
				st := n.Stats()
				elections, demotions = elections+st.Elections, demotions+st.Demotions
			}
			if elections > 1 || demotions > 0 {
				panic(fmt.Sprintf("replicated benchmark: leadership moved during the run (%d elections, %d step-downs: a starved node on a loaded machine); the commands the old leader had not committed are never answered", elections, demotions))
			}
		}
	}
}

// Submit follows the leader: on a loaded machine an election may move it
// during a run, and a harness that kept submitting to the old one would
// spin for ever.
func (r *replicated) Submit(req *ordermanager.Request) bool {
	l := r.leader.Load()
	if l.Submit(req) {
		return true
	}
	if l.IsLeader() {
		return false // busy
	}
	for _, n := range r.nodes {
		if n.IsLeader() {
			r.leader.Store(n)
			return n.Submit(req)
		}
	}
	return false
}

func (r *replicated) Stats() pipeline.Stats { return r.leader.Load().Exchange().Stats() }

func (r *replicated) Close() error {
	// The watcher stops first: a node closing may fail on the way
	// (a venue closed under a late entry), which is no failure of the run.
	select {
	case <-r.stop:
	default:
		close(r.stop)
		<-r.done
	}
	var err error
	for _, n := range r.nodes {
		err = errors.Join(err, n.Close())
	}
	return err
}

func openReplicated(dir, durability string, size int, ref *refdata.Registry, reports func([]ordermanager.Report)) (*replicated, error) {
	var (
		peers []Peer
		lns   []net.Listener
	)
	for i := range size {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		peers = append(peers, Peer{ID: fmt.Sprintf("n%d", i+1), Raft: ln.Addr().String()})
	}
	r := &replicated{stop: make(chan struct{}), done: make(chan struct{})}
	for i := range size {
		cc := Config{ID: peers[i].ID, Peers: peers, Dir: filepath.Join(dir, peers[i].ID), Durability: durability, LogStore: *logStoreFlag}
		// Long timeouts: on a loaded machine the default 150 ms lets a
		// starved follower call an election mid-run, and bench.RunPipeline
		// waits for ever for the orders the old leader never committed.
		// Throughput does not depend on them.
		cc.HeartbeatTimeout, cc.ElectionTimeout, cc.LeaderLeaseTimeout = time.Second, time.Second, 500*time.Millisecond
		cc.Transport.Listener = lns[i]
		log := zerolog.Nop()
		if *benchVerbose {
			// Role changes and raft's own lines (debug level): why a run
			// held an election.
			log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.DebugLevel).With().Timestamp().Logger()
		}
		n, err := Open(cc, pipeline.Options{Ref: ref, Log: log, Reports: reports, SnapshotEvery: 1 << 62})
		if err != nil {
			close(r.done) // no watcher yet
			r.Close()
			return nil, err
		}
		r.nodes = append(r.nodes, n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for r.leader.Load() == nil {
		for _, n := range r.nodes {
			if n.IsLeader() {
				r.leader.Store(n)
			}
		}
		if time.Now().After(deadline) {
			close(r.done) // no watcher yet
			r.Close()
			return nil, errors.New("no leader within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	go r.watch()
	return r, nil
}

var benchOrders = flag.Int("cluster.orders", 50_000, "BenchmarkReplicatedPipeline: measured orders per run")

var benchVerbose = flag.Bool("cluster.verbose", false, "BenchmarkReplicatedPipeline: log the nodes' role changes and raft's lines to stderr")

// BenchmarkReplicatedPipeline runs bench.RunPipeline's order mix through a
// single venue and through a 3-node cluster's leader, with none and batch,
// closed loop and at 10 k orders/s offered. Each b.N iteration is one run of
// -cluster.orders orders (50,000); run it with -benchtime=1x.
func BenchmarkReplicatedPipeline(b *testing.B) {
	for _, dur := range []string{"none", "batch"} {
		for _, rate := range []float64{0, 10_000} {
			for _, nodes := range []int{1, 3} {
				name := fmt.Sprintf("%s/nodes=%d/rate=%v", dur, nodes, rate)
				b.Run(name, func(b *testing.B) {
					for range b.N {
						o := bench.PipelineOptions{Dir: b.TempDir(), Durability: sequencer.Durability(dur), Orders: *benchOrders, Rate: rate, Seed: 1}
						var rep *replicated
						if nodes > 1 {
							dir := b.TempDir()
							o.OpenVenue = func(ref *refdata.Registry, reports func([]ordermanager.Report)) (bench.Venue, error) {
								r, err := openReplicated(dir, dur, nodes, ref, reports)
								rep = r
								return r, err
							}
						}
						cpu0 := bench.ProcessCPU()
						res, err := bench.RunPipeline(o)
						if err != nil {
							b.Fatal(err)
						}
						// The whole process: every node, the load generator,
						// setup and teardown (a run is one iteration).
						b.ReportMetric(float64((bench.ProcessCPU()-cpu0).Microseconds())/float64(*benchOrders), "cpu-µs/order")
						h := res.Latency
						b.ReportMetric(res.Throughput, "orders/s")
						b.ReportMetric(float64(h.ValueAtQuantile(50))/1e3, "p50-µs")
						b.ReportMetric(float64(h.ValueAtQuantile(99))/1e3, "p99-µs")
						b.ReportMetric(float64(h.ValueAtQuantile(99.9))/1e3, "p99.9-µs")
						if rep != nil {
							n, errs := rep.failed()
							b.ReportMetric(float64(n), "nodes-failed")
							for _, err := range errs {
								b.Logf("a node failed during the run: %v", err)
							}
						}
						if st := res.Stats.Sequencer; st.Batches > 0 {
							b.ReportMetric(float64(st.Records)/float64(st.Batches), "cmds/batch")
						}
					}
				})
			}
		}
	}
}
