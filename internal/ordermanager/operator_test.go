package ordermanager

import (
	"errors"
	"reflect"
	"testing"

	"github.com/exchange-sim/exchange/matching"
)

// TestOperatorReplay: an operator's halt, kill switch, cancel, block and
// new limits, applied live through Operate, replay from the journal to the
// same state, notes and limits, and survive the operator snapshot section.
func TestOperatorReplay(t *testing.T) {
	h := newHarness(t)
	h.keepStatus = true
	h.do(Request{Kind: ReqNew, Session: 1, Firm: 1, Account: 1, Symbol: 1, Side: matching.Buy, Type: matching.Limit,
		TIF: matching.GTC, Price: 100, Qty: 5, ClOrdID: cl("o1")})
	ops := []Operation{
		{Action: ActHalt, Symbol: 1, Who: "ops", Why: "news"},
		{Action: ActKillOn, Firm: 1, Who: "ops", Why: "runaway"},
		{Action: ActKillOff, Account: 1, Who: "ops", Why: "fixed"},
		{Action: ActCancelAll, Symbol: 2, Who: "ops", Why: "bad prints"},
		{Action: ActBlockFirm, Firm: 2, Who: "ops", Why: "unpaid"},
		{Action: ActSetLimits, Account: 3, Who: "ops", Why: "tighter", Limits: h.m.accts[2].lim},
		{Action: ActDisconnect, Session: 3, Who: "ops", Why: "stale"},
	}
	ops[5].Limits.MaxOrderLots = 3
	var status int
	for i := range ops {
		cmds, err := h.m.Operate(&ops[i], nil)
		if err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
		for j := range cmds {
			for _, r := range h.run(&cmds[j], nil) {
				if r.Kind == RepSecurityStatus && r.ExecType == SecurityHalted && r.Symbol == 1 {
					status++
				}
			}
			if j == 0 {
				h.m.StampNote(h.seq, int64(h.seq)*1000)
			}
		}
	}
	if status != len(h.m.ref.Sessions) {
		t.Fatalf("%d SecurityStatus reports of the halt, want one per session (%d)", status, len(h.m.ref.Sessions))
	}
	if !h.m.Halted(1) || h.m.HaltReason(1) != "news" || !h.m.FirmBlocked(2) || h.m.accts[2].lim.MaxOrderLots != 3 ||
		h.m.accts[0].kill || !h.m.accts[1].kill || h.m.accts[0].open != 0 {
		t.Fatalf("live state after the operations")
	}
	// Refusals change nothing.
	for _, op := range []Operation{
		{Action: ActHalt, Symbol: 9, Who: "ops"}, {Action: ActKillOn, Who: "ops"}, {Action: ActKillOn, Account: 99, Who: "ops"},
		{Action: ActDisconnect, Session: 99, Who: "ops"}, {Action: ActBlockFirm, Firm: 99, Who: "ops"}, {Action: ActHalt, Symbol: 1},
		{Action: ActSetLimits, Account: 1, Who: "ops"}, {Action: actCount, Who: "ops"}, {Action: ActKillOn, Account: 3, Firm: 1, Who: "ops"},
	} {
		cmds, err := h.m.Operate(&op, nil)
		if err == nil || len(cmds) != 0 {
			t.Fatalf("%+v: %d commands, err %v", op, len(cmds), err)
		}
	}
	if _, err := h.m.Operate(&Operation{Action: ActHalt, Symbol: 9, Who: "ops"}, nil); !errors.Is(err, ErrUnknownSymbol) {
		t.Fatalf("unknown symbol: %v", err)
	}

	m := New(testConfig(t).Registry, Config{ClOrdIDsRetained: 1024})
	e := matching.New(matching.Config{Symbols: 2, OrdersHint: 64})
	var evs []matching.Event
	for i := range h.journal {
		j := &h.journal[i]
		if err := m.ApplySequenced(&j.Cmd, j.MetaBytes()); err != nil {
			t.Fatalf("journal %d: %v", i, err)
		}
		evs = e.Apply(&j.Cmd, evs[:0])
		for k := range evs {
			m.OnEvent(&evs[k], nil)
		}
	}
	if m.StateHash() != h.m.StateHash() || !reflect.DeepEqual(m.OperatorNotes(100), h.m.OperatorNotes(100)) || m.accts[2].lim != h.m.accts[2].lim {
		t.Fatalf("replay differs:\n%+v\n%+v", m.OperatorNotes(100), h.m.OperatorNotes(100))
	}
	notes := m.OperatorNotes(100)
	if len(notes) != len(ops) || notes[0].Who != "ops" || notes[0].Why != "news" || notes[0].Seq == 0 || notes[6].Session != 3 {
		t.Fatalf("notes %+v", notes)
	}

	// The operator section round-trips; damaged input is refused.
	b := h.m.AppendOperatorState(nil)
	r := New(testConfig(t).Registry, Config{ClOrdIDsRetained: 1024})
	if err := r.RestoreOperatorState(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.opr, h.m.opr) || r.accts[2].lim != h.m.accts[2].lim {
		t.Fatal("operator section does not round-trip")
	}
	for cut := range len(b) {
		if err := New(testConfig(t).Registry, Config{ClOrdIDsRetained: 1024}).RestoreOperatorState(b[:cut]); err == nil {
			t.Fatalf("a section cut at %d of %d bytes was accepted", cut, len(b))
		}
	}
}

// FuzzOperatorMeta: arbitrary operator meta and operator sections never
// panic the manager; what ApplySequenced refuses changes nothing.
func FuzzOperatorMeta(f *testing.F) {
	h := newHarness(f)
	for _, op := range []Operation{
		{Action: ActHalt, Symbol: 1, Who: "ops", Why: "news"},
		{Action: ActSetLimits, Account: 1, Who: "ops", Why: "x", Limits: h.m.accts[0].lim},
		{Action: ActBlockFirm, Firm: 1, Who: "o", Why: ""},
	} {
		cmds, err := h.m.Operate(&op, nil)
		if err != nil {
			f.Fatal(err)
		}
		for i := range cmds {
			f.Add(cmds[i].MetaBytes(), uint32(cmds[i].Cmd.Account))
		}
	}
	f.Add(h.m.AppendOperatorState(nil), uint32(0))
	f.Fuzz(func(t *testing.T, b []byte, acct uint32) {
		m := New(testConfig(t).Registry, Config{ClOrdIDsRetained: 64})
		before := m.StateHash()
		cmd := matching.Command{Kind: matching.CmdAdmin, Account: matching.AccountID(acct), Seq: 1}
		if err := m.ApplySequenced(&cmd, b); err != nil && m.StateHash() != before {
			t.Fatal("a refused command changed the state")
		}
		DecodeOperatorNote(&cmd, b)
		_ = New(testConfig(t).Registry, Config{ClOrdIDsRetained: 64}).RestoreOperatorState(b)
	})
}
