package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
)

// Delivery marks: the FIX session continuity of a failover (see the package
// doc). The leader's gateway says now and then, per FIX session, which
// MsgSeqNum carried which execution report (its ExecID); the record goes
// through the raft log like a batch, but as an entry of its own kind that
// no venue sees and no journal holds:
//
//	magic uint32 "XRMK" | payload (the gateway's encoding)
//
// Every node hands the payload to Config.OnMarks in log order. The marks
// are small and only ever tell a new leader where a client stands; they are
// not part of the venue's state, so they are not journaled. They are in the
// node's raft snapshot (Config.MarksSnapshot, see fsm.go): a node that
// installs a snapshot, or restarts from its own, gets the marks committed
// before it through OnMarks first, then the later ones from the log.
const (
	marksMagic uint32 = 0x4b4d5258 // "XRMK"
	// MarksBytesMax bounds one marks record's payload.
	MarksBytesMax = 64 << 10
)

// ErrNotLeader is returned by PublishMarks on a node that does not lead.
var ErrNotLeader = errors.New("cluster: not the leader")

// PublishMarks replicates a delivery-marks record (at most MarksBytesMax
// bytes) through the raft log and returns once a majority holds it and this
// node has applied it (Config.OnMarks has seen it). Only the leader
// publishes. Cost: one raft entry; it waits one commit round trip.
func (n *Node) PublishMarks(payload []byte) error {
	if !n.leading.Load() {
		return ErrNotLeader
	}
	if len(payload) == 0 || len(payload) > MarksBytesMax {
		return fmt.Errorf("cluster: marks record of %d bytes (1 to %d)", len(payload), MarksBytesMax)
	}
	b := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+len(payload)), marksMagic)
	b = append(b, payload...)
	return n.raft.Apply(b, n.cfg.ApplyTimeout).Error()
}

// marksRecord returns the payload of a marks entry; ok is false for any
// other entry.
func marksRecord(data []byte) (payload []byte, ok bool) {
	if len(data) < 4 || binary.LittleEndian.Uint32(data) != marksMagic {
		return nil, false
	}
	return data[4:], true
}

// LeaderTerm counts this node's leaderships: it is the number of the
// current one while the node leads, 0 while it does not. The gateway tells
// by it that its FIX session stores are stale (written in an earlier
// leadership, or never) and a client's own numbers must be adopted.
func (n *Node) LeaderTerm() uint64 {
	if !n.leading.Load() {
		return 0
	}
	return n.stats.elections.Load()
}

// settleReports waits (at most ApplyTimeout) until the venue has handed on
// the reports of every command it followed as a standby, so that they all
// go to Config.StandbyReports: the reports a node sends as the leader are
// then those of no earlier leader, apart from the ones the gateway holds
// for a session that has not logged on in this leadership. The engine's
// count of processed commands reaching the followed count says their
// events are back at the order manager; an Inspect round trip on the order
// manager's goroutine says the reports it made of them were handed on (it
// flushes before it takes the next request).
func (n *Node) settleReports(x *pipeline.Exchange) {
	deadline := time.Now().Add(n.cfg.ApplyTimeout)
	for {
		st := x.Stats()
		if st.Processed >= st.Commands {
			break
		}
		if time.Now().After(deadline) {
			n.log.Warn().Uint64("commands", st.Commands).Uint64("processed", st.Processed).Msg("elected: the standby's last reports not settled in time")
			return
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := x.Inspect(ctx, func(*ordermanager.Manager) {}); err != nil {
		n.log.Warn().Err(err).Msg("elected: the standby's last reports not settled")
	}
}
