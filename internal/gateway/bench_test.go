package gateway

import (
	"bytes"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
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
		CumQty: 40, Leaves: 60, LastPx: 19025, LastQty: 40, CumTicksLots: 19025 * 40, Fee: 381, TransactNs: 1}
	var scratch []byte
	var body fixBody
	h := fixsession.Header{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		body.reset()
		mt := g.reportMessage(&rep, "FIX.4.4", &scratch, &body)
		out = fixsession.AppendMessage(out[:0], &h, string(mt), 1, time.Unix(1, 0), nil, body.b)
	}
}

// echoOM acknowledges every new order from one report goroutine, as the
// pipeline's report stage would.
type echoOM struct {
	ch chan ordermanager.Request
}

func (e *echoOM) Submit(r *ordermanager.Request) bool {
	select {
	case e.ch <- *r:
		return true
	default:
		return false
	}
}

func (e *echoOM) run(g *Gateway) {
	batch := make([]ordermanager.Report, 0, 256)
	id := uint64(0)
	for r := range e.ch { // runs until the test binary exits
		batch = batch[:0]
		for {
			if r.Kind == ordermanager.ReqNew {
				id++
				batch = append(batch, ordermanager.Report{Kind: ordermanager.RepExec, Session: r.Session, ExecType: ordermanager.ExecNew,
					OrdStatus: ordermanager.StatusNew, ExecID: id, OrderID: matching.OrderID(id), ClOrdID: r.ClOrdID, Account: r.Account,
					Symbol: r.Symbol, Side: r.Side, Type: r.Type, TIF: r.TIF, Price: r.Price, OrderQty: r.Qty, Leaves: r.Qty, TransactNs: r.RecvNs})
			}
			if len(batch) == cap(batch) || len(e.ch) == 0 {
				break
			}
			r = <-e.ch
		}
		g.Deliver(batch)
	}
}

// BenchmarkRoundTripRaw sends NewOrderSingles over loopback through the
// gateway's session layer to an order manager stand-in that acknowledges
// each one, and waits for every ExecutionReport. The client is a plain TCP
// writer of prepared messages, so only the exchange side does FIX work.
func BenchmarkRoundTripRaw(b *testing.B) {
	addr := freeAddr(b)
	cfg := testConfig(b, addr, b.TempDir())
	om := &echoOM{ch: make(chan ordermanager.Request, 1<<16)}
	g := startGateway(b, cfg, om)
	go om.run(g)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	msg := func(seq int, mt string, fields ...string) []byte {
		m := build(b, append([]string{"35=" + mt}, fields...)...)
		m.Header.SetString(8, "FIX.4.4")
		m.Header.SetString(49, "ALPHA")
		m.Header.SetString(56, "EXCHANGE")
		m.Header.SetInt(tag.MsgSeqNum, seq)
		m.Header.SetField(52, quickfix.FIXUTCTimestamp{Time: time.Now()})
		return m.Bytes()
	}
	if _, err := conn.Write(msg(1, "A", "98=0", "108=30", "553=alpha", "554=pw-alpha")); err != nil {
		b.Fatal(err)
	}
	waitLive(b, g, cfg.SessionByCompID("ALPHA"))
	var orders [][]byte
	for i := 0; i < b.N; i++ {
		orders = append(orders, msg(i+2, "D", "11=r"+strconv.Itoa(i), "55=AAPL", "54=1", "38=10", "40=2", "44=100.01"))
	}
	acks := make(chan int, 1)
	go func() {
		buf := make([]byte, 1<<16)
		n, tail := 0, []byte{}
		for n < b.N {
			k, err := conn.Read(buf)
			if err != nil {
				break
			}
			data := append(tail, buf[:k]...)
			n += bytes.Count(data, []byte("\x0135=8\x01"))
			if len(data) > 6 {
				tail = append([]byte{}, data[len(data)-6:]...)
			}
		}
		acks <- n
	}()
	b.ResetTimer()
	start := time.Now()
	for _, o := range orders {
		if _, err := conn.Write(o); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case n := <-acks:
		if n < b.N {
			b.Fatalf("%d of %d acks", n, b.N)
		}
	case <-time.After(60 * time.Second):
		b.Fatal("acks timed out")
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orders/s")
}

// BenchmarkRejectNewOrder measures the gateway's own reject of a
// NewOrderSingle (an ExecutionReport 35=8 with its fields echoed), read
// from the session layer's framed fields and written in wire form.
func BenchmarkRejectNewOrder(b *testing.B) {
	g, _ := fuzzSetup(b)
	raw := []byte("8=FIX.4.4\x019=0\x0135=D\x0149=ALPHA\x0156=EXCHANGE\x0134=2\x0152=20260102-03:04:05.678\x01" +
		"11=order-123456\x0155=ZZZ\x0154=1\x0138=100\x0140=2\x0144=190.25\x0159=0\x0110=000\x01")
	var m fixsession.Message
	m.Raw, m.Fields = raw, fixsession.Scan(raw, nil)
	in := inbound{f: rawFields{&m}, seq: 2}
	rej := &rejection{why: rUnknownSymbol, text: "unknown symbol \"ZZZ\""}
	h := fixsession.Header{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}
	var body fixBody
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		body.reset()
		mt := g.rejectFields(in, "FIX.4.4", 'D', rej, &body)
		out = fixsession.AppendMessage(out[:0], &h, mt, 1, time.Unix(1, 0), nil, body.b)
	}
}

// BenchmarkNormalizeNewOrderRaw is BenchmarkNormalizeNewOrder over the
// session layer's framed fields, as the gateway reads every order.
func BenchmarkNormalizeNewOrderRaw(b *testing.B) {
	n, _ := alphaNormalizer(b)
	raw := []byte("8=FIX.4.4\x019=0\x0135=D\x0149=ALPHA\x0156=EXCHANGE\x0134=2\x0152=20260102-03:04:05.678\x01" +
		"11=order-123456\x0155=AAPL\x0154=1\x0138=100\x0140=2\x0144=190.25\x0159=0\x0110=000\x01")
	var m fixsession.Message
	m.Raw, m.Fields = raw, fixsession.Scan(raw, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, rej, merr := n.normalizeFields(rawFields{&m}, 'D'); rej != nil || merr != nil {
			b.Fatal(rej, merr)
		}
	}
}
