package ordermanager

import (
	"encoding/binary"
	"testing"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// seededHarness returns a harness with a few orders open and a replace in
// flight, so fuzzed input meets real state.
func seededHarness(t testing.TB) *harness {
	h := newHarness(t)
	h.do(newReq(1, "a", matching.Buy, 10000, 10))
	h.do(newReq(3, "b", matching.Sell, 10100, 10))
	h.do(newReq(4, "c", matching.Sell, 10000, 3))
	return h
}

// FuzzApplySequenced feeds arbitrary commands and meta bytes to
// ApplySequenced (and, when accepted, through the engine and OnEvent): it
// must never panic, and a refused command must change nothing. Touch, which
// replay calls on the same input first, must not panic or change anything.
func FuzzApplySequenced(f *testing.F) {
	h := seededHarness(f)
	for _, p := range h.journal {
		f.Add(p.Cmd.AppendBinary(nil), p.MetaBytes())
	}
	f.Add(make([]byte, matching.CommandSize), []byte{1, 3, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0})
	// A listing and a forced phase, as operators journal them.
	var p Pending
	sym := h.m.ref.Symbols[0]
	sym.ID, sym.Name = matching.SymbolID(len(h.m.ref.Symbols)+1), "NEWCO"
	encodeListing(&p, &sym)
	p.Cmd = matching.Command{Kind: matching.CmdAddSymbol, Symbol: sym.ID}
	f.Add(p.Cmd.AppendBinary(nil), p.MetaBytes())
	encodeNote(&p, &OperatorNote{Action: ActPhase, Symbol: 1, Phase: matching.PhasePreOpen, Who: "ops", Why: "late"})
	p.Cmd = matching.Command{Kind: matching.CmdAdmin}
	f.Add(p.Cmd.AppendBinary(nil), p.MetaBytes())
	f.Fuzz(func(t *testing.T, cmdBytes, meta []byte) {
		var cmd matching.Command
		if cmd.UnmarshalBinary(cmdBytes) != nil {
			return
		}
		h := seededHarness(t)
		before := h.m.StateHash()
		h.m.Touch(&cmd, meta)
		h.e.Touch(&cmd)
		if h.m.StateHash() != before {
			t.Fatal("Touch changed state")
		}
		if err := h.m.ApplySequenced(&cmd, meta); err != nil {
			if h.m.StateHash() != before {
				t.Fatalf("refused command changed state: %v", err)
			}
			return
		}
		h.evs = h.e.Apply(&cmd, h.evs[:0])
		for i := range h.evs {
			h.m.OnEvent(&h.evs[i], nil)
		}
		_ = h.m.StateHash()
		_ = h.m.AppendSnapshot(nil)
	})
}

// FuzzRestore: Restore never panics, and what it accepts snapshots back to
// the same bytes.
func FuzzRestore(f *testing.F) {
	h := seededHarness(f)
	r := rplReq(1, "r", "a", 10000, 20)
	r2 := rplReq(1, "r2", "r", 9900, 25)
	h.m.Submit(&r, nil, nil) // leave a chain of two replaces in flight
	h.m.Submit(&r2, nil, nil)
	snap := h.m.AppendSnapshot(nil)
	f.Add(snap)
	f.Add(snap[:len(snap)/2])
	ref := h.m.ref
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Restore(ref, Config{ClOrdIDsRetained: 1024}, b)
		if err != nil {
			return
		}
		if got := m.AppendSnapshot(nil); string(got) != string(b) {
			t.Fatalf("accepted snapshot does not round-trip")
		}
	})
}

// decodeRequest builds a request from 24 fuzz bytes, with every field free
// but kept mostly near valid values so checks deep in Submit are reached.
func decodeRequest(b []byte) Request {
	le := binary.LittleEndian
	id, _ := MakeClOrdIDBytes(b[0:2])
	orig, _ := MakeClOrdIDBytes(b[2:4])
	return Request{
		Kind: RequestKind(b[4] % 12), Side: matching.Side(b[5] % 4), Type: matching.OrderType(b[6] % 4),
		TIF: matching.TimeInForce(b[7] % 6), STP: matching.STPMode(b[8] % 6), PostOnly: b[9]&1 != 0, On: b[9]&2 != 0,
		Session: refdata.SessionID(b[10] % 6), Firm: refdata.FirmID(b[11] % 5), Account: matching.AccountID(b[12] % 6),
		Symbol: matching.SymbolID(b[13] % 4), Price: 9000 + int64(int16(le.Uint16(b[14:]))), Qty: int64(int16(le.Uint16(b[16:]))),
		ClOrdID: id, OrigClOrdID: orig, OrderID: matching.OrderID(b[18] % 16),
	}
}

// FuzzSubmit: any sequence of requests, run through the engine, keeps every
// wallet invariant and never panics. A request whose byte 19 is odd is
// submitted ahead of the engine (its commands wait, with the others before
// them, for the next request with an even byte 19), so amends chain.
func FuzzSubmit(f *testing.F) {
	f.Add([]byte("ab\x00\x00\x01\x01\x01\x01\x00\x00\x01\x01\x01\x01\x10\x03\x05\x00\x00\x00\x00\x00\x00\x00" +
		"cd\x00\x00\x01\x02\x01\x01\x00\x00\x03\x02\x03\x01\x00\x03\x05\x00\x00\x00\x00\x00\x00\x00" +
		"efab\x03\x01\x01\x01\x00\x00\x01\x01\x01\x01\x00\x03\x09\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 24*200 {
			b = b[:24*200] // keep each run short
		}
		h := newHarness(t)
		c0, h0 := h.totals()
		var queue []Pending
		for len(b) >= 24 {
			req := decodeRequest(b)
			ahead := b[19]&1 != 0
			b = b[24:]
			h.cmds, _ = h.m.Submit(&req, h.cmds[:0], nil)
			queue = append(queue, h.cmds...)
			h.checkInvariants(c0, h0)
			if !ahead || len(b) < 24 {
				h.runChecked(queue, c0, h0)
				queue = queue[:0]
			}
		}
		if n := h.m.amendsInFlight(); n != 0 {
			t.Fatalf("%d amends in flight at the end", n)
		}
	})
}
