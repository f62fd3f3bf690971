package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/ordermanager"
)

// FIX session continuity across a cluster failover.
//
// A cluster node's FIX session stores are its own files: a standby's are
// stale (it sends nothing), so a client that logs on to a new leader with
// its own sequence numbers would meet numbers that mean nothing to it. Three
// things let it carry on instead:
//
//   - Delivery marks. The leader's gateway notes, per session, the last
//     MsgSeqNum that carried a report of the journal and that report's key
//     (its ExecID, see redeliver.go), and every Continuity.Every publishes
//     the pairs of the sessions that advanced through the cluster's log
//     (cluster.Node.PublishMarks). Every node applies them (ApplyMarks) and
//     keeps the last pairsKept pairs of each session. A session's reports
//     reach its store in ExecID order, so "MsgSeqNum s carried key k"
//     means: a client that has every message up to s has every report of
//     the journal up to k.
//   - Held reports. A node keeps, per session, the journal's reports its
//     venue generated while it did not lead (KeepStandby), and, once it
//     leads, those of a session that has not logged on to it yet in this
//     leadership (hold): every report with a key above the session's floor
//     (below it they were trimmed: see floor).
//   - Adoption. A client that logs on to the new leader without
//     ResetSeqNumFlag and with NextExpectedMsgSeqNum (789) E has its numbers
//     adopted (fixsession.Session.Adopt): the Logon answer carries E and the
//     client's Logon MsgSeqNum is the next expected, so no sequence error and
//     no gap. E-1 is mapped through the marks to the last key the client
//     surely has (the key of the newest pair at or below E-1), and every
//     held report above it is sent as a new message flagged PossResend
//     (97=Y) before any new report of the session. The client dedupes them
//     by ExecID: each one reaches it once as new whatever the old leader
//     managed to send before it died.
//
// PossResend, not PossDup (43): PossDup says "this is message N again" and
// must carry the original MsgSeqNum and OrigSendingTime, which the new
// leader does not know (the marks are a sample). PossResend says "this may
// have been sent before under another MsgSeqNum: check its business ID",
// which is exactly the case.
//
// Without 789 the node cannot tell what the client has: the logon goes on
// as on a single venue (this node's own store decides the numbers, which
// after a failover usually ends in a sequence error and a reset), and the
// held reports are sent flagged after the logon. With ResetSeqNumFlag the
// client gives up what it missed (FIX's meaning of a reset): the held
// reports are dropped and it asks OrderStatusRequest. A client whose E-1
// maps below the floor (it is further behind than the marks and held
// reports reach) is refused with a Logout saying so: resetting and asking
// for status is all that is left.

// Continuity wires a cluster node's gateway for failover (Options.Continuity).
type Continuity struct {
	// Term is the node's leadership number while it leads, 0 while it does
	// not (cluster.Node.LeaderTerm): a session that has not logged on in the
	// current term has a stale store.
	Term func() uint64
	// Publish replicates a marks record through the cluster's log and
	// returns once it is committed (cluster.Node.PublishMarks).
	Publish func(b []byte) error
	// Every is how often the leader publishes its marks; default 100 ms.
	Every time.Duration
}

const (
	// pairsKept bounds the marks kept per session: at one pair per
	// publication (100 ms) about 100 s of a continuously trading session.
	pairsKept = 1024
	// heldMax bounds the reports held per session (a Report is about 300
	// bytes: 5 MB per session); past it the oldest half is dropped and
	// the floor rises, so a client further behind is told to reset.
	heldMax = 1 << 14
	// marksEntryBytes is one pair in a marks record: session u32 | version
	// u8 | MsgSeqNum u64 | key u64.
	marksEntryBytes = 4 + 1 + 8 + 8
	marksVersion    = 1
)

// markPair says MsgSeqNum seq carried the report with key key.
type markPair struct{ seq, key uint64 }

// coSession is one configured session's continuity state.
type coSession struct {
	mu sync.Mutex
	// pairs are the replicated marks, oldest first, all of FIX version
	// ver and of one sequence (a pair with a lower MsgSeqNum than the
	// newest, or another version, starts a new sequence).
	pairs []markPair
	ver   uint8
	// held are the reports kept for a failover, in key order, all above
	// floor; every report of the journal for this session with a key above
	// floor is in held (or was delivered in this node's current term).
	held  []ordermanager.Report
	floor uint64
	// adopted is the leadership term in which the session logged on last
	// (0: never): reports of a session adopted in the current term go out
	// as usual.
	adopted uint64
	// plan is what the next OnLogon in term planTerm does with held.
	planTerm    uint64
	planAbove   uint64 // send the held reports with a key above it
	planDiscard bool   // the client reset: drop those up to planAbove, send the later ones unflagged
	// The leader's newest delivered pair (last) and whether it changed
	// since it was published (Deliver's goroutine writes, the publisher
	// reads).
	last      markPair
	lastVer   uint8
	lastDirty bool
}

type continuity struct {
	g    *Gateway
	o    Continuity
	sess []coSession
	// buf is the publisher's record buffer.
	buf []byte
	// beforeOnLogon, set by tests only, runs as onLogon starts: a report
	// delivered in it arrives between the Logon's answer and onLogon.
	beforeOnLogon func()
}

func newContinuity(g *Gateway, o Continuity) *continuity {
	if o.Every <= 0 {
		o.Every = 100 * time.Millisecond
	}
	c := &continuity{g: g, o: o, sess: make([]coSession, len(g.sessions))}
	if o.Publish != nil && o.Term != nil {
		go c.publishLoop(g.rollStop)
	}
	return c
}

func (c *continuity) term() uint64 {
	if c.o.Term == nil {
		return 0
	}
	return c.o.Term()
}

func (c *continuity) of(st *sessionState) *coSession {
	if st == nil || st.cfg == nil || int(st.cfg.ID) < 1 || int(st.cfg.ID) > len(c.sess) {
		return nil
	}
	return &c.sess[st.cfg.ID-1]
}

// versionOf is the index of fs's BeginString in beginStrings.
func versionOf(fs *fixsession.Session) uint8 {
	b := fs.ID().BeginString
	for i, v := range beginStrings {
		if v == b {
			return uint8(i)
		}
	}
	return 0
}

// hold keeps rep instead of delivering it when its session has not logged
// on in this node's current term (or the node does not lead): true means
// the caller must not deliver it. Only the journal's reports (OutSeq set)
// are held. Cost: a mutex per report on a cluster node.
func (c *continuity) hold(st *sessionState, rep *ordermanager.Report) bool {
	if rep.OutSeq == 0 {
		return false
	}
	cs := c.of(st)
	if cs == nil {
		return false
	}
	term := c.term()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if term != 0 && cs.adopted == term {
		return false
	}
	if rep.ExecID > cs.floor {
		if len(cs.held) >= heldMax {
			drop := len(cs.held) / 2
			cs.floor = max(cs.floor, cs.held[drop-1].ExecID)
			cs.held = append(cs.held[:0], cs.held[drop:]...)
		}
		cs.held = append(cs.held, *rep)
	}
	return true
}

// KeepStandby keeps the journal's reports a standby's venue generates (its
// node does not lead), for the FIX session continuity of a failover.
func (g *Gateway) KeepStandby(reps []ordermanager.Report) {
	if g.co == nil {
		return
	}
	for i := range reps {
		g.co.hold(g.session(reps[i].Session), &reps[i])
	}
}

// VenueOpened tells the gateway that the node opened a venue whose engine
// starts at outSeq (start, stepping down, a snapshot installed): the
// reports of earlier events were not generated here and are not held, so
// no session's floor may stay below them.
func (g *Gateway) VenueOpened(outSeq uint64) {
	if g.co == nil || outSeq == 0 {
		return
	}
	floor := 2*outSeq + 1 // the highest ExecID of an event at or before outSeq
	for i := range g.co.sess {
		cs := &g.co.sess[i]
		cs.mu.Lock()
		cs.raiseFloor(floor)
		cs.mu.Unlock()
	}
}

// raiseFloor drops the held reports at or below floor (cs.mu held).
func (cs *coSession) raiseFloor(floor uint64) {
	if floor <= cs.floor {
		return
	}
	cs.floor = floor
	n := 0
	for n < len(cs.held) && cs.held[n].ExecID <= floor {
		n++
	}
	if n > 0 {
		cs.held = append(cs.held[:0], cs.held[n:]...)
	}
}

// lastKeyed returns the MsgSeqNum and key of the last keyed message of the
// session Deliver just sent (d.idx, numbered from first), or zeros.
func (d *deliverScratch) lastKeyed(first uint64) markPair {
	for k := len(d.idx) - 1; k >= 0; k-- {
		if key := d.msgs[d.idx[k]].key; key != 0 {
			return markPair{first + uint64(k), key}
		}
	}
	return markPair{}
}

// delivered notes the newest keyed message sent to st on fs, for the next
// publication of marks.
func (c *continuity) delivered(st *sessionState, fs *fixsession.Session, p markPair) {
	cs := c.of(st)
	if cs == nil || p.key == 0 {
		return
	}
	cs.mu.Lock()
	cs.last, cs.lastVer, cs.lastDirty = p, versionOf(fs), true
	cs.mu.Unlock()
}

// publishLoop publishes the marks of the sessions whose stores advanced,
// every Every, while the node leads.
func (c *continuity) publishLoop(stop <-chan struct{}) {
	t := time.NewTicker(c.o.Every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if c.term() == 0 {
			continue
		}
		b := c.collect()
		if b == nil {
			continue
		}
		if err := c.o.Publish(b); err != nil {
			c.g.log.Debug().Err(err).Msg("delivery marks not published")
			c.redirty(b)
		}
	}
}

// collect encodes the pairs not yet published (nil when none) and clears
// their dirty marks.
func (c *continuity) collect() []byte {
	b := append(c.buf[:0], marksVersion, 0, 0)
	n := 0
	for i := range c.sess {
		cs := &c.sess[i]
		cs.mu.Lock()
		if cs.lastDirty {
			b = appendMarksEntry(b, uint32(i+1), cs.lastVer, cs.last)
			cs.lastDirty = false
			n++
		}
		cs.mu.Unlock()
	}
	c.buf = b
	if n == 0 {
		return nil
	}
	binary.LittleEndian.PutUint16(b[1:], uint16(n))
	return b
}

// redirty marks the sessions of an unpublished record dirty again, unless
// they advanced since.
func (c *continuity) redirty(b []byte) {
	_ = decodeMarks(b, func(sess uint32, ver uint8, p markPair) {
		if int(sess) <= len(c.sess) {
			cs := &c.sess[sess-1]
			cs.mu.Lock()
			if cs.last == p {
				cs.lastDirty = true
			}
			cs.mu.Unlock()
		}
	})
}

func appendMarksEntry(b []byte, sess uint32, ver uint8, p markPair) []byte {
	b = binary.LittleEndian.AppendUint32(b, sess)
	b = append(b, ver)
	b = binary.LittleEndian.AppendUint64(b, p.seq)
	return binary.LittleEndian.AppendUint64(b, p.key)
}

var errMarks = errors.New("gateway: bad marks record")

// decodeMarks calls fn with every pair of a marks record, after checking
// the whole record; it never panics.
//
//	version u8 (1) | count u16 | count × (session u32 | version u8 | MsgSeqNum u64 | key u64)
func decodeMarks(b []byte, fn func(sess uint32, ver uint8, p markPair)) error {
	if len(b) < 3 || b[0] != marksVersion {
		return errMarks
	}
	n := int(binary.LittleEndian.Uint16(b[1:]))
	if len(b) != 3+n*marksEntryBytes {
		return fmt.Errorf("%w: %d bytes for %d pairs", errMarks, len(b), n)
	}
	for i := range n {
		e := b[3+i*marksEntryBytes:]
		sess := binary.LittleEndian.Uint32(e)
		ver := e[4]
		p := markPair{binary.LittleEndian.Uint64(e[5:]), binary.LittleEndian.Uint64(e[13:])}
		if sess == 0 || int(ver) >= len(beginStrings) || p.seq == 0 || p.key == 0 {
			return fmt.Errorf("%w: pair %d", errMarks, i)
		}
		fn(sess, ver, p)
	}
	return nil
}

// ApplyMarks takes a marks record committed in the cluster's log (every
// node, in log order): each session keeps its newest pairsKept pairs, and
// its held reports at or below the oldest kept pair's key are dropped once
// pairs start falling off (no client that the marks can place needs them).
// A record it cannot read is logged and ignored.
func (g *Gateway) ApplyMarks(b []byte) {
	if g.co == nil {
		return
	}
	err := decodeMarks(b, func(sess uint32, ver uint8, p markPair) {
		if int(sess) > len(g.co.sess) {
			return
		}
		cs := &g.co.sess[sess-1]
		cs.mu.Lock()
		cs.addPair(ver, p)
		cs.mu.Unlock()
	})
	if err != nil {
		g.log.Error().Err(err).Msg("delivery marks ignored")
	}
}

// addPair adds a replicated pair (cs.mu held).
func (cs *coSession) addPair(ver uint8, p markPair) {
	n := len(cs.pairs)
	if n > 0 && ver == cs.ver && p == cs.pairs[n-1] {
		return // published again after a commit that timed out
	}
	if n > 0 && (ver != cs.ver || p.seq <= cs.pairs[n-1].seq || p.key < cs.pairs[n-1].key) {
		// A new sequence (the client reset, logged on with another
		// version, or a new leader adopted lower numbers): the old pairs
		// say nothing of it.
		cs.pairs = cs.pairs[:0]
	}
	cs.ver = ver
	if len(cs.pairs) == pairsKept {
		copy(cs.pairs, cs.pairs[1:])
		cs.pairs = cs.pairs[:pairsKept-1]
		cs.raiseFloor(cs.pairs[0].key)
	}
	cs.pairs = append(cs.pairs, p)
}

// surelyHas maps the last MsgSeqNum a client received on version ver to
// the highest key of the journal's reports it surely has (0: none known);
// ok is false when that is below the floor (held no longer reaches back).
func (cs *coSession) surelyHas(ver uint8, lastSeq uint64) (key uint64, ok bool) {
	if ver == cs.ver {
		for i := len(cs.pairs) - 1; i >= 0; i-- {
			if cs.pairs[i].seq <= lastSeq {
				key = cs.pairs[i].key
				break
			}
		}
	}
	return key, key >= cs.floor
}

// refusals of a logon the node cannot continue.
const (
	refuseNotLeading = "not the leader any more (an election is under way): retry shortly"
	refuseBehind     = "after a failover this node cannot tell which execution reports you missed (you are further behind than it keeps): log on with ResetSeqNumFlag (141=Y) and send OrderStatusRequest for your open orders"
)

// logon decides, before a Logon is answered, how a session that has not
// logged on in this term continues (see the comment at the top); a
// non-empty answer refuses the logon.
func (c *continuity) logon(st *sessionState, fs *fixsession.Session, m *fixsession.Message) string {
	cs := c.of(st)
	term := c.term()
	if cs == nil || fs == nil {
		return ""
	}
	if term == 0 {
		// The node stopped leading since the logon gate let this Logon
		// through (an election): its store would answer with stale
		// numbers.
		return refuseNotLeading
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.adopted == term {
		return ""
	}
	cs.planTerm, cs.planAbove, cs.planDiscard = term, 0, false
	if v, _ := m.Get(141); string(v) == "Y" {
		// What is held now was generated before this logon and goes with
		// the reset; reports held between now and onLogon are this
		// session's new ones.
		cs.planDiscard, cs.planAbove = true, cs.floor
		if n := len(cs.held); n > 0 {
			cs.planAbove = max(cs.floor, cs.held[n-1].ExecID)
		}
		return ""
	}
	e, ok := fixsession.NextExpected(m)
	if !ok {
		// Nothing says what the client has: every held report, flagged.
		cs.planAbove = cs.floor
		return ""
	}
	key, ok := cs.surelyHas(versionOf(fs), e-1)
	if !ok {
		return refuseBehind
	}
	sv, _ := m.Get(34)
	seq, ok := fixsession.ParseUint(sv)
	if !ok || seq == 0 {
		return "MsgSeqNum (34) missing or not a positive integer"
	}
	if err := fs.Adopt(e, seq); err != nil {
		return "the session cannot take your sequence numbers: " + err.Error()
	}
	cs.planAbove = key
	c.g.log.Info().Str("session", fs.ID().String()).Uint64("next_out", e).Uint64("next_in", seq).Uint64("reports_above", key).
		Msg("failover: the client's sequence numbers adopted")
	return ""
}

// onLogon runs once the Logon is answered: in a term's first logon of the
// session, the held reports the plan keeps are sent flagged PossResend,
// before any new report (hold keeps those until the session is adopted,
// under the same lock).
func (c *continuity) onLogon(st *sessionState, fs *fixsession.Session) {
	if c.beforeOnLogon != nil {
		c.beforeOnLogon()
	}
	cs := c.of(st)
	term := c.term()
	if cs == nil || term == 0 {
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.adopted == term {
		return
	}
	above, discard := cs.floor, false
	if cs.planTerm == term {
		above, discard = cs.planAbove, cs.planDiscard
	}
	cs.planTerm = 0
	var reps []ordermanager.Report
	for i := range cs.held {
		if cs.held[i].ExecID > above {
			reps = cs.held[i:]
			break
		}
	}
	if len(reps) > 0 {
		// After a reset only reports generated since the Logon are left:
		// new to the client, so not flagged.
		p, err := c.g.resendFlagged(st, fs, reps, !discard)
		if err != nil {
			c.g.log.Error().Err(err).Str("session", fs.ID().String()).Msg("failover: held reports not sent")
		}
		if p.key != 0 {
			cs.last, cs.lastVer, cs.lastDirty = p, versionOf(fs), true
		}
		c.g.log.Info().Str("session", fs.ID().String()).Int("reports", len(reps)).Msg("failover: reports the client may have missed sent flagged PossResend")
	}
	cs.held = cs.held[:0]
	cs.adopted = term
}

// possResend is the header field of a message that may have been sent
// before under another MsgSeqNum.
var possResend = []byte("97=Y\x01")

// resendFlagged sends reps to fs as new messages, flagged PossResend when
// flag is set, in order, and returns the newest (MsgSeqNum, key) pair it sent. It has its
// own scratch: it runs on the session's goroutine, beside Deliver.
func (g *Gateway) resendFlagged(st *sessionState, fs *fixsession.Session, reps []ordermanager.Report, flag bool) (markPair, error) {
	const chunk = 256
	var (
		body fixBody
		num  []byte
		last markPair
	)
	begin := fs.ID().BeginString
	for i := 0; i < len(reps); i += chunk {
		part := reps[i:min(i+chunk, len(reps))]
		body.reset()
		type msg struct {
			mt         byte
			start, end int
			route      []byte
		}
		ms := make([]msg, len(part))
		for k := range part {
			start := len(body.b)
			mt := g.reportMessage(&part[k], begin, &num, &body)
			var route []byte
			if flag {
				route = possResend
			}
			if r := st.routes.of(&part[k]); len(r) > 0 {
				route = append(append([]byte(nil), r...), route...)
			}
			ms[k] = msg{mt, start, len(body.b), route}
		}
		first, _, err := fs.DeliverOut(len(part), func(k int, o *fixsession.Out) {
			o.MsgType, o.Body, o.Key, o.Route = msgTypes[ms[k].mt], body.b[ms[k].start:ms[k].end], part[k].ExecID, ms[k].route
		})
		if err != nil && err != fixsession.ErrTooMuch {
			return last, err
		}
		last = markPair{first + uint64(len(part)) - 1, part[len(part)-1].ExecID}
		g.m.redelivered.Add(uint64(len(part)))
	}
	return last, nil
}
