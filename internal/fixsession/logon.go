package fixsession

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// LogonTimeout is how long a new connection has to send its Logon (and an
// initiator to get the answer).
const LogonTimeout = 10 * time.Second

// Acceptor accepts FIX connections for a set of configured sessions.
type Acceptor struct {
	app App
	log zerolog.Logger
	// Malformed, when set, is called for each connection closed because its
	// bytes were not well-formed FIX.
	Malformed func(remote string, err error)

	mu       sync.Mutex
	ln       net.Listener
	sessions map[SessionID]*Session
	conns    map[*conn]struct{}
	stopping bool
	wg       sync.WaitGroup
}

// NewAcceptor returns an acceptor with no sessions.
func NewAcceptor(app App, log zerolog.Logger) *Acceptor {
	return &Acceptor{app: app, log: log, sessions: map[SessionID]*Session{}, conns: map[*conn]struct{}{}}
}

// AddSession configures a session (before Serve).
func (a *Acceptor) AddSession(cfg Settings) (*Session, error) {
	s, err := newSession(cfg, a.app, a.log)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.sessions[s.id] = s
	a.mu.Unlock()
	return s, nil
}

// Session returns a configured session.
func (a *Acceptor) Session(id SessionID) *Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[id]
}

// Serve accepts connections on ln until Stop.
func (a *Acceptor) Serve(ln net.Listener) {
	a.mu.Lock()
	if a.stopping {
		// Stop ran before Serve got going: it could not close ln.
		a.mu.Unlock()
		_ = ln.Close()
		return
	}
	a.ln = ln
	a.mu.Unlock()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c := newConn(nc)
		c.acceptor = a
		a.mu.Lock()
		if a.stopping {
			a.mu.Unlock()
			_ = nc.Close()
			continue
		}
		a.conns[c] = struct{}{}
		a.wg.Add(1)
		a.mu.Unlock()
		go func() {
			defer a.wg.Done()
			c.run(a.app, a.log)
			a.mu.Lock()
			delete(a.conns, c)
			a.mu.Unlock()
		}()
	}
}

// Stop stops accepting, logs every session out with text and waits (at most
// wait) for the connections to end; those still open are closed.
func (a *Acceptor) Stop(text string, wait time.Duration) {
	a.mu.Lock()
	a.stopping = true
	if a.ln != nil {
		_ = a.ln.Close()
	}
	var sessions []*Session
	for _, s := range a.sessions {
		sessions = append(sessions, s)
	}
	a.mu.Unlock()
	for _, s := range sessions {
		_ = s.Logout(text)
	}
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		a.mu.Lock()
		for c := range a.conns {
			c.close()
		}
		a.mu.Unlock()
		<-done
	}
	for _, s := range sessions {
		s.Close()
	}
}

// run serves one connection from its Logon to its end.
func (c *conn) run(app App, log zerolog.Logger) {
	_ = c.nc.SetReadDeadline(time.Now().Add(LogonTimeout))
	err := c.readLoop(func(raw []byte, fields []Field, now time.Time) error {
		if !c.loggedOn {
			return c.logon(app, raw, now, log)
		}
		return c.process(raw, fields, now)
	}, log)
	if errors.Is(err, ErrMalformed) && c.acceptor.Malformed != nil {
		c.acceptor.Malformed(c.nc.RemoteAddr().String(), err)
	}
	if errors.Is(err, ErrMalformed) && c.sess != nil && c.loggedOn {
		// The byte stream cannot be trusted past this point, so the
		// connection ends; a logged-on counterparty is told why.
		c.logoutAndClose(err.Error() + "; closing the connection")
		err = fmt.Errorf("%w: %w", errLogout, err)
	}
	c.finish(app, err, log)
}

// finish ends a connection: the writer sends what is queued (a Logout), the
// store's last batch is written, the app hears of the logout.
func (c *conn) finish(app App, err error, log zerolog.Logger) {
	s := c.sess
	if s == nil {
		c.close()
		if err != nil && !errors.Is(err, errLogout) && !isClosed(err) {
			log.Info().Str("remote", c.nc.RemoteAddr().String()).Str("reason", err.Error()).Msg("FIX connection closed before logon")
		}
		return
	}
	if errors.Is(err, errLogout) {
		c.kick()
		select {
		case <-c.writerDone:
		case <-time.After(2 * time.Second):
		}
	}
	c.close()
	<-c.writerDone
	defer close(c.released)
	s.mu.Lock()
	wasOn := c.loggedOn
	c.loggedOn = false
	s.store.take(&c.fb)
	werr := c.fb.write()
	if wasOn && (s.cfg.ResetOnLogout || s.cfg.ResetOnDisconnect) {
		_ = s.store.reset()
	}
	s.mu.Unlock()
	if werr != nil {
		s.log.Error().Err(werr).Msg("FIX store write failed")
	}
	if err != nil && !errors.Is(err, errLogout) && !isClosed(err) {
		s.log.Info().Str("reason", err.Error()).Msg("FIX connection ended")
	}
	if wasOn {
		app.OnLogout(s)
	}
	// The session is released only now, after the App heard of the
	// logout: a Logon that came meanwhile waited on released, so the App
	// never sees the next logon before this logout.
	s.mu.Lock()
	if s.conn == c {
		s.conn = nil
	}
	s.mu.Unlock()
}

func isClosed(err error) bool {
	var ne net.Error
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.As(err, &ne) && !ne.Timeout()
}

// logon handles the first message of an acceptor's connection.
func (c *conn) logon(app App, raw []byte, now time.Time, log zerolog.Logger) error {
	fs := Scan(raw, nil)
	mt, _ := Get(fs, 35)
	if string(mt) != "A" {
		return fmt.Errorf("first message is MsgType %q, not a Logon", mt)
	}
	begin, _ := Get(fs, 8)
	them, _ := Get(fs, 49)
	us, _ := Get(fs, 56)
	sid := SessionID{BeginString: string(begin), SenderCompID: string(us), TargetCompID: string(them)}
	s := c.acceptor.Session(sid)
	m := &Message{Raw: raw, Fields: fs, MsgType: mt, ReceiveTime: now}
	seqv, _ := Get(fs, 34)
	seq, okSeq := ParseUint(seqv)
	hbv, _ := Get(fs, 108)
	hb, okHB := ParseUint(hbv)
	refusal := ""
	empty, hasEmpty := EmptyField(fs)
	switch {
	case hasEmpty:
		refusal = fmt.Sprintf("Logon refused: tag %d has no value", empty)
	case !okSeq || seq == 0:
		refusal = "MsgSeqNum (34) missing or not a positive integer"
	case !okHB || hb > 3600:
		refusal = "HeartBtInt (108) missing or not an integer from 0 to 3600"
	case s != nil:
		refusal = logonInvalid(s, fs, now)
	}
	if refusal == "" {
		refusal = app.Logon(sid, s, m)
	}
	if refusal == "" && s == nil {
		refusal = "unknown session " + sid.String()
	}
	if refusal != "" {
		c.refuse(s, sid, refusal)
		return errLogout
	}
	s.mu.Lock()
	if old := s.conn; old != nil && old.ending() {
		// The previous connection of this session is being torn down (we
		// logged it out and closed it, or its socket is gone): a
		// counterparty that reconnected at once waits for its release
		// instead of being refused.
		s.mu.Unlock()
		select {
		case <-old.released:
		case <-time.After(releaseWait):
		}
		s.mu.Lock()
	}
	if s.conn != nil {
		s.mu.Unlock()
		// Duplicate identity (FIX test case 1S b): disconnected without a
		// message, which would use one of the live session's MsgSeqNums.
		log.Warn().Str("session", sid.String()).Str("remote", c.nc.RemoteAddr().String()).Msg("Logon refused: the session is already logged on; disconnected")
		return errLogout
	}
	if _, err := s.store.rollIfDue(time.Now()); err != nil { // a daily reset passed while logged off
		s.mu.Unlock()
		return err
	}
	rf, _ := Get(fs, 141)
	reset := string(rf) == "Y"
	if reset || s.cfg.ResetOnLogon {
		if err := s.store.reset(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	if next := s.store.nextIn; seq < next && !reset {
		s.mu.Unlock()
		c.refuse(s, sid, fmt.Sprintf("MsgSeqNum too low, expecting %d but received %d", next, seq))
		return errLogout
	}
	s.conn = c
	c.sess = s
	c.hb = time.Duration(hb) * time.Second
	body := AppendString(nil, 98, "0")
	body = AppendInt(body, 108, int64(hb))
	if reset {
		body = AppendString(body, 141, "Y")
	}
	_ = c.sendLocked("A", body, false, now)
	c.loggedOn = true
	c.logonSeqLocked(seq, now)
	s.mu.Unlock()
	_ = c.nc.SetReadDeadline(time.Time{})
	go c.writer()
	go c.timer()
	c.kick()
	s.log.Debug().Str("remote", c.nc.RemoteAddr().String()).Msg("FIX logon")
	app.OnLogon(s)
	return nil
}

// releaseWait bounds how long a Logon waits for the session's previous
// connection to be released.
const releaseWait = 5 * time.Second

// ending reports whether a connection is on its way out: closed, or
// closing after a Logout (s.mu held).
func (c *conn) ending() bool {
	if c.closing || !c.loggedOn {
		return true
	}
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// logonInvalid checks a Logon against the session's dictionary and clock
// (FIX test case 1S d: an invalid Logon is refused).
func logonInvalid(s *Session, fs []Field, now time.Time) string {
	if s.dict != nil {
		if r, ok := s.dict.validate(fs); !ok {
			return fmt.Sprintf("Logon refused: %s (tag %d)", r.text, r.tag)
		}
	}
	st, _ := Get(fs, 52)
	sent, ok := ParseTimestamp(st)
	if !ok {
		return "Logon refused: SendingTime (52) missing or not a UTCTimestamp"
	}
	if s.cfg.MaxLatency > 0 {
		if d := now.Sub(sent); d > s.cfg.MaxLatency || d < -s.cfg.MaxLatency {
			return fmt.Sprintf("Logon refused: SendingTime accuracy problem (%s off our clock, at most %s)", d.Round(time.Second), s.cfg.MaxLatency)
		}
	}
	if b, _ := Get(fs, 8); string(b) != s.cfg.Header.BeginString {
		return "Logon refused: Incorrect BeginString"
	}
	return ""
}

// refuse answers a Logon with a Logout that says why and ends the
// connection. The Logout carries a configured session's next outbound
// MsgSeqNum but does not use it up: whoever sent the refused Logon (a wrong
// password, perhaps not the session's owner) must not move the session's
// sequence, or its owner's next logon would meet a gap to fill. Engines
// waiting for a Logon answer do not count a Logout (QuickFIX/Go's
// logonState, QuickFIX C++), so the number is used again by the next
// accepted Logon's answer.
func (c *conn) refuse(s *Session, sid SessionID, text string) {
	h := sid
	seq := uint64(1)
	if s != nil {
		s.mu.Lock()
		if s.conn == nil {
			seq = s.store.nextOut
		}
		s.mu.Unlock()
	}
	out := AppendMessage(nil, &h, "5", seq, time.Now(), nil, AppendString(nil, 58, text))
	_ = c.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, _ = c.nc.Write(out)
	// Let the Logout reach the counterparty before the close.
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
		_ = c.nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		var b [512]byte
		for {
			if _, err := c.nc.Read(b[:]); err != nil {
				break
			}
		}
	}
}

// Initiator keeps one session connected to an acceptor, reconnecting after
// a disconnect until Stop.
type Initiator struct {
	Session   *Session
	Addr      string
	Reconnect time.Duration // default 1s

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewInitiator opens the session and returns its initiator (not started).
func NewInitiator(addr string, cfg Settings, app App, log zerolog.Logger) (*Initiator, error) {
	s, err := newSession(cfg, app, log)
	if err != nil {
		return nil, err
	}
	return &Initiator{Session: s, Addr: addr, Reconnect: time.Second, stop: make(chan struct{}), done: make(chan struct{})}, nil
}

// Start connects in the background.
func (in *Initiator) Start() { go in.loop() }

func (in *Initiator) loop() {
	defer close(in.done)
	for {
		nc, err := net.DialTimeout("tcp", in.Addr, 5*time.Second)
		if err == nil {
			c := newConn(nc)
			c.sess = in.Session
			stopped := make(chan struct{})
			go func() {
				select {
				case <-in.stop:
					_ = in.Session.Logout("")
				case <-stopped:
				}
			}()
			c.runInitiator(in.Session.app, in.Session.log)
			close(stopped)
		} else {
			in.Session.log.Debug().Err(err).Msg("FIX connect failed")
		}
		select {
		case <-in.stop:
			return
		case <-time.After(in.Reconnect):
		}
	}
}

// Stop logs out and stops reconnecting; it returns when the connection has
// ended (at most a few seconds).
func (in *Initiator) Stop() {
	in.once.Do(func() { close(in.stop) })
	select {
	case <-in.done:
	case <-time.After(5 * time.Second):
		in.Session.Disconnect()
		<-in.done
	}
	in.Session.Close()
}

func (c *conn) runInitiator(app App, log zerolog.Logger) {
	s := c.sess
	s.mu.Lock()
	if s.conn != nil {
		s.mu.Unlock()
		c.close()
		return
	}
	if s.cfg.ResetSeqNumFlag || s.cfg.ResetOnLogon {
		_ = s.store.reset()
	}
	s.conn = c
	c.hb = s.cfg.HeartBtInt
	body := AppendString(nil, 98, "0")
	body = AppendInt(body, 108, int64(s.cfg.HeartBtInt/time.Second))
	if s.cfg.ResetSeqNumFlag {
		body = AppendString(body, 141, "Y")
	}
	body = append(body, s.cfg.LogonFields...)
	_ = c.sendLocked("A", body, false, time.Now())
	s.mu.Unlock()
	go c.writer()
	c.kick()
	_ = c.nc.SetReadDeadline(time.Now().Add(LogonTimeout))
	err := c.readLoop(func(raw []byte, fields []Field, now time.Time) error {
		if c.loggedOn {
			return c.process(raw, fields, now)
		}
		fs := Scan(raw, nil)
		mt, _ := Get(fs, 35)
		switch string(mt) {
		case "A":
		case "5":
			txt, _ := Get(fs, 58)
			if a, ok := app.(RefusalApp); ok {
				a.OnLogonRefused(s, string(txt))
			}
			return fmt.Errorf("logon refused: %s", txt)
		default:
			return fmt.Errorf("answer to Logon is MsgType %q", mt)
		}
		m := &Message{Raw: raw, Fields: fs, MsgType: mt, ReceiveTime: now}
		if refusal := app.Logon(s.id, s, m); refusal != "" {
			c.logoutAndClose(refusal)
			return errLogout
		}
		seqv, _ := Get(fs, 34)
		seq, ok := ParseUint(seqv)
		if !ok || seq == 0 {
			return errors.New("the Logon answer has no valid MsgSeqNum")
		}
		s.mu.Lock()
		next := s.store.nextIn
		if seq < next {
			s.mu.Unlock()
			c.logoutAndClose("MsgSeqNum too low, expecting " + strconv.FormatUint(next, 10) + " but received " + strconv.FormatUint(seq, 10))
			return errLogout
		}
		c.loggedOn = true
		c.logonSeqLocked(seq, now)
		s.mu.Unlock()
		_ = c.nc.SetReadDeadline(time.Time{})
		go c.timer()
		c.kick()
		app.OnLogon(s)
		return nil
	}, log)
	c.finish(app, err, log)
}

// logonSeqLocked takes the MsgSeqNum of the counterparty's Logon (s.mu
// held): the expected one moves the sequence on; a higher one means
// messages were missed, and they are asked for (the Logon itself comes back
// inside the gap fill).
func (c *conn) logonSeqLocked(seq uint64, now time.Time) {
	s := c.sess
	if seq > s.store.nextIn {
		c.resendTo = seq
		c.resendRequestLocked(s.store.nextIn, now)
		return
	}
	s.store.nextIn = seq + 1
	s.store.seqDirty = true
}

// resendRequestLocked asks for every message from MsgSeqNum from on.
func (c *conn) resendRequestLocked(from uint64, now time.Time) {
	body := AppendInt(nil, 7, int64(from))
	body = AppendInt(body, 16, 0)
	_ = c.sendLocked("2", body, false, now)
}
