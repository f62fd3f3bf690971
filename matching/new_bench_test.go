package matching

import "testing"

// BenchmarkNew measures building a small engine, which prewarms its pools.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		New(Config{Symbols: 3, OrdersHint: 4})
	}
}

// BenchmarkRestore measures restoring a snapshot of 1 M resting limit
// orders spread over 4 symbols and 20,000 price levels a side: the cost that
// recovery from a snapshot pays before it replays the journal after it.
func BenchmarkRestore(b *testing.B) {
	const orders = 1_000_000
	e := New(Config{Symbols: 4, OrdersHint: orders})
	var out []Event
	for i := range orders {
		side, px := Buy, int64(100_000-i%20_000)
		if i%2 == 1 {
			side, px = Sell, int64(100_001+i%20_000)
		}
		cmd := Command{Kind: CmdNew, Symbol: SymbolID(1 + i%4), OrderID: OrderID(i + 1), Account: AccountID(1 + i%100),
			Side: side, Type: Limit, TIF: GTC, Price: px, Qty: 10}
		out = e.Apply(&cmd, out[:0])
	}
	snap := e.AppendSnapshot(nil)
	b.SetBytes(int64(len(snap)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Restore(snap); err != nil {
			b.Fatal(err)
		}
	}
}
