package matching

import "testing"

// BenchmarkNew measures building a small engine, which prewarms its pools.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		New(Config{Symbols: 3, OrdersHint: 4})
	}
}
