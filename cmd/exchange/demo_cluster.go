package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/broker"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/sequencer"
)

// runClusterDemo is `exchange demo --cluster N`: N venues in this process
// form a raft cluster; simulated brokers trade through the leader; halfway
// the leader is killed (as a crash: no hand-over); a new leader is elected
// and trading resumes through it; at the end the survivors' journals are
// replayed and their states compared.
func runClusterDemo(size int, duration time.Duration, rate float64, seed int64, durability string, log zerolog.Logger, stdout io.Writer) error {
	if size < 3 {
		return errors.New("--cluster: at least 3 nodes (a majority must survive the kill)")
	}
	if duration <= 0 {
		duration = 20 * time.Second
	}
	root, err := os.MkdirTemp("", "exchange-cluster-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	sec := "cluster:\n  peers:\n"
	type nodeAddrs struct{ fix, http, dir string }
	addrs := make([]nodeAddrs, size)
	for i := range addrs {
		addrs[i] = nodeAddrs{fix: loopbackPort(), http: loopbackPort(), dir: filepath.Join(root, fmt.Sprintf("n%d", i+1))}
		sec += fmt.Sprintf("    - {id: n%d, raft: %s, fix: %s, http: %s}\n", i+1, loopbackPort(), addrs[i].fix, addrs[i].http)
	}
	venues := make([]*venue, size)
	defer func() {
		for _, v := range venues {
			if v != nil {
				_ = v.stop()
			}
		}
	}()
	for i := range venues {
		cfg, err := config.Parse(append(config.DefaultYAML(), fmt.Sprintf("\n%s  node_id: n%d\n", sec, i+1)...), "demo")
		if err != nil {
			return err
		}
		if venues[i], err = startVenue(cfg, venueOptions{dataDir: addrs[i].dir, durability: sequencer.Durability(durability)}, log); err != nil {
			return fmt.Errorf("node n%d: %w", i+1, err)
		}
	}
	leader := func(exclude int) (int, error) {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			for i, v := range venues {
				if i != exclude && v != nil && v.node.IsLeader() {
					return i, nil
				}
			}
			time.Sleep(time.Millisecond)
		}
		return -1, errors.New("no leader elected within 30 s")
	}
	first, err := leader(-1)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exchange demo: a cluster of %d nodes in this process (data in %s)\n", size, root)
	for i, a := range addrs {
		fmt.Fprintf(stdout, "  n%d  FIX %s  web http://%s/\n", i+1, a.fix, a.http)
	}
	fmt.Fprintf(stdout, "n%d was elected leader; the others are hot standbys applying every committed batch.\n\n", first+1)

	cfg := venues[first].cfg
	// acked collects the ClOrdID of every request the brokers saw
	// acknowledged, to be looked for in the survivors' journals.
	var ackMu sync.Mutex
	acked := map[string]struct{}{}
	trade := func(ctx context.Context, node int, d time.Duration) (*broker.Result, error) {
		o := broker.DefaultOptions()
		o.Symbols, o.Seed, o.Rate, o.Duration = brokerSymbols(cfg), seed, rate, d
		nop := zerolog.Nop()
		o.Logger = &nop
		o.OnAck = func(clOrdID string) {
			ackMu.Lock()
			acked[clOrdID] = struct{}{}
			ackMu.Unlock()
		}
		// node's address first, then the others: a logon refused during an
		// election (leadership can move on a busy machine before the kill)
		// is tried again at the leader, as `exchange broker` does.
		list := []string{addrs[node].fix}
		for i, a := range addrs {
			if i != node {
				list = append(list, a.fix)
			}
		}
		return runFollowingLeader(ctx, o, list)
	}
	half := duration / 2
	fmt.Fprintf(stdout, "phase 1: three firms trade through n%d at %.0f orders/s; n%d is killed after %v...\n", first+1, rate, first+1, half)
	type outcome struct {
		res *broker.Result
		err error
	}
	done := make(chan outcome, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		res, err := trade(ctx, first, duration) // runs past the kill: it is cut off by it
		done <- outcome{res, err}
	}()
	time.Sleep(half)
	t0 := time.Now()
	_ = venues[first].node.Kill()
	next, err := leader(first)
	if err != nil {
		return err
	}
	failover := time.Since(t0)
	_ = venues[first].stop()
	venues[first] = nil
	cancel()
	r1 := <-done
	fmt.Fprintf(stdout, "n%d killed; n%d elected and leading %v later.\n", first+1, next+1, failover.Round(time.Millisecond))
	if r1.res != nil {
		r := r1.res
		fmt.Fprintf(stdout, "  phase 1: %d sent, %d acknowledged, %d rejected, %d in flight at the kill (never acknowledged); %d more not sent while no leader took orders\n",
			r.Sent, r.Acked, r.Rejected, r.Unanswered-r.NotSent, r.NotSent)
	} else if r1.err != nil {
		fmt.Fprintf(stdout, "  phase 1 ended with: %v\n", r1.err)
	}
	fmt.Fprintf(stdout, "phase 2: the brokers log on to n%d and trade for %v...\n", next+1, duration-half)
	r2, err := trade(context.Background(), next, duration-half)
	if err != nil {
		return fmt.Errorf("phase 2: %w", err)
	}
	fmt.Fprintf(stdout, "  phase 2: %d sent, %d acknowledged, %d unanswered\n\n", r2.Sent, r2.Acked, r2.Unanswered)

	// Let every standby journal what was committed, stop, replay each
	// survivor's journal and compare.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var seqs []uint64
		for _, v := range venues {
			if v != nil {
				seqs = append(seqs, v.node.AppliedSeq())
			}
		}
		same := true
		for _, s := range seqs {
			same = same && s == seqs[0]
		}
		if same || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var states []string
	for i, v := range venues {
		if v == nil {
			continue
		}
		_ = v.stop()
		venues[i] = nil
		journaled := map[string]struct{}{}
		st, rs, err := pipeline.Rebuild(cfg.Registry, pipeline.RebuildOptions{Dir: addrs[i].dir, IgnoreSnapshots: true, Log: zerolog.Nop(),
			OnReports: func(reps []ordermanager.Report) {
				for j := range reps {
					if reps[j].ExecType != '8' {
						journaled[reps[j].ClOrdID.String()] = struct{}{}
					}
				}
			}})
		if err != nil {
			return fmt.Errorf("n%d: replay: %w", i+1, err)
		}
		missing := 0
		for cl := range acked {
			if _, ok := journaled[cl]; !ok {
				missing++
			}
		}
		s := fmt.Sprintf("seq %d, events %016x, orders %016x", st.Seq, st.Hasher.Sum(), st.Manager.StateHash())
		fmt.Fprintf(stdout, "n%d journal replayed: %s (%d checkpoints of the leader's output reproduced); %d of %d acknowledged requests in it\n",
			i+1, s, rs.Verified, len(acked)-missing, len(acked))
		if missing > 0 {
			return exitError{code: 1, err: fmt.Errorf("n%d: %d acknowledged requests are not in its journal", i+1, missing)}
		}
		states = append(states, s)
	}
	for _, s := range states[1:] {
		if s != states[0] {
			return exitError{code: 1, err: errors.New("the survivors' states differ")}
		}
	}
	fmt.Fprintf(stdout, "\nfailover %v; the survivors hold the same state, and it includes every one of the %d requests the brokers saw acknowledged\n", failover.Round(time.Millisecond), len(acked))
	fmt.Fprintln(stdout, "(a request is acknowledged only once a majority has journaled it; the ones in flight at the kill were never acknowledged).")
	return nil
}

// loopbackPort returns a free loopback address.
func loopbackPort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:0"
	}
	defer ln.Close()
	return ln.Addr().String()
}
