// Package cluster replicates the venue's sequenced log to standbys with raft
// (github.com/hashicorp/raft over its TCP transport, raft-boltdb as the log
// store), elects a leader, fails over, and changes membership. It owns
// replication and roles; it knows no matching rules and no FIX (the binary
// asks Node.IsLeader and Node.Leader to gate FIX logons).
//
// # The log
//
// The leader's sequencer is the only sequencer. Its writer stamps a batch of
// commands (gap-free seqs, one timestamp) and, instead of appending it to the
// local journal, hands the batch's journal frames to Node's sequencer.Log:
// one batch is one raft entry (raft.Apply). The entry is
//
//	magic | epoch | firstSeq | lastSeq | journal frames (commands, then checkpoints)
//
// raft appends it to every node's log store (raft-boltdb, fsynced per entry
// unless the policy is none), commits it once a majority holds it, and then
// every node's state machine (fsm.Apply) appends the same frames to that
// node's own journal (not fsynced: raft's log and snapshots are the durable
// record; a node whose journal lost its tail in a machine crash gets it back
// from them), in the unchanged segment format, so `exchange replay`
// and recovery read a node's data folder exactly like a single venue's. Only
// then does the leader's sequencer hand the batch to its engine, so an
// execution report is sent only for a command that a majority holds.
//
// # Hot standbys
//
// A standby's venue is the same pipeline.Exchange, opened with Follow: the
// state machine gives it each committed batch (pipeline.Exchange.Follow); the
// order manager goroutine applies the leader's state change
// (ordermanager.ApplySequenced, the function Submit uses) and puts the command
// into the sequencer ring in passthrough (its seq and time stamp kept), and
// the engine, market data and report stages run as on the leader. Failover
// replays nothing: when raft elects the node, it waits for every earlier entry
// (raft.Barrier), calls pipeline.Exchange.Lead (the writer stamps from the
// next command on) and starts accepting orders. Entries carry a per-leadership
// random epoch, so a node tells its own entries (already in its ring) from a
// new leader's.
//
// The leader's engine checkpoints (seq, out seq, running event hash) travel in
// the entries; each standby's engine checks them against its own hash once it
// has applied that seq. A mismatch, or a command its order manager refuses,
// stops the node loudly (Node.Err): it leaves raft and never serves.
//
// # Losing leadership
//
// A leader that loses its majority (LeaderLeaseTimeout) or sees another
// leader's entry stops accepting orders, closes its venue and reopens it as a
// standby from its journal. The journal holds exactly the committed entries
// (nothing is journaled before commit), so the order manager's changes for
// commands it had accepted but not committed are gone, and those commands were
// never acknowledged. Their clients learn their fate from OrderStatusRequest.
//
// A leadership transfer (Node.TransferLeadership) first stops taking orders
// and lets the commands in flight commit: raft refuses new entries during a
// transfer, so without the drain they would all be lost.
//
// # Stopping
//
// Close on a leader drains its venue (what it accepted is committed and
// answered) before raft shuts down. Close on a standby first waits until its
// state machine has journaled every command entry the node knows to be
// committed: raft's Shutdown does not wait for that, and a standby whose
// state machine lagged its raft log would otherwise stop with a journal
// short of what it had acknowledged to the leader (raft would apply the rest
// once the node is back in a cluster, but replay of the stopped node's
// folder would not see it). Two nodes stopped one after the other still end
// at different seqs when the leader commits entries between the two stops;
// the shorter journal is then a prefix of the longer.
//
// # Snapshots and catch-up
//
// A raft snapshot of a node is its venue's newest snapshot file plus its
// journal after it (see fsm.go): the files already on disk, nothing held in
// memory. raft sends it to a node too far behind for the log (an empty data
// folder, a node back after its peers compacted); the node replaces its
// journal and snapshot files with it and reopens its venue from them.
//
// Data folder of a node:
//
//	DIR/journal/    segments, as a single venue's (committed entries only)
//	DIR/snapshots/  the venue's snapshot files
//	DIR/raft/       raft.db (raft-boltdb: log and stable store), snapshots/
//
// # FIX session continuity (designed, not built)
//
// Today a client reconnecting to a new leader keeps its orders and their state
// (they are in the replicated log), but not its FIX session: the session
// stores (sequence numbers and sent messages) are each node's own files and a
// standby's venue drops the reports it generates. The design that gives every
// report exactly once per ExecID across a failover derives each session's
// outbound stream from the log:
//
//  1. Every application message must be a function of the log. Execution
//     reports of sequenced commands already are (ExecIDs come from the
//     engine's out seq). Missing: the order manager's and the gateway's
//     rejects are not journaled and their ExecIDs are seeded from the clock;
//     they must become journaled reject records (a command kind the engine
//     ignores) so every node derives the same reject with the same ExecID.
//  2. Outbound MsgSeqNums: application messages take the session's numbers in
//     log order. Session-level messages (Logon answer, Heartbeat, TestRequest,
//     Logout, session Reject) also consume numbers, on the leader only. The
//     leader records "session S: next N numbers are admin" in the raft log
//     (piggybacked on the next entry, or its own small entry) and sends those
//     admin messages only once the record is committed; they are not latency
//     sensitive. Then MsgSeqNum(S, message) is a function of the log on every
//     node, and a standby's gateway can keep every session's outbound store
//     (application messages at their numbers, admin numbers as GapFill) while
//     disconnected.
//  3. Inbound MsgSeqNums: the command's meta carries the MsgSeqNum of the
//     message that caused it, so the new leader knows the last inbound number
//     that was committed. A client that logs on with a higher number gets a
//     ResendRequest for the rest and resends them PossDup; ClOrdID checks
//     reject duplicates of anything that had been committed.
//  4. On logon to the new leader the client's own numbers are honoured: a
//     ResendRequest (or Logon's NextExpectedMsgSeqNum) is answered from the
//     derived store with PossDup=Y, GapFill for admin numbers, so every
//     ExecID reaches the client exactly once as new and at most again as a
//     PossDup.
//
// Until then a client reconnecting after a failover must reset its sequence
// numbers (ResetSeqNumFlag) and ask OrderStatusRequest for its open orders.
package cluster
