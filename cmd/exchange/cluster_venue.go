package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/admin"
	"github.com/exchange-sim/exchange/internal/cluster"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/gateway"
	"github.com/exchange-sim/exchange/internal/marketdata"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
)

// openNode starts this venue as a node of the cluster in cfg.Cluster: its
// pipeline is the node's (a standby until raft elects it), market data is
// reset from each venue the node opens, and only the leader lets FIX
// sessions log on.
func (v *venue) openNode(cfg *config.Config, dir, durability string, md *marketdata.Publisher, log zerolog.Logger) (*pipeline.Exchange, error) {
	cc := cfg.Cluster
	peers := make([]cluster.Peer, len(cc.Peers))
	for i, p := range cc.Peers {
		peers[i] = cluster.Peer{ID: p.ID, Raft: p.Raft, FIX: p.FIX, HTTP: p.HTTP}
	}
	v.co = &coRelay{}
	if durability == "" {
		durability = string(cfg.Durability)
	}
	ccfg := cluster.Config{
		ID: cc.NodeID, Peers: peers, Dir: dir, Durability: durability,
		HeartbeatTimeout: cc.HeartbeatTimeout, ElectionTimeout: cc.ElectionTimeout,
		LeaderLeaseTimeout: cc.LeaderLeaseTimeout, SnapshotThreshold: cc.SnapshotThreshold, Join: cc.Join,
		LogStore: cc.LogStore,
		OnVenue: func(x *pipeline.Exchange) {
			md.Reset(x.State().Engine.OutSeq(), x.State().Orders())
			v.co.venueOpened(x.State().Engine.OutSeq())
		},
		StandbyReports: v.co.standbyReports,
		OnMarks:        v.co.marks,
		MarksSnapshot:  v.co.marksState,
	}
	o := pipelineOptions(cfg)
	o.Log, o.Publisher, o.Reports = log, md, v.deliver
	n, err := cluster.Open(ccfg, o)
	if err != nil {
		return nil, err
	}
	v.node = n
	return n.Exchange(), nil
}

// logonGate refuses logons on a standby, naming the leader's FIX address.
func (v *venue) logonGate() string {
	if v.node.IsLeader() {
		return ""
	}
	if p, ok := v.node.Leader(); ok && p.FIX != "" {
		return fmt.Sprintf("not the leader: connect to %s (node %s)", p.FIX, p.ID)
	}
	return "not the leader, and no leader is elected yet: retry shortly"
}

// logoutOnStepDown logs every FIX session out when this node stops leading
// (a leadership transfer, a lost majority): its orders would only be refused
// as busy, and a broker that follows the leader (exchange broker --fix a,b,c)
// learns from the drop that it should look for the new one.
func (v *venue) logoutOnStepDown(ctx context.Context) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	leading := v.node.IsLeader()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := v.node.IsLeader()
		if leading && !now {
			text := v.logonGate()
			for _, s := range v.gw.Sessions() {
				if s.LoggedOn {
					_ = v.gw.Disconnect(s.ID, text)
				}
			}
			v.log.Warn().Str("reason", text).Msg("stepped down: FIX sessions logged out")
		}
		leading = now
	}
}

// mountCluster serves the node's membership endpoints (/cluster, see
// cluster.Node.AdminHandler) behind the admin API's bearer tokens: a viewer
// token reads the status, changes need an operator token.
func (v *venue) mountCluster(mux *http.ServeMux) {
	g, err := admin.NewGuard(v.cfg.AdminTokens, v.log)
	if err != nil {
		v.log.Error().Err(err).Msg("cluster endpoints not served")
		return
	}
	h := g.Wrap(v.node.AdminHandler())
	mux.Handle("/cluster", h)
	mux.Handle("/cluster/", h)
}

// continuity is the gateway's side of the FIX session continuity across a
// failover (internal/gateway/continuity.go): the node's leadership term and
// its log for the delivery marks.
func (v *venue) continuity() *gateway.Continuity {
	return &gateway.Continuity{Term: v.node.LeaderTerm, Publish: v.node.PublishMarks}
}

// coRelay hands the node's standby reports, delivery marks and venue
// openings to the gateway, which is built after the node: until it is
// attached, the relay keeps them (in order) and hands them over then.
type coRelay struct {
	mu     sync.Mutex
	gw     *gateway.Gateway
	reps   []ordermanager.Report
	recs   [][]byte
	outSeq uint64
}

func (r *coRelay) attach(gw *gateway.Gateway) {
	r.mu.Lock()
	defer r.mu.Unlock()
	gw.VenueOpened(r.outSeq)
	gw.KeepStandby(r.reps)
	for _, b := range r.recs {
		gw.ApplyMarks(b)
	}
	r.reps, r.recs, r.gw = nil, nil, gw
}

func (r *coRelay) venueOpened(outSeq uint64) {
	r.mu.Lock()
	gw := r.gw
	if gw == nil {
		r.outSeq = outSeq
	}
	r.mu.Unlock()
	if gw != nil {
		gw.VenueOpened(outSeq)
	}
}

func (r *coRelay) standbyReports(reps []ordermanager.Report) {
	r.mu.Lock()
	gw := r.gw
	if gw == nil {
		r.reps = append(r.reps, reps...)
	}
	r.mu.Unlock()
	if gw != nil {
		gw.KeepStandby(reps)
	}
}

// marksState is the marks for the node's raft snapshot: the gateway's, or
// the records kept for it until it is attached.
func (r *coRelay) marksState() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gw == nil {
		return r.recs // copied by the node before this returns to raft
	}
	return r.gw.MarksState()
}

func (r *coRelay) marks(b []byte) {
	r.mu.Lock()
	gw := r.gw
	if gw == nil {
		r.recs = append(r.recs, append([]byte(nil), b...))
	}
	r.mu.Unlock()
	if gw != nil {
		gw.ApplyMarks(b)
	}
}
