package gateway

import (
	"fmt"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
)

// Reports lost at a kill, and how recovery gives them back.
//
// A report the journal can regenerate (ordermanager.Report.OutSeq set) is
// stored in its session's FIX store with its ExecID as the record's key
// (fixsession.Out.Key), in the same record as the message. A session's
// reports reach its store in event order, and event ExecIDs grow with the
// engine's OutSeq (a trade's taker 2×OutSeq, then its maker 2×OutSeq+1), so
// the highest key in the store, StoredKeyMax, says exactly which of them
// made it: every regenerated report up to it is in the store, none after
// it. A kill that tears the store's last write loses the torn records and
// their keys together.
//
// At start-up, recovery replays the journal after the latest snapshot and
// regenerates its reports; those beyond their session's mark were lost
// with the process (it was killed after the journal write and before the
// store write) and are stored now, as new messages at the session's next
// MsgSeqNums, before the acceptor listens. The broker receives them at its
// logon, through the resend its sequence gap asks for; a report already
// stored is never stored again, and the next start sees the new mark.
//
// Not covered: a report the journal cannot regenerate (the order manager's
// and the gateway's own rejects, which are answered before anything is
// journaled, and status answers) is lost if the process dies before its
// store write. Nothing happened to an order rejected that way, so the
// broker that hears nothing finds out with an OrderStatusRequest (unknown
// order) or sends the order again; its ClOrdID is free.

// ReportMarks are the sessions' marks (StoredKeyMax over the session's FIX
// versions), indexed by refdata.SessionID-1, read before the gateway opens
// its sessions (recovery runs first). A session none of whose stores knows
// its keys (never logged on with this version, its stores removed, or
// written only by an earlier version) gets noMark: nothing is redelivered
// to it, since it cannot be told what it already has (a removed store
// would otherwise be sent every report since the snapshot again).
type ReportMarks []uint64

// noMark is the mark of a session whose stores do not know their keys.
const noMark = ^uint64(0)

// ReadReportMarks reads the marks of every configured session's FIX stores
// without opening the sessions. Cost: one pass over the record headers of
// every store.
func ReadReportMarks(ref *refdata.Registry, st Settings) (ReportMarks, error) {
	cfg := &venueConfig{Registry: ref, Settings: st}
	settings, keys, err := buildSettings(cfg, cfg.ListenFIX)
	if err != nil {
		return nil, err
	}
	marks := make(ReportMarks, len(cfg.Sessions))
	for i := range marks {
		marks[i] = noMark
	}
	for sid, k := range keys {
		fsCfg, err := sessionSettings(sid, settings[sid])
		if err != nil {
			return nil, err
		}
		m, known, err := fixsession.ReadStoredKeyMax(fsCfg)
		if err != nil {
			return nil, fmt.Errorf("gateway: session %s: %w", sid, err)
		}
		if i := int(k.cfg) - 1; known && i >= 0 && i < len(marks) {
			marks[i] = markMax(marks[i], m)
		}
	}
	return marks, nil
}

// markMax is the mark of a session with stores marked a and b.
func markMax(a, b uint64) uint64 {
	if a == noMark {
		return b
	}
	return max(a, b)
}

// Unstored appends to keep the reports of reps that the journal
// regenerated and that are not in their session's store, and returns it.
// It is the filter recovery runs every replayed command's reports through
// (most of them are stored already); cost O(len(reps)).
func (m ReportMarks) Unstored(reps []ordermanager.Report, keep []ordermanager.Report) []ordermanager.Report {
	for i := range reps {
		r := &reps[i]
		if r.OutSeq == 0 || r.Session == 0 || int(r.Session) > len(m) {
			continue
		}
		if r.ExecID > m[r.Session-1] {
			keep = append(keep, *r)
		}
	}
	return keep
}

// storedMark is the session's mark as its open stores say (see
// ReportMarks).
func (g *Gateway) storedMark(st *sessionState) uint64 {
	m := noMark
	for fs, s := range g.byFS {
		if s != st {
			continue
		}
		if k, known := fs.StoredKeyMax(); known {
			m = markMax(m, k)
		}
	}
	return m
}

// Redeliver stores and sends the reports recovery regenerated that are not
// in their sessions' stores (ReportMarks.Unstored's), in order; those that
// are (checked again against the open stores) are skipped, so a report is
// never stored twice. Call it after New and before Start, before any other
// report is delivered: the marks rely on each session's reports reaching
// its store in ExecID order. It returns how many it delivered.
func (g *Gateway) Redeliver(reps []ordermanager.Report) int {
	marks := make([]uint64, len(g.sessions))
	for i, st := range g.sessions {
		marks[i] = g.storedMark(st)
	}
	keep := ReportMarks(marks).Unstored(reps, nil)
	const chunk = 1024
	for i := 0; i < len(keep); i += chunk {
		g.Deliver(keep[i:min(i+chunk, len(keep))])
	}
	g.m.redelivered.Add(uint64(len(keep)))
	if len(keep) > 0 {
		g.log.Warn().Int("reports", len(keep)).Msg("reports regenerated from the journal that had not reached their FIX stores before the stop: stored now, sent at the next logon")
	}
	return len(keep)
}

// SyncStores writes every session's FIX store records that are not yet
// written (pipeline.Options.SyncReports: before a snapshot, whose commands'
// reports recovery will not regenerate). Off the critical path.
func (g *Gateway) SyncStores() {
	for fs := range g.byFS {
		if err := fs.FlushStore(); err != nil {
			g.log.Error().Err(err).Str("session", fs.ID().String()).Msg("FIX store write failed")
		}
	}
}
