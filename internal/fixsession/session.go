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
// (quickfixgo/quickfix#678). Here a connection has one reader goroutine that
// processes every message of a read in turn and one writer goroutine that
// writes whatever accumulated since its last write with one system call (and
// the store's records with one more), so under load the per-message cost is
// a few hundred nanoseconds of formatting rather than several system calls
// and goroutine hand-offs. QuickFIX/Go's message type is still used where it
// costs nothing on the hot path: parsing the rarer inbound messages (Logon,
// MarketDataRequest) on demand (Message.Quickfix) and building the rarer
// outbound ones (Session.Send).
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

	"github.com/quickfixgo/quickfix"
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

	qf     quickfix.Message
	parsed bool
	buf    bytes.Buffer
}

// Get returns the value of the first field with tag.
func (m *Message) Get(tag int) ([]byte, bool) { return Get(m.Fields, tag) }

// reset makes m the message raw (fields scanned into fs, reused). The
// QuickFIX/Go copy is left as it is (not copied over per message) and
// marked stale; Quickfix parses it again on demand.
func (m *Message) reset(raw []byte, fs []Field, now time.Time) {
	m.set(raw, Scan(raw, fs[:0]), now)
}

// set makes m the message raw whose fields are already scanned.
func (m *Message) set(raw []byte, fields []Field, now time.Time) {
	m.Raw, m.Fields, m.ReceiveTime, m.parsed = raw, fields, now, false
	m.MsgType, _ = Get(m.Fields, 35)
	m.SeqNum = 0
}

// Quickfix parses the message into QuickFIX/Go's message type (once per
// callback). The result shares the callback's lifetime.
func (m *Message) Quickfix() (*quickfix.Message, error) {
	if !m.parsed {
		m.buf.Reset()
		m.buf.Write(m.Raw)
		m.qf = *quickfix.NewMessage()
		if err := quickfix.ParseMessage(&m.qf, &m.buf); err != nil {
			return nil, err
		}
		m.qf.ReceiveTime = m.ReceiveTime
		m.parsed = true
	}
	return &m.qf, nil
}

// App is what a session layer user implements. Callbacks for one session
// run on its connection's reader goroutine, one at a time.
type App interface {
	// Logon vets a counterparty's Logon: on an acceptor before it is
	// answered (s is nil when no configured session matches sid, which is
	// our view: SenderCompID is us), on an initiator when the answer
	// arrives. A non-empty refusal is sent as the Logout's Text and the
	// connection closed.
	Logon(sid quickfix.SessionID, s *Session, msg *Message) (refusal string)
	OnLogon(s *Session)
	// OnLogout is called once when a logged-on session's connection ends.
	OnLogout(s *Session)
	// FromApp handles an application message; a non-nil error is answered
	// with a Reject (3) or, when it is a business reject, a
	// BusinessMessageReject (j), as QuickFIX/Go does.
	FromApp(s *Session, msg *Message) quickfix.MessageRejectError
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
	// Schedule resets the sequence numbers daily and removes earlier days'
	// stores after a retention (rollover.go); the zero value never does.
	Schedule StoreSchedule
}

// ID returns the session's identity in QuickFIX/Go's terms.
func (st *Settings) ID() quickfix.SessionID {
	return quickfix.SessionID{BeginString: st.Header.BeginString, SenderCompID: st.Header.SenderCompID, TargetCompID: st.Header.TargetCompID}
}

// Errors of Send.
var (
	ErrNotLoggedOn = errors.New("fixsession: not logged on")
	ErrTooMuch     = errors.New("fixsession: outbound buffer full (the counterparty does not read)")
	// ErrMalformed ends a connection whose bytes are not well-formed FIX.
	ErrMalformed = errors.New("malformed FIX message")
)

// outMax bounds the bytes waiting for the writer of one connection; past it
// the connection is closed (a counterparty that does not read).
var outMax = 64 << 20

// Session is one configured FIX session; it outlives its connections.
type Session struct {
	cfg   Settings
	id    quickfix.SessionID
	app   App
	log   zerolog.Logger
	store *store

	mu   sync.Mutex
	conn *conn // logged on (or logging on) connection, nil otherwise
}

// NewSession opens the session's store.
func NewSession(cfg Settings, app App, log zerolog.Logger) (*Session, error) {
	st, err := openStoreAt(cfg.StoreDir, &cfg.Header, cfg.Schedule, time.Now())
	if err != nil {
		return nil, err
	}
	st.sync = cfg.StoreSync
	return &Session{cfg: cfg, id: cfg.ID(), app: app, log: log.With().Str("session", cfg.ID().String()).Logger(), store: st}, nil
}

// ID is the session's identity (our view).
func (s *Session) ID() quickfix.SessionID { return s.id }

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

// Send sends an application message built with QuickFIX/Go's type (for
// the rarer messages); its header fields other than MsgType are ignored.
// Session-level messages go through Logout and the session itself.
func (s *Session) Send(m *quickfix.Message) error {
	mt, body, err := BodyOf(m)
	if err != nil {
		return err
	}
	return s.SendBody(mt, body)
}

// BodyOf serializes a QuickFIX/Go message and returns its MsgType and the
// body fields.
func BodyOf(m *quickfix.Message) (string, []byte, error) {
	mt, err := m.Header.GetBytes(35)
	if err != nil || len(mt) == 0 {
		return "", nil, errors.New("fixsession: message without MsgType")
	}
	var c quickfix.Message
	c.Header.Init()
	c.Body.Init()
	c.Trailer.Init()
	c.Header.SetBytes(35, mt)
	m.Body.CopyInto(&c.Body.FieldMap)
	raw := c.Bytes()
	// raw is 9=..␁35=..␁<body>10=..␁
	i := bytes.Index(raw, []byte("\x0135="))
	if i < 0 {
		return "", nil, errors.New("fixsession: cannot serialize message")
	}
	j := bytes.IndexByte(raw[i+1:], 0x01)
	start := i + 1 + j + 1
	end := len(raw) - len("10=000\x01")
	if start > end {
		return "", nil, errors.New("fixsession: cannot serialize message")
	}
	return string(mt), raw[start:end], nil
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
	queued     map[uint64][]byte

	wake      chan struct{} // cap 1: out has bytes or the store has a batch
	done      chan struct{} // closed when the connection is closed
	closeOnce sync.Once

	lastRecv   atomic.Int64 // unix ns of the last read
	writerDone chan struct{}
	msg        Message
	garbled    int // messages dropped for a bad CheckSum (reader only)
	fb         flushBatch
}

func newConn(nc net.Conn) *conn {
	c := &conn{nc: nc, wake: make(chan struct{}, 1), done: make(chan struct{}), writerDone: make(chan struct{})}
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
	s := c.sess
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
	c.out = AppendMessage(c.out, &s.cfg.Header, msgType, seq, now, nil, body)
	if app && !s.cfg.NoResendStore {
		s.store.save(seq, c.out[start:])
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
		if len(buf) > 0 {
			if _, err := c.nc.Write(buf); err != nil {
				c.close()
				return
			}
		}
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
	buf := make([]byte, 0, MsgBytesMax+16<<10)
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
			m, fs, ferr := FrameFields(buf[off:], fields)
			fields = fs
			if ferr == ErrIncomplete {
				break
			}
			if ferr != nil {
				return fmt.Errorf("%w: %w", ErrMalformed, ferr)
			}
			raw := buf[off : off+m]
			off += m
			if !ChecksumOK(raw) {
				// Dropped as the standard says (a resend fills the gap);
				// logged once per connection, not per message.
				if c.garbled++; c.garbled == 1 {
					log.Warn().Str("remote", c.nc.RemoteAddr().String()).Msg("garbled FIX message (CheckSum mismatch): dropped; later ones on this connection are dropped silently")
				}
				continue
			}
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

// process handles one framed message of a logged-on connection (sess set,
// reader goroutine); fields are raw's, as FrameFields gave them.
func (c *conn) process(raw []byte, fields []Field, now time.Time) error {
	s := c.sess
	m := &c.msg
	m.set(raw, fields, now)
	seqv, _ := m.Get(34)
	seq, ok := ParseUint(seqv)
	if !ok || seq == 0 {
		c.logoutAndClose("MsgSeqNum (34) missing or not a positive integer")
		return errLogout
	}
	m.SeqNum = seq
	if b, _ := m.Get(8); string(b) != s.cfg.Header.BeginString {
		c.logoutAndClose(fmt.Sprintf("BeginString %q is not this session's %q", b, s.cfg.Header.BeginString))
		return errLogout
	}
	if string(m.MsgType) == "4" {
		if gf, _ := m.Get(123); string(gf) != "Y" {
			// SequenceReset-Reset: NewSeqNo applies whatever MsgSeqNum says.
			return c.seqReset(m)
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
			return nil // a duplicate we already have
		}
		c.logoutAndClose(fmt.Sprintf("MsgSeqNum too low, expecting %d but received %d", next, seq))
		return errLogout
	}
	if err := c.dispatch(m); err != nil {
		return err
	}
	return c.drainQueued()
}

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
			_ = c.sendLocked("5", AppendString(nil, 58, text), false, time.Now())
		}
		c.closing = true
		s.mu.Unlock()
		return errLogout
	}
	if c.queued == nil {
		c.queued = map[uint64][]byte{}
	}
	if len(c.queued) > 100_000 {
		c.logoutAndClose("too many messages queued behind a sequence gap")
		return errLogout
	}
	c.queued[m.SeqNum] = bytes.Clone(m.Raw)
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
		raw, ok := c.queued[next]
		if !ok {
			// Drop what can no longer be used (below next).
			for q := range c.queued {
				if q < next {
					delete(c.queued, q)
				}
			}
			return nil
		}
		delete(c.queued, next)
		m := &c.msg
		m.reset(raw, m.Fields, time.Now())
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

func (c *conn) seqReset(m *Message) error {
	v, _ := m.Get(36)
	n, ok := ParseUint(v)
	if !ok || n == 0 {
		c.reject(m, 5, "NewSeqNo (36) missing or not a positive integer", 36)
		return nil
	}
	s := c.sess
	s.mu.Lock()
	if n < s.store.nextIn {
		s.mu.Unlock()
		c.reject(m, 5, fmt.Sprintf("NewSeqNo %d is below the expected MsgSeqNum %d", n, s.store.nextIn), 36)
		return nil
	}
	s.mu.Unlock()
	c.advance(n)
	return c.drainQueued()
}

// dispatch handles the message whose MsgSeqNum is the expected one.
func (c *conn) dispatch(m *Message) error {
	s := c.sess
	if t, ok := EmptyField(m.Fields); ok {
		// Nothing reads it (QuickFIX/Go's parser panics on some empty
		// fields): it is rejected and its number used up.
		c.advance(m.SeqNum + 1)
		c.reject(m, 4, "Tag specified without a value", t)
		return nil
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
			_ = c.sendLocked("0", body, false, time.Now())
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
				_ = c.sendLocked("5", nil, false, time.Now())
			}
			c.closing = true
			s.mu.Unlock()
			if !ours {
				s.log.Debug().Str("text", string(txt)).Msg("counterparty logged out")
			}
			return errLogout
		case 'A': // Logon while logged on
			c.advance(m.SeqNum + 1)
			return nil
		}
	}
	// An application message: identity, then SendingTime.
	if b, _ := m.Get(49); string(b) != s.cfg.Header.TargetCompID {
		c.advance(m.SeqNum + 1)
		c.reject(m, 9, "CompID problem", 49)
		c.logoutAndClose("CompID problem: SenderCompID " + strconv.Quote(string(b)))
		return errLogout
	}
	if b, _ := m.Get(56); string(b) != s.cfg.Header.SenderCompID {
		c.advance(m.SeqNum + 1)
		c.reject(m, 9, "CompID problem", 56)
		c.logoutAndClose("CompID problem: TargetCompID " + strconv.Quote(string(b)))
		return errLogout
	}
	st, ok := m.Get(52)
	if !ok {
		c.advance(m.SeqNum + 1)
		c.reject(m, 1, "Required tag missing", 52)
		return nil
	}
	if s.cfg.MaxLatency > 0 {
		t, ok := ParseTimestamp(st)
		if !ok {
			c.advance(m.SeqNum + 1)
			c.reject(m, 6, "Incorrect data format for value", 52)
			return nil
		}
		if d := m.ReceiveTime.Sub(t); d > s.cfg.MaxLatency || d < -s.cfg.MaxLatency {
			c.advance(m.SeqNum + 1)
			c.reject(m, 10, "SendingTime accuracy problem", 52)
			c.logoutAndClose("SendingTime accuracy problem")
			return errLogout
		}
	}
	c.advance(m.SeqNum + 1)
	if rej := s.app.FromApp(s, m); rej != nil {
		c.rejectErr(m, rej)
	}
	return nil
}

// reject sends a session-level Reject (3) of m.
func (c *conn) reject(m *Message, reason int, text string, refTag int) {
	c.rejectErr(m, quickfix.NewMessageRejectError(text, reason, tagPtr(refTag)))
}

func tagPtr(t int) *quickfix.Tag {
	if t == 0 {
		return nil
	}
	q := quickfix.Tag(t)
	return &q
}

// rejectErr answers m with a Reject (3) or a BusinessMessageReject (j), the
// fields QuickFIX/Go's session sets for the same error.
func (c *conn) rejectErr(m *Message, rej quickfix.MessageRejectError) {
	s := c.sess
	fix42Plus := s.cfg.Header.BeginString >= quickfix.BeginStringFIX42
	var body []byte
	mt := "3"
	body = AppendInt(body, 45, int64(m.SeqNum))
	if fix42Plus {
		if rej.IsBusinessReject() {
			mt = "j"
			body = AppendInt(body, 380, int64(rej.RejectReason()))
			if ref := rej.BusinessRejectRefID(); ref != "" {
				body = AppendString(body, 379, ref)
			}
		} else {
			if !(rej.RejectReason() > 11 && s.cfg.Header.BeginString == quickfix.BeginStringFIX42) {
				body = AppendInt(body, 373, int64(rej.RejectReason()))
			}
			if ref := rej.RefTagID(); ref != nil {
				body = AppendInt(body, 371, int64(*ref))
			}
		}
		body = AppendString(body, 58, rej.Error())
		if len(m.MsgType) > 0 {
			body = AppendField(body, 372, m.MsgType)
		}
	} else {
		text := rej.Error()
		if ref := rej.RefTagID(); ref != nil {
			text = fmt.Sprintf("%s (%d)", text, *ref)
		}
		body = AppendString(body, 58, text)
	}
	s.mu.Lock()
	_ = c.sendLocked(mt, body, mt == "j", time.Now())
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
		c.out = AppendMessage(c.out, &s.cfg.Header, "4", begin, now, AppendTimestamp(nil, now), body)
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
		c.out = AppendMessage(c.out, &s.cfg.Header, "4", gapFrom, now, AppendTimestamp(nil, now), body)
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
			orig = AppendTimestamp(nil, now)
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
