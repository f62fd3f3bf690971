// Package fixsession is the exchange's own FIX session layer (FIX 4.2 and
// 4.4 tag=value over TCP), used on the latency-critical path in place of
// QuickFIX/Go's session loop. It frames inbound bytes strictly, keeps the
// session protocol (Logon, Heartbeat, TestRequest, ResendRequest,
// SequenceReset, Reject, Logout, sequence numbers persisted across restarts,
// resends with PossDupFlag), and hands application messages to an App.
//
// Why not QuickFIX/Go's own loop: it hands each outbound message to its
// writer goroutine through an unbuffered channel one at a time (busy-spinning
// while the writer is busy), writes every message with its own system call
// and several more for its file store, and panics on some malformed input
// (QuickFIX/Go issue 678). Here a connection has one reader goroutine that
// processes every message of a read in turn and one writer goroutine that
// writes whatever accumulated since its last write with one system call (and
// the store's records with one more), so under load the per-message cost is
// a few hundred nanoseconds of formatting rather than several system calls
// and goroutine hand-offs. The package has its own vocabulary (SessionID,
// Settings read from QuickFIX-format settings text, RejectError); of
// QuickFIX/Go it uses only the parser of the data dictionaries it embeds.
//
// Every inbound message is checked against its version's FIX data
// dictionary (QuickFIX's FIX 4.2/4.4 specs, embedded: dictionary.go,
// validate.go) and answered as the FIX session-layer test cases expect
// (conformance_test.go; README, "FIX session-layer conformance"). Garbled
// messages are ignored, not counted; a stream that is not FIX at all ends
// its connection (garbledRunMax, garbledBytesMax).
package fixsession

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Message is an inbound message, valid only during the App callback it is
// passed to.
type Message struct {
	Raw         []byte
	Fields      []Field // every field, header and trailer included
	MsgType     []byte
	SeqNum      uint64
	ReceiveTime time.Time
}

// Get returns the value of the first field with tag.
func (m *Message) Get(tag int) ([]byte, bool) { return Get(m.Fields, tag) }

// reset makes m the message raw (fields scanned into fs, reused).
func (m *Message) reset(raw []byte, fs []Field, now time.Time) {
	m.set(raw, Scan(raw, fs[:0]), now)
}

// set makes m the message raw whose fields are already scanned.
func (m *Message) set(raw []byte, fields []Field, now time.Time) {
	m.Raw, m.Fields, m.ReceiveTime = raw, fields, now
	m.MsgType, _ = Get(m.Fields, 35)
	m.SeqNum = 0
}

// App is what a session layer user implements. Callbacks for one session
// run on its connection's reader goroutine, one at a time.
type App interface {
	// Logon vets a counterparty's Logon: on an acceptor before it is
	// answered (s is nil when no configured session matches sid, which is
	// our view: SenderCompID is us), on an initiator when the answer
	// arrives. A non-empty refusal is sent as the Logout's Text and the
	// connection closed.
	Logon(sid SessionID, s *Session, msg *Message) (refusal string)
	OnLogon(s *Session)
	// OnLogout is called once when a logged-on session's connection ends.
	OnLogout(s *Session)
	// FromApp handles an application message; a non-nil refusal is
	// answered with a Reject (3) or, when it is a business reject, a
	// BusinessMessageReject (j), as QuickFIX/Go does.
	FromApp(s *Session, msg *Message) *RejectError
}

// AdminApp is optionally implemented by an App that wants to see the
// session-level Rejects (35=3) the counterparty sends about our messages.
type AdminApp interface {
	FromAdmin(s *Session, msg *Message)
}

// RefusalApp is optionally implemented by an initiator's App: it hears the
// Text of a Logout sent in answer to its Logon (the logon was refused).
type RefusalApp interface {
	OnLogonRefused(s *Session, text string)
}

// Settings configure one session.
type Settings struct {
	// Header is our view: SenderCompID is us.
	Header Header
	// HeartBtInt is the heartbeat interval an initiator asks for; an
	// acceptor uses the one of the counterparty's Logon.
	HeartBtInt time.Duration
	StoreDir   string // "" keeps sequence numbers in memory
	// StoreSync fsyncs the store's files after each batch written (off: the
	// writes go through the page cache, like QuickFIX's FileStoreSync=N).
	StoreSync         bool
	ResetOnLogon      bool
	ResetOnLogout     bool
	ResetOnDisconnect bool
	// MaxLatency refuses messages whose SendingTime is further than this
	// from our clock (0 = not checked).
	MaxLatency time.Duration
	// LogonFields are extra body fields of an initiator's Logon (Username,
	// Password), as complete tag=value␁ fields.
	LogonFields []byte
	// ResetSeqNumFlag makes an initiator ask for sequence numbers to be reset
	// at every logon (141=Y).
	ResetSeqNumFlag bool
	// NoResendStore keeps no sent messages: a ResendRequest is answered with
	// gap fills (for load generators, whose runs would otherwise keep every
	// message in memory).
	NoResendStore bool
	// WriteEach writes every outbound message with its own system call
	// instead of everything that accumulated with one (to behave like most
	// FIX engines, for benchmarks of the other side).
	WriteEach bool
	// OutBytesMax bounds the bytes waiting for the writer of one
	// connection; past it the connection is closed (a counterparty that does
	// not read). 0: 64 MiB.
	OutBytesMax int
	// Schedule resets the sequence numbers daily and removes earlier days'
	// stores after a retention (rollover.go); the zero value never does.
	Schedule StoreSchedule
}

// ID returns the session's identity (its Header).
func (st *Settings) ID() SessionID { return st.Header }

// Errors of Send.
var (
	ErrNotLoggedOn = errors.New("fixsession: not logged on")
	ErrTooMuch     = errors.New("fixsession: outbound buffer full (the counterparty does not read)")
	// ErrMalformed ends a connection whose bytes are not well-formed FIX.
	ErrMalformed = errors.New("malformed FIX message")
)

// outBytesMaxDefault is Settings.OutBytesMax's default.
const outBytesMaxDefault = 64 << 20

// Session is one configured FIX session; it outlives its connections.
type Session struct {
	cfg   Settings
	id    SessionID
	app   App
	log   zerolog.Logger
	store *store
	dict  *dictionary // nil: the version has none here, messages are not checked against one

	mu     sync.Mutex
	conn   *conn // logged on (or logging on) connection, nil otherwise
	closed bool  // Close ran: the store's files are closed
}

// newSession opens the session's store.
func newSession(cfg Settings, app App, log zerolog.Logger) (*Session, error) {
	st, err := openStoreAt(cfg.StoreDir, &cfg.Header, cfg.Schedule, time.Now())
	if err != nil {
		return nil, err
	}
	st.sync = cfg.StoreSync
	d, err := dictionaryFor(cfg.Header.BeginString)
	if err != nil {
		st.close()
		return nil, err
	}
	return &Session{cfg: cfg, id: cfg.ID(), app: app, log: log.With().Str("session", cfg.ID().String()).Logger(), store: st, dict: d}, nil
}

// ID is the session's identity (our view).
func (s *Session) ID() SessionID { return s.id }

// LoggedOn reports whether the session has a logged-on connection.
func (s *Session) LoggedOn() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil && s.conn.loggedOn
}

// RemoteAddr is the address of the logged-on counterparty.
func (s *Session) RemoteAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return ""
	}
	return s.conn.nc.RemoteAddr().String()
}

// NextSeqNums returns the next outbound and the next expected inbound
// MsgSeqNum.
func (s *Session) NextSeqNums() (out, in uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.nextOut, s.store.nextIn
}

// SendBody sends an application message whose body (complete tag=value␁
// fields after the standard header) is body. It never blocks on the network.
func (s *Session) SendBody(msgType string, body []byte) error {
	_, err := s.SendBodies(1, func(int) (string, []byte) { return msgType, body })
	return err
}

// SendBodies sends several application messages of one batch with one lock
// and one wake-up of the writer; each is msgType and body as in SendBody.
// The messages get consecutive MsgSeqNums from first on.
func (s *Session) SendBodies(n int, msg func(i int) (msgType string, body []byte)) (first uint64, err error) {
	s.mu.Lock()
	c := s.conn
	if c == nil || !c.loggedOn {
		s.mu.Unlock()
		return 0, ErrNotLoggedOn
	}
	now := time.Now()
	first = s.store.nextOut
	for i := 0; i < n && err == nil; i++ {
		mt, body := msg(i)
		err = c.sendLocked(mt, body, true, now)
	}
	s.mu.Unlock()
	c.kick()
	return first, err
}

// ReplyBody is SendBody for an answer to the message to (of the current
// callback): to's third-party routing is reversed on it (OnBehalfOfCompID
// becomes DeliverToCompID, DeliverToCompID OnBehalfOfCompID, and the same
// for SubID and LocationID), as FIX asks of a reply.
func (s *Session) ReplyBody(to *Message, msgType string, body []byte) error {
	var rb [128]byte
	route := appendRoute(rb[:0], to)
	s.mu.Lock()
	c := s.conn
	if c == nil || !c.loggedOn {
		s.mu.Unlock()
		return ErrNotLoggedOn
	}
	err := c.sendRoutedLocked(msgType, route, body, true, time.Now())
	s.mu.Unlock()
	c.kick()
	return err
}

// Logout sends a Logout with text and closes the connection when the
// counterparty answers it (or after a grace period of one heartbeat, at most
// 10 s).
func (s *Session) Logout(text string) error {
	s.mu.Lock()
	c := s.conn
	if c == nil {
		s.mu.Unlock()
		return ErrNotLoggedOn
	}
	c.logoutLocked(text)
	s.mu.Unlock()
	c.kick()
	return nil
}

// Disconnect closes the session's connection at once.
func (s *Session) Disconnect() {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		c.close()
	}
}

// Close closes the store (after the session's connections have ended).
func (s *Session) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var fb flushBatch
	s.store.take(&fb)
	if err := fb.write(); err != nil {
		s.log.Error().Err(err).Msg("FIX store write failed")
	}
	s.store.close()
	s.closed = true
}

// conn is one TCP connection of a session (or, on an acceptor, one that has
// not logged on yet: sess is nil until its Logon is accepted).
type conn struct {
	nc       net.Conn
	acceptor *Acceptor // nil on an initiator

	// Guarded by sess.mu once sess is set.
	sess       *Session
	loggedOn   bool
	loggingOut bool // we sent a Logout and wait for the answer
	closing    bool
	out        []byte // bytes for the writer
	hb         time.Duration
	lastSent   time.Time
	testReqID  string    // an unanswered TestRequest we sent
	testReqAt  time.Time // when
	resendTo   uint64    // we asked for a resend up to here (0: none pending)
	queued     map[uint64]queuedMsg
	route      []byte // routeOf's scratch (reader only)
	// writeMu is held by the writer while it takes and writes a store
	// batch, so that the reader can reset the store between two batches.
	writeMu sync.Mutex

	wake      chan struct{} // cap 1: out has bytes or the store has a batch
	done      chan struct{} // closed when the connection is closed
	released  chan struct{} // closed when the session no longer points to it
	closeOnce sync.Once

	lastRecv   atomic.Int64 // unix ns of the last read
	writerDone chan struct{}
	msg        Message
	garbled    int // garbled messages dropped (reader only)
	// garbledRun and garbledBytes count the garbled messages and bytes
	// since the last good message (reader only); past garbledRunMax or
	// garbledBytesMax the stream is not FIX and the connection ends.
	garbledRun   int
	garbledBytes int
	fb           flushBatch
}

func newConn(nc net.Conn) *conn {
	c := &conn{nc: nc, wake: make(chan struct{}, 1), done: make(chan struct{}), writerDone: make(chan struct{}), released: make(chan struct{})}
	c.lastRecv.Store(time.Now().UnixNano())
	return c
}

func (c *conn) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		_ = c.nc.Close()
	})
}

// sendLocked appends one message (s.mu held).
func (c *conn) sendLocked(msgType string, body []byte, app bool, now time.Time) error {
	return c.sendRoutedLocked(msgType, nil, body, app, now)
}

// sendRoutedLocked is sendLocked with routing header fields (a reply's
// reversed OnBehalfOf*/DeliverTo*).
func (c *conn) sendRoutedLocked(msgType string, route, body []byte, app bool, now time.Time) error {
	return c.sendKeyedLocked(msgType, route, body, app, 0, now)
}

// sendKeyedLocked is sendRoutedLocked with the store key of an application
// message (Out.Key).
func (c *conn) sendKeyedLocked(msgType string, route, body []byte, app bool, key uint64, now time.Time) error {
	s := c.sess
	outMax := s.cfg.OutBytesMax
	if outMax <= 0 {
		outMax = outBytesMaxDefault
	}
	if len(c.out) > outMax {
		// The counterparty does not read: its connection is closed (the
		// writer may be blocked in a write that only the close ends).
		if !c.closing {
			c.closing = true
			go c.close()
		}
		return ErrTooMuch
	}
	seq := s.store.nextOut
	start := len(c.out)
	c.out = appendMessageRouted(c.out, &s.cfg.Header, msgType, seq, now, nil, route, body)
	if app && !s.cfg.NoResendStore {
		s.store.save(seq, c.out[start:], key)
	}
	s.store.nextOut++
	s.store.seqDirty = true
	c.lastSent = now
	return nil
}

func (c *conn) logoutLocked(text string) {
	if c.loggingOut || c.closing {
		return
	}
	var body []byte
	if text != "" {
		body = AppendString(nil, 58, text)
	}
	_ = c.sendLocked("5", body, false, time.Now())
	c.loggingOut = true
	grace := c.hb
	if grace <= 0 || grace > 10*time.Second {
		grace = 10 * time.Second
	}
	time.AfterFunc(grace, c.close)
}

// writer writes the store's batch, then what accumulated for the socket
// since its last write with one system call. It ends when the connection is closed; a close
// requested by the reader (closing) happens after the bytes before it went
// out.
func (c *conn) writer() {
	defer close(c.writerDone)
	sess := c.sess
	var buf []byte
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		c.writeMu.Lock()
		sess.mu.Lock()
		buf, c.out = c.out, buf[:0]
		sess.store.take(&c.fb)
		closing := c.closing
		sess.mu.Unlock()
		// The store first: a process killed between the two writes must
		// not come back with sequence numbers below what the counterparty
		// has already received (it would refuse the next logon as "too
		// low").
		if err := c.fb.write(); err != nil {
			sess.log.Error().Err(err).Msg("FIX store write failed")
		}
		c.fb.msgs = keepBuf(c.fb.msgs)
		c.writeMu.Unlock()
		if len(buf) > 0 {
			var err error
			if sess.cfg.WriteEach {
				err = writeEach(c.nc, buf)
			} else {
				_, err = c.nc.Write(buf)
			}
			if err != nil {
				c.close()
				return
			}
		}
		buf = keepBuf(buf)
		if closing {
			c.close()
			return
		}
	}
}

// errLogout ends the reader after a Logout exchange or a refusal.
var errLogout = errors.New("logout")

// readLoop reads and processes messages until the connection ends.
func (c *conn) readLoop(handle func(raw []byte, fields []Field, now time.Time) error, log zerolog.Logger) error {
	buf := make([]byte, 0, msgBytesMax+16<<10)
	var fields []Field // the framed message's, reused
	for {
		if len(buf) == cap(buf) {
			return errors.New("message larger than the read buffer")
		}
		n, rerr := c.nc.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		now := time.Now()
		if n > 0 {
			c.lastRecv.Store(now.UnixNano())
		}
		off := 0
		for off < len(buf) {
			m, fs, ferr := frameFields(buf[off:], fields)
			fields = fs
			if ferr == ErrIncomplete {
				break
			}
			if ferr != nil && buf[off] == 0x01 && c.loggedOn {
				// The SOH kept from a garbled message's skip: the next
				// message may start right after it.
				off++
				continue
			}
			if ferr != nil {
				if !c.loggedOn || errors.Is(ferr, ErrTooLarge) {
					// Before the Logon there is no session to go on with;
					// a message over the size limit is refused whole
					// (skipping it would mean reading it), naming the limit.
					return fmt.Errorf("%w: %w", ErrMalformed, ferr)
				}
				// A garbled message is ignored and not counted, and the
				// session goes on (the gap it leaves is recovered by a
				// resend): its bytes are skipped up to the next message.
				skip := nextMessage(buf[off:])
				if skip < 0 {
					// No next message yet: keep a last SOH, which may
					// start one.
					skip = len(buf) - off
					if buf[len(buf)-1] == 0x01 {
						skip--
					}
					if skip == 0 {
						break
					}
				}
				off += skip
				if err := c.garbledMsg(skip, ferr, log); err != nil {
					return err
				}
				continue
			}
			raw := buf[off : off+m]
			off += m
			if !checksumOK(raw) {
				// Dropped as the standard says (a resend fills the gap).
				if err := c.garbledMsg(m, errors.New("CheckSum mismatch"), log); err != nil {
					return err
				}
				continue
			}
			c.garbledRun, c.garbledBytes = 0, 0
			if err := handle(raw, fields, now); err != nil {
				return err
			}
		}
		if off > 0 {
			buf = buf[:copy(buf, buf[off:])]
			c.kick() // the store's sequence numbers, and any answers
		}
		if rerr != nil {
			return rerr
		}
	}
}

// Limits on garbled input: a stream with garbledRunMax garbled messages in
// a row, or garbledBytesMax bytes without a good message, is not FIX, and
// its connection ends (ErrMalformed) instead of being read forever.
const (
	garbledRunMax   = 64
	garbledBytesMax = 4 * msgBytesMax
)

// garbledMsg counts n bytes of a garbled message (reader only). A garbled
// message is logged once per connection, not per message.
func (c *conn) garbledMsg(n int, why error, log zerolog.Logger) error {
	c.garbled++
	c.garbledRun++
	c.garbledBytes += n
	if c.garbled == 1 {
		log.Warn().Str("remote", c.nc.RemoteAddr().String()).Str("why", why.Error()).Msg("garbled FIX message dropped; later ones on this connection are dropped silently")
	}
	if c.garbledRun > garbledRunMax || c.garbledBytes > garbledBytesMax {
		return fmt.Errorf("%w: %d garbled messages (%d bytes) without a good one, the last: %w", ErrMalformed, c.garbledRun, c.garbledBytes, why)
	}
	return nil
}

// nextMessage returns where the next message may start in b: just after a
// SOH followed by "8=". -1 when there is none.
func nextMessage(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	// b[0] is the garbled message's first byte: '8', or a SOH kept from
	// the previous read, which may start "␁8=" itself.
	i := bytes.Index(b, []byte("\x018="))
	if i < 0 {
		return -1
	}
	return i + 1
}

// process handles one framed message of a logged-on connection (sess set,
// reader goroutine); fields are raw's, as frameFields gave them.
func (c *conn) process(raw []byte, fields []Field, now time.Time) error {
	s := c.sess
	m := &c.msg
	m.set(raw, fields, now)
	if b, _ := m.Get(8); string(b) != s.cfg.Header.BeginString {
		c.logoutAndClose(fmt.Sprintf("Incorrect BeginString: %q is not this session's %q", b, s.cfg.Header.BeginString))
		return errLogout
	}
	seqv, _ := m.Get(34)
	seq, ok := ParseUint(seqv)
	m.SeqNum = seq
	if string(m.MsgType) == "4" {
		if gf, _ := m.Get(123); string(gf) != "Y" {
			// SequenceReset-Reset: NewSeqNo applies whatever MsgSeqNum
			// says (0 and absent included).
			return c.seqReset(m)
		}
	}
	if !ok || seq == 0 {
		c.logoutAndClose("MsgSeqNum (34) missing or not a positive integer")
		return errLogout
	}
	if string(m.MsgType) == "A" {
		if rf, _ := m.Get(141); string(rf) == "Y" {
			return c.resetByLogon(m)
		}
	}
	s.mu.Lock()
	next := s.store.nextIn
	s.mu.Unlock()
	switch {
	case seq > next:
		return c.gap(m, next)
	case seq < next:
		if pd, _ := m.Get(43); string(pd) == "Y" {
			// A possible duplicate of one we have: ignored once its
			// OrigSendingTime checks out.
			if ok, err := c.checkPossDup(m, false); !ok {
				return err
			}
			return nil
		}
		c.logoutAndClose(fmt.Sprintf("MsgSeqNum too low, expecting %d but received %d", next, seq))
		return errLogout
	}
	if err := c.dispatch(m); err != nil {
		return err
	}
	return c.drainQueued()
}

// queuedMsg is a message kept behind a sequence gap.
type queuedMsg struct {
	raw []byte
	// answered: a ResendRequest answered on arrival, whose turn only
	// moves the sequence on.
	answered bool
}

// queuedMax bounds the messages kept behind one sequence gap.
const queuedMax = 100_000

// gap asks for the missing messages once and keeps the early ones.
func (c *conn) gap(m *Message, next uint64) error {
	s := c.sess
	if string(m.MsgType) == "5" {
		// A counterparty that is leaving will not answer a ResendRequest:
		// its Logout is answered now and the expected number stays, so the
		// gap is asked for at the next logon.
		s.mu.Lock()
		if !c.loggingOut {
			text := fmt.Sprintf("logout acknowledged; MsgSeqNum %d expected, %d received: the messages between are asked for at the next logon", next, m.SeqNum)
			_ = c.sendRoutedLocked("5", c.routeOf(m), AppendString(nil, 58, text), false, time.Now())
		}
		c.closing = true
		s.mu.Unlock()
		return errLogout
	}
	if c.queued == nil {
		c.queued = map[uint64]queuedMsg{}
	}
	if len(c.queued) > queuedMax {
		c.logoutAndClose("too many messages queued behind a sequence gap")
		return errLogout
	}
	q := queuedMsg{raw: bytes.Clone(m.Raw)}
	if string(m.MsgType) == "2" {
		// A ResendRequest is answered at once, even behind our own gap:
		// when both sides ask at the same time, neither waits for the
		// other (FIX test case 20).
		ok, err := c.verify(m, false)
		if err != nil {
			return err
		}
		if ok {
			c.resend(m)
		}
		q.answered = true // answered (or rejected) once, not again at its turn
	}
	c.queued[m.SeqNum] = q
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.resendTo == 0 || c.resendTo < next {
		c.resendTo = m.SeqNum
		c.resendRequestLocked(next, time.Now())
	}
	return nil
}

// drainQueued processes messages kept behind a gap once their turn comes.
func (c *conn) drainQueued() error {
	for len(c.queued) > 0 {
		c.sess.mu.Lock()
		next := c.sess.store.nextIn
		c.sess.mu.Unlock()
		q, ok := c.queued[next]
		if !ok {
			// Drop what can no longer be used (below next).
			for seq := range c.queued {
				if seq < next {
					delete(c.queued, seq)
				}
			}
			return nil
		}
		delete(c.queued, next)
		if q.answered {
			c.advance(next + 1)
			continue
		}
		m := &c.msg
		m.reset(q.raw, m.Fields, time.Now())
		m.SeqNum = next
		if err := c.dispatch(m); err != nil {
			return err
		}
	}
	return nil
}

func (c *conn) advance(to uint64) {
	s := c.sess
	s.mu.Lock()
	if to > s.store.nextIn {
		s.store.nextIn = to
		s.store.seqDirty = true
	}
	if c.resendTo != 0 && s.store.nextIn > c.resendTo {
		c.resendTo = 0
	}
	s.mu.Unlock()
}

// seqReset applies a SequenceReset in reset mode (123 absent or N): its
// MsgSeqNum is ignored.
func (c *conn) seqReset(m *Message) error {
	if ok, err := c.verify(m, false); !ok {
		return err
	}
	v, _ := m.Get(36)
	n, ok := ParseUint(v)
	if !ok || n == 0 {
		c.reject(m, 5, "NewSeqNo (36) missing or not a positive integer", 36)
		return nil
	}
	s := c.sess
	s.mu.Lock()
	if n < s.store.nextIn {
		next := s.store.nextIn
		s.mu.Unlock()
		c.reject(m, 5, fmt.Sprintf("%s: NewSeqNo %d is below the expected MsgSeqNum %d", txtOutOfRange, n, next), 36)
		return nil
	}
	s.mu.Unlock()
	c.advance(n)
	return c.drainQueued()
}

// resetByLogon answers a Logon with ResetSeqNumFlag=Y inside a logged-on
// session (FIX 4.4): both sides start again from 1; our Logon answer is
// our MsgSeqNum 1 and the counterparty's Logon was its 1.
func (c *conn) resetByLogon(m *Message) error {
	if ok, err := c.verify(m, false); !ok {
		return err
	}
	if m.SeqNum != 1 {
		c.logoutAndClose(fmt.Sprintf("Logon with ResetSeqNumFlag=Y must have MsgSeqNum 1, not %d", m.SeqNum))
		return errLogout
	}
	s := c.sess
	// The writer is between batches while writeMu is held: the store's
	// files can be reset under it.
	c.writeMu.Lock()
	s.mu.Lock()
	err := s.store.reset()
	if err == nil {
		c.queued, c.resendTo = nil, 0
		body := AppendString(nil, 98, "0")
		body = AppendInt(body, 108, int64(c.hb/time.Second))
		body = AppendString(body, 141, "Y")
		_ = c.sendRoutedLocked("A", c.routeOf(m), body, false, time.Now())
		s.store.nextIn = 2
		s.store.seqDirty = true
	}
	s.mu.Unlock()
	c.writeMu.Unlock()
	if err != nil {
		c.logoutAndClose("sequence reset failed: " + err.Error())
		return errLogout
	}
	s.log.Info().Msg("sequence numbers reset by the counterparty's Logon (ResetSeqNumFlag=Y)")
	return nil
}

// verify runs the checks every message passes before it is acted on: its
// data dictionary, CompIDs, SendingTime, PossDup's OrigSendingTime. A
// failed check is answered (a Reject, and a Logout where FIX asks for
// one); count moves the expected MsgSeqNum past the message then. It
// returns false when the message is not to be acted on, with errLogout
// when the connection ends.
func (c *conn) verify(m *Message, count bool) (bool, error) {
	s := c.sess
	fail := func(reason, tag int, text string) {
		if count {
			c.advance(m.SeqNum + 1)
		}
		c.reject(m, reason, text, tag)
	}
	if t, ok := EmptyField(m.Fields); ok {
		// Nothing reads it (QuickFIX/Go's parser panics on some empty
		// fields): it is rejected and its number used up.
		fail(4, t, "Tag specified without a value")
		return false, nil
	}
	if s.dict != nil && (c.acceptor != nil || isAdmin(m.MsgType)) {
		if r, ok := s.dict.validate(m.Fields); !ok {
			fail(r.reason, r.tag, r.text)
			return false, nil
		}
	}
	if b, _ := m.Get(49); string(b) != s.cfg.Header.TargetCompID {
		fail(9, 49, txtCompID)
		c.logoutAndClose("CompID problem: SenderCompID " + strconv.Quote(string(b)))
		return false, errLogout
	}
	if b, _ := m.Get(56); string(b) != s.cfg.Header.SenderCompID {
		fail(9, 56, txtCompID)
		c.logoutAndClose("CompID problem: TargetCompID " + strconv.Quote(string(b)))
		return false, errLogout
	}
	st, ok := m.Get(52)
	if !ok {
		fail(1, 52, txtRequiredMissing)
		return false, nil
	}
	sent, ok := ParseTimestamp(st)
	if !ok {
		fail(6, 52, txtDataFormat)
		return false, nil
	}
	if s.cfg.MaxLatency > 0 && !m.ReceiveTime.IsZero() {
		if d := m.ReceiveTime.Sub(sent); d > s.cfg.MaxLatency || d < -s.cfg.MaxLatency {
			fail(10, 52, txtSendingTime)
			c.logoutAndClose("SendingTime accuracy problem")
			return false, errLogout
		}
	}
	if pd, _ := m.Get(43); string(pd) == "Y" {
		return c.checkPossDup(m, count)
	}
	return true, nil
}

// checkPossDup checks a possible duplicate's OrigSendingTime (122): it must
// be there and no later than its SendingTime.
func (c *conn) checkPossDup(m *Message, count bool) (bool, error) {
	if string(m.MsgType) == "4" {
		return true, nil // a gap fill's OrigSendingTime may be the resend's own time
	}
	orig, ok := m.Get(122)
	if !ok {
		if count {
			c.advance(m.SeqNum + 1)
		}
		c.reject(m, 1, txtRequiredMissing, 122)
		return false, nil
	}
	st, _ := m.Get(52)
	sent, ok1 := ParseTimestamp(st)
	ot, ok2 := ParseTimestamp(orig)
	if !ok2 {
		if count {
			c.advance(m.SeqNum + 1)
		}
		c.reject(m, 6, txtDataFormat, 122)
		return false, nil
	}
	if ok1 && ot.After(sent) {
		if count {
			c.advance(m.SeqNum + 1)
		}
		c.reject(m, 10, txtSendingTime, 122)
		return false, nil
	}
	return true, nil
}

// isAdmin reports whether a MsgType is one of the session layer's.
func isAdmin(mt []byte) bool {
	if len(mt) != 1 {
		return false
	}
	switch mt[0] {
	case '0', '1', '2', '3', '4', '5', 'A':
		return true
	}
	return false
}

// dispatch handles the message whose MsgSeqNum is the expected one.
func (c *conn) dispatch(m *Message) error {
	s := c.sess
	if ok, err := c.verify(m, true); !ok {
		return err
	}
	if len(m.MsgType) == 1 {
		switch m.MsgType[0] {
		case '0': // Heartbeat
			c.advance(m.SeqNum + 1)
			if id, ok := m.Get(112); ok {
				s.mu.Lock()
				if string(id) == c.testReqID {
					c.testReqID = ""
				}
				s.mu.Unlock()
			}
			return nil
		case '1': // TestRequest
			c.advance(m.SeqNum + 1)
			var body []byte
			if id, ok := m.Get(112); ok {
				body = AppendField(nil, 112, id)
			}
			s.mu.Lock()
			_ = c.sendRoutedLocked("0", c.routeOf(m), body, false, time.Now())
			s.mu.Unlock()
			return nil
		case '2': // ResendRequest
			c.advance(m.SeqNum + 1)
			c.resend(m)
			return nil
		case '3': // Reject
			c.advance(m.SeqNum + 1)
			if a, ok := s.app.(AdminApp); ok {
				a.FromAdmin(s, m)
				return nil
			}
			txt, _ := m.Get(58)
			ref, _ := m.Get(45)
			s.log.Warn().Str("text", string(txt)).Str("ref_seq_num", string(ref)).Msg("session-level Reject received")
			return nil
		case '4': // SequenceReset-GapFill
			v, _ := m.Get(36)
			n, ok := ParseUint(v)
			if !ok || n <= m.SeqNum {
				c.advance(m.SeqNum + 1)
				c.reject(m, 5, "NewSeqNo (36) must be above the MsgSeqNum of a gap fill", 36)
				return nil
			}
			c.advance(n)
			return nil
		case '5': // Logout
			c.advance(m.SeqNum + 1)
			txt, _ := m.Get(58)
			s.mu.Lock()
			ours := c.loggingOut
			if !ours {
				_ = c.sendRoutedLocked("5", c.routeOf(m), nil, false, time.Now())
			}
			c.closing = true
			s.mu.Unlock()
			if !ours {
				s.log.Debug().Str("text", string(txt)).Msg("counterparty logged out")
			}
			return errLogout
		case 'A': // Logon while logged on (without a reset)
			c.advance(m.SeqNum + 1)
			return nil
		}
	}
	c.advance(m.SeqNum + 1)
	if rej := s.app.FromApp(s, m); rej != nil {
		c.rejectErr(m, rej)
	}
	return nil
}

// routePairs maps each third-party routing field to the one that carries
// its value on a reply: OnBehalfOf* ⇄ DeliverTo*.
var routePairs = [...][2]int{{115, 128}, {128, 115}, {116, 129}, {129, 116}, {144, 145}, {145, 144}}

// routeOf returns the routing header fields of a reply to m (reader
// goroutine; the bytes are reused by the next call), nil when m has none.
func (c *conn) routeOf(m *Message) []byte {
	c.route = appendRoute(c.route[:0], m)
	if len(c.route) == 0 {
		return nil
	}
	return c.route
}

// appendRoute appends the routing header fields of a reply to m.
func appendRoute(dst []byte, m *Message) []byte {
	if m == nil {
		return dst
	}
	for _, p := range routePairs {
		if v, ok := m.Get(p[0]); ok && len(v) > 0 {
			dst = AppendField(dst, p[1], v)
		}
	}
	return dst
}

// reject sends a session-level Reject (3) of m; a negative refTag names
// no tag (0 is a tag here: the invalid tag number 0 is named in its Reject).
func (c *conn) reject(m *Message, reason int, text string, refTag int) {
	c.rejectErr(m, &RejectError{Text: text, Reason: reason, RefTagID: refTag, HasRefTag: refTag >= 0})
}

// rejectErr answers m with a Reject (3) or a BusinessMessageReject (j), the
// fields QuickFIX/Go's session sets for the same error.
func (c *conn) rejectErr(m *Message, rej *RejectError) {
	s := c.sess
	fix42Plus := s.cfg.Header.BeginString >= BeginStringFIX42
	var body []byte
	mt := "3"
	body = AppendInt(body, 45, int64(m.SeqNum))
	if fix42Plus {
		if rej.Business {
			mt = "j"
			body = AppendInt(body, 380, int64(rej.Reason))
		} else {
			if !(rej.Reason > 11 && s.cfg.Header.BeginString == BeginStringFIX42) {
				body = AppendInt(body, 373, int64(rej.Reason))
			}
			if rej.HasRefTag {
				body = AppendInt(body, 371, int64(rej.RefTagID))
			}
		}
		body = AppendString(body, 58, rej.Text)
		if len(m.MsgType) > 0 {
			body = AppendField(body, 372, m.MsgType)
		}
	} else {
		text := rej.Text
		if rej.HasRefTag {
			text = fmt.Sprintf("%s (%d)", text, rej.RefTagID)
		}
		body = AppendString(body, 58, text)
	}
	s.mu.Lock()
	_ = c.sendRoutedLocked(mt, c.routeOf(m), body, mt == "j", time.Now())
	s.mu.Unlock()
}

// resend answers a ResendRequest: stored application messages again with
// PossDupFlag=Y and OrigSendingTime, and SequenceReset-GapFill over
// everything else (admin messages and what the store no longer has).
func (c *conn) resend(m *Message) {
	s := c.sess
	bv, _ := m.Get(7)
	ev, _ := m.Get(16)
	begin, ok1 := ParseUint(bv)
	end, ok2 := ParseUint(ev)
	if !ok1 || !ok2 || begin == 0 {
		c.reject(m, 5, "BeginSeqNo (7) and EndSeqNo (16) must be integers", 7)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	last := s.store.nextOut - 1
	if end == 0 || end > last {
		end = last
	}
	if begin > end {
		// Nothing of that range was sent: tell where we are.
		body := AppendString(nil, 123, "Y")
		body = AppendInt(body, 36, int64(s.store.nextOut))
		now := time.Now()
		c.out = AppendMessage(c.out, &s.cfg.Header, "4", begin, now, appendSessionTimestamp(nil, s.cfg.Header.BeginString, now), body)
		return
	}
	now := time.Now()
	gapFrom := uint64(0)
	flushGap := func(upTo uint64) {
		if gapFrom == 0 {
			return
		}
		body := AppendString(nil, 123, "Y")
		body = AppendInt(body, 36, int64(upTo))
		c.out = AppendMessage(c.out, &s.cfg.Header, "4", gapFrom, now, appendSessionTimestamp(nil, s.cfg.Header.BeginString, now), body)
		gapFrom = 0
	}
	for seq := begin; seq <= end; seq++ {
		raw, ok := s.store.get(seq)
		if !ok {
			if gapFrom == 0 {
				gapFrom = seq
			}
			continue
		}
		flushGap(seq)
		mt, orig, body := bodyOf(raw)
		if orig == nil {
			orig = appendSessionTimestamp(nil, s.cfg.Header.BeginString, now)
		}
		// orig and body point into the store's buffers, never into c.out.
		c.out = AppendMessage(c.out, &s.cfg.Header, string(mt), seq, now, orig, body)
	}
	flushGap(end + 1)
	c.lastSent = now
}

// logoutAndClose sends a Logout with text and closes once it is written.
func (c *conn) logoutAndClose(text string) {
	s := c.sess
	s.log.Warn().Str("reason", text).Msg("logging out")
	s.mu.Lock()
	var body []byte
	if text != "" {
		body = AppendString(nil, 58, text)
	}
	if !c.closing {
		_ = c.sendLocked("5", body, false, time.Now())
	}
	c.closing = true
	s.mu.Unlock()
	c.kick()
}

// timer sends heartbeats and test requests and ends a silent connection.
func (c *conn) timer() {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			s := c.sess
			s.mu.Lock()
			if !c.loggedOn || c.hb <= 0 {
				s.mu.Unlock()
				continue
			}
			quiet := now.Sub(time.Unix(0, c.lastRecv.Load()))
			switch {
			case c.testReqID != "" && now.Sub(c.testReqAt) > c.hb:
				s.mu.Unlock()
				s.log.Warn().Msg("no answer to TestRequest: disconnecting")
				c.close()
				return
			case c.testReqID == "" && quiet > c.hb+c.hb/5:
				c.testReqID = "TEST-" + strconv.FormatInt(now.UnixNano(), 10)
				c.testReqAt = now
				_ = c.sendLocked("1", AppendString(nil, 112, c.testReqID), false, now)
			case now.Sub(c.lastSent) >= c.hb:
				_ = c.sendLocked("0", nil, false, now)
			default:
				s.mu.Unlock()
				continue
			}
			s.mu.Unlock()
			c.kick()
		}
	}
}
