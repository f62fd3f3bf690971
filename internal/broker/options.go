package broker

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"
)

// Session is one FIX session (one firm) of the simulator.
type Session struct {
	SenderCompID string // the firm's CompID, e.g. "ALPHA"
	TargetCompID string // the exchange's CompID, "EXCHANGE"
	Username     string // Logon Username (553)
	Password     string // Logon Password (554)
	Account      string // Account (1) on orders; empty leaves the tag out
}

// Symbol is one instrument the flow model trades. Prices are generated in
// whole ticks and quantities in whole lots, so every order is valid for the
// exchange's tick and lot checks unless a replayed file says otherwise.
type Symbol struct {
	Name  string
	Tick  decimal.Decimal // price increment
	Lot   decimal.Decimal // quantity increment
	Price decimal.Decimal // reference price the random walk starts from
}

// Mode is the load model.
type Mode uint8

const (
	// ModeOpen sends on a schedule fixed in advance and measures latency
	// from the scheduled time (coordinated omission corrected).
	ModeOpen Mode = iota
	// ModeClosed keeps Options.Window requests in flight and measures
	// latency from the actual send time.
	ModeClosed
)

func (m Mode) String() string {
	if m == ModeClosed {
		return "closed"
	}
	return "open"
}

// ParseMode reads "open" or "closed".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "open", "open-loop":
		return ModeOpen, nil
	case "closed", "closed-loop":
		return ModeClosed, nil
	}
	return ModeOpen, fmt.Errorf("mode %q: want open or closed", s)
}

// Pace is how fast a replayed order flow is re-sent in open-loop mode.
// The zero value is the recorded pace.
type Pace struct {
	Max   bool    // as fast as possible: no schedule, latency from the send time
	Speed float64 // > 0: recorded offsets divided by Speed (2 = twice as fast); 0 means 1
}

func (p Pace) String() string {
	switch {
	case p.Max:
		return "max"
	case p.Speed == 0 || p.Speed == 1:
		return "recorded"
	}
	return strconv.FormatFloat(p.Speed, 'g', -1, 64) + "x"
}

// ParsePace reads "recorded", "max", or a speed factor such as "2", "2x" or "0.5x".
func ParsePace(s string) (Pace, error) {
	switch strings.ToLower(s) {
	case "", "recorded", "1", "1x":
		return Pace{Speed: 1}, nil
	case "max", "asap":
		return Pace{Max: true}, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.ToLower(s), "x"), 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) {
		return Pace{}, fmt.Errorf("pace %q: want recorded, max or a positive factor like 2x", s)
	}
	return Pace{Speed: f}, nil
}

// Mix is the order-flow model's shape. The six fractions are weights: they
// are normalised, so they need not sum to 1.
type Mix struct {
	Limit   float64 // resting-capable limit orders (TIF DAY)
	Market  float64 // market orders (TIF IOC)
	IOC     float64 // limit IOC
	FOK     float64 // limit FOK
	Cancel  float64 // cancel of one of the simulator's own live orders
	Replace float64 // replace (new price and size) of one of its live orders

	SizeMinLots int64 // order size range in lots, inclusive
	SizeMaxLots int64

	// Aggressiveness is the probability that a limit, IOC or FOK order is
	// priced through the mid (marketable); otherwise it rests 1..DepthTicks
	// ticks behind the mid.
	Aggressiveness float64
	DepthTicks     int64   // how deep passive orders rest, in ticks
	PostOnly       float64 // probability that a passive limit order carries ExecInst 6
	LiveOrdersMax  int     // bound on the live orders the model remembers as cancel/replace targets
}

// DefaultMix is a broker-like flow: mostly resting limits, some takers,
// a steady stream of cancels and replaces.
func DefaultMix() Mix {
	return Mix{
		Limit: 0.55, Market: 0.05, IOC: 0.10, FOK: 0.05, Cancel: 0.15, Replace: 0.10,
		SizeMinLots: 1, SizeMaxLots: 100,
		Aggressiveness: 0.2, DepthTicks: 10, PostOnly: 0, LiveOrdersMax: 10000,
	}
}

// Options configures Run. Start from DefaultOptions: some zero values
// (ResetOnLogon false, an empty Mix) are meaningful.
type Options struct {
	Sessions []Session
	Host     string // exchange FIX host, default 127.0.0.1
	Port     int    // exchange FIX port, default 9878
	Symbols  []Symbol

	Seed      int64         // seeds the flow model; same seed, same requests
	Duration  time.Duration // stop sending after this long (0: no limit)
	OrdersMax int           // stop after this many requests (0: no limit)

	Mode   Mode
	Rate   float64 // open loop: requests per second of the flow model
	Window int     // closed loop: requests in flight

	Mix Mix

	// Source replaces the flow model with recorded requests (see OpenOrderFile).
	// In open-loop mode each request is scheduled at its At offset scaled by Pace.
	Source OrderSource
	Pace   Pace

	HgrmPath string    // if set, Run writes the ack-latency .hgrm text here
	PlotPath string    // if set, Run writes the latency-by-percentile SVG here
	Progress io.Writer // if set, a progress line each second

	// Engine is the FIX engine: EngineNative (the default, also "") or
	// EngineQuickFIX (QuickFIX/Go's initiator, to prove interop with the
	// reference engine; much slower, see doc.go).
	Engine string
	// WriteEach makes the native engine write every message with its own
	// system call, as QuickFIX and most FIX engines do, instead of one
	// write per batch (the exchange's cost of serving such clients is
	// measured with it). QuickFIX/Go writes one per message anyway.
	WriteEach bool

	// Failover lists a cluster's FIX addresses (host:port, Host:Port among
	// them or not). With the native engine, a session that drops during the
	// run logs on again to the cluster's leader and resynchronises its
	// requests in flight (failover.go) instead of waiting for the address it
	// had; FailoverTimeout bounds each reconnection (default 15 s).
	Failover        []string
	FailoverTimeout time.Duration

	// OnAck, when set, is called once with the ClOrdID of each request the
	// exchange acknowledged (answered by anything but a rejection,
	// including a status answer after a failover), under the tracker's
	// lock: it must be quick. The cluster demo checks with it that every
	// acknowledged request is in the survivors' journals.
	OnAck func(clOrdID string)

	StoreDir     string // session store for sequence numbers (each engine its own format); empty = in memory
	ResetOnLogon bool   // send 141=Y on Logon and start both sides at 1

	HeartBtInt   int           // seconds, default 30
	LogonTimeout time.Duration // default 10 s
	DrainTimeout time.Duration // how long to wait for answers after the last send, default 5 s
	StallTimeout time.Duration // give up sending when this far behind schedule (open) or without answers (closed), default 10 s

	Logger     *zerolog.Logger // nil: no logs
	FIXLogging bool            // session events at debug (and, with QuickFIX/Go, messages at trace) through Logger
}

// The FIX engines Options.Engine names.
const (
	EngineNative   = "native"
	EngineQuickFIX = "quickfix"
)

// DefaultOptions is the three demo firms trading the four demo symbols at
// 1,000 orders/s in open loop for 10 s.
func DefaultOptions() Options {
	d := decimal.RequireFromString
	return Options{
		Sessions: []Session{
			{SenderCompID: "ALPHA", TargetCompID: "EXCHANGE", Username: "alpha", Password: "demo-alpha"},
			{SenderCompID: "BRAVO", TargetCompID: "EXCHANGE", Username: "bravo", Password: "demo-bravo"},
			{SenderCompID: "CHARLIE", TargetCompID: "EXCHANGE", Username: "charlie", Password: "demo-charlie"},
		},
		Host: "127.0.0.1", Port: 9878,
		Symbols: []Symbol{
			{Name: "AAPL", Tick: d("0.01"), Lot: d("1"), Price: d("190.00")},
			{Name: "MSFT", Tick: d("0.01"), Lot: d("1"), Price: d("420.00")},
			{Name: "TSLA", Tick: d("0.01"), Lot: d("1"), Price: d("250.00")},
			{Name: "SPY", Tick: d("0.01"), Lot: d("1"), Price: d("550.00")},
		},
		Seed: 1, Duration: 10 * time.Second,
		Mode: ModeOpen, Rate: 1000, Window: 64,
		Engine:       EngineNative,
		Mix:          DefaultMix(),
		Pace:         Pace{Speed: 1},
		ResetOnLogon: true,
		HeartBtInt:   30, LogonTimeout: 10 * time.Second, DrainTimeout: 5 * time.Second, StallTimeout: 10 * time.Second,
	}
}

// check fills defaults that have no meaningful zero and rejects the rest.
func (o *Options) check() error {
	if len(o.Sessions) == 0 {
		return errors.New("broker: no sessions")
	}
	seen := map[string]bool{}
	for i, s := range o.Sessions {
		if s.SenderCompID == "" {
			return fmt.Errorf("broker: session %d: empty SenderCompID", i)
		}
		if seen[s.SenderCompID] {
			return fmt.Errorf("broker: session %s listed twice", s.SenderCompID)
		}
		seen[s.SenderCompID] = true
		if s.TargetCompID == "" {
			o.Sessions[i].TargetCompID = "EXCHANGE"
		}
	}
	switch strings.ToLower(o.Engine) {
	case "", EngineNative:
		o.Engine = EngineNative
	case EngineQuickFIX, "quickfixgo":
		o.Engine = EngineQuickFIX
	default:
		return fmt.Errorf("broker: engine %q: want %s or %s", o.Engine, EngineNative, EngineQuickFIX)
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = 9878
	}
	if o.HeartBtInt <= 0 {
		o.HeartBtInt = 30
	}
	if o.LogonTimeout <= 0 {
		o.LogonTimeout = 10 * time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 5 * time.Second
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = 10 * time.Second
	}
	if o.FailoverTimeout <= 0 {
		o.FailoverTimeout = 15 * time.Second
	}
	if o.Duration < 0 || o.OrdersMax < 0 {
		return errors.New("broker: negative Duration or OrdersMax")
	}
	switch o.Mode {
	case ModeOpen:
		if o.Source == nil && !(o.Rate > 0) {
			return fmt.Errorf("broker: open loop needs a positive Rate, got %v", o.Rate)
		}
		if o.Source != nil && !o.Pace.Max && o.Pace.Speed < 0 {
			return fmt.Errorf("broker: negative pace %v", o.Pace.Speed)
		}
	case ModeClosed:
		if o.Window <= 0 {
			return fmt.Errorf("broker: closed loop needs a positive Window, got %d", o.Window)
		}
	default:
		return fmt.Errorf("broker: unknown mode %d", o.Mode)
	}
	if o.Source == nil {
		if o.Duration == 0 && o.OrdersMax == 0 {
			return errors.New("broker: set Duration or OrdersMax")
		}
		if len(o.Symbols) == 0 {
			return errors.New("broker: no symbols")
		}
		for _, s := range o.Symbols {
			if err := s.check(); err != nil {
				return err
			}
		}
		if err := o.Mix.check(); err != nil {
			return err
		}
	}
	return nil
}

func (s Symbol) check() error {
	if s.Name == "" {
		return errors.New("broker: symbol with empty name")
	}
	if !s.Tick.IsPositive() || !s.Lot.IsPositive() || !s.Price.IsPositive() {
		return fmt.Errorf("broker: symbol %s: tick, lot and price must be positive", s.Name)
	}
	if !s.Price.Mod(s.Tick).IsZero() {
		return fmt.Errorf("broker: symbol %s: reference price %s is not a multiple of tick %s", s.Name, s.Price, s.Tick)
	}
	return nil
}

func (m Mix) check() error {
	w := []float64{m.Limit, m.Market, m.IOC, m.FOK, m.Cancel, m.Replace}
	sum := 0.0
	for _, f := range w {
		if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("broker: mix fraction %v out of range", f)
		}
		sum += f
	}
	if sum == 0 {
		return errors.New("broker: mix fractions are all zero")
	}
	if m.Limit+m.Market+m.IOC+m.FOK == 0 {
		return errors.New("broker: mix has no new orders to cancel or replace")
	}
	if m.SizeMinLots < 1 || m.SizeMaxLots < m.SizeMinLots {
		return fmt.Errorf("broker: size range %d..%d lots invalid", m.SizeMinLots, m.SizeMaxLots)
	}
	if m.Aggressiveness < 0 || m.Aggressiveness > 1 || m.PostOnly < 0 || m.PostOnly > 1 {
		return errors.New("broker: aggressiveness and post-only must be probabilities in [0,1]")
	}
	if m.DepthTicks < 1 {
		return fmt.Errorf("broker: depth %d ticks, want at least 1", m.DepthTicks)
	}
	return nil
}

// ParseMix applies a flag-style list of settings to base, e.g.
// "limit=0.6,market=0.05,ioc=0.1,fok=0.05,cancel=0.1,replace=0.1,size=1-100,aggr=0.2,depth=10,postonly=0.1".
// Keys not given keep base's value.
func ParseMix(s string, base Mix) (Mix, error) {
	m := base
	if strings.TrimSpace(s) == "" {
		return m, m.check()
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return base, fmt.Errorf("mix %q: want key=value", kv)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if k == "size" {
			lo, hi, ok := strings.Cut(v, "-")
			if !ok {
				hi = lo
			}
			a, err1 := strconv.ParseInt(lo, 10, 64)
			b, err2 := strconv.ParseInt(hi, 10, 64)
			if err1 != nil || err2 != nil {
				return base, fmt.Errorf("mix size %q: want lots like 1-100", v)
			}
			m.SizeMinLots, m.SizeMaxLots = a, b
			continue
		}
		if k == "depth" {
			d, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return base, fmt.Errorf("mix depth %q: want ticks", v)
			}
			m.DepthTicks = d
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return base, fmt.Errorf("mix %s=%q: not a number", k, v)
		}
		switch k {
		case "limit":
			m.Limit = f
		case "market":
			m.Market = f
		case "ioc":
			m.IOC = f
		case "fok":
			m.FOK = f
		case "cancel":
			m.Cancel = f
		case "replace":
			m.Replace = f
		case "aggr", "aggressiveness":
			m.Aggressiveness = f
		case "postonly", "post_only":
			m.PostOnly = f
		default:
			return base, fmt.Errorf("mix: unknown key %q (want limit, market, ioc, fok, cancel, replace, size, aggr, depth, postonly)", k)
		}
	}
	if err := m.check(); err != nil {
		return base, err
	}
	return m, nil
}
