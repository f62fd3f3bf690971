package fixsession

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ErrClosed is returned by Deliver after the session's store was closed.
var ErrClosed = errors.New("fixsession: session closed")

// Out is one application message for DeliverOut.
type Out struct {
	MsgType string
	// Body is the message's body fields (complete tag=value␁ fields after
	// the standard header).
	Body []byte
	// Route is routing header fields (complete tag=value␁ fields, such as
	// a reversed OnBehalfOfCompID: see ReplyBody), nil for none.
	Route []byte
	// Key, when not 0, is recorded with the message in the store, in the
	// same record, so that StoredKeyMax says which messages made it to
	// the store (also after a kill). Keys must grow from message to
	// message for StoredKeyMax to mean "every key up to it is stored".
	Key uint64
}

// Deliver is DeliverOut for messages without routing or key.
func (s *Session) Deliver(n int, msg func(i int) (msgType string, body []byte)) (first uint64, queued bool, err error) {
	return s.DeliverOut(n, func(i int, o *Out) { o.MsgType, o.Body = msg(i) })
}

// DeliverOut sends application messages like SendBodies when the session
// is logged on. When it is not, each message is still given its MsgSeqNum
// and kept in the store (written through at once, since no connection's
// writer will), so that the counterparty gets it at its next logon: our
// Logon answer carries a MsgSeqNum above what it has seen, it asks for the
// gap, and the stored messages are resent with PossDupFlag=Y and their
// original SendingTime as OrigSendingTime, in order. This is FIX's delivery
// guarantee, and it holds across restarts of this process too, since the
// store is read back by newSession. queued reports which way the messages
// went. A counterparty that logs on with ResetSeqNumFlag=Y (or a session
// configured to reset) gives up what was queued, as FIX defines.
//
// A counterparty that does not read (its connection's buffer is over
// Settings.OutBytesMax) is disconnected, and the messages are stored for
// its next logon all the same: err is ErrTooMuch and queued true.
//
// Cost: formatting, under the session's lock; offline, plus one write
// system call per call (no fsync unless Settings.StoreSync).
func (s *Session) DeliverOut(n int, msg func(i int, o *Out)) (first uint64, queued bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, true, ErrClosed
	}
	c := s.conn
	now := time.Now()
	first = s.store.nextOut
	var o Out
	i := 0
	have := false // o holds message i already
	if c != nil && c.loggedOn {
		for ; i < n; i++ {
			o = Out{}
			msg(i, &o)
			if err = c.sendKeyedLocked(o.MsgType, o.Route, o.Body, true, o.Key, now); err != nil {
				break
			}
		}
		c.kick()
		if err == nil {
			return first, false, nil
		}
		if err != ErrTooMuch {
			return first, false, err
		}
		// The connection is being closed: the rest is stored, from the
		// message that did not fit on.
		have = true
	}
	var raw []byte
	for ; i < n; i++ {
		if !have {
			o = Out{}
			msg(i, &o)
		}
		have = false
		seq := s.store.nextOut
		if !s.cfg.NoResendStore {
			raw = appendMessageRouted(raw[:0], &s.cfg.Header, o.MsgType, seq, now, nil, o.Route, o.Body)
			s.store.save(seq, raw, o.Key)
		}
		s.store.nextOut++
	}
	s.store.seqDirty = true
	if c != nil {
		// A connection is logging on or winding down (or, after
		// ErrTooMuch, being closed): its writer (or finish, after the
		// writer ends) writes the store's batch, and only one of them may
		// write at a time.
		c.kick()
		return first, true, err
	}
	var fb flushBatch
	s.store.take(&fb)
	if werr := fb.write(); werr != nil {
		return first, true, werr
	}
	return first, true, nil
}

// StoredKeyMax is the highest Out.Key recorded in the session's store,
// ever (resets and daily rollovers keep it): 0 when none was. After a
// restart it counts only messages whose records were read back whole.
// known is false for a store that has never recorded keys as far as it
// can tell (empty, or written only by an earlier version): its mark says
// nothing of what it holds. Since a logon writes the store, a session that
// has ever logged on with this version has a known mark.
func (s *Session) StoredKeyMax() (keyMax uint64, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.keyMax, s.store.keyed
}

// ReadStoredKeyMax is StoredKeyMax for a session that is not open: it reads
// cfg's store files (without changing them; a torn tail is not counted).
// Cost: one pass over the record headers of the store's messages.
func ReadStoredKeyMax(cfg Settings) (keyMax uint64, known bool, err error) {
	if cfg.StoreDir == "" {
		return 0, false, nil
	}
	name := filepath.Join(cfg.StoreDir, storeName(&cfg.Header))
	if b, err := os.ReadFile(name + ".seqnums"); err == nil && len(b) == seqRecKeyBytes {
		keyMax, known = binary.LittleEndian.Uint64(b[16:]), true
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, false, fmt.Errorf("fix store: %w", err)
	}
	f, err := os.Open(name + ".msgs")
	if errors.Is(err, fs.ErrNotExist) {
		return keyMax, known, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("fix store: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, false, fmt.Errorf("fix store: %w", err)
	}
	sc, err := scanRecords(f, st.Size(), nil)
	if err != nil {
		return 0, false, fmt.Errorf("fix store %s.msgs: %w", name, err)
	}
	return max(keyMax, sc.keyMax), known || sc.keyed, nil
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

// FlushStore writes the store's records that are not yet written (a
// logged-on connection's writer would write them at its next pass) and
// returns once they are, so that what was delivered so far survives the
// process (the page cache; an fsync too with StoreSync). Cost: one write
// system call when there is something to write.
func (s *Session) FlushStore() error {
	for {
		s.mu.Lock()
		c := s.conn
		if c == nil {
			// No writer: write under the session's lock, as Deliver does.
			defer s.mu.Unlock()
			if s.closed {
				return nil
			}
			var fb flushBatch
			s.store.take(&fb)
			return fb.write()
		}
		s.mu.Unlock()
		// The connection's writer takes and writes its batches under
		// writeMu, and its finish under the session's lock: holding both,
		// this is the only writer.
		c.writeMu.Lock()
		s.mu.Lock()
		if s.conn != c {
			s.mu.Unlock()
			c.writeMu.Unlock()
			continue
		}
		var fb flushBatch
		s.store.take(&fb)
		err := fb.write()
		s.mu.Unlock()
		c.writeMu.Unlock()
		return err
	}
}

// AppendReplyRoute appends to dst the routing header fields of a reply to
// m: m's third-party routing reversed (OnBehalfOf* become DeliverTo* and
// the other way round), as ReplyBody sends them; for a caller that answers
// m later, through Out.Route.
func AppendReplyRoute(dst []byte, m *Message) []byte { return appendRoute(dst, m) }
