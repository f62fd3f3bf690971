package ordermanager

import (
	"errors"
	"testing"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// TestListingAndPhaseNotes: a listing and a phase note survive their
// journal encoding; a listed symbol grows every account's holdings and
// takes orders; a snapshot restores it with its listings section and
// refuses one without (or with a damaged one).
func TestListingAndPhaseNotes(t *testing.T) {
	h := newHarness(t)
	var p Pending
	n := OperatorNote{Action: ActPhase, Symbol: 2, Phase: matching.PhaseClosingCall, Who: "ops", Why: "early close"}
	encodeNote(&p, &n)
	p.Cmd = matching.Command{Kind: matching.CmdAdmin, Seq: 9}
	got, ok := DecodeOperatorNote(&p.Cmd, p.MetaBytes())
	if !ok || got.Phase != matching.PhaseClosingCall || got.Symbol != 2 || got.Seq != 9 || got.Why != "early close" {
		t.Fatalf("phase note: %+v %v", got, ok)
	}
	if _, ok := DecodeOperatorNote(&p.Cmd, append(p.MetaBytes(), 0)); ok {
		t.Fatal("a note with a trailing byte decoded")
	}

	base := len(h.m.ref.Symbols)
	sym, err := h.m.ref.BuildSymbol(&refdata.SymbolListing{Name: "NEWCO", TickSize: "0.05", LotSize: "10", ReferencePrice: "20", StaticBandBps: 1000}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []Pending
	cmds, err = h.m.Operate(&Operation{Action: ActListSymbol, Listing: sym, Who: "ops", Why: "IPO"}, cmds)
	if err != nil || len(cmds) != 2 || cmds[1].Cmd.Kind != matching.CmdAddSymbol || int(cmds[1].Cmd.Symbol) != base+1 || cmds[1].Cmd.Price != 1000 {
		t.Fatalf("listing: %v %+v", err, cmds)
	}
	dec, ok := decodeListing(cmds[1].MetaBytes())
	if !ok || dec.Name != "NEWCO" || !dec.TickSize.Equal(sym.TickSize) || !dec.LotSize.Equal(sym.LotSize) || dec.RefTicks != 400 {
		t.Fatalf("decoded listing %+v", dec)
	}
	for i := range cmds {
		h.e.Apply(&cmds[i].Cmd, nil)
	}
	if _, err := h.m.Operate(&Operation{Action: ActListSymbol, Listing: sym, Who: "ops", Why: "again"}, nil); !errors.Is(err, refdata.ErrDuplicateSymbol) {
		t.Fatalf("again: %v", err)
	}
	a, _ := h.m.Account(1)
	if len(a.Holdings) != base+1 {
		t.Fatalf("holdings cover %d symbols", len(a.Holdings))
	}
	id := matching.SymbolID(base + 1)
	req := newReq(1, "n1", matching.Buy, 400, 2)
	req.Symbol = id
	if reps := h.do(req); len(reps) == 0 || reps[0].ExecType != ExecNew {
		t.Fatalf("order in NEWCO: %+v", reps)
	}

	snap, listings := h.m.AppendSnapshot(nil), h.m.AppendListings(nil)
	m2, err := RestoreListed(h.m.ref, Config{}, snap, listings)
	if err != nil || m2.StateHash() != h.m.StateHash() || len(m2.Listed()) != 1 {
		t.Fatalf("restore: %v", err)
	}
	if _, err := Restore(h.m.ref, Config{}, snap); err == nil {
		t.Fatal("a snapshot with a listed symbol restored without its listings")
	}
	bad := append([]byte(nil), listings...)
	bad[len(bad)-1] = ' ' // the name's last byte: a space is no name
	if _, err := RestoreListed(h.m.ref, Config{}, snap, bad); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("damaged listings: %v", err)
	}
}
