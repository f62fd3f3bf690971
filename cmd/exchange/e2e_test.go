package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/internal/config"
)

// End-to-end tests: a real venue (pipeline, gateway, market data, HTTP) in
// this process on loopback ports, driven by QuickFIX/Go initiators over
// FIX 4.4. Run them with `go test ./cmd/exchange -run E2E`. QuickFIX/Go keeps
// sessions in a process-wide registry, so these tests never run in parallel.

// TestE2ELogon: a good logon; a bad password, a bad username and an unknown
// CompID are logged out with a Text that says why.
func TestE2ELogon(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	fix := v.cfg.ListenFIX

	// The refused logons run at once: QuickFIX/Go spends up to a second
	// before a session's first logon.
	refused := []struct {
		o    clientOpts
		want string
	}{
		{clientOpts{comp: "BRAVO", user: "bravo", pass: "demo-alpha"}, `bad password for user "bravo"`},
		{clientOpts{comp: "CHARLIE", user: "alpha", pass: "demo-charlie"}, `bad username for SenderCompID "CHARLIE"`},
		{clientOpts{comp: "ZULU", user: "zulu", pass: "demo-zulu"}, `unknown SenderCompID "ZULU"`},
		{clientOpts{comp: "MM", user: "mm"}, "Password (554) is required"},
	}
	cs := make([]*fixClient, len(refused))
	for i, r := range refused {
		cs[i] = newClient(t, fix, r.o)
	}
	for i, r := range refused {
		if got := cs[i].expectLogout(t); got != r.want {
			t.Errorf("%s logon: Logout Text %q, want %q", r.o.comp, got, r.want)
		}
		cs[i].stop()
		cs[i].mu.Lock()
		if n := cs[i].logons; n != 0 {
			t.Errorf("%s: logged on %d times, want refused", r.o.comp, n)
		}
		cs[i].mu.Unlock()
	}

	a := logon(t, fix, defaultOpts("ALPHA"))
	// The session works: an order is acknowledged.
	a.limit(t, "L1", "AAPL", "1", "1", "190.00")
	a.expectExec(t, "L1", "0", "39=0")
}

// TestE2EOrderLifecycle: ack, partial and full fills on both sides at the
// maker's price with CumQty, LeavesQty, AvgPx and fees exact, and an AvgPx
// that is not a whole number of ticks.
func TestE2EOrderLifecycle(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "batch")
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("BRAVO"))
	a, b := cs[0], cs[1]

	a.limit(t, "A1", "AAPL", "1", "10", "190.00")
	ack := a.expectExec(t, "A1", "0")
	check(t, "A1 ack", ack, "39=0", "55=AAPL", "54=1", "38=10", "40=2", "44=190", "59=0",
		"14=0", "151=10", "6=0", "1=ALPHA-1", "31=", "32=")
	if ack.get(37) == "" || ack.get(37) == "NONE" || ack.get(17) == "" {
		t.Errorf("A1 ack without OrderID or ExecID: %s", ack)
	}

	// A sell below the bid trades at the bid (the maker's price).
	b.limit(t, "B1", "AAPL", "2", "4", "189.90")
	check(t, "B1 ack", b.expectExec(t, "B1", "0"), "39=0", "44=189.9", "151=4")
	check(t, "B1 fill (taker)", b.expectExec(t, "B1", "F"),
		"39=2", "31=190", "32=4", "14=4", "151=0", "6=190", "12=0.22", "13=3", "1=BRAVO-1")
	mk := a.expectExec(t, "A1", "F")
	check(t, "A1 partial fill (maker)", mk,
		"39=1", "31=190", "32=4", "14=4", "151=6", "6=190", "38=10", "12=0.07", "13=3")
	if mk.get(37) != ack.get(37) {
		t.Errorf("A1 fill OrderID %q, ack had %q", mk.get(37), ack.get(37))
	}

	b.limit(t, "B2", "AAPL", "2", "6", "190.00")
	check(t, "B2 fill", b.expectExec(t, "B2", "F"), "39=2", "31=190", "32=6", "14=6", "151=0", "6=190")
	check(t, "A1 full fill", a.expectExec(t, "A1", "F"), "39=2", "31=190", "32=6", "14=10", "151=0", "6=190")

	// One buy takes two price levels: 3 at 190.00 and 7 at 190.01, an
	// average of 190.007 (not a whole number of ticks), exactly.
	b.limit(t, "B3", "AAPL", "2", "3", "190.00")
	b.expectExec(t, "B3", "0")
	b.limit(t, "B4", "AAPL", "2", "7", "190.01")
	b.expectExec(t, "B4", "0")
	a.limit(t, "A2", "AAPL", "1", "10", "190.01")
	a.expectExec(t, "A2", "0")
	check(t, "A2 first fill", a.expectExec(t, "A2", "F", "32=3"), "39=1", "31=190", "14=3", "151=7", "6=190")
	check(t, "A2 second fill", a.expectExec(t, "A2", "F", "32=7"), "39=2", "31=190.01", "14=10", "151=0", "6=190.007")
	check(t, "B3 fill", b.expectExec(t, "B3", "F"), "39=2", "31=190", "32=3")
	check(t, "B4 fill", b.expectExec(t, "B4", "F"), "39=2", "31=190.01", "32=7", "6=190.01")

	// 1 at 190.00 and 2 at 190.01: 190.00666…, rounded half-up at eight
	// digits beyond the tick's.
	b.limit(t, "B5", "AAPL", "2", "1", "190.00")
	b.expectExec(t, "B5", "0")
	b.limit(t, "B6", "AAPL", "2", "2", "190.01")
	b.expectExec(t, "B6", "0")
	a.limit(t, "A3", "AAPL", "1", "3", "190.01")
	check(t, "A3 last fill", a.expectExec(t, "A3", "F", "39=2"), "14=3", "151=0", "6=190.0066666667")
}

// TestE2ECancelReplace: cancel, cancel of an unknown or closed order,
// replace down in quantity at the same price (keeps priority), replace to
// another price (loses it), and a replace that crosses and trades at once.
func TestE2ECancelReplace(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("BRAVO"), defaultOpts("CHARLIE"))
	a, b, c := cs[0], cs[1], cs[2]

	t.Run("cancel", func(t *testing.T) {
		a.limit(t, "K1", "AAPL", "1", "10", "189.00")
		oid := a.expectExec(t, "K1", "0").get(37)
		a.send(t, "F", "11=K1c", "41=K1", "55=AAPL", "54=1")
		check(t, "K1 cancelled", a.expectExec(t, "K1c", "4"),
			"41=K1", "37="+oid, "39=4", "14=0", "151=0", "38=10", "55=AAPL")

		a.send(t, "F", "11=K2c", "41=NOPE", "55=AAPL", "54=1")
		check(t, "cancel of an unknown order", a.expect(t, "9", "11=K2c"),
			"41=NOPE", "39=8", "434=1", "102=1", "58=unknown order")

		a.send(t, "F", "11=K3c", "41=K1", "55=AAPL", "54=1")
		check(t, "cancel of a cancelled order", a.expect(t, "9", "11=K3c"),
			"41=K1", "39=4", "434=1", "102=0", "58=order already closed (too late)")
		a.send(t, "G", "11=K4r", "41=NOPE", "55=AAPL", "54=1", "38=5", "40=2", "44=189.00")
		check(t, "replace of an unknown order", a.expect(t, "9", "11=K4r"),
			"41=NOPE", "434=2", "102=1", "58=unknown order")
	})

	t.Run("replace down keeps priority", func(t *testing.T) {
		a.limit(t, "P1", "MSFT", "1", "10", "419.50")
		a.expectExec(t, "P1", "0")
		c.limit(t, "C1", "MSFT", "1", "10", "419.50")
		c.expectExec(t, "C1", "0")
		a.send(t, "G", "11=P2", "41=P1", "55=MSFT", "54=1", "38=6", "40=2", "44=419.50")
		check(t, "P1 replaced", a.expectExec(t, "P2", "5"), "41=P1", "39=0", "38=6", "44=419.5", "14=0", "151=6")
		// ALPHA's order is still first in the queue at 419.50.
		b.limit(t, "S1", "MSFT", "2", "8", "419.50")
		check(t, "first fill of S1", b.expectExec(t, "S1", "F", "39=1"), "32=6", "31=419.5", "14=6", "151=2")
		check(t, "second fill of S1", b.expectExec(t, "S1", "F", "39=2"), "32=2", "31=419.5", "14=8", "151=0")
		check(t, "P2 fill", a.expectExec(t, "P2", "F"), "39=2", "32=6", "14=6", "151=0")
		check(t, "C1 fill", c.expectExec(t, "C1", "F"), "39=1", "32=2", "14=2", "151=8")
	})

	t.Run("price change loses priority", func(t *testing.T) {
		a.limit(t, "Q1", "TSLA", "1", "10", "249.50")
		a.expectExec(t, "Q1", "0")
		c.limit(t, "D1", "TSLA", "1", "10", "249.50")
		c.expectExec(t, "D1", "0")
		// Away and back: ALPHA's order now queues behind CHARLIE's.
		a.send(t, "G", "11=Q2", "41=Q1", "55=TSLA", "54=1", "38=10", "40=2", "44=249.49")
		check(t, "Q1 replaced", a.expectExec(t, "Q2", "5"), "41=Q1", "39=0", "44=249.49", "151=10")
		a.send(t, "G", "11=Q3", "41=Q2", "55=TSLA", "54=1", "38=10", "40=2", "44=249.50")
		check(t, "Q2 replaced", a.expectExec(t, "Q3", "5"), "41=Q2", "39=0", "44=249.5", "151=10")
		b.limit(t, "S2", "TSLA", "2", "10", "249.50")
		check(t, "S2 fill", b.expectExec(t, "S2", "F"), "39=2", "32=10", "31=249.5")
		check(t, "D1 fill", c.expectExec(t, "D1", "F"), "39=2", "32=10", "14=10", "151=0")
		b.limit(t, "S3", "TSLA", "2", "4", "249.50")
		check(t, "Q3 fill after D1", a.expectExec(t, "Q3", "F"), "39=1", "32=4", "14=4", "151=6")
		a.noMore(t, 0, "8", "150=F", "11=Q1")
		a.noMore(t, 0, "8", "150=F", "11=Q2")
	})

	t.Run("replace that crosses trades at once", func(t *testing.T) {
		b.limit(t, "S4", "SPY", "2", "5", "550.10")
		b.expectExec(t, "S4", "0")
		a.limit(t, "R1", "SPY", "1", "8", "549.90")
		a.expectExec(t, "R1", "0")
		a.send(t, "G", "11=R2", "41=R1", "55=SPY", "54=1", "38=8", "40=2", "44=550.10")
		check(t, "R1 replaced", a.expectExec(t, "R2", "5"), "41=R1", "39=0", "44=550.1", "151=8")
		check(t, "R2 fill", a.expectExec(t, "R2", "F"), "39=1", "31=550.1", "32=5", "14=5", "151=3", "6=550.1")
		check(t, "S4 fill", b.expectExec(t, "S4", "F"), "39=2", "31=550.1", "32=5")
	})
}

// validationConfig gives CHARLIE little cash and few AAPL shares, for the
// funds checks.
func validationConfig(t *testing.T) *config.Config {
	return testConfig(t,
		"- name: CHARLIE-1\n        cash: \"100000000.00\"\n        holdings: {AAPL: \"1000000\",",
		"- name: CHARLIE-1\n        cash: \"1000.00\"\n        holdings: {AAPL: \"5\",")
}

// TestE2EValidation: each refusal of a NewOrderSingle or replace with its
// reason code and Text; session-level Rejects for malformed messages;
// market and post-only orders.
func TestE2EValidation(t *testing.T) {
	v := startTestVenue(t, validationConfig(t), t.TempDir(), "", "none")
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("BRAVO"), defaultOpts("CHARLIE"))
	a, b, c := cs[0], cs[1], cs[2]

	rejected := func(t *testing.T, cl *fixClient, clOrdID, code, text string) {
		t.Helper()
		check(t, "reject of "+clOrdID, cl.expectExec(t, clOrdID, "8"), "39=8", "103="+code, "58="+text, "14=0", "151=0")
	}
	long := "X234567890123456789012345678901234567890Z" // 41 characters
	for _, tc := range []struct {
		name, cl         string
		fields           []string
		code, text       string
		fromOrderManager bool
	}{
		{"non-tick price", "V1", []string{"55=AAPL", "54=1", "38=1", "40=2", "44=190.001"},
			"99", "Price (44) 190.001 is not a whole multiple of the tick size 0.01", false},
		{"fractional lot", "V2", []string{"55=AAPL", "54=1", "38=1.5", "40=2", "44=190"},
			"13", "OrderQty (38) 1.5 is not a whole multiple of the lot size 1", false},
		{"zero quantity", "V2b", []string{"55=AAPL", "54=1", "38=0", "40=2", "44=190"},
			"13", "OrderQty (38) 0 must be positive", false},
		{"unknown symbol", "V3", []string{"55=ZZZZ", "54=1", "38=1", "40=2", "44=190"},
			"1", `unknown symbol "ZZZZ"`, false},
		{"bad side", "V4", []string{"55=AAPL", "54=3", "38=1", "40=2", "44=190"},
			"11", `Side (54) "3" is not supported: use 1 (buy) or 2 (sell)`, false},
		{"bad OrdType", "V5", []string{"55=AAPL", "54=1", "38=1", "40=9", "44=190"},
			"11", `OrdType (40) "9" is not supported: use 1 (market), 2 (limit), 3 (stop) or 4 (stop limit)`, false},
		{"bad TimeInForce", "V6", []string{"55=AAPL", "54=1", "38=1", "40=2", "44=190", "59=5"},
			"11", `TimeInForce (59) "5" is not supported: use 0 (day), 1 (GTC), 2 (at the opening), 3 (IOC), 4 (FOK), 6 (GTD) or 7 (at the close)`, false},
		{"limit without price", "V7", []string{"55=AAPL", "54=1", "38=1", "40=2"},
			"99", "Price (44) is required for a limit order", false},
		{"too-long ClOrdID", long, []string{"55=AAPL", "54=1", "38=1", "40=2", "44=190"},
			"99", "ClOrdID (11) is longer than 40 characters", false},
		{"foreign account", "V8", []string{"1=BRAVO-1", "55=AAPL", "54=1", "38=1", "40=2", "44=190"},
			"15", `account "BRAVO-1" does not belong to this firm`, false},
		{"unknown account", "V9", []string{"1=NOPE-1", "55=AAPL", "54=1", "38=1", "40=2", "44=190"},
			"15", `unknown account "NOPE-1"`, false},
		{"bad STP mode", "V10", []string{"55=AAPL", "54=1", "38=1", "40=2", "44=190", "7928=9"},
			"11", `SelfTradePrevention (7928) "9" is not supported: use 0 (none), 1 (cancel newest), 2 (cancel oldest), 3 (cancel both) or 4 (decrement and cancel)`, false},
		{"price above the band", "V11", []string{"55=AAPL", "54=1", "38=1", "40=2", "44=209.01"},
			"99", "price outside the price band around the reference price", true},
		{"price below the band", "V12", []string{"55=AAPL", "54=2", "38=1", "40=2", "44=170.99"},
			"99", "price outside the price band around the reference price", true},
		{"quantity over the maximum", "V13", []string{"55=AAPL", "54=1", "38=100001", "40=2", "44=190"},
			"3", "quantity exceeds the account's maximum order size", true},
		{"notional over the maximum", "V14", []string{"55=AAPL", "54=1", "38=60000", "40=2", "44=190"},
			"3", "notional exceeds the account's maximum order notional", true},
		{"post-only IOC", "V15", []string{"55=AAPL", "54=1", "38=1", "40=2", "44=190", "59=3", "18=6"},
			"11", "post-only not allowed with market, IOC or FOK orders", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.send(t, "D", append([]string{"11=" + tc.cl}, tc.fields...)...)
			rejected(t, a, tc.cl, tc.code, tc.text)
		})
	}

	t.Run("band edge accepted", func(t *testing.T) {
		a.limit(t, "E1", "AAPL", "1", "1", "171.00")
		a.expectExec(t, "E1", "0", "39=0")
	})

	t.Run("duplicate ClOrdID", func(t *testing.T) {
		a.limit(t, "DUP", "AAPL", "1", "1", "180.00")
		a.expectExec(t, "DUP", "0")
		a.limit(t, "DUP", "AAPL", "1", "2", "180.00")
		rejected(t, a, "DUP", "6", "duplicate ClOrdID for this session")
		// Another session may use the same ClOrdID.
		b.limit(t, "DUP", "AAPL", "1", "1", "180.00")
		b.expectExec(t, "DUP", "0")
	})

	t.Run("session-level rejects", func(t *testing.T) {
		a.send(t, "D", "55=AAPL", "54=1", "38=1", "40=2", "44=190")
		check(t, "missing ClOrdID", a.expect(t, "3", "371=11"), "373=1", "372=D", "58=required tag missing: ClOrdID (11)")
		a.send(t, "D", "11=S2", "55=AAPL", "54=1", "38=1", "40=2", "44=abc")
		check(t, "price not a number", a.expect(t, "3", "371=44"), "373=6", "372=D")
		a.send(t, "F", "11=S3", "55=AAPL", "54=1")
		check(t, "cancel without OrigClOrdID", a.expect(t, "3", "371=41"), "373=1", "372=F")
	})

	t.Run("insufficient funds", func(t *testing.T) {
		c.limit(t, "F1", "AAPL", "1", "10", "190.00") // 1900.00 > 1000.00
		rejected(t, c, "F1", "3", "insufficient free cash")
		c.limit(t, "F2", "AAPL", "2", "6", "190.00") // holds 5
		rejected(t, c, "F2", "3", "insufficient free holdings (short selling not allowed)")
		c.limit(t, "F3", "AAPL", "1", "5", "190.00") // 950.00 plus fees
		c.expectExec(t, "F3", "0")
		c.send(t, "G", "11=F4", "41=F3", "55=AAPL", "54=1", "38=6", "40=2", "44=190.00")
		check(t, "replace up beyond the cash", c.expect(t, "9", "11=F4"),
			"41=F3", "434=2", "39=0", "102=99", "58=insufficient free cash")
		c.send(t, "G", "11=F5", "41=F3", "55=AAPL", "54=2", "38=5", "40=2", "44=190.00")
		check(t, "replace changing side", c.expect(t, "9", "11=F5"),
			"41=F3", "434=2", "39=0", "58=replace may not change symbol, side or order type")
	})

	t.Run("market orders", func(t *testing.T) {
		// No AAPL asks yet: a market buy is cancelled at once.
		a.send(t, "D", "11=M1", "55=AAPL", "54=1", "38=5", "40=1")
		a.expectExec(t, "M1", "0", "40=1")
		check(t, "M1 without liquidity", a.expectExec(t, "M1", "4"), "39=4", "14=0", "151=0", "44=")
		b.limit(t, "MS1", "AAPL", "2", "5", "190.50")
		b.expectExec(t, "MS1", "0")
		a.send(t, "D", "11=M2", "55=AAPL", "54=1", "38=8", "40=1")
		check(t, "M2 fill", a.expectExec(t, "M2", "F"), "39=1", "31=190.5", "32=5", "14=5", "151=3")
		check(t, "M2 remainder cancelled", a.expectExec(t, "M2", "4"), "39=4", "14=5", "151=0", "6=190.5")
		check(t, "MS1 fill", b.expectExec(t, "MS1", "F"), "39=2", "31=190.5", "32=5")
	})

	t.Run("post-only", func(t *testing.T) {
		b.limit(t, "PS1", "AAPL", "2", "5", "190.60")
		b.expectExec(t, "PS1", "0")
		a.limit(t, "PO1", "AAPL", "1", "1", "190.60", "18=6")
		rejected(t, a, "PO1", "11", "post-only order would take liquidity")
		a.limit(t, "PO2", "AAPL", "1", "1", "190.59", "18=6")
		a.expectExec(t, "PO2", "0", "39=0", "151=1")
		b.noMore(t, 0, "8", "11=PS1", "150=F")
	})
}

// TestE2ERateLimit: a session over its rate gets its orders rejected with
// a reason and, flooding on, is logged out; other sessions are unaffected.
func TestE2ERateLimit(t *testing.T) {
	cfg := testConfig(t,
		"        username: charlie\n", "        username: charlie\n        rate_per_second: 0.1\n        burst: 3\n",
		"flood_logout_after: 10000", "flood_logout_after: 5")
	v := startTestVenue(t, cfg, t.TempDir(), "", "none")
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("CHARLIE"))
	a, c := cs[0], cs[1]

	ids := []string{"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8"}
	for _, id := range ids {
		c.limit(t, id, "AAPL", "1", "1", "180.00")
	}
	for _, id := range ids[:3] {
		c.expectExec(t, id, "0", "39=0")
	}
	for _, id := range ids[3:] {
		check(t, "rate-limited "+id, c.expectExec(t, id, "8"), "39=8", "103=99", "58=rate limit exceeded: 0.1 msgs/s")
	}
	if got, want := c.expectLogout(t), "logged out for flooding: 5 messages over the rate limit (0.1 msgs/s) in a row"; got != want {
		t.Errorf("flood Logout Text %q, want %q", got, want)
	}
	a.limit(t, "OK1", "AAPL", "1", "1", "180.00")
	a.expectExec(t, "OK1", "0", "39=0")
}

// TestE2EFirmIsolation: a firm cannot cancel, replace or see another firm's
// order, by ClOrdID or by OrderID; the owner can.
func TestE2EFirmIsolation(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("BRAVO"))
	a, b := cs[0], cs[1]

	a.limit(t, "A1", "AAPL", "1", "10", "189.00")
	oid := a.expectExec(t, "A1", "0").get(37)

	b.send(t, "F", "11=B1", "41=A1", "55=AAPL", "54=1")
	check(t, "BRAVO cancels ALPHA's ClOrdID", b.expect(t, "9", "11=B1"), "434=1", "102=1", "58=unknown order")
	b.send(t, "F", "11=B2", "37="+oid, "55=AAPL", "54=1")
	check(t, "BRAVO cancels ALPHA's OrderID", b.expect(t, "9", "11=B2"), "434=1", "102=1", "58=unknown order")
	b.send(t, "G", "11=B3", "41=A1", "55=AAPL", "54=1", "38=5", "40=2", "44=189.00")
	check(t, "BRAVO replaces ALPHA's ClOrdID", b.expect(t, "9", "11=B3"), "434=2", "102=1", "58=unknown order")
	b.send(t, "G", "11=B4", "37="+oid, "55=AAPL", "54=1", "38=5", "40=2", "44=189.00")
	check(t, "BRAVO replaces ALPHA's OrderID", b.expect(t, "9", "11=B4"), "434=2", "102=1", "58=unknown order")
	b.send(t, "H", "37="+oid, "55=AAPL", "54=1")
	check(t, "BRAVO asks the status of ALPHA's OrderID", b.expect(t, "8", "150=I"), "39=8", "58=unknown order", "151=0", "14=0")
	b.send(t, "q", "11=B5", "530=7")
	check(t, "BRAVO's mass cancel", b.expect(t, "r", "11=B5"), "531=7", "533=0")

	// Nothing happened to ALPHA's order: its owner sees it whole.
	a.send(t, "H", "37="+oid, "55=AAPL", "54=1")
	check(t, "ALPHA's status by OrderID", a.expect(t, "8", "150=I"),
		"11=A1", "37="+oid, "39=0", "38=10", "14=0", "151=10", "44=189", "55=AAPL", "54=1")
	t.Run("status by ClOrdID", func(t *testing.T) {
		a.send(t, "H", "11=A1", "55=AAPL", "54=1")
		check(t, "ALPHA's status by ClOrdID", a.expect(t, "8", "150=I"), "11=A1", "37="+oid, "39=0", "151=10")
	})
	a.noMore(t, 0, "8", "11=A1", "150=4")
	a.send(t, "F", "11=A1c", "41=A1", "55=AAPL", "54=1")
	check(t, "ALPHA cancels", a.expectExec(t, "A1c", "4"), "41=A1", "39=4", "151=0")
}

// TestE2EMassCancel: an OrderMassCancelRequest by symbol and for all
// symbols gets its report with the count, and a cancel for each order.
func TestE2EMassCancel(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	a := logon(t, v.cfg.ListenFIX, defaultOpts("ALPHA"))

	a.limit(t, "M1", "AAPL", "1", "10", "189.00")
	a.limit(t, "M2", "AAPL", "2", "5", "191.00")
	a.limit(t, "M3", "AAPL", "1", "1", "188.00")
	a.limit(t, "M4", "MSFT", "1", "3", "419.00")
	for _, id := range []string{"M1", "M2", "M3", "M4"} {
		a.expectExec(t, id, "0")
	}
	a.send(t, "q", "11=MC1", "530=1", "55=AAPL")
	check(t, "mass cancel of AAPL", a.expect(t, "r", "11=MC1"), "530=1", "531=1", "533=3", "55=AAPL")
	for _, id := range []string{"M1", "M2", "M3"} {
		check(t, id+" cancelled", a.expectExec(t, id, "4"), "39=4", "151=0", "14=0")
	}
	a.noMore(t, 0, "8", "11=M4", "150=4")
	a.send(t, "H", "11=M4", "55=MSFT", "54=1")
	check(t, "M4 after the AAPL mass cancel", a.expect(t, "8", "150=I", "11=M4"), "39=0", "151=3")

	a.send(t, "q", "11=MC2", "530=7")
	check(t, "mass cancel of everything", a.expect(t, "r", "11=MC2"), "530=7", "531=7", "533=1")
	check(t, "M4 cancelled", a.expectExec(t, "M4", "4"), "39=4", "151=0")

	a.send(t, "q", "11=MC3", "530=1", "55=ZZZZ")
	check(t, "mass cancel of an unknown symbol", a.expect(t, "r", "11=MC3"), "531=0", "532=1", "533=0")
	a.send(t, "q", "11=MC4", "530=2")
	check(t, "unsupported mass cancel type", a.expect(t, "r", "11=MC4"), "531=0", "532=0",
		`58=MassCancelRequestType (530) "2" is not supported: use 1 (by symbol) or 7 (all orders)`)
	// A value FIX does not define is a session-level Reject (373=5).
	a.send(t, "q", "11=MC5", "530=9")
	check(t, "mass cancel type FIX does not define", a.expect(t, "3", "371=530"), "373=5", "372=q")
}

// bookL3 is /api/book/{symbol}?level=3.
type bookL3 struct {
	Symbol string `json:"symbol"`
	Bids   []struct {
		ID    uint64 `json:"id"`
		Price string `json:"price"`
		Qty   string `json:"qty"`
	} `json:"bids"`
	Asks []struct {
		ID    uint64 `json:"id"`
		Price string `json:"price"`
		Qty   string `json:"qty"`
	} `json:"asks"`
}

// orderIDs lists the book's order IDs, bids then asks.
func (b bookL3) orderIDs() []string {
	var ids []string
	for _, o := range b.Bids {
		ids = append(ids, strconv.FormatUint(o.ID, 10))
	}
	for _, o := range b.Asks {
		ids = append(ids, strconv.FormatUint(o.ID, 10))
	}
	return ids
}

// getJSON fetches http://<v's HTTP address><path> into out (when not nil)
// and returns the body.
func getJSON(t *testing.T, v *venue, path string, out any) string {
	t.Helper()
	cl := http.Client{Timeout: waitMax}
	resp, err := cl.Get("http://" + v.httpAddr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
	return string(body)
}

// waitBook polls the L3 book of symbol (market data follows the engine
// asynchronously) until it holds exactly the orders ids, bids then asks.
func waitBook(t *testing.T, v *venue, symbol string, ids ...string) {
	t.Helper()
	want := strings.Join(ids, ",")
	deadline := time.Now().Add(waitMax)
	for {
		var b bookL3
		body := getJSON(t, v, "/api/book/"+symbol+"?level=3", &b)
		got := strings.Join(b.orderIDs(), ",")
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s book: orders [%s], want [%s]; %s", symbol, got, want, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestE2ECancelOnDisconnect: MM (cancel_on_disconnect) loses its resting
// orders when it logs out; ALPHA (without) keeps them.
func TestE2ECancelOnDisconnect(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	fix := v.cfg.ListenFIX
	cs := logonAll(t, fix, defaultOpts("ALPHA"), defaultOpts("MM"))
	a, mm := cs[0], cs[1]

	a.limit(t, "A1", "AAPL", "1", "10", "189.00")
	aID := a.expectExec(t, "A1", "0").get(37)
	mm.limit(t, "Q1", "AAPL", "1", "100", "189.50")
	mm.limit(t, "Q2", "AAPL", "2", "100", "190.50")
	bidID := mm.expectExec(t, "Q1", "0").get(37)
	askID := mm.expectExec(t, "Q2", "0").get(37)
	waitBook(t, v, "AAPL", bidID, aID, askID)

	a.stop()
	mm.stop()
	waitBook(t, v, "AAPL", aID)

	cs = logonAll(t, fix, defaultOpts("ALPHA"), defaultOpts("MM"))
	a, mm = cs[0], cs[1]
	for _, id := range []string{"Q1", "Q2"} {
		mm.send(t, "H", "11="+id, "55=AAPL")
		check(t, "MM's "+id+" after the disconnect", mm.expect(t, "8", "150=I", "11="+id), "39=4")
	}
	a.send(t, "H", "37="+aID, "55=AAPL")
	check(t, "ALPHA's A1 after the disconnect", a.expect(t, "8", "150=I"), "11=A1", "39=0", "151=10")
}

// TestE2ERestart: ALPHA's resting orders survive a clean restart of the
// venue; ALPHA logs on again continuing its FIX sequence numbers (file
// stores on both sides), finds its orders with OrderStatusRequest, and they
// trade.
func TestE2ERestart(t *testing.T) {
	dir := t.TempDir()
	v := startTestVenue(t, config.Default(), dir, "", "batch")
	fix := v.cfg.ListenFIX
	ao := defaultOpts("ALPHA")
	ao.storeDir, ao.noReset = t.TempDir(), true
	a := logon(t, fix, ao)
	a.limit(t, "A1", "AAPL", "1", "10", "189.50")
	a.limit(t, "A2", "AAPL", "2", "5", "190.50")
	bidID := a.expectExec(t, "A1", "0").get(37)
	askID := a.expectExec(t, "A2", "0").get(37)
	waitBook(t, v, "AAPL", bidID, askID)

	stopTestVenue(t, v)
	a.expectLogout(t)
	a.stop()
	t.Run("clean stop with a session logged on", func(t *testing.T) {
		var m strings.Builder
		if err := v.gw.WriteMetrics(&m); err != nil {
			t.Fatal(err)
		}
		// The gateway sees the venue is shutting down and does not retry
		// the disconnect (its orders stay for the restart).
		if !strings.Contains(m.String(), "\nexchange_gateway_disconnect_lost_total 0\n") {
			t.Errorf("a clean stop lost a disconnect:\n%s", m.String())
		}
	})
	sent := sessionSeqs(t, ao.storeDir)

	v = startTestVenue(t, config.Default(), dir, fix, "batch")
	waitBook(t, v, "AAPL", bidID, askID)
	cs := logonAll(t, fix, ao, defaultOpts("BRAVO"))
	a, b := cs[0], cs[1]
	a.settle(t)
	if got := sessionSeqs(t, ao.storeDir); got[0] <= sent[0] {
		t.Errorf("ALPHA's outgoing sequence number %d after the restart, was %d before: not continued", got[0], sent[0])
	}
	a.send(t, "H", "11=A1", "55=AAPL")
	check(t, "A1 after the restart", a.expect(t, "8", "150=I", "11=A1"), "37="+bidID, "39=0", "38=10", "151=10", "44=189.5")
	a.send(t, "H", "37="+askID, "55=AAPL")
	check(t, "A2 after the restart", a.expect(t, "8", "150=I", "11=A2"), "39=0", "38=5", "151=5", "44=190.5")

	b.limit(t, "B1", "AAPL", "2", "4", "189.50")
	check(t, "B1 trades with A1", b.expectExec(t, "B1", "F"), "39=2", "31=189.5", "32=4")
	check(t, "A1 fill", a.expectExec(t, "A1", "F"), "37="+bidID, "39=1", "32=4", "14=4", "151=6")
	// A ClOrdID used before the restart is still known.
	a.limit(t, "A1", "AAPL", "1", "1", "189.00")
	check(t, "A1 reused", a.expectExec(t, "A1", "8"), "103=6", "58=duplicate ClOrdID for this session")

	// And once more with a reset of the sequence numbers (ResetOnLogon=Y).
	a.stop()
	a = logon(t, fix, defaultOpts("ALPHA"))
	a.send(t, "H", "11=A1", "55=AAPL")
	check(t, "A1 after a reset logon", a.expect(t, "8", "150=I", "11=A1"), "39=1", "14=4", "151=6")
}

// sessionSeqs reads the sequence numbers of the broker's file store:
// next to send, next expected.
func sessionSeqs(t *testing.T, dir string) [2]int {
	t.Helper()
	var s [2]int
	for i, ext := range []string{"senderseqnums", "targetseqnums"} {
		files, err := filepath.Glob(filepath.Join(dir, "*."+ext))
		if err != nil || len(files) != 1 {
			t.Fatalf("%s file in %s: %v %v", ext, dir, files, err)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if s[i], err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			t.Fatalf("%s %q: %v", ext, b, err)
		}
	}
	return s
}

// TestE2EMarketDataHTTP: the HTTP API of the live venue shows the book
// built from FIX orders; /healthz answers; /metrics has the counters.
func TestE2EMarketDataHTTP(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("BRAVO"))
	a, b := cs[0], cs[1]
	a.limit(t, "A1", "AAPL", "1", "10", "189.50")
	a.limit(t, "A2", "AAPL", "1", "5", "189.50")
	a.limit(t, "A3", "AAPL", "1", "7", "189.40")
	b.limit(t, "B1", "AAPL", "2", "3", "190.10")
	ids := []string{a.expectExec(t, "A1", "0").get(37), a.expectExec(t, "A2", "0").get(37),
		a.expectExec(t, "A3", "0").get(37), b.expectExec(t, "B1", "0").get(37)}
	waitBook(t, v, "AAPL", ids...)

	var l2 struct {
		Symbol string `json:"symbol"`
		Level  int    `json:"level"`
		Bids   []struct {
			Price  string `json:"price"`
			Qty    string `json:"qty"`
			Orders int    `json:"orders"`
		} `json:"bids"`
		Asks []struct {
			Price  string `json:"price"`
			Qty    string `json:"qty"`
			Orders int    `json:"orders"`
		} `json:"asks"`
	}
	body := getJSON(t, v, "/api/book/AAPL?level=2", &l2)
	type lv struct {
		px, qty string
		n       int
	}
	same := func(got []struct {
		Price  string `json:"price"`
		Qty    string `json:"qty"`
		Orders int    `json:"orders"`
	}, want ...lv) bool {
		if len(got) != len(want) {
			return false
		}
		for i, w := range want {
			gp, err1 := decimal.NewFromString(got[i].Price)
			gq, err2 := decimal.NewFromString(got[i].Qty)
			if err1 != nil || err2 != nil || !gp.Equal(decimal.RequireFromString(w.px)) ||
				!gq.Equal(decimal.RequireFromString(w.qty)) || got[i].Orders != w.n {
				return false
			}
		}
		return true
	}
	if l2.Symbol != "AAPL" || l2.Level != 2 ||
		!same(l2.Bids, lv{"189.50", "15", 2}, lv{"189.40", "7", 1}) || !same(l2.Asks, lv{"190.10", "3", 1}) {
		t.Errorf("L2 book of AAPL: %s", body)
	}

	// A trade reaches the tape and takes the orders off the book.
	b.limit(t, "B2", "AAPL", "2", "12", "189.50")
	check(t, "B2 fill", b.expectExec(t, "B2", "F", "39=2"), "14=12", "6=189.5")
	waitBook(t, v, "AAPL", ids[1], ids[2], ids[3])
	var tape struct {
		Trades []struct {
			Price string `json:"price"`
			Qty   string `json:"qty"`
			Side  string `json:"side"`
		} `json:"trades"`
	}
	body = getJSON(t, v, "/api/trades/AAPL", &tape)
	qtys := map[string]bool{}
	for _, tr := range tape.Trades {
		if p, err := decimal.NewFromString(tr.Price); err != nil || !p.Equal(decimal.RequireFromString("189.5")) || tr.Side != "sell" {
			t.Errorf("trade %+v, want 189.50 with a sell taker", tr)
		}
		qtys[tr.Qty] = true
	}
	if len(tape.Trades) != 2 || !qtys["10"] || !qtys["2"] {
		t.Errorf("AAPL tape: %s, want trades of 10 and 2 at 189.50", body)
	}

	var h struct {
		Status string `json:"status"`
	}
	getJSON(t, v, "/healthz", &h)
	if h.Status != "ok" {
		t.Errorf("/healthz status %q", h.Status)
	}

	metrics := getJSON(t, v, "/metrics", nil)
	for _, want := range []string{
		"\nexchange_commands_sequenced_total 5\n",
		"\nexchange_gateway_messages_in_total{msg_type=\"D\"} 5\n",
		"\nexchange_gateway_logons_total{result=\"ok\"} 2\n",
		"\n# TYPE exchange_journal_fsyncs_total counter\n",
		"\n# TYPE exchange_inbound_queue_depth gauge\n",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", metrics)
	}
}

// TestE2EFIX42: a FIX 4.2 session trades beside FIX 4.4 ones, with 4.2's
// ExecTransType and ExecType values; a CompID logged on under one version
// cannot log on under the other at the same time.
func TestE2EFIX42(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	fix := v.cfg.ListenFIX
	co := defaultOpts("CHARLIE")
	co.begin = quickfix.BeginStringFIX42
	cs := logonAll(t, fix, co, defaultOpts("BRAVO"))
	c, b := cs[0], cs[1]

	c.limit(t, "C1", "AAPL", "1", "10", "190.00")
	check(t, "C1 ack", c.expectExec(t, "C1", "0"), "20=0", "39=0", "151=10")
	b.limit(t, "B1", "AAPL", "2", "4", "190.00")
	check(t, "C1 partial fill", c.expectExec(t, "C1", "1"), "20=0", "39=1", "32=4", "31=190", "14=4", "151=6")
	check(t, "B1 fill (4.4)", b.expectExec(t, "B1", "F"), "39=2")
	c.send(t, "H", "11=C1", "55=AAPL", "54=1")
	check(t, "C1 status", c.expect(t, "8", "11=C1", "20=3"), "150=1", "39=1", "151=6")
	c.send(t, "F", "11=C1c", "41=C1", "55=AAPL", "54=1", "38=10")
	check(t, "C1 cancelled", c.expectExec(t, "C1c", "4"), "20=0", "39=4", "14=4", "151=0")

	dup := newClient(t, fix, defaultOpts("CHARLIE"))
	if got, want := dup.expectLogout(t), `SenderCompID "CHARLIE" is already logged on (FIX.4.2)`; got != want {
		t.Errorf("second CHARLIE logon: Logout Text %q, want %q", got, want)
	}
	dup.stop()
}
