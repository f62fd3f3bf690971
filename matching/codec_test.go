package matching

import (
	"errors"
	"testing"
)

func TestCommandCodecRoundTrip(t *testing.T) {
	c := Command{Kind: CmdReplace, Side: Sell, Type: Limit, TIF: Day, STP: STPDecrementCancel, PostOnly: true,
		Seq: 1<<63 + 5, TimeNs: -7, Symbol: 9, Account: 1<<32 - 1, STPGroup: 77, OrderID: 123456789, Price: -1, Qty: 1 << 40,
		StopPrice: 17, Display: 18, ExpireNs: 19, Phase: PhaseClosingCall}
	b := c.AppendBinary(nil)
	if len(b) != CommandSize {
		t.Fatalf("encoded %d bytes, CommandSize %d", len(b), CommandSize)
	}
	var d Command
	if err := d.UnmarshalBinary(b); err != nil || d != c {
		t.Fatalf("round trip: %+v %v, want %+v", d, err, c)
	}
	if err := d.UnmarshalBinary(b[:CommandSize-1]); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("short buffer: %v", err)
	}
}

func TestEventCodecRoundTrip(t *testing.T) {
	e := Event{Kind: EvTrade, Cmd: CmdNew, Side: Buy, Reason: ReasonSelfTrade, PriorityKept: true, OutSeq: 1, InSeq: 2, TimeNs: 3,
		Symbol: 4, Account: 5, OrderID: 6, Price: 7, Qty: 8, Leaves: 9, MakerOrderID: 10, MakerAccount: 11, MakerLeaves: 12, MatchID: 13,
		Flags: FlagAuction, Phase: PhaseVolatilityAuction, StopPrice: 14, Display: 15}
	b := e.AppendBinary(nil)
	if len(b) != EventSize {
		t.Fatalf("encoded %d bytes, EventSize %d", len(b), EventSize)
	}
	var d Event
	if err := d.UnmarshalBinary(b); err != nil || d != e {
		t.Fatalf("round trip: %+v %v, want %+v", d, err, e)
	}
}

// Every field must change the hash, and order must matter.
func TestHasherSeesEveryFieldAndOrder(t *testing.T) {
	base := Event{Kind: EvTrade, Cmd: CmdNew, Side: Buy, Reason: ReasonUser, OutSeq: 1, InSeq: 2, TimeNs: 3,
		Symbol: 4, Account: 5, OrderID: 6, Price: 7, Qty: 8, Leaves: 9, MakerOrderID: 10, MakerAccount: 11, MakerLeaves: 12, MatchID: 13}
	sum := func(es ...Event) uint64 {
		h := NewHasher()
		for i := range es {
			h.Add(&es[i])
		}
		return h.Sum()
	}
	ref := sum(base)
	muts := []func(e *Event){
		func(e *Event) { e.Kind = EvAdded }, func(e *Event) { e.Cmd = CmdCancel }, func(e *Event) { e.Side = Sell },
		func(e *Event) { e.Reason = ReasonExpired }, func(e *Event) { e.PriorityKept = true }, func(e *Event) { e.OutSeq++ },
		func(e *Event) { e.InSeq++ }, func(e *Event) { e.TimeNs++ }, func(e *Event) { e.Symbol++ }, func(e *Event) { e.Account++ },
		func(e *Event) { e.OrderID++ }, func(e *Event) { e.Price++ }, func(e *Event) { e.Qty++ }, func(e *Event) { e.Leaves++ },
		func(e *Event) { e.MakerOrderID++ }, func(e *Event) { e.MakerAccount++ }, func(e *Event) { e.MakerLeaves++ }, func(e *Event) { e.MatchID++ },
		func(e *Event) { e.Flags = FlagAuction }, func(e *Event) { e.Phase = PhasePreOpen }, func(e *Event) { e.StopPrice++ },
		func(e *Event) { e.Display++ },
	}
	for i, m := range muts {
		e := base
		m(&e)
		if sum(e) == ref {
			t.Errorf("mutation %d does not change the hash", i)
		}
	}
	other := base
	other.OrderID = 99
	if sum(base, other) == sum(other, base) {
		t.Error("hash ignores event order")
	}
	h := NewHasher()
	h.Add(&base)
	var r Hasher
	r.SetSum(h.Sum())
	r.Add(&other)
	if r.Sum() != sum(base, other) {
		t.Error("SetSum does not continue the running hash")
	}
}
