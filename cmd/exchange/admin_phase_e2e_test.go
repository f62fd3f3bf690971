package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/admin"
	"github.com/exchange-sim/exchange/internal/pipeline"
)

// TestE2EOperatorForcesPhases: an operator forces AAPL into the opening
// call and out of it through the admin API while brokers trade over FIX.
// Every session hears each change (TradingSessionStatus 35=h), orders rest
// in the call and the change to continuous uncrosses them; a change for a
// halted symbol is refused with a 409; "all" moves every symbol. The
// journal replays to the same hashes and `exchange replay` lists the
// actions with their phases.
func TestE2EOperatorForcesPhases(t *testing.T) {
	dir := t.TempDir()
	v, stop := startAdminVenue(t, dir)
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("BRAVO"))
	a, b := cs[0], cs[1]
	op := &admin.Client{Addr: v.adm.Addr(), Token: "demo-operator-token"}
	ctx := context.Background()
	phase := func(sym, ph string) error {
		t.Helper()
		req := admin.PhaseRequest{Symbol: sym, Phase: ph, Reason: "forced " + ph}
		if sym == "all" {
			req.Symbol, req.All = "", true
		}
		var res admin.ActionResult
		_, err := op.Post(ctx, "phase", req, &res)
		if err == nil && (res.Action != "phase" || res.Seq == 0) {
			t.Fatalf("phase %s %s: %+v", sym, ph, res)
		}
		return err
	}
	symPhase := func(sym string) admin.SymbolStatus {
		t.Helper()
		var st admin.Status
		if _, err := op.Get(ctx, "status", &st); err != nil {
			t.Fatal(err)
		}
		for _, s := range st.Symbols {
			if s.Symbol == sym {
				return s
			}
		}
		t.Fatalf("status has no %s", sym)
		return admin.SymbolStatus{}
	}

	if err := phase("AAPL", "pre_open"); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		c.expect(t, "h", "336=AAPL", "340=4", "625=pre_open")
	}
	if s := symPhase("AAPL"); s.Phase != "pre_open" {
		t.Fatalf("status after pre_open: %+v", s)
	}
	a.limit(t, "A1", "AAPL", "1", "10", "190.00")
	a.expectExec(t, "A1", "0")
	b.limit(t, "B1", "AAPL", "2", "4", "189.00")
	b.expectExec(t, "B1", "0") // rests crossed: nothing trades in a call

	if err := phase("AAPL", "pre_open"); err == nil || !strings.Contains(err.Error(), "409") || !strings.Contains(err.Error(), "already in phase pre_open") {
		t.Fatalf("same phase again: %v", err)
	}
	if err := phase("AAPL", "continuous"); err != nil {
		t.Fatal(err)
	}
	check(t, "opening uncross", a.expectExec(t, "A1", "F"), "32=4", "851=4")
	b.expectExec(t, "B1", "F", "32=4")
	for _, c := range cs {
		c.expect(t, "h", "336=AAPL", "340=2", "625=continuous")
	}

	// A halted symbol's phase cannot be forced; the refusal journals nothing.
	var res admin.ActionResult
	if _, err := op.Post(ctx, "halt", admin.HaltRequest{Symbol: "MSFT", Reason: "news"}, &res); err != nil {
		t.Fatal(err)
	}
	err := phase("MSFT", "closing_call")
	var ce *admin.ServerError
	if !errors.As(err, &ce) || ce.Status != 409 || !strings.Contains(ce.Msg, "halted") {
		t.Fatalf("phase of a halted symbol: %v", err)
	}
	if s := symPhase("MSFT"); s.Phase != "halted" || s.PhaseUnderHalt != "continuous" {
		t.Fatalf("MSFT status: %+v", s)
	}
	// End of day: the DAY order expires (ExecType C) and is journaled.
	a.limit(t, "A9", "AAPL", "1", "2", "188.00")
	a.expectExec(t, "A9", "0")
	if _, err := op.Post(ctx, "expire", admin.HaltRequest{All: true, Reason: "end of day"}, &res); err != nil || res.Action != "expire" {
		t.Fatalf("expire: %+v %v", res, err)
	}
	check(t, "expired at the end of the day", a.expectExec(t, "A9", "C"), "39=C", "151=0")
	// Every symbol not halted: AAPL closes, MSFT stays halted underneath
	// continuous.
	if err := phase("all", "closed"); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "h", "336=AAPL", "340=3", "625=closed")
	if s := symPhase("MSFT"); s.PhaseUnderHalt != "continuous" {
		t.Fatalf("MSFT after all closed: %+v", s)
	}
	a.limit(t, "A2", "AAPL", "1", "1", "190.00")
	check(t, "order while closed", a.expectExec(t, "A2", "8"), "58=not accepted in the symbol's current trading phase")
	a.stop()
	b.stop()

	stop()
	st := v.x.State()
	st2, _, err := pipeline.Rebuild(v.cfg.Registry, pipeline.RebuildOptions{Dir: dir, IgnoreSnapshots: true, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if st2.Manager.StateHash() != st.Manager.StateHash() || st2.Engine.StateHash() != st.Engine.StateHash() || st2.Hasher.Sum() != st.Hasher.Sum() {
		t.Fatal("the replayed state differs from the live one")
	}
	if st2.Manager.PhaseUnderHalt(1) != st.Engine.PhaseUnderHalt(1) || st2.Engine.Phase(1).String() != "closed" {
		t.Fatalf("replayed phase of AAPL: %s", st2.Engine.Phase(1))
	}
	var out, errb bytes.Buffer
	if code := run([]string{"replay", "--data", dir}, nil, &out, &errb); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"operator actions        5", "symbol AAPL, to pre_open", "symbol *, to closed", "by demo-operator: forced continuous", "expire       symbol *"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("replay output lacks %q:\n%s", want, out.String())
		}
	}
}
