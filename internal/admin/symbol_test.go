package admin

import (
	"context"
	"strings"
	"testing"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
)

// TestListSymbol: POST /admin/v1/symbols lists a symbol that the order
// manager accepts orders for at once; refusals name the field and journal
// nothing.
func TestListSymbol(t *testing.T) {
	v := newTestVenue(t)
	const ok = `"name":"NEWCO","tick_size":"0.05","lot_size":"10","reference_price":"20","reason":"IPO"`
	refusals := []struct {
		name, token, body string
		status            int
		param, text       string
	}{
		{"viewer", viewerToken, `{` + ok + `}`, 403, "", "role viewer"},
		{"no name", operatorToken, `{"tick_size":"0.05","lot_size":"10","reason":"x"}`, 400, "name", "required"},
		{"no tick", operatorToken, `{"name":"X","lot_size":"10","reason":"x"}`, 400, "tick_size", "required"},
		{"no lot", operatorToken, `{"name":"X","tick_size":"0.05","reason":"x"}`, 400, "lot_size", "required"},
		{"no reason", operatorToken, `{"name":"X","tick_size":"0.05","lot_size":"10"}`, 400, "reason", ""},
		{"zero tick", operatorToken, `{"name":"X","tick_size":"0","lot_size":"10","reason":"x"}`, 400, "tick_size", "positive"},
		{"negative lot", operatorToken, `{"name":"X","tick_size":"0.05","lot_size":"-1","reason":"x"}`, 400, "lot_size", "positive"},
		{"lot not decimal", operatorToken, `{"name":"X","tick_size":"0.05","lot_size":"ten","reason":"x"}`, 400, "lot_size", ""},
		{"sub-minor tick", operatorToken, `{"name":"X","tick_size":"0.0001","lot_size":"1","reason":"x"}`, 400, "tick_size", "minor units"},
		{"reference off the grid", operatorToken, `{"name":"X","tick_size":"0.05","lot_size":"10","reference_price":"20.01","reason":"x"}`, 400, "reference_price", "tick size"},
		{"band", operatorToken, `{"name":"X","tick_size":"0.05","lot_size":"10","dynamic_band_bps":-5,"reason":"x"}`, 400, "dynamic_band_bps", ""},
		{"name with a space", operatorToken, `{"name":"NEW CO","tick_size":"0.05","lot_size":"10","reason":"x"}`, 400, "name", ""},
		{"name too long", operatorToken, `{"name":"` + strings.Repeat("N", 17) + `","tick_size":"0.05","lot_size":"10","reason":"x"}`, 400, "name", ""},
		{"configured name", operatorToken, `{"name":"AAPL","tick_size":"0.05","lot_size":"10","reason":"x"}`, 409, "name", "already listed"},
		{"unknown field", operatorToken, `{` + ok + `,"currency":"EUR"}`, 400, "currency", "unknown field"},
	}
	for _, c := range refusals {
		status, m, raw := v.call(t, c.token, "POST", "/admin/v1/symbols", c.body)
		msg, _ := m["error"].(string)
		if status != c.status || (c.param != "" && m["param"] != c.param) || !strings.Contains(msg, c.text) {
			t.Fatalf("%s: %d %s", c.name, status, raw)
		}
	}
	if v.x.Stats().Commands != 0 {
		t.Fatalf("refusals sequenced %d commands", v.x.Stats().Commands)
	}
	status, m, raw := v.call(t, operatorToken, "POST", "/admin/v1/symbols", `{`+ok+`}`)
	if status != 200 || m["action"] != "list-symbol" || m["commands"].(float64) != 2 {
		t.Fatalf("listing: %d %s", status, raw)
	}
	if status, m, raw = v.call(t, operatorToken, "POST", "/admin/v1/symbols", `{`+ok+`}`); status != 409 || m["param"] != "name" {
		t.Fatalf("second listing: %d %s", status, raw)
	}
	id := v.cfg.SymbolByName("NEWCO")
	if int(id) != len(v.cfg.Symbols)+1 {
		t.Fatalf("NEWCO is %d", id)
	}
	// Orders for NEWCO: one on the grid rests; halts and phases work on it.
	v.order(t, "ALPHA", "n1", id, matching.Buy, 399, 3)
	for _, c := range []struct{ path, body string }{
		{"/admin/v1/halt", `{"symbol":"NEWCO","reason":"x"}`},
		{"/admin/v1/resume", `{"symbol":"NEWCO","reason":"x"}`},
		{"/admin/v1/phase", `{"symbol":"NEWCO","phase":"closed","reason":"x"}`},
		{"/admin/v1/cancel", `{"symbol":"NEWCO","reason":"x"}`},
	} {
		if status, _, raw := v.call(t, operatorToken, "POST", c.path, c.body); status != 200 {
			t.Fatalf("%s on NEWCO: %d %s", c.path, status, raw)
		}
	}
	var st Status
	if _, err := (&Client{Addr: v.ts.URL, Token: viewerToken}).Get(context.Background(), "status", &st); err != nil {
		t.Fatal(err)
	}
	if last := st.Symbols[len(st.Symbols)-1]; last.Symbol != "NEWCO" || last.Phase != "closed" {
		t.Fatalf("status: %+v", st.Symbols)
	}
	var acts []Action
	if _, err := (&Client{Addr: v.ts.URL, Token: viewerToken}).Get(context.Background(), "actions", &acts); err != nil {
		t.Fatal(err)
	}
	if acts[0].Action != "list-symbol" || acts[0].Symbol != "NEWCO" || acts[0].Why != "IPO" {
		t.Fatalf("actions: %+v", acts)
	}
	var holds bool
	if err := v.x.Inspect(context.Background(), func(om *ordermanager.Manager) {
		a, _ := om.Account(v.cfg.AccountByName("ALPHA-1"))
		holds = len(a.Holdings) == len(v.cfg.Symbols)+1
	}); err != nil || !holds {
		t.Fatalf("ALPHA-1's holdings do not cover NEWCO (%v)", err)
	}
}

// TestCLISymbolAdd: `exchange admin symbol add NAME --tick-size ...`.
func TestCLISymbolAdd(t *testing.T) {
	v := newTestVenue(t)
	env := map[string]string{"EXCHANGE_ADMIN_ADDR": v.ts.URL, "EXCHANGE_ADMIN_TOKEN": operatorToken}
	code, out, errs := v.runCLI(t, env, "symbol", "add", "NEWCO", "--tick-size", "0.05", "--lot-size", "10", "--reference-price", "20", "--dynamic-band-bps", "500", "--reason", "IPO")
	if code != 0 || !strings.Contains(out, "list-symbol done: journaled at seq 1 (2 commands") {
		t.Fatalf("symbol add: %d %q %q", code, out, errs)
	}
	code, out, _ = v.runCLI(t, env, "status")
	if code != 0 || !strings.Contains(out, "NEWCO   continuous") {
		t.Fatalf("status: %d %q", code, out)
	}
	code, _, errs = v.runCLI(t, env, "symbol", "add", "NEWCO", "--tick-size", "0.05", "--lot-size", "10", "--reason", "again")
	if code != 1 || !strings.Contains(errs, "409 Conflict") {
		t.Fatalf("duplicate: %d %q", code, errs)
	}
	code, _, errs = v.runCLI(t, env, "symbol", "add", "OTHER", "--tick-size", "0", "--lot-size", "10", "--reason", "x")
	if code != 1 || !strings.Contains(errs, "(tick_size)") {
		t.Fatalf("bad tick: %d %q", code, errs)
	}
	for _, args := range [][]string{{"symbol", "remove", "NEWCO", "--reason", "x"}, {"symbol", "add"}, {"symbol", "add", "X", "--tick-size"}} {
		if code, _, _ := v.runCLI(t, env, args...); code != 2 {
			t.Fatalf("%q: exit %d, want 2", args, code)
		}
	}
	code, out, _ = v.runCLI(t, env, "actions")
	if code != 0 || !strings.Contains(out, "list-symbol") || !strings.Contains(out, "symbol NEWCO") {
		t.Fatalf("actions: %q", out)
	}
}
