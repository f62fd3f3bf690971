package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// TestContinuityLogon runs the new leader's side of a failover on one
// gateway: reports held as a standby, the old leader's marks applied, then
// a client logs on with its own numbers and NextExpectedMsgSeqNum.
func TestContinuityLogon(t *testing.T) {
	held := []uint64{10, 12, 14, 16}
	for _, tc := range []struct {
		name     string
		next     uint64 // 789 (0: none; 1 with reset: 141=Y)
		floorSeq uint64 // VenueOpened(floorSeq) before the logon
		refused  bool
		reset    bool
		resent   []uint64 // ExecIDs received flagged PossResend, in order
	}{
		{name: "after the mark", next: 41, resent: []uint64{14, 16}},
		{name: "beyond every mark", next: 90, resent: []uint64{14, 16}},
		{name: "before every mark, nothing trimmed", next: 30, resent: held},
		{name: "before every mark, trimmed", next: 30, floorSeq: 3, refused: true},
		{name: "reset", next: 1, reset: true},
		{name: "no 789", resent: held},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, g, sid, rep := continuityGateway(t)
			if err := g.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(g.Stop)
			var reps []ordermanager.Report
			for _, id := range held {
				reps = append(reps, rep(id))
			}
			g.VenueOpened(tc.floorSeq)
			g.KeepStandby(reps)
			g.ApplyMarks(appendMarksEntry([]byte{marksVersion, 1, 0}, uint32(sid), 0, markPair{40, 12}))

			seq := uint64(7)
			if tc.reset || tc.next == 0 {
				seq = 1 // a client starting over (no 789: this node's store decides)
			}
			c, br, answer, err := rawContinue(addr, seq, tc.next, tc.reset)
			if tc.refused {
				if err == nil || !strings.Contains(err.Error(), "ResetSeqNumFlag") {
					t.Fatalf("logon: %v, want a refusal naming ResetSeqNumFlag", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tc.next == 0 {
				tc.next = 1 // this node's own store: a fresh one
			}
			if answer.f[34] != strconv.FormatUint(tc.next, 10) {
				t.Fatalf("Logon answer MsgSeqNum %s, want %d", answer.f[34], tc.next)
			}
			waitLive(t, g, sid)
			want := tc.next + 1
			read := func() (id uint64, m rawMsg) {
				t.Helper()
				m, err := readRaw(br)
				if err != nil {
					t.Fatalf("after MsgSeqNum %d: %v", want-1, err)
				}
				if m.f[34] != strconv.FormatUint(want, 10) {
					t.Fatalf("MsgSeqNum %s, want %d: %s", m.f[34], want, m.raw)
				}
				want++
				id, _ = strconv.ParseUint(m.f[17], 10, 64)
				return id, m
			}
			// The held reports first, flagged PossResend.
			var got []uint64
			for len(got) < len(tc.resent) {
				id, m := read()
				if m.f[97] != "Y" {
					t.Errorf("resent report %d not flagged PossResend: %s", id, m.raw)
				}
				got = append(got, id)
			}
			// Then a report of this leadership goes out as usual. (One
			// delivered while the held ones are still being sent may go
			// out flagged too: always safe, and not what this checks.)
			g.Deliver([]ordermanager.Report{rep(20)})
			if id, m := read(); id != 20 || m.f[97] != "" {
				t.Errorf("after the resent reports: %s, want report 20 unflagged", m.raw)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.resent) {
				t.Errorf("resent %v, want %v", got, tc.resent)
			}
			// The client's next message is expected at the Logon's number + 1.
			if _, in := g.acc.Session(waitLive(t, g, sid)).NextSeqNums(); in != seq+1 && tc.floorSeq == 0 && tc.next > 1 {
				t.Errorf("next expected inbound %d, want %d", in, seq+1)
			}
		})
	}
}

type rawMsg struct {
	raw string
	f   map[int]string
}

// rawContinue logs ALPHA on with MsgSeqNum seq and NextExpectedMsgSeqNum
// next (none when 0; ResetSeqNumFlag instead with reset) and returns the connection and the Logon answer, or the
// refusal's Text as an error; the reader goes on reading the connection.
func rawContinue(addr string, seq, next uint64, reset bool) (net.Conn, *bufio.Reader, rawMsg, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, rawMsg{}, err
	}
	body := fixsession.AppendString(nil, 98, "0")
	body = fixsession.AppendString(body, 108, "30")
	if reset {
		body = fixsession.AppendString(body, 141, "Y")
	} else if next != 0 {
		body = fixsession.AppendInt(body, 789, int64(next))
	}
	body = fixsession.AppendString(body, 553, "alpha")
	body = fixsession.AppendString(body, 554, "pw-alpha")
	h := fixsession.Header{BeginString: "FIX.4.4", SenderCompID: "ALPHA", TargetCompID: "EXCHANGE"}
	if _, err := c.Write(fixsession.AppendMessage(nil, &h, "A", seq, time.Now(), nil, body)); err != nil {
		c.Close()
		return nil, nil, rawMsg{}, err
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	m, err := readRaw(br)
	switch {
	case err != nil:
		c.Close()
		return nil, nil, m, err
	case m.f[35] == "5":
		c.Close()
		return nil, nil, m, fmt.Errorf("refused: %s", m.f[58])
	}
	return c, br, m, nil
}

// readRaw reads one FIX message (framed by BodyLength).
func readRaw(br *bufio.Reader) (rawMsg, error) {
	head, err := br.ReadString(1)
	if err != nil {
		return rawMsg{}, err
	}
	bl, err := br.ReadString(1)
	if err != nil {
		return rawMsg{}, err
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(bl, "9="), "\x01"))
	if err != nil || n < 0 || n > 1<<20 {
		return rawMsg{}, fmt.Errorf("BodyLength %q", bl)
	}
	rest := make([]byte, n+7)
	if _, err := io.ReadFull(br, rest); err != nil {
		return rawMsg{}, err
	}
	m := rawMsg{raw: strings.ReplaceAll(head+bl+string(rest), "\x01", "|"), f: map[int]string{}}
	for _, kv := range strings.Split(head+bl+string(rest), "\x01") {
		k, v, ok := strings.Cut(kv, "=")
		if tag, err := strconv.Atoi(k); ok && err == nil {
			m.f[tag] = v
		}
	}
	return m, nil
}

// TestContinuityResetKeepsNewReports: a client that logs on with
// ResetSeqNumFlag gives up the reports held from before its logon, but a
// report generated between the Logon's answer and the end of the logon's
// handling (held, since the session was not yet adopted) is new to it and
// must go out, unflagged. It used to be dropped with the held ones.
func TestContinuityResetKeepsNewReports(t *testing.T) {
	addr, g, _, rep := continuityGateway(t)
	g.co.beforeOnLogon = func() { g.Deliver([]ordermanager.Report{rep(20)}) }
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	g.KeepStandby([]ordermanager.Report{rep(10), rep(12)})
	c, br, _, err := rawContinue(addr, 1, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, err := readRaw(br)
	if err != nil {
		t.Fatalf("no report after the reset logon: %v", err)
	}
	if m.f[17] != "20" || m.f[97] != "" || m.f[34] != "2" {
		t.Fatalf("got %s, want report 20 unflagged as MsgSeqNum 2 (the held 10 and 12 go with the reset)", m.raw)
	}
}

// continuityGateway returns a gateway (not started) of a node leading in
// term 1, its FIX address, ALPHA's session and a maker of ALPHA's journal
// reports by ExecID.
func continuityGateway(t *testing.T) (string, *Gateway, refdata.SessionID, func(uint64) ordermanager.Report) {
	t.Helper()
	addr := freeAddr(t)
	cfg := testConfig(t, addr, t.TempDir())
	g, err := New(Options{Ref: cfg.Registry, Settings: testSettings(cfg), Submitter: newFakeOM(), Log: testLog(),
		Continuity: &Continuity{Term: func() uint64 { return 1 }}})
	if err != nil {
		t.Fatal(err)
	}
	sid := cfg.SessionByCompID("ALPHA")
	rep := func(id uint64) ordermanager.Report {
		cl, _ := ordermanager.MakeClOrdID("c" + strconv.FormatUint(id, 10))
		return ordermanager.Report{Kind: ordermanager.RepExec, Session: sid, ExecType: '0', OrdStatus: '0',
			ExecID: id, OutSeq: id / 2, OrderID: matching.OrderID(id), ClOrdID: cl, Account: 1, Symbol: 1,
			Side: matching.Buy, Type: matching.Limit, TIF: matching.Day, Price: 10000, OrderQty: 1, Leaves: 1}
	}
	return addr, g, sid, rep
}
