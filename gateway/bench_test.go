package gateway

import (
	"testing"

	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/ordermanager"
)

// BenchmarkNormalizeNewOrder measures FIX NewOrderSingle → Request (field
// reads, decimal parsing, tick and lot conversion).
func BenchmarkNormalizeNewOrder(b *testing.B) {
	n, _ := alphaNormalizer(b)
	msg := build(b, "35=D", "11=order-123456", "55=AAPL", "54=1", "38=100", "40=2", "44=190.25", "59=0")
	b.ReportAllocs()
	for b.Loop() {
		if _, rej, merr := n.normalize(msg, 'D'); rej != nil || merr != nil {
			b.Fatal(rej, merr)
		}
	}
}

// BenchmarkReportMessage measures Report → FIX ExecutionReport (a fill).
func BenchmarkReportMessage(b *testing.B) {
	g, n := fuzzSetup(b)
	id, _ := ordermanager.MakeClOrdID("order-123456")
	rep := ordermanager.Report{Kind: ordermanager.RepExec, Session: n.sess.ID, ExecType: ordermanager.ExecTrade,
		OrdStatus: ordermanager.StatusPartiallyFilled, ExecID: 99, OrderID: 12345, ClOrdID: id, Account: n.sess.DefaultAccount,
		Symbol: 1, Side: matching.Buy, Type: matching.Limit, TIF: matching.Day, Price: 19025, OrderQty: 100,
		CumQty: 40, Leaves: 60, LastPx: 19025, LastQty: 40, CumTicksLots: 19025 * 40, TransactNs: 1}
	b.ReportAllocs()
	for b.Loop() {
		m, _ := g.reportMessage(&rep, "FIX.4.4")
		_ = m.Bytes()
	}
}
