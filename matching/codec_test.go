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
	trade := Event{Kind: EvTrade, Cmd: CmdNew, Side: Buy, Reason: ReasonSelfTrade, PriorityKept: true, OutSeq: 1, InSeq: 2, TimeNs: 3,
		Symbol: 4, Account: 5, OrderID: 6, Price: 7, Qty: 8, Leaves: 9, MakerOrderID: 10, MakerAccount: 11, MakerLeaves: 12, MatchID: 13,
		Flags: FlagAuction, Phase: PhaseVolatilityAuction}
	stop := evStop(Event{Kind: EvStopAdded, Cmd: CmdNew, Side: Sell, OutSeq: 1, InSeq: 2, TimeNs: 3,
		Symbol: 4, Account: 5, OrderID: 6, Price: 7, Qty: 8, Leaves: 9, Phase: PhaseContinuous}, 14)
	ice := evDisplay(Event{Kind: EvAdded, Cmd: CmdReplace, Side: Buy, OutSeq: 1, InSeq: 2, TimeNs: 3,
		Symbol: 4, Account: 5, OrderID: 6, Price: 7, Qty: 8, Leaves: 9}, 15)
	for _, e := range []Event{trade, stop, ice} {
		b := e.AppendBinary(nil)
		if len(b) != EventSize {
			t.Fatalf("encoded %d bytes, EventSize %d", len(b), EventSize)
		}
		var d Event
		if err := d.UnmarshalBinary(b); err != nil || d != e {
			t.Fatalf("round trip: %+v %v, want %+v", d, err, e)
		}
	}
	// The binary form keeps the layout of when the four shared values had
	// a field each: maker leaves and match ID at 81 and 89, stop price and
	// display at 99 and 107.
	le := func(b []byte, at int) uint64 {
		var v uint64
		for i := 7; i >= 0; i-- {
			v = v<<8 | uint64(b[at+i])
		}
		return v
	}
	if b := trade.AppendBinary(nil); le(b, 81) != 12 || le(b, 89) != 13 || le(b, 99) != 0 || le(b, 107) != 0 {
		t.Errorf("trade words at the wrong offsets: %v", b[81:])
	}
	if b := stop.AppendBinary(nil); le(b, 81) != 0 || le(b, 89) != 0 || le(b, 99) != 14 || le(b, 107) != 0 {
		t.Errorf("stop price at the wrong offset: %v", b[81:])
	}
	if b := ice.AppendBinary(nil); le(b, 99) != 0 || le(b, 107) != 15 {
		t.Errorf("display at the wrong offset: %v", b[81:])
	}
	// A form with a stop price on a trade has no Event to decode into.
	b := trade.AppendBinary(nil)
	b[99] = 1
	var d Event
	if err := d.UnmarshalBinary(b); err == nil {
		t.Error("a trade with a stop price decoded")
	}
}

// TestHasherGolden pins the hash of a trade, a stop and an iceberg event to
// the values the Hasher gave when Event had a field for each of MakerLeaves,
// MatchID, StopPrice and Display (commit 1057953), so journals and
// checkpoints written before still verify.
func TestHasherGolden(t *testing.T) {
	h := NewHasher()
	h.Add(&Event{Kind: EvTrade, Cmd: CmdNew, Side: Buy, OutSeq: 1, InSeq: 2, TimeNs: 3, Symbol: 4, Account: 5, OrderID: 6,
		Price: 7, Qty: 8, Leaves: 9, MakerOrderID: 10, MakerAccount: 11, MakerLeaves: 12, MatchID: 13})
	stop := evStop(Event{Kind: EvStopAdded, Cmd: CmdNew, Side: Sell, OutSeq: 2, InSeq: 3, Symbol: 4, Account: 5, OrderID: 16,
		Price: 7, Qty: 8, Leaves: 8}, 14)
	h.Add(&stop)
	ice := evDisplay(Event{Kind: EvAdded, Cmd: CmdNew, Side: Buy, OutSeq: 3, InSeq: 4, Symbol: 4, Account: 5, OrderID: 17,
		Price: 7, Qty: 8, Leaves: 8}, 2)
	h.Add(&ice)
	if got, want := h.Sum(), uint64(0xea52518d2cc32ea3); got != want {
		t.Fatalf("hash %#x, want %#x", got, want)
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
		func(e *Event) { e.Flags = FlagAuction }, func(e *Event) { e.Phase = PhasePreOpen },
	}
	for i, m := range muts {
		e := base
		m(&e)
		if sum(e) == ref {
			t.Errorf("mutation %d does not change the hash", i)
		}
	}
	// On any other kind the same words are the stop price and display.
	added := base
	added.Kind, added.MakerLeaves, added.MatchID = EvAdded, 0, 0
	for i, m := range []func(e *Event){func(e *Event) { e.SetStopPrice(1) }, func(e *Event) { e.SetDisplay(1) }} {
		e := added
		m(&e)
		if sum(e) == sum(added) {
			t.Errorf("stop/display mutation %d does not change the hash", i)
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
