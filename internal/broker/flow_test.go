package broker

import (
	"errors"
	"io"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func drain(t *testing.T, src OrderSource) []Intent {
	t.Helper()
	var out []Intent
	for {
		in, err := src.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, in)
	}
}

func testFlow(seed int64, mix Mix, n int) *flowModel {
	o := DefaultOptions()
	return newFlow(seed, mix, []string{"ALPHA", "BRAVO", "CHARLIE"}, o.Symbols, n)
}

func TestFlowMixProportions(t *testing.T) {
	const n = 100_000
	mix := DefaultMix()
	mix.PostOnly = 0.3
	got := map[string]int{}
	sessions := map[string]int{}
	agg := 0
	limits := 0
	f := testFlow(7, mix, n)
	for {
		in, err := f.Next()
		if err == io.EOF {
			break
		}
		sessions[in.Session]++
		switch {
		case in.Kind == KindCancel:
			got["cancel"]++
		case in.Kind == KindReplace:
			got["replace"]++
		case in.Type == FIXMarket:
			got["market"]++
			if in.TIF != FIXIOC || !in.Price.IsZero() {
				t.Fatalf("market order %s: want IOC without price", in)
			}
		case in.TIF == FIXIOC:
			got["ioc"]++
		case in.TIF == FIXFOK:
			got["fok"]++
		default:
			got["limit"]++
		}
		if in.Kind != KindCancel && in.Type == FIXLimit {
			tick := decimal.RequireFromString("0.01")
			if !in.Price.IsPositive() || !in.Price.Mod(tick).IsZero() || !in.Qty.IsPositive() {
				t.Fatalf("bad price or qty: %s", in)
			}
		}
		if in.Kind == KindNew && in.Type == FIXLimit {
			limits++
			// White box: the symbol's mid right after Next is the one
			// the order was priced against.
			for _, sym := range f.symbols {
				if sym.Name == in.Symbol {
					ticks := in.Price.Div(sym.Tick).IntPart()
					if (in.Side == FIXBuy && ticks > sym.midTicks) || (in.Side == FIXSell && ticks < sym.midTicks) {
						agg++
						if in.PostOnly {
							t.Fatalf("aggressive order marked post-only: %s", in)
						}
					}
				}
			}
		}
	}
	want := map[string]float64{"limit": mix.Limit, "market": mix.Market, "ioc": mix.IOC, "fok": mix.FOK,
		"cancel": mix.Cancel, "replace": mix.Replace}
	for k, w := range want {
		frac := float64(got[k]) / n
		if math.Abs(frac-w) > 0.01 {
			t.Errorf("%s: %.4f of intents, want %.2f ± 0.01", k, frac, w)
		}
	}
	for s, c := range sessions {
		if math.Abs(float64(c)/n-1.0/3) > 0.02 {
			t.Errorf("session %s has %d of %d intents", s, c, n)
		}
	}
	if frac := float64(agg) / float64(limits); math.Abs(frac-mix.Aggressiveness) > 0.01 {
		t.Errorf("%.4f of limit orders cross the mid, want %.2f ± 0.01", frac, mix.Aggressiveness)
	}
}

func TestFlowRepeatableBySeed(t *testing.T) {
	a := drain(t, testFlow(42, DefaultMix(), 5000))
	b := drain(t, testFlow(42, DefaultMix(), 5000))
	if len(a) != 5000 || !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed gave different flows (len %d, %d)", len(a), len(b))
	}
	c := drain(t, testFlow(43, DefaultMix(), 5000))
	same := 0
	for i := range a {
		if reflect.DeepEqual(a[i], c[i]) {
			same++
		}
	}
	if same > 50 {
		t.Fatalf("seeds 42 and 43 share %d of 5000 intents", same)
	}
}

// Cancels and replaces name orders the flow itself created and has not
// cancelled, on the session that created them.
func TestFlowTargetsOwnLiveOrders(t *testing.T) {
	live := map[string]Intent{}
	for _, in := range drain(t, testFlow(3, DefaultMix(), 20000)) {
		switch in.Kind {
		case KindNew:
			if in.Type == FIXLimit && in.TIF == FIXDay {
				live[in.Ref] = in
			}
		case KindCancel, KindReplace:
			o, ok := live[in.Ref]
			if !ok {
				t.Fatalf("%s targets an order that is not live", in)
			}
			if o.Session != in.Session || o.Symbol != in.Symbol || o.Side != in.Side {
				t.Fatalf("%s does not match its order %s", in, o)
			}
			if in.Kind == KindCancel {
				delete(live, in.Ref)
			}
		}
	}
}

func BenchmarkFlowNext(b *testing.B) {
	f := testFlow(1, DefaultMix(), 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendBody is the native engine's cost of building one request.
func BenchmarkAppendBody(b *testing.B) {
	f := testFlow(1, DefaultMix(), 0)
	in, _ := f.Next()
	o := &order{ref: in.Ref, clOrdID: "x-1", symbol: in.Symbol, side: in.Side, typ: in.Type, tif: in.TIF}
	now := time.Now()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendBody(buf[:0], &in, o, "x-2", "", now)
	}
}

// BenchmarkMessageOf is what the QuickFIX/Go engine adds to it.
func BenchmarkMessageOf(b *testing.B) {
	f := testFlow(1, DefaultMix(), 0)
	in, _ := f.Next()
	o := &order{ref: in.Ref, clOrdID: "x-1", symbol: in.Symbol, side: in.Side, typ: in.Type, tif: in.TIF}
	body := appendBody(nil, &in, o, "x-2", "", time.Now())
	b.ReportAllocs()
	for b.Loop() {
		messageOf("D", body)
	}
}
