package fixsession

import (
	"errors"
	"os"
	"path/filepath"
	"time"
)

// ErrClosed is returned by Deliver after the session's store was closed.
var ErrClosed = errors.New("fixsession: session closed")

// Deliver sends application messages like SendBodies when the session is
// logged on. When it is not, each message is still given its MsgSeqNum and
// kept in the store (written through at once, since no connection's writer
// will), so that the counterparty gets it at its next logon: our Logon
// answer carries a MsgSeqNum above what it has seen, it asks for the gap,
// and the stored messages are resent with PossDupFlag=Y and their original
// SendingTime as OrigSendingTime, in order. This is FIX's delivery
// guarantee, and it holds across restarts of this process too, since the
// store is read back by NewSession. queued reports which way the messages
// went. A counterparty that logs on with ResetSeqNumFlag=Y (or a session
// configured to reset) gives up what was queued, as FIX defines.
//
// Cost offline: formatting plus one write system call per call (no fsync
// unless Settings.StoreSync), under the session's lock.
func (s *Session) Deliver(n int, msg func(i int) (msgType string, body []byte)) (first uint64, queued bool, err error) {
	s.mu.Lock()
	c := s.conn
	if c != nil && c.loggedOn {
		s.mu.Unlock()
		first, err = s.SendBodies(n, msg)
		if err != ErrNotLoggedOn {
			return first, false, err
		}
		// It logged out between the two locks: store instead.
		s.mu.Lock()
		c = s.conn
	}
	defer s.mu.Unlock()
	if s.closed {
		return 0, true, ErrClosed
	}
	now := time.Now()
	first = s.store.nextOut
	var raw []byte
	for i := 0; i < n; i++ {
		mt, body := msg(i)
		seq := s.store.nextOut
		if !s.cfg.NoResendStore {
			raw = AppendMessage(raw[:0], &s.cfg.Header, mt, seq, now, nil, body)
			s.store.save(seq, raw)
		}
		s.store.nextOut++
	}
	s.store.seqDirty = true
	if c != nil {
		// A connection is logging on or winding down: its writer (or
		// finish, after the writer ends) writes the store's batch, and
		// only one of them may write at a time.
		c.kick()
		return first, true, nil
	}
	var fb flushBatch
	s.store.take(&fb)
	if err := fb.write(); err != nil {
		return first, true, err
	}
	return first, true, nil
}

// LastWritten returns when the session's store was last written (the zero
// time for a store in memory or never written): of the versions of one
// counterparty (FIX.4.2, FIX.4.4), the one written last is the one it used
// last, where messages for it are best queued after a restart.
func (s *Session) LastWritten() time.Time {
	if s.cfg.StoreDir == "" {
		return time.Time{}
	}
	st, err := os.Stat(filepath.Join(s.cfg.StoreDir, storeName(&s.cfg.Header)+".msgs"))
	if err != nil || st.Size() == 0 {
		return time.Time{}
	}
	return st.ModTime()
}
