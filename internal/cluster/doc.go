// Package cluster replicates the venue's sequenced log to standbys with raft
// (github.com/hashicorp/raft over its TCP transport; its log and stable store
// our own segment files, SegmentStore, or raft-boltdb: cluster.log_store),
// elects a leader, fails over, and changes membership. It owns
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
// raft appends it to every node's log store (fsynced per append unless the
// policy is none; see "The log store" below), commits it once a majority holds it, and then
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
// The raft snapshot also carries the delivery marks (Config.MarksSnapshot,
// below): a node that installs one, or restarts from its own, hands them to
// Config.OnMarks before any later entry.
//
// Data folder of a node:
//
//	DIR/journal/        segments, as a single venue's (committed entries only)
//	DIR/snapshots/      the venue's snapshot files
//	DIR/raft/segments/  raft's log and stable store (SegmentStore, the default), or
//	DIR/raft/raft.db    the same in raft-boltdb (cluster.log_store: boltdb)
//	DIR/raft/snapshots/ raft's snapshots
//
// # The log store
//
// raft's log store is what every commit waits on: each node appends the
// entry and fsyncs it before it counts towards the majority. SegmentStore
// (logstore.go) keeps it in append-only segment files framed like the
// journal (length, payload, CRC32C), with an in-memory index from raft index
// to file offset: one StoreLogs is one write and one fsync, where a
// raft-boltdb commit writes B+tree pages and a meta page with two fsyncs
// (BENCHMARKS.md, "Log store", for both measured). Compaction after a raft
// snapshot persists the new first index and drops whole segments; a
// follower's conflicting tail is cut by truncating the segment at the
// record; opening the store cuts a torn or corrupt tail of the last segment
// and refuses a damaged earlier one. raft's term and vote live in a small
// file beside it, replaced by write-temp, fsync, rename. With
// cluster.log_store unset, a folder that already holds raft-boltdb's state
// (made before segments was the default) keeps it; a node told the other
// kind than its folder holds refuses to start.
//
// # FIX session continuity (built: delivery marks and held reports)
//
// A client that reconnects to a new leader keeps its orders and their state
// (they are in the replicated log) and, if it logs on with its own sequence
// numbers, its FIX session too. The session stores (sequence numbers, sent
// messages) stay each node's own files; what is replicated is small:
//
//  1. Delivery marks. The leader's gateway notes, per session, the newest
//     MsgSeqNum that carried an execution report of the journal and that
//     report's ExecID (its store key, see internal/gateway/redeliver.go),
//     and every 100 ms publishes the pairs of the sessions that advanced as
//     one raft entry of its own kind (PublishMarks, magic "XRMK"; no venue
//     and no journal sees it). Every node's state machine hands it to
//     Config.OnMarks in log order, and every gateway keeps the newest 1024
//     pairs per session (internal/gateway/continuity.go). A session's
//     reports reach its store in ExecID order, so the pair (s, k) means: a
//     client that has every message up to s has every report up to k.
//  2. Held reports. A standby's venue generates every report the leader's
//     does (same log, deterministic engine); instead of dropping them, the
//     node hands them to Config.StandbyReports and the gateway holds each
//     session's journal reports above a floor (bounded: 16384 per session;
//     pairs falling off the 1024 and a venue reopened from its journal
//     raise the floor). Once the node leads, a session that has not logged
//     on to it in this leadership (Node.LeaderTerm) still has its reports
//     held, not stored in its stale store. Before it accepts orders, a new
//     leader waits until its venue has handed on the reports of every
//     command it followed (settleReports), so a report of an earlier
//     leader's command always goes through the held path.
//  3. Adoption. A Logon without ResetSeqNumFlag and with
//     NextExpectedMsgSeqNum (789) = E has its numbers adopted
//     (fixsession.Session.Adopt): the Logon answer carries MsgSeqNum E and
//     the Logon's own MsgSeqNum is the next expected, so there is no
//     sequence error and no gap on either side. E-1 is mapped through the
//     pairs to k, the last ExecID the client surely has (newest pair at or
//     below E-1; none: every held report), and every held report above k
//     is sent, in order and before any new report of the session, as a new
//     message flagged PossResend (97=Y). The client dedupes by ExecID, so
//     each ExecID reaches it once as new (the first time it sees it,
//     flagged or not) and never twice unflagged.
//
// Why PossResend and not PossDup (43), which the issue names: PossDup
// means "this is message N again" and must carry the original MsgSeqNum
// and OrigSendingTime, which the new leader does not know (the marks are a
// 100 ms sample of the old leader's numbering, not a copy of it).
// PossResend means "this may have been sent before under another MsgSeqNum:
// check its business ID", which is exactly the case. The flag is set on
// every held report above k, including those the old leader never sent (it
// died first): no unflagged copy is ever sent twice, and nothing the
// client lacks is withheld.
//
// What the client must do: dedupe execution reports by ExecID (a FIX
// client must for PossResend anyway), send 789 in its Logon, and ask
// OrderStatusRequest for orders it sent that got no answer: a command the
// old leader never committed was never acknowledged and is unknown to the
// new leader (status answer: unknown order; its ClOrdID is free).
//
// Other logons in a node's leadership:
//
//   - ResetSeqNumFlag (141=Y): the client gives up what it missed, as FIX
//     defines a reset; the reports held from before its Logon are dropped
//     (those generated after it still go out, unflagged) and it learns its
//     orders' state with OrderStatusRequest (or OrderMassStatusRequest), as
//     before this was built.
//   - No 789 and no reset: the node cannot tell what the client has. The
//     logon goes on as on a single venue, with this node's own store (after
//     a failover usually a stale one: expect a sequence error and a reset),
//     and the held reports go out flagged after the logon.
//   - 789 below what the marks and held reports reach (the client was
//     further behind than the last 1024 marks, or this node started after
//     the reports it would need): the logon is refused with a Logout whose
//     Text says to reset and ask for status.
//   - A reconnect within the same leadership: the node's store is current;
//     the session layer behaves as on a single venue.
//   - A Logon that passed the logon gate just before the node stopped
//     leading (an election) is refused: its store would answer with stale
//     numbers.
//
// Not built (the larger design: every outbound message a function of the
// log): inbound MsgSeqNums are not replicated, so a new leader takes the
// Logon's MsgSeqNum as the next expected without asking for messages the
// old leader may have missed (those commands were not committed, so not
// acknowledged: the client finds them with OrderStatusRequest); answers
// that are not journal reports (the order manager's and the gateway's own
// rejects, status answers, market data) are not held or resent. The raft
// snapshot carries only each session's newest pair (gateway.MarksState):
// a node that installed one has its floor at the snapshot's point, so older
// pairs could only place a client below every report it holds.
package cluster
