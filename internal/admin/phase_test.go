package admin

import (
	"context"
	"strings"
	"testing"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
)

// TestPhase: forcing phases through the API, each journaled with who, why
// and the phase; status shows the engine's phase; refusals name the field
// (400), the symbol (404) or the state (409), and journal nothing.
func TestPhase(t *testing.T) {
	v := newTestVenue(t)
	refusals := []struct {
		name, token, body string
		status            int
		param, text       string
	}{
		{"viewer", viewerToken, `{"symbol":"AAPL","phase":"pre_open","reason":"x"}`, 403, "", "role viewer"},
		{"unknown phase", operatorToken, `{"symbol":"AAPL","phase":"lunch","reason":"x"}`, 400, "phase", "closed, closing_auction, closing_call, continuous, opening_auction, post_close, pre_open, volatility_auction"},
		{"halted is not a phase to set", operatorToken, `{"symbol":"AAPL","phase":"halted","reason":"x"}`, 400, "phase", "use"},
		{"no phase", operatorToken, `{"symbol":"AAPL","reason":"x"}`, 400, "phase", ""},
		{"no reason", operatorToken, `{"symbol":"AAPL","phase":"closed"}`, 400, "reason", ""},
		{"symbol and all", operatorToken, `{"symbol":"AAPL","all":true,"phase":"closed","reason":"x"}`, 400, "symbol", ""},
		{"phase of wrong type", operatorToken, `{"symbol":"AAPL","phase":3,"reason":"x"}`, 400, "phase", "a string"},
		{"unknown symbol", operatorToken, `{"symbol":"NOPE","phase":"closed","reason":"x"}`, 404, "symbol", "NOPE"},
		{"already continuous", operatorToken, `{"symbol":"AAPL","phase":"continuous","reason":"x"}`, 409, "", "already in phase continuous"},
	}
	for _, c := range refusals {
		status, m, raw := v.call(t, c.token, "POST", "/admin/v1/phase", c.body)
		msg, _ := m["error"].(string)
		if status != c.status || (c.param != "" && m["param"] != c.param) || !strings.Contains(msg, c.text) {
			t.Fatalf("%s: %d %s", c.name, status, raw)
		}
	}
	if v.x.Stats().Commands != 0 {
		t.Fatalf("refusals sequenced %d commands", v.x.Stats().Commands)
	}

	phaseOf := func(name string) SymbolStatus {
		t.Helper()
		var st Status
		if _, err := (&Client{Addr: v.ts.URL, Token: viewerToken}).Get(context.Background(), "status", &st); err != nil {
			t.Fatal(err)
		}
		for _, s := range st.Symbols {
			if s.Symbol == name {
				return s
			}
		}
		t.Fatalf("no %s in status", name)
		return SymbolStatus{}
	}
	post := func(body string) {
		t.Helper()
		if status, _, raw := v.call(t, operatorToken, "POST", "/admin/v1/phase", body); status != 200 {
			t.Fatalf("%s: %d %s", body, status, raw)
		}
	}
	post(`{"symbol":"AAPL","phase":"pre_open","reason":"late open"}`)
	if s := phaseOf("AAPL"); s.Phase != "pre_open" || s.Halted {
		t.Fatalf("AAPL: %+v", s)
	}
	if s := phaseOf("MSFT"); s.Phase != "continuous" {
		t.Fatalf("MSFT: %+v", s)
	}
	// Halted: the phase underneath shows, and a forced change is a 409.
	if status, _, raw := v.call(t, operatorToken, "POST", "/admin/v1/halt", `{"symbol":"AAPL","reason":"news"}`); status != 200 {
		t.Fatalf("halt: %s", raw)
	}
	if s := phaseOf("AAPL"); s.Phase != "halted" || s.PhaseUnderHalt != "pre_open" {
		t.Fatalf("AAPL halted: %+v", s)
	}
	if status, _, raw := v.call(t, operatorToken, "POST", "/admin/v1/phase", `{"symbol":"AAPL","phase":"continuous","reason":"x"}`); status != 409 || !strings.Contains(string(raw), "resume it") {
		t.Fatalf("phase of a halted symbol: %d %s", status, raw)
	}
	post(`{"all":true,"phase":"closing_call","reason":"early close"}`)
	if a, m := phaseOf("AAPL"), phaseOf("MSFT"); a.PhaseUnderHalt != "pre_open" || m.Phase != "closing_call" {
		t.Fatalf("after all closing_call: %+v %+v", a, m)
	}
	if status, _, raw := v.call(t, operatorToken, "POST", "/admin/v1/halt", `{"all":true,"reason":"x"}`); status != 200 {
		t.Fatalf("halt all: %s", raw)
	}
	if status, _, raw := v.call(t, operatorToken, "POST", "/admin/v1/phase", `{"all":true,"phase":"closed","reason":"x"}`); status != 409 || !strings.Contains(string(raw), "every symbol is halted") {
		t.Fatalf("phase with every symbol halted: %d %s", status, raw)
	}

	var acts []Action
	if _, err := (&Client{Addr: v.ts.URL, Token: viewerToken}).Get(context.Background(), "actions", &acts); err != nil {
		t.Fatal(err)
	}
	var phases []string
	for _, a := range acts {
		if a.Action == "phase" {
			phases = append(phases, a.Symbol+" "+a.Phase+" "+a.Who+" "+a.Why)
		}
	}
	if got := strings.Join(phases, "|"); got != "AAPL pre_open demo-operator late open|* closing_call demo-operator early close" {
		t.Fatalf("phase actions: %s", got)
	}
	var eng matching.Phase
	if err := v.x.Inspect(context.Background(), func(om *ordermanager.Manager) { eng = om.PhaseUnderHalt(v.cfg.SymbolByName("MSFT")) }); err != nil || eng != matching.PhaseClosingCall {
		t.Fatalf("MSFT under its halt: %s %v", eng, err)
	}
}

// TestCLIPhase: `exchange admin phase SYMBOL|all PHASE --reason R`.
func TestCLIPhase(t *testing.T) {
	v := newTestVenue(t)
	env := map[string]string{"EXCHANGE_ADMIN_ADDR": v.ts.URL, "EXCHANGE_ADMIN_TOKEN": operatorToken}
	code, out, errs := v.runCLI(t, env, "phase", "AAPL", "pre_open", "--reason", "late open")
	if code != 0 || !strings.Contains(out, "phase done: journaled at seq 1") {
		t.Fatalf("phase: %d %q %q", code, out, errs)
	}
	code, out, _ = v.runCLI(t, env, "status")
	if code != 0 || !strings.Contains(out, "AAPL    pre_open") || !strings.Contains(out, "MSFT    continuous") {
		t.Fatalf("status: %d %q", code, out)
	}
	code, _, errs = v.runCLI(t, env, "phase", "all", "lunch", "--reason", "x")
	if code != 1 || !strings.Contains(errs, "(phase)") || !strings.Contains(errs, "pre_open") {
		t.Fatalf("bad phase: %d %q", code, errs)
	}
	code, _, errs = v.runCLI(t, env, "phase", "AAPL", "pre_open", "--reason", "again")
	if code != 1 || !strings.Contains(errs, "409 Conflict") {
		t.Fatalf("same phase: %d %q", code, errs)
	}
	if code, _, _ = v.runCLI(t, env, "phase", "AAPL"); code != 2 {
		t.Fatalf("missing phase: exit %d", code)
	}
	code, out, _ = v.runCLI(t, env, "phase", "all", "closed", "--reason", "end of day")
	if code != 0 || !strings.Contains(out, "phase done") || !strings.Contains(out, "end of day") {
		t.Fatalf("all closed: %d %q", code, out)
	}
	code, out, _ = v.runCLI(t, env, "actions")
	if code != 0 || !strings.Contains(out, "symbol *, to closed") || !strings.Contains(out, "symbol AAPL, to pre_open") {
		t.Fatalf("actions: %q", out)
	}
}

// TestExpire: POST /admin/v1/expire ends the day's orders of a symbol or of
// every symbol; refusals journal nothing.
func TestExpire(t *testing.T) {
	v := newTestVenue(t)
	for _, c := range []struct {
		token, body string
		status      int
		param       string
	}{
		{viewerToken, `{"all":true,"reason":"x"}`, 403, ""},
		{operatorToken, `{"symbol":"NOPE","reason":"x"}`, 404, "symbol"},
		{operatorToken, `{"all":true}`, 400, "reason"},
		{operatorToken, `{"reason":"x"}`, 400, "symbol"},
	} {
		status, m, raw := v.call(t, c.token, "POST", "/admin/v1/expire", c.body)
		if status != c.status || (c.param != "" && m["param"] != c.param) {
			t.Fatalf("%s: %d %s", c.body, status, raw)
		}
	}
	if v.x.Stats().Commands != 0 {
		t.Fatalf("refusals sequenced %d commands", v.x.Stats().Commands)
	}
	env := map[string]string{"EXCHANGE_ADMIN_ADDR": v.ts.URL, "EXCHANGE_ADMIN_TOKEN": operatorToken}
	code, out, errs := v.runCLI(t, env, "expire", "AAPL", "--reason", "end of day")
	if code != 0 || !strings.Contains(out, "expire done: journaled at seq 1 (2 commands") {
		t.Fatalf("expire AAPL: %d %q %q", code, out, errs)
	}
	if code, out, errs = v.runCLI(t, env, "expire", "--all", "--reason", "end of day"); code != 0 {
		t.Fatalf("expire --all: %d %q %q", code, out, errs)
	}
	code, out, _ = v.runCLI(t, env, "actions")
	if code != 0 || !strings.Contains(out, "expire") || !strings.Contains(out, "symbol *") || !strings.Contains(out, "symbol AAPL") {
		t.Fatalf("actions: %q", out)
	}
}
