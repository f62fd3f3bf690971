package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"
	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/admin"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/pipeline"
)

// TestE2EOperatorListsSymbol: an operator lists NEWCO through the admin
// API while brokers are logged on; a FIX client trades it at once (an
// order, a fill), market data shows it over HTTP and FIX, and the admin
// status lists it. Refusals: a duplicate name (409), a bad tick size (400
// naming the field). After a restart with the configuration file alone,
// NEWCO is listed again from the journal, its resting order is on the
// book, and it trades on; a replay gives the live hashes.
func TestE2EOperatorListsSymbol(t *testing.T) {
	dir := t.TempDir()
	v, stop := startAdminVenue(t, dir)
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("BRAVO"))
	a, b := cs[0], cs[1]
	op := &admin.Client{Addr: v.adm.Addr(), Token: "demo-operator-token"}
	ctx := context.Background()
	post := func(path string, body any) error {
		t.Helper()
		var res admin.ActionResult
		_, err := op.Post(ctx, path, body, &res)
		return err
	}
	listing := admin.SymbolRequest{Name: "NEWCO", TickSize: "0.05", LotSize: "10", ReferencePrice: "20", DynamicBandBps: 2000, Reason: "IPO"}
	if err := post("symbols", listing); err != nil {
		t.Fatal(err)
	}
	var se *admin.ServerError
	if err := post("symbols", listing); !errors.As(err, &se) || se.Status != 409 || se.Param != "name" {
		t.Fatalf("duplicate listing: %v", err)
	}
	bad := listing
	bad.Name, bad.TickSize = "BADCO", "0"
	if err := post("symbols", bad); !errors.As(err, &se) || se.Status != 400 || se.Param != "tick_size" {
		t.Fatalf("bad tick: %v", err)
	}
	// BRAVO may sell NEWCO short (nobody holds any yet).
	if err := post("limits", admin.LimitsRequest{Account: "BRAVO-1", Reason: "NEWCO market maker",
		Limits: admin.LimitsJSON{AllowShort: ptr(true), ShortLimitLots: ptr(int64(1000))}}); err != nil {
		t.Fatal(err)
	}

	b.limit(t, "B1", "NEWCO", "2", "50", "20.00")
	b.expectExec(t, "B1", "0")
	a.limit(t, "A1", "NEWCO", "1", "30", "20.00")
	check(t, "NEWCO fill", a.expectExec(t, "A1", "F"), "55=NEWCO", "31=20", "32=30", "39=2")
	b.expectExec(t, "B1", "F", "32=30")
	a.limit(t, "A2", "NEWCO", "1", "10", "20.01")
	check(t, "off the tick grid", a.expectExec(t, "A2", "8"), "58=Price (44) 20.01 is not a whole multiple of the tick size 0.05")

	// Market data: HTTP and FIX.
	var syms []map[string]any
	getJSON(t, v, "/api/symbols", &syms)
	if len(syms) != len(v.cfg.Symbols)+1 || syms[len(syms)-1]["symbol"] != "NEWCO" {
		t.Fatalf("/api/symbols: %v", syms)
	}
	// Market data publishes after the reports: wait for the fill to show.
	for deadline := time.Now().Add(waitMax); ; time.Sleep(5 * time.Millisecond) {
		body := getJSON(t, v, "/api/book/NEWCO", nil)
		if strings.Contains(body, `"price":"20.00","qty":"20"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/api/book/NEWCO: %s", body)
		}
	}
	mdRequest(t, a, "m1", "NEWCO")
	a.expect(t, "W", "55=NEWCO", "262=m1", "268=2") // the offer left and the trade
	var st admin.Status
	if _, err := op.Get(ctx, "status", &st); err != nil {
		t.Fatal(err)
	}
	if last := st.Symbols[len(st.Symbols)-1]; last.Symbol != "NEWCO" || last.Phase != "continuous" || last.Last != "20" {
		t.Fatalf("status: %+v", last)
	}
	a.stop()
	b.stop()
	stop()
	live := v.x.State()
	st2, _, err := pipeline.Rebuild(config.Default().Registry, pipeline.RebuildOptions{Dir: dir, IgnoreSnapshots: true, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if st2.Manager.StateHash() != live.Manager.StateHash() || st2.Engine.StateHash() != live.Engine.StateHash() || st2.Hasher.Sum() != live.Hasher.Sum() {
		t.Fatal("the replayed state differs from the live one")
	}

	var out, errb bytes.Buffer
	if code := run([]string{"replay", "--data", dir}, nil, &out, &errb); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"(1 listed at run time)", "list-symbol  symbol NEWCO", "by demo-operator: IPO"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("replay output lacks %q:\n%s", want, out.String())
		}
	}
	if !regexp.MustCompile(`NEWCO\s+1\s+30\s+20\.00`).MatchString(out.String()) {
		t.Fatalf("replay's NEWCO line:\n%s", out.String())
	}

	// A restart lists NEWCO again (from the final snapshot) and trades on.
	v2, _ := startAdminVenue(t, dir)
	if body := getJSON(t, v2, "/api/book/NEWCO", nil); !strings.Contains(body, `"price":"20.00","qty":"20"`) {
		t.Fatalf("/api/book/NEWCO after the restart: %s", body)
	}
	cs = logonAll(t, v2.cfg.ListenFIX, defaultOpts("ALPHA"))
	cs[0].limit(t, "A3", "NEWCO", "1", "20", "20.00")
	check(t, "NEWCO after the restart", cs[0].expectExec(t, "A3", "F"), "31=20", "32=20")
	cs[0].stop()
}

// mdRequest sends a MarketDataRequest for a snapshot of sym's book and
// trades.
func mdRequest(t *testing.T, c *fixClient, id, sym string) {
	t.Helper()
	m := quickfix.NewMessage()
	m.Header.SetString(tag.MsgType, "V")
	m.Body.SetString(tag.MDReqID, id)
	m.Body.SetString(tag.SubscriptionRequestType, "0")
	m.Body.SetInt(tag.MarketDepth, 0)
	types := quickfix.NewRepeatingGroup(tag.NoMDEntryTypes, quickfix.GroupTemplate{quickfix.GroupElement(tag.MDEntryType)})
	for _, ty := range []string{"0", "1", "2"} {
		types.Add().SetString(tag.MDEntryType, ty)
	}
	m.Body.SetGroup(types)
	syms := quickfix.NewRepeatingGroup(tag.NoRelatedSym, quickfix.GroupTemplate{quickfix.GroupElement(tag.Symbol)})
	syms.Add().SetString(tag.Symbol, sym)
	m.Body.SetGroup(syms)
	if err := quickfix.SendToTarget(m, c.sid); err != nil {
		t.Fatal(err)
	}
}
