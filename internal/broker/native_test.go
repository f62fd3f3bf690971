package broker

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/shopspring/decimal"
)

// Closed loop through each engine against the fake: every request is
// answered once and timed once, fills are timed, an ExecutionReport
// rejection counts by its reason, and a BusinessMessageReject that names
// its request only by MsgSeqNum finds it (the native engine infers the
// sequence numbers of what it sends).
func TestAnswerAndLatencyAccounting(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		f := startFake(t, []string{"ALPHA", "BRAVO"}, func(f *fakeExchange) { f.rejectAt, f.bizRejectAt = 5, 9 })
		o := testOptions(f, "ALPHA", "BRAVO")
		o.Engine = engine
		o.Mode, o.Window, o.OrdersMax = ModeClosed, 8, 600
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		var tbl bytes.Buffer
		res.WriteTable(&tbl)
		t.Logf("\n%s", tbl.String())
		if res.Sent+res.Skipped != 600 || res.Unanswered != 0 || res.Unmatched != 0 {
			t.Errorf("sent %d skipped %d unanswered %d unmatched %d", res.Sent, res.Skipped, res.Unanswered, res.Unmatched)
		}
		if res.Acked+res.Rejected != res.Sent || res.Ack.TotalCount() != res.Sent {
			t.Errorf("acked %d + rejected %d, %d ack latencies, want %d", res.Acked, res.Rejected, res.Ack.TotalCount(), res.Sent)
		}
		if res.Filled == 0 || res.Fill.TotalCount() != res.Filled {
			t.Errorf("filled %d, %d fill latencies", res.Filled, res.Fill.TotalCount())
		}
		want := map[string]int64{"exec-report 103=99: test rejection": 1, "business-reject 380=3: not authorized": 1}
		if res.Rejected != 2 || len(res.RejectedByReason) != 2 {
			t.Errorf("rejections %v, want %v", res.RejectedByReason, want)
		}
		for k, v := range want {
			if res.RejectedByReason[k] != v {
				t.Errorf("rejections %v, want %v", res.RejectedByReason, want)
			}
		}
		if got := int64(len(f.requests())); got != res.Sent {
			t.Errorf("fake saw %d requests, broker sent %d", got, res.Sent)
		}
		if res.Ack.Min() <= 0 || res.Ack.Max() > int64(o.DrainTimeout+time.Minute) {
			t.Errorf("ack latencies from %d to %d ns", res.Ack.Min(), res.Ack.Max())
		}
	})
}

// With the native engine a wrong password is refused with the exchange's
// reason, not a timeout. (QuickFIX/Go's initiator does not pass the
// refusing Logout to the application, so that engine times out.)
func TestLogonRefused(t *testing.T) {
	f := startFake(t, []string{"ALPHA"}, func(f *fakeExchange) { f.password = "right" })
	o := testOptions(f, "ALPHA")
	o.OrdersMax = 1
	o.LogonTimeout = 20 * time.Second
	_, err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "refused: bad password") {
		t.Fatalf("err = %v, want the exchange's refusal", err)
	}
}

// A session-level Reject names the request only by MsgSeqNum: both engines
// find the request by it and count the rejection with its reason.
func TestSessionReject(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		f := startFake(t, []string{"ALPHA"}, func(f *fakeExchange) { f.sessionRejectAt = 3 })
		o := testOptions(f, "ALPHA")
		o.Engine = engine
		o.Mix.Cancel, o.Mix.Replace = 0, 0
		o.Rate, o.OrdersMax, o.DrainTimeout = 1000, 20, time.Second
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Sent != 20 || res.Acked != 19 {
			t.Fatalf("sent %d acked %d", res.Sent, res.Acked)
		}
		if res.Rejected != 1 || res.RejectedByReason["session-reject 373=5: test session reject"] != 1 || res.Unmatched != 0 || res.Unanswered != 0 {
			t.Errorf("rejected %d %v unmatched %d unanswered %d", res.Rejected, res.RejectedByReason, res.Unmatched, res.Unanswered)
		}
	})
}

// The native engine's hot path allocates nothing per answer and nothing per
// request body.
func TestNativeHotPathAllocs(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector allocates")
	}
	tr := newTracker(1, 0, "c")
	in := Intent{Kind: KindNew, Symbol: "AAPL", Side: FIXBuy, Type: FIXLimit, Price: decimal.RequireFromString("189.51"), Qty: decimal.NewFromInt(10)}
	o := &order{ref: "a", clOrdID: "c-1", symbol: "AAPL", side: FIXBuy, typ: FIXLimit}
	tr.register(&request{clOrdID: "c-1", id: 1, kind: KindNew, order: o, origin: time.Now()}, "a")
	body := appendBody(nil, &in, o, "c-1", "", time.Now())
	if n := testing.AllocsPerRun(100, func() { body = appendBody(body[:0], &in, o, "c-1", "", time.Now()) }); n != 0 {
		t.Errorf("appendBody: %v allocations", n)
	}
	h := fixsession.Header{BeginString: beginString, SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}
	raw := fixsession.AppendMessage(nil, &h, "8", 2, time.Now(), nil,
		[]byte("37=X1\x0117=1\x0111=c-1\x01150=0\x0139=0\x0155=AAPL\x0154=1\x01151=10\x0114=0\x016=0\x01"))
	m := &fixsession.Message{Raw: raw, Fields: fixsession.Scan(raw, nil), MsgType: []byte("8"), ReceiveTime: time.Now()}
	a := &nativeApp{i: 0, tr: tr, l: newLogons([]Session{{SenderCompID: "ALPHA"}})}
	if n := testing.AllocsPerRun(100, func() { a.FromApp(nil, m) }); n != 0 {
		t.Errorf("FromApp of an ExecutionReport: %v allocations", n)
	}
	if tr.acked != 1 || tr.unmatchedN != 0 {
		t.Errorf("acked %d unmatched %d", tr.acked, tr.unmatchedN)
	}
}
