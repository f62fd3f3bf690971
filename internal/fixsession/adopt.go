package fixsession

import (
	"errors"
	"strconv"
)

// NextExpected returns the NextExpectedMsgSeqNum (789) of a Logon, and
// false when the Logon has none (or one that is not a positive integer).
func NextExpected(m *Message) (uint64, bool) {
	v, ok := m.Get(789)
	if !ok {
		return 0, false
	}
	n, ok := ParseUint(v)
	return n, ok && n > 0
}

// ErrLoggedOn is returned by Adopt for a session with a live connection.
var ErrLoggedOn = errors.New("fixsession: session is logged on")

// Adopt takes a counterparty's sequence numbers as the session's own:
// nextOut is the MsgSeqNum our next message (the Logon answer) carries,
// nextIn the one expected next from the counterparty. The messages stored
// for resends are forgotten (they were numbered in a sequence that no
// longer holds); the highest key stored (StoredKeyMax) is kept. A cluster's
// new leader calls it from App.Logon for a counterparty that logs on with
// its own numbers after a failover (this node's store is not the one the
// counterparty talked to). Cost: one write of the sequence numbers file.
func (s *Session) Adopt(nextOut, nextIn uint64) error {
	if nextOut == 0 || nextIn == 0 {
		return errors.New("fixsession: adopt: sequence numbers start at 1, not " + strconv.FormatUint(min(nextOut, nextIn), 10))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if c := s.conn; c != nil && c.loggedOn {
		return ErrLoggedOn
	}
	if err := s.store.reset(); err != nil {
		return err
	}
	s.store.nextOut, s.store.nextIn = nextOut, nextIn
	s.store.seqDirty = true
	return s.store.writeSeqFile()
}
