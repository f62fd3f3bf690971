package broker

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseMix(t *testing.T) {
	m, err := ParseMix("limit=1, market=0,ioc=0,fok=0,cancel=0.5,replace=0,size=5-7,aggr=0.5,depth=3,postonly=0.25", DefaultMix())
	if err != nil {
		t.Fatal(err)
	}
	if m.Limit != 1 || m.Cancel != 0.5 || m.SizeMinLots != 5 || m.SizeMaxLots != 7 || m.Aggressiveness != 0.5 ||
		m.DepthTicks != 3 || m.PostOnly != 0.25 || m.LiveOrdersMax != DefaultMix().LiveOrdersMax {
		t.Errorf("parsed %+v", m)
	}
	for _, bad := range []string{"limit", "colour=1", "size=9-1", "aggr=2", "limit=0,market=0,ioc=0,fok=0", "cancel=x", "size=a"} {
		if _, err := ParseMix(bad, DefaultMix()); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
}

func TestParsePaceAndMode(t *testing.T) {
	for in, want := range map[string]string{"": "recorded", "recorded": "recorded", "max": "max", "2x": "2x", "0.5": "0.5x"} {
		p, err := ParsePace(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePace(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, bad := range []string{"fast", "-1", "0", "NaN", "Inf"} {
		if _, err := ParsePace(bad); err == nil {
			t.Errorf("ParsePace(%q) accepted", bad)
		}
	}
	if m, err := ParseMode("closed"); err != nil || m != ModeClosed {
		t.Errorf("ParseMode(closed) = %v, %v", m, err)
	}
	if _, err := ParseMode("half-open"); err == nil || !strings.Contains(err.Error(), "open or closed") {
		t.Errorf("ParseMode accepted half-open: %v", err)
	}
}

func TestOptionsCheck(t *testing.T) {
	cases := map[string]func(*Options){
		"no sessions":    func(o *Options) { o.Sessions = nil },
		"duplicate firm": func(o *Options) { o.Sessions = append(o.Sessions, o.Sessions[0]) },
		"no rate":        func(o *Options) { o.Rate = 0 },
		"no window":      func(o *Options) { o.Mode, o.Window = ModeClosed, 0 },
		"no limit":       func(o *Options) { o.Duration, o.OrdersMax = 0, 0 },
		"off-tick ref": func(o *Options) {
			o.Symbols[0].Price = o.Symbols[0].Price.Add(o.Symbols[0].Tick.Div(decimal.NewFromInt(2)))
		},
		"no new orders": func(o *Options) { o.Mix = Mix{Cancel: 1, SizeMinLots: 1, SizeMaxLots: 1, DepthTicks: 1} },
	}
	for name, mutate := range cases {
		o := DefaultOptions()
		mutate(&o)
		if err := o.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	o := DefaultOptions()
	if err := o.check(); err != nil {
		t.Errorf("defaults rejected: %v", err)
	}
}
