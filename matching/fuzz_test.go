package matching

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// fuzzCommandSize is how many input bytes make one fuzzed command.
const fuzzCommandSize = 14

// fuzzBands are the volatility bands of the fuzzed engine's symbols.
var fuzzBands = []Bands{{StaticBps: 1000, DynamicBps: 300}, {}, {DynamicBps: 500}}

// fuzzCommand turns 14 bytes into a command over a small world (3 symbols,
// 4 accounts, 16 order IDs, prices near 100) so that random bytes hit real
// orders often; the top values of some bytes select nonsense instead. Bytes
// 12 and 13 give the trading day's fields: stop price, iceberg peak, phase
// and GTD expiry.
func fuzzCommand(b []byte, seq uint64) Command {
	c := Command{
		Kind: CommandKind(b[0] % 12), Side: Side(b[1] % 4), Type: OrderType(b[2] % 5), TIF: TimeInForce(b[3] % 8),
		STP: STPMode(b[4] % 6), PostOnly: b[5]&1 == 1, Seq: seq, TimeNs: int64(seq),
		Symbol: SymbolID(b[6] % 5), Account: AccountID(b[7] % 5), STPGroup: uint32(b[5]>>1) % 3,
		OrderID: OrderID(b[8] % 16), Price: 90 + int64(b[9]%21), Qty: int64(b[10]%16) + int64(b[11]>>5)*100,
	}
	if c.Type == Stop || c.Type == StopLimit || b[12]&0x80 != 0 {
		c.StopPrice = 90 + int64(b[12]%21)
	}
	if c.Type == Limit && b[13]&3 == 1 {
		c.Display = int64(b[12]>>4) % 8
	}
	if c.Kind == CmdPhase {
		c.Phase = Phase(b[12] % 10)
	}
	if c.TIF == GTD || b[13]&3 == 2 {
		c.ExpireNs = int64(seq) + int64(b[13]>>2)*int64(fuzzCommandSize) - 20
	}
	switch b[11] & 7 {
	case 6:
		c.Price = int64(binary.LittleEndian.Uint16(b[9:])) - 3
	case 7:
		c.Qty = []int64{0, -1, QtyMax, QtyMax + 1, 1 << 62}[b[10]%5]
		c.Price = []int64{0, -1, PriceMax, PriceMax + 1, 1 << 62}[b[9]%5]
	}
	return c
}

// FuzzEngine turns bytes into a command sequence and requires the engine to
// agree with the reference model event for event, keep its invariants and
// survive a snapshot round trip, without panicking.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{1, 1, 1, 1, 0, 0, 1, 1, 1, 10, 5, 0, 0, 0}, 3))
	// A pre-open call with crossing orders, then continuous trading: an
	// uncross, then a stop and an iceberg.
	f.Add([]byte{
		9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0,
		1, 1, 1, 1, 0, 0, 1, 1, 1, 12, 5, 0, 0, 0,
		1, 2, 1, 1, 0, 0, 1, 2, 2, 8, 3, 0, 0, 0,
		1, 2, 2, 6, 0, 0, 1, 3, 3, 8, 4, 0, 0, 0,
		9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 3, 1, 0, 0, 1, 1, 4, 0, 2, 0, 11, 0,
		1, 2, 1, 1, 0, 0, 1, 2, 5, 14, 9, 0, 0x21, 1,
		1, 1, 1, 1, 0, 0, 1, 3, 6, 14, 4, 0, 0, 0,
	})
	f.Add([]byte{1, 1, 1, 1, 0, 0, 1, 1, 1, 10, 5, 0, 1, 2, 1, 1, 1, 0, 1, 1, 2, 9, 9, 0, 3, 1, 1, 1, 0, 0, 1, 1, 2, 12, 3, 0})
	f.Add([]byte{1, 2, 1, 2, 0, 0, 1, 1, 3, 10, 5, 0, 1, 1, 1, 4, 4, 0, 1, 1, 4, 12, 9, 0, 4, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0})
	for _, seed := range []uint64{1, 2} {
		var b []byte
		for _, c := range genCommands(seed, 60) {
			b = append(b, byte(c.Kind), byte(c.Side), byte(c.Type), byte(c.TIF), byte(c.STP), byte(c.STPGroup<<1),
				byte(c.Symbol), byte(c.Account), byte(c.OrderID), byte(c.Price-90), byte(c.Qty%16), 0, byte(c.Phase), 0)
		}
		f.Add(b)
	}
	f.Fuzz(runFuzzEngine)
}

func runFuzzEngine(t *testing.T, data []byte) {
	e := New(Config{Symbols: 3, OrdersHint: 4, Bands: fuzzBands})
	if k := len(data) % 4; k > 0 {
		e.emptyMax = k * k // exercise evicting empty levels, too
	}
	ref := newRefModel(3, fuzzBands...)
	var out []Event
	for i := 0; i+fuzzCommandSize <= len(data) && i < 250*fuzzCommandSize; i += fuzzCommandSize {
		c := fuzzCommand(data[i:i+fuzzCommandSize], uint64(i))
		out = e.Apply(&c, out[:0])
		if want := ref.apply(c); !slices.Equal(out, want) {
			t.Fatalf("command %+v:\nengine:%s\nmodel:%s", c, fmtEvents(out), fmtEvents(want))
		}
		checkInvariants(t, e)
	}
	if err := sameState(e, ref); err != nil {
		t.Fatal(err)
	}
	snap := e.AppendSnapshot(nil)
	r, err := Restore(snap)
	if err != nil {
		t.Fatal(err)
	}
	if r.StateHash() != e.StateHash() {
		t.Fatal("state hash changed across a snapshot")
	}
}

// FuzzRestore feeds Restore arbitrary bytes: it must return an error or an
// engine whose invariants hold and whose own snapshot is the input again.
func FuzzRestore(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte(snapMagic))
	f.Add(New(Config{Symbols: 2}).AppendSnapshot(nil))
	e := New(Config{Symbols: 2})
	var out []Event
	for _, c := range genCommands(3, 300) {
		out = e.Apply(&c, out[:0])
	}
	f.Add(e.AppendSnapshot(nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Restore(data)
		if err != nil {
			return
		}
		checkInvariants(t, r)
		if again := r.AppendSnapshot(nil); !bytes.Equal(again, data) {
			t.Fatalf("accepted a snapshot that does not round-trip")
		}
		c := Command{Kind: CmdNew, OrderID: 1 << 40, Account: 1, Symbol: 1, Side: Buy, Type: Limit, TIF: IOC, Price: PriceMax, Qty: QtyMax}
		r.Apply(&c, nil)
		checkInvariants(t, r)
	})
}
