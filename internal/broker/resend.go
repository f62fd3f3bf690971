package broker

import (
	"strconv"
	"sync"

	"github.com/exchange-sim/exchange/internal/fixsession"
)

// execSeen remembers the ExecIDs a session received most recently, so that
// an execution report a cluster's new leader sends again after a failover,
// flagged PossResend (97=Y) or PossDup (43=Y), is handed to the tracker
// only if the session had not seen it (FIX: a flagged message is checked by
// its business ID). Only the venue's numeric ExecIDs are remembered; the
// newest execSeenMax of them per session (the reports a new leader resends
// are the last ones before the failover).
type execSeen struct {
	mu   sync.Mutex
	set  map[uint64]struct{}
	ring []uint64
	next int
	// dups counts flagged reports dropped as already seen.
	dups int64
}

const execSeenMax = 1 << 16

func newExecSeen() *execSeen {
	return &execSeen{set: make(map[uint64]struct{}, 1024)}
}

// dup reports whether m is an execution report flagged as a possible
// resend whose ExecID the session has already received; it remembers m's
// ExecID otherwise. An unflagged repeat is not dropped: counting it twice
// is how the run shows the venue sent it twice. Cost: a map lookup and
// insert per execution report.
func (s *execSeen) dup(m *fixsession.Message) bool {
	v, ok := m.Get(fieldExecID)
	if !ok {
		return false
	}
	id, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return false
	}
	flagged := isY(m, fieldPossResend) || isY(m, fieldPossDupFlag)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.set[id]; seen {
		if flagged {
			s.dups++
		}
		return flagged
	}
	if len(s.ring) < execSeenMax {
		s.ring = append(s.ring, id)
	} else {
		delete(s.set, s.ring[s.next])
		s.ring[s.next] = id
		s.next = (s.next + 1) % execSeenMax
	}
	s.set[id] = struct{}{}
	return false
}

func isY(m *fixsession.Message, tag int) bool {
	v, ok := m.Get(tag)
	return ok && string(v) == "Y"
}

const (
	fieldExecID      = 17
	fieldPossDupFlag = 43
	fieldPossResend  = 97
)
