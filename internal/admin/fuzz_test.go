package admin

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeStrict feeds arbitrary bodies to the strict decoder of every
// request type: it never panics, refuses with a 400-class error that has a
// message, and what it accepts re-encodes to a body it accepts again with
// the same value.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{
		`{"symbol":"AAPL","reason":"news"}`, `{"all":true,"reason":"x"}`, `{"symbol":"AAPL","reason":"x","sym":1}`,
		`{"account":"ALPHA-1","on":true,"reason":"x"}`, `{"firm":"ALPHA","on":false,"reason":"x"}`, `{"on":"yes"}`,
		`{"firm":"ALPHA","account":"ALPHA-1","symbol":"MSFT","reason":"x"}`, `{"session":"ALPHA","reason":"x"}`,
		`{"firm":"ALPHA","blocked":true,"reason":"x"}`, `{"account":"A","limits":{"max_order_lots":5,"max_order_notional":"1.00"},"reason":"x"}`,
		`{"limits":{"max_lots":5}}`, `{"limits":{"max_order_lots":"5"}}`, `[1]`, `null`, `{} {}`, `{"a":`, ``, `"s"`, `{"reason":"\u0000"}`,
		`{"limits":{"max_open_orders":1e30}}`, `{"on":true,"on":false}`,
		`{"symbol":"AAPL","phase":"pre_open","reason":"x"}`, `{"all":true,"phase":7,"reason":"x"}`,
		`{"name":"NEWCO","tick_size":"0.05","lot_size":"10","reference_price":"20","static_band_bps":500,"dynamic_band_bps":-1,"reason":"IPO"}`,
		`{"name":"N","tick_size":0.05}`, `{"static_band_bps":1e99}`,
	} {
		f.Add([]byte(s))
	}
	targets := []func() any{
		func() any { return &HaltRequest{} }, func() any { return &KillRequest{} }, func() any { return &CancelRequest{} },
		func() any { return &DisconnectRequest{} }, func() any { return &BlockRequest{} }, func() any { return &LimitsRequest{} },
		func() any { return &PhaseRequest{} }, func() any { return &SymbolRequest{} },
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, mk := range targets {
			v := mk()
			if err := decodeStrict(b, v); err != nil {
				if err.Status < 400 || err.Status >= 500 || err.Msg == "" {
					t.Fatalf("%T: bad refusal %+v", v, err)
				}
				continue
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%T: re-encode: %v", v, err)
			}
			w := mk()
			if aerr := decodeStrict(again, w); aerr != nil {
				t.Fatalf("%T: re-decode of %s: %v", v, again, aerr)
			}
			again2, _ := json.Marshal(w)
			if string(again) != string(again2) {
				t.Fatalf("%T: %s became %s", v, again, again2)
			}
		}
	})
}
