package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/internal/refdata"
)

// TestClusterSessionContinuity trades through a 3-node cluster's leader
// with two raw FIX clients whose fills cross, SIGKILLs the leader mid-flow,
// and has both clients log on to the new leader with their own sequence
// numbers (no ResetSeqNumFlag; NextExpectedMsgSeqNum 789 set) and trade on.
// At the end, from a survivor's journal: every execution report the venue
// produced for each session reached it at least once and never twice
// without PossResend/PossDup (each ExecID once as new), every order
// acknowledged before the kill is in the journal, and no sequence number
// was out of place on either side.
func TestClusterSessionContinuity(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; runs in the full suite")
	}
	nodes := startClusterChildren(t)
	waitClusterLeader(t, nodes)
	buyer := &foClient{comp: "ALPHA", user: "alpha", pass: "demo-alpha", target: "EXCHANGE"}
	seller := &foClient{comp: "BRAVO", user: "bravo", pass: "demo-bravo", target: "EXCHANGE"}
	for _, c := range []*foClient{buyer, seller} {
		// With a reset, to whichever node leads (an election may still
		// move the leadership on a loaded machine).
		if err := c.logonLeader(nodes, true, 20*time.Second); err != nil {
			t.Fatalf("%s: first logon: %v", c.comp, err)
		}
		defer c.close()
	}
	trade := func(round string, d time.Duration) int {
		n := 0
		for end := time.Now().Add(d); time.Now().Before(end); n++ {
			px := fmt.Sprintf("%d.00", 180+n%3)
			seller.send("D", "11="+round+"s"+strconv.Itoa(n), "55=AAPL", "54=2", "38=1", "40=2", "44="+px, "59=0", "60="+fixTime())
			buyer.send("D", "11="+round+"b"+strconv.Itoa(n), "55=AAPL", "54=1", "38=1", "40=2", "44="+px, "59=0", "60="+fixTime())
			time.Sleep(2 * time.Millisecond)
		}
		return n
	}
	sent := trade("a", 500*time.Millisecond)
	leader := waitClusterLeader(t, nodes)
	_ = leader.cmd.Process.Signal(syscall.SIGKILL)
	_ = leader.cmd.Wait()
	ackedAtKill := map[string]map[string]bool{buyer.comp: buyer.acked(), seller.comp: seller.acked()}
	t.Logf("killed %s after %d crossing pairs; acknowledged: %s %d, %s %d", leader.id, sent,
		buyer.comp, len(ackedAtKill[buyer.comp]), seller.comp, len(ackedAtKill[seller.comp]))
	var rest []*clusterChild
	for _, n := range nodes {
		if n != leader {
			rest = append(rest, n)
		}
	}
	next := waitClusterLeader(t, rest)
	for _, c := range []*foClient{buyer, seller} {
		c.dropConn()
		if err := c.logonLeader(rest, false, 20*time.Second); err != nil {
			t.Fatalf("%s: logon to the new leader: %v", c.comp, err)
		}
	}
	trade("b", 300*time.Millisecond)
	waitQuiet(t, rest)
	// The reports of the last orders: wait until neither client has heard
	// anything for a while.
	for _, c := range []*foClient{buyer, seller} {
		c.waitSilent(500*time.Millisecond, 10*time.Second)
		c.logout()
	}
	for _, n := range rest {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		_ = n.cmd.Wait()
	}
	compareSurvivors(t, rest, nil)

	// What the venue produced for each session, from a survivor's journal.
	cfg := config.Default()
	produced := map[refdata.SessionID]map[string]bool{}
	orders := map[refdata.SessionID]map[string]bool{}
	_, _, err := pipeline.Rebuild(cfg.Registry, pipeline.RebuildOptions{Dir: next.dir, IgnoreSnapshots: true, Log: zerolog.Nop(),
		OnReports: func(reps []ordermanager.Report) {
			for i := range reps {
				r := &reps[i]
				if r.OutSeq == 0 || r.ExecID == 0 {
					continue
				}
				if produced[r.Session] == nil {
					produced[r.Session], orders[r.Session] = map[string]bool{}, map[string]bool{}
				}
				produced[r.Session][strconv.FormatUint(r.ExecID, 10)] = true
				orders[r.Session][r.ClOrdID.String()] = true
			}
		}})
	if err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	for _, c := range []*foClient{buyer, seller} {
		var sid refdata.SessionID
		for _, s := range cfg.Sessions {
			if s.SenderCompID == c.comp {
				sid = s.ID
			}
		}
		c.mu.Lock()
		missing, twice := 0, 0
		for id := range produced[sid] {
			if c.execs[id]+c.flagged[id] == 0 {
				missing++
				if missing <= 5 {
					t.Errorf("%s: ExecID %s produced by the venue, never received", c.comp, id)
				}
			}
		}
		for id, n := range c.execs {
			if n > 1 {
				twice++
				if twice <= 5 {
					t.Errorf("%s: ExecID %s received %d times without PossResend/PossDup", c.comp, id, n)
				}
			}
		}
		for cl := range ackedAtKill[c.comp] {
			if !orders[sid][cl] {
				t.Errorf("%s: order %s acknowledged before the kill is not in the journal", c.comp, cl)
			}
		}
		for _, e := range c.seqErrs {
			t.Errorf("%s: %s", c.comp, e)
		}
		flaggedOnly := 0
		for id, n := range c.flagged {
			if n > 0 && c.execs[id] == 0 {
				flaggedOnly++
			}
		}
		t.Logf("%s: %d ExecIDs produced, %d received as new, %d received flagged (%d of them only flagged), %d missing, %d twice unflagged",
			c.comp, len(produced[sid]), len(c.execs), len(c.flagged), flaggedOnly, missing, twice)
		c.mu.Unlock()
	}
}

func fixTime() string { return time.Now().UTC().Format("20060102-15:04:05.000") }

// foClient is a FIX 4.4 client written out by hand, so the test decides what
// its Logon carries (its own MsgSeqNum, NextExpectedMsgSeqNum, no reset)
// and sees every header flag as sent. It answers TestRequests and checks
// every inbound MsgSeqNum; it never asks for a resend (a gap is an error
// here: the venue must not leave one).
type foClient struct {
	comp, user, pass, target string

	wmu    sync.Mutex
	nc     net.Conn
	outSeq uint64 // next MsgSeqNum to send

	mu       sync.Mutex
	inNext   uint64          // next MsgSeqNum expected
	execs    map[string]int  // ExecID -> times received without PossResend/PossDup
	flagged  map[string]int  // ExecID -> times received flagged
	ackCl    map[string]bool // ClOrdIDs acknowledged (150=0)
	seqErrs  []string        // sequence problems seen
	lastRecv time.Time       // when the last message came
	done     chan struct{}   // closed when the reader ends
}

func (c *foClient) header() *fixsession.Header {
	return &fixsession.Header{BeginString: "FIX.4.4", SenderCompID: c.comp, TargetCompID: c.target}
}

// logon connects to addr and logs on: with reset, from 1 (141=Y); without,
// with the client's own next numbers and 789. It returns the Logout's Text
// as an error when refused.
func (c *foClient) logon(addr string, reset bool) error {
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.execs == nil {
		c.execs, c.flagged, c.ackCl = map[string]int{}, map[string]int{}, map[string]bool{}
	}
	if reset {
		c.inNext = 1
	}
	inNext := c.inNext
	c.mu.Unlock()
	c.wmu.Lock()
	if reset {
		c.outSeq = 1
	}
	body := fixsession.AppendString(nil, 98, "0")
	body = fixsession.AppendString(body, 108, "30")
	if reset {
		body = fixsession.AppendString(body, 141, "Y")
	} else {
		body = fixsession.AppendInt(body, 789, int64(inNext))
	}
	body = fixsession.AppendString(body, 553, c.user)
	body = fixsession.AppendString(body, 554, c.pass)
	msg := fixsession.AppendMessage(nil, c.header(), "A", c.outSeq, time.Now(), nil, body)
	_ = nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := nc.Write(msg); err != nil {
		c.wmu.Unlock()
		nc.Close()
		return err
	}
	c.outSeq++
	c.wmu.Unlock()
	br := bufio.NewReader(nc)
	_ = nc.SetReadDeadline(time.Now().Add(15 * time.Second))
	raw, err := foReadFIX(br)
	if err != nil {
		nc.Close()
		return fmt.Errorf("no Logon answer: %w", err)
	}
	m := parseFIX(raw)
	switch m.get(35) {
	case "A":
	case "5":
		nc.Close()
		c.wmu.Lock()
		c.outSeq-- // a refused Logon does not move the sequence (fixsession.conn.refuse)
		c.wmu.Unlock()
		return fmt.Errorf("refused: %s", m.get(58))
	default:
		nc.Close()
		return fmt.Errorf("answer to Logon: %s", m)
	}
	_ = nc.SetReadDeadline(time.Time{})
	c.mu.Lock()
	seq, _ := strconv.ParseUint(m.get(34), 10, 64)
	if seq != c.inNext {
		c.seqErrs = append(c.seqErrs, fmt.Sprintf("Logon answer MsgSeqNum %d, expected %d", seq, c.inNext))
	}
	c.inNext = seq + 1
	c.lastRecv = time.Now()
	c.done = make(chan struct{})
	c.mu.Unlock()
	c.wmu.Lock()
	c.nc = nc
	c.wmu.Unlock()
	go c.read(br, c.done)
	return nil
}

// logonLeader logs on (reset or not) to whichever of nodes leads, until d
// passes.
func (c *foClient) logonLeader(nodes []*clusterChild, reset bool, d time.Duration) error {
	var last error
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, n := range nodes {
			if !n.running() {
				continue
			}
			err := c.logon(n.fix, reset)
			if err == nil {
				return nil
			}
			last = err
		}
	}
	return last
}

func (c *foClient) read(br *bufio.Reader, done chan struct{}) {
	defer close(done)
	for {
		raw, err := foReadFIX(br)
		if err != nil {
			return
		}
		m := parseFIX(raw)
		seq, _ := strconv.ParseUint(m.get(34), 10, 64)
		c.mu.Lock()
		c.lastRecv = time.Now()
		switch {
		case m.get(35) == "4" && m.get(123) == "Y":
		case seq == c.inNext:
		case seq > c.inNext:
			c.seqErrs = append(c.seqErrs, fmt.Sprintf("gap: MsgSeqNum %d, expected %d (%s)", seq, c.inNext, m))
		case m.get(43) != "Y":
			c.seqErrs = append(c.seqErrs, fmt.Sprintf("MsgSeqNum %d too low, expected %d (%s)", seq, c.inNext, m))
		}
		if seq >= c.inNext {
			c.inNext = seq + 1
		}
		switch m.get(35) {
		case "8":
			id := m.get(17)
			if m.get(97) == "Y" || m.get(43) == "Y" {
				c.flagged[id]++
			} else {
				c.execs[id]++
			}
			if m.get(150) == "0" {
				c.ackCl[m.get(11)] = true
			}
		case "1":
			c.mu.Unlock()
			c.send("0", "112="+m.get(112))
			c.mu.Lock()
		case "2", "3":
			c.seqErrs = append(c.seqErrs, "the venue sent "+m.String())
		}
		c.mu.Unlock()
	}
}

// send sends an application or session message; errors (a dead
// connection) are ignored: the test counts what was answered.
func (c *foClient) send(msgType string, fields ...string) {
	var body []byte
	for _, f := range fields {
		body = append(append(body, f...), 1)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.nc == nil {
		return
	}
	msg := fixsession.AppendMessage(nil, c.header(), msgType, c.outSeq, time.Now(), nil, body)
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := c.nc.Write(msg); err == nil {
		c.outSeq++
	}
}

func (c *foClient) acked() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]bool{}
	for k := range c.ackCl {
		out[k] = true
	}
	return out
}

// dropConn closes the connection (its venue is gone) and waits for the
// reader.
func (c *foClient) dropConn() {
	c.wmu.Lock()
	nc := c.nc
	c.nc = nil
	c.wmu.Unlock()
	if nc != nil {
		nc.Close()
	}
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	if done != nil {
		<-done
	}
}

// waitSilent waits until nothing has come for quiet (at most max).
func (c *foClient) waitSilent(quiet, max time.Duration) {
	for deadline := time.Now().Add(max); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c.mu.Lock()
		last := c.lastRecv
		c.mu.Unlock()
		if time.Since(last) >= quiet {
			return
		}
	}
}

func (c *foClient) logout() {
	c.send("5")
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
	}
	c.dropConn()
}

func (c *foClient) close() { c.dropConn() }

// foReadFIX reads one FIX message: 8=...|9=N| then N bytes of body and the
// 7-byte CheckSum field.
func foReadFIX(br *bufio.Reader) (string, error) {
	head, err := br.ReadString(1) // 8=FIX.4.4␁
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(head, "8=") {
		return "", fmt.Errorf("framing: %q", head)
	}
	lenField, err := br.ReadString(1)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(lenField, "9=") {
		return "", fmt.Errorf("framing: %q", lenField)
	}
	n, err := strconv.Atoi(strings.TrimSuffix(lenField[2:], "\x01"))
	if err != nil || n < 0 || n > 1<<20 {
		return "", fmt.Errorf("BodyLength %q", lenField)
	}
	rest := make([]byte, n+7)
	if _, err := io.ReadFull(br, rest); err != nil {
		return "", err
	}
	if !bytes.HasPrefix(rest[n:], []byte("10=")) {
		return "", errors.New("framing: no CheckSum where BodyLength says")
	}
	return head + lenField + string(rest), nil
}
