package admin

import (
	"context"
	"strings"
	"testing"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/matching"
)

// TestRefusals: every refusal the API gives, with its status and the field
// it names.
func TestRefusals(t *testing.T) {
	v := newTestVenue(t)
	cases := []struct {
		name, token, method, path, body string
		status                          int
		param                           string // "" = not checked
		text                            string // in the error
	}{
		{"no token", "", "GET", "/admin/v1/status", "", 401, "", "bearer token"},
		{"wrong token", "nope", "GET", "/admin/v1/status", "", 401, "", "bearer token"},
		{"token too long", strings.Repeat("x", 100), "GET", "/admin/v1/status", "", 401, "", "bearer token"},
		{"no token, action", "", "POST", "/admin/v1/halt", `{"symbol":"AAPL","reason":"x"}`, 401, "", ""},
		{"viewer halts", viewerToken, "POST", "/admin/v1/halt", `{"symbol":"AAPL","reason":"x"}`, 403, "", "role viewer"},
		{"viewer resumes", viewerToken, "POST", "/admin/v1/resume", `{"symbol":"AAPL","reason":"x"}`, 403, "", ""},
		{"viewer kills", viewerToken, "POST", "/admin/v1/kill", `{"account":"ALPHA-1","on":true,"reason":"x"}`, 403, "", ""},
		{"viewer cancels", viewerToken, "POST", "/admin/v1/cancel", `{"firm":"ALPHA","reason":"x"}`, 403, "", ""},
		{"viewer disconnects", viewerToken, "POST", "/admin/v1/disconnect", `{"session":"ALPHA","reason":"x"}`, 403, "", ""},
		{"viewer blocks", viewerToken, "POST", "/admin/v1/block", `{"firm":"ALPHA","blocked":true,"reason":"x"}`, 403, "", ""},
		{"viewer sets limits", viewerToken, "POST", "/admin/v1/limits", `{"account":"ALPHA-1","limits":{},"reason":"x"}`, 403, "", ""},
		{"unknown field halt", operatorToken, "POST", "/admin/v1/halt", `{"symbol":"AAPL","reason":"x","sym":"MSFT"}`, 400, "sym", "unknown field"},
		{"unknown field kill", operatorToken, "POST", "/admin/v1/kill", `{"account":"ALPHA-1","on":true,"reason":"x","force":1}`, 400, "force", ""},
		{"unknown field cancel", operatorToken, "POST", "/admin/v1/cancel", `{"firm":"ALPHA","reason":"x","side":"buy"}`, 400, "side", ""},
		{"unknown field disconnect", operatorToken, "POST", "/admin/v1/disconnect", `{"session":"ALPHA","reason":"x","now":true}`, 400, "now", ""},
		{"unknown field block", operatorToken, "POST", "/admin/v1/block", `{"firm":"ALPHA","blocked":true,"reason":"x","until":"1h"}`, 400, "until", ""},
		{"unknown nested field", operatorToken, "POST", "/admin/v1/limits", `{"account":"ALPHA-1","limits":{"max_lots":5},"reason":"x"}`, 400, "max_lots", ""},
		{"wrong type", operatorToken, "POST", "/admin/v1/kill", `{"account":"ALPHA-1","on":"yes","reason":"x"}`, 400, "on", "true or false"},
		{"wrong nested type", operatorToken, "POST", "/admin/v1/limits", `{"account":"ALPHA-1","limits":{"max_order_lots":"5"},"reason":"x"}`, 400, "limits.max_order_lots", "integer"},
		{"not an object", operatorToken, "POST", "/admin/v1/halt", `[1,2]`, 400, "", "JSON object"},
		{"malformed", operatorToken, "POST", "/admin/v1/halt", `{"symbol":`, 400, "", ""},
		{"trailing data", operatorToken, "POST", "/admin/v1/halt", `{"symbol":"AAPL","reason":"x"} {}`, 400, "", "trailing"},
		{"empty body", operatorToken, "POST", "/admin/v1/halt", ``, 400, "", "JSON object"},
		{"no reason", operatorToken, "POST", "/admin/v1/halt", `{"symbol":"AAPL"}`, 400, "reason", ""},
		{"reason too long", operatorToken, "POST", "/admin/v1/halt", `{"symbol":"AAPL","reason":"` + strings.Repeat("r", 100) + `"}`, 400, "reason", ""},
		{"symbol and all", operatorToken, "POST", "/admin/v1/halt", `{"symbol":"AAPL","all":true,"reason":"x"}`, 400, "symbol", ""},
		{"neither symbol nor all", operatorToken, "POST", "/admin/v1/halt", `{"reason":"x"}`, 400, "symbol", ""},
		{"kill without on", operatorToken, "POST", "/admin/v1/kill", `{"account":"ALPHA-1","reason":"x"}`, 400, "on", ""},
		{"kill account and firm", operatorToken, "POST", "/admin/v1/kill", `{"account":"ALPHA-1","firm":"ALPHA","on":true,"reason":"x"}`, 400, "account", ""},
		{"cancel without scope", operatorToken, "POST", "/admin/v1/cancel", `{"reason":"x"}`, 400, "firm", ""},
		{"cancel account of another firm", operatorToken, "POST", "/admin/v1/cancel", `{"firm":"BRAVO","account":"ALPHA-1","reason":"x"}`, 400, "account", ""},
		{"block without blocked", operatorToken, "POST", "/admin/v1/block", `{"firm":"ALPHA","reason":"x"}`, 400, "blocked", ""},
		{"limits invalid", operatorToken, "POST", "/admin/v1/limits", `{"account":"ALPHA-1","limits":{"max_order_lots":0},"reason":"x"}`, 400, "", "max_order_lots"},
		{"limits bad notional", operatorToken, "POST", "/admin/v1/limits", `{"account":"ALPHA-1","limits":{"max_order_notional":"1.001"},"reason":"x"}`, 400, "limits.max_order_notional", ""},
		{"bad n", viewerToken, "GET", "/admin/v1/actions?n=-3", "", 400, "n", ""},
		{"bad limit", viewerToken, "GET", "/admin/v1/firms/ALPHA/orders?limit=x", "", 400, "limit", ""},
		{"unknown symbol halt", operatorToken, "POST", "/admin/v1/halt", `{"symbol":"NOPE","reason":"x"}`, 404, "symbol", "NOPE"},
		{"unknown symbol resume", operatorToken, "POST", "/admin/v1/resume", `{"symbol":"NOPE","reason":"x"}`, 404, "symbol", ""},
		{"unknown symbol cancel", operatorToken, "POST", "/admin/v1/cancel", `{"symbol":"NOPE","reason":"x"}`, 404, "symbol", ""},
		{"unknown account kill", operatorToken, "POST", "/admin/v1/kill", `{"account":"NOPE-1","on":true,"reason":"x"}`, 404, "account", ""},
		{"unknown firm kill", operatorToken, "POST", "/admin/v1/kill", `{"firm":"NOPE","on":true,"reason":"x"}`, 404, "firm", ""},
		{"unknown account limits", operatorToken, "POST", "/admin/v1/limits", `{"account":"NOPE-1","limits":{},"reason":"x"}`, 404, "account", ""},
		{"unknown account read", viewerToken, "GET", "/admin/v1/accounts/NOPE-1", "", 404, "account", ""},
		{"unknown firm orders", viewerToken, "GET", "/admin/v1/firms/NOPE/orders", "", 404, "firm", ""},
		{"unknown firm block", operatorToken, "POST", "/admin/v1/block", `{"firm":"NOPE","blocked":true,"reason":"x"}`, 404, "firm", ""},
		{"unknown session", operatorToken, "POST", "/admin/v1/disconnect", `{"session":"NOPE","reason":"x"}`, 404, "session", "NOPE"},
		{"session not logged on", operatorToken, "POST", "/admin/v1/disconnect", `{"session":"ALPHA","reason":"x"}`, 409, "session", "not logged on"},
		{"unknown endpoint", operatorToken, "GET", "/admin/v1/nope", "", 404, "path", ""},
		{"wrong method", operatorToken, "GET", "/admin/v1/halt", "", 405, "method", "use POST"},
		{"wrong method read", operatorToken, "POST", "/admin/v1/status", "{}", 405, "method", "use GET"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, m, raw := v.call(t, c.token, c.method, c.path, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, raw)
			}
			msg, _ := m["error"].(string)
			if msg == "" {
				t.Fatalf("no error text: %s", raw)
			}
			if c.param != "" && m["param"] != c.param {
				t.Fatalf("param %v, want %q: %s", m["param"], c.param, raw)
			}
			if c.text != "" && !strings.Contains(msg, c.text) {
				t.Fatalf("error %q does not say %q", msg, c.text)
			}
		})
	}
	// Nothing refused was journaled.
	if _, _, raw := v.call(t, viewerToken, "GET", "/admin/v1/actions", ""); strings.TrimSpace(string(raw)) != "[]" {
		t.Fatalf("refused actions were journaled: %s", raw)
	}
	if v.x.Stats().Commands != 0 {
		t.Fatalf("%d commands sequenced", v.x.Stats().Commands)
	}
}

// TestActions: every action takes effect, is journaled with who and why,
// and shows in the reads.
func TestActions(t *testing.T) {
	v := newTestVenue(t)
	alpha, bravo := v.cfg.AccountByName("ALPHA-1"), v.cfg.AccountByName("BRAVO-1")
	aapl, msft := v.cfg.SymbolByName("AAPL"), v.cfg.SymbolByName("MSFT")
	v.order(t, "ALPHA", "a1", aapl, matching.Buy, 18000, 5)
	v.order(t, "ALPHA", "a2", msft, matching.Buy, 40000, 5)
	v.order(t, "BRAVO", "b1", aapl, matching.Sell, 20000, 5)

	post := func(path, body string) map[string]any {
		t.Helper()
		status, m, raw := v.call(t, operatorToken, "POST", path, body)
		if status != 200 {
			t.Fatalf("POST %s %s: %d %s", path, body, status, raw)
		}
		if m["who"] != "demo-operator" || m["seq"].(float64) == 0 {
			t.Fatalf("POST %s: %s", path, raw)
		}
		return m
	}
	get := func(path string, out any) {
		t.Helper()
		c := &Client{Addr: v.ts.URL, Token: viewerToken}
		if _, err := c.Get(context.Background(), path, out); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	inspect := func(fn func(om *ordermanager.Manager)) {
		t.Helper()
		if err := v.x.Inspect(context.Background(), fn); err != nil {
			t.Fatal(err)
		}
	}

	// Reads before any action.
	var orders []Order
	get("firms/ALPHA/orders", &orders)
	if len(orders) != 2 || orders[0].ClOrdID != "a1" || orders[0].Price != "180" || orders[1].Symbol != "MSFT" {
		t.Fatalf("ALPHA's orders: %+v", orders)
	}
	get("firms/ALPHA/orders?limit=1", &orders)
	if len(orders) != 1 {
		t.Fatalf("limit 1: %d orders", len(orders))
	}
	var acct Account
	get("accounts/ALPHA-1", &acct)
	if acct.OpenOrders != 2 || acct.KillSwitch || acct.CashReserved == "0.00" || acct.Holdings["AAPL"].Qty != "1000000" {
		t.Fatalf("ALPHA-1: %+v", acct)
	}
	var sessions []Session
	get("sessions", &sessions)
	if len(sessions) != len(v.cfg.Sessions) || sessions[0].Session != "ALPHA" || sessions[0].LoggedOn {
		t.Fatalf("sessions: %+v", sessions)
	}

	// Halt with a reason; status shows it; resume.
	h := post("/admin/v1/halt", `{"symbol":"AAPL","reason":"news pending"}`)
	var st Status
	get("status", &st)
	if !st.Symbols[0].Halted || st.Symbols[0].Phase != "halted" || st.Symbols[0].HaltReason != "news pending" || st.Symbols[1].Halted {
		t.Fatalf("status after halt: %+v", st.Symbols)
	}
	if st.Journal.Durability != "batch" && st.Journal.Durability != "none" || st.Journal.Records < 5 {
		t.Fatalf("status journal: %+v", st.Journal)
	}
	if v.gw.Sessions()[0].ID == 0 {
		t.Fatal("gateway sessions")
	}
	post("/admin/v1/resume", `{"symbol":"AAPL","reason":"news out"}`)
	post("/admin/v1/halt", `{"all":true,"reason":"market-wide"}`)
	inspect(func(om *ordermanager.Manager) {
		for i := range v.cfg.Symbols {
			if !om.Halted(v.cfg.Symbols[i].ID) {
				t.Errorf("%s not halted", v.cfg.Symbols[i].Name)
			}
		}
	})
	post("/admin/v1/resume", `{"all":true,"reason":"over"}`)

	// Kill switch on an account cancels its orders and refuses new ones.
	post("/admin/v1/kill", `{"account":"ALPHA-1","on":true,"reason":"runaway algo"}`)
	get("accounts/ALPHA-1", &acct)
	if !acct.KillSwitch || acct.OpenOrders != 0 || acct.CashReserved != "0.00" {
		t.Fatalf("ALPHA-1 after kill: %+v", acct)
	}
	post("/admin/v1/kill", `{"firm":"ALPHA","on":false,"reason":"fixed"}`)
	get("accounts/ALPHA-1", &acct)
	if acct.KillSwitch {
		t.Fatal("kill switch still on")
	}
	post("/admin/v1/kill", `{"firm":"BRAVO","on":true,"reason":"firm-wide"}`)
	inspect(func(om *ordermanager.Manager) {
		a, _ := om.Account(bravo)
		if !a.KillSwitch || a.OpenOrders != 0 {
			t.Errorf("BRAVO-1 after the firm's kill switch: %+v", a)
		}
	})
	post("/admin/v1/kill", `{"account":"BRAVO-1","on":false,"reason":"ok"}`)

	// Cancel all by symbol, by firm, by account.
	v.order(t, "ALPHA", "a3", aapl, matching.Buy, 18000, 5)
	v.order(t, "ALPHA", "a4", msft, matching.Buy, 40000, 5)
	post("/admin/v1/cancel", `{"symbol":"AAPL","reason":"bad prints"}`)
	get("firms/ALPHA/orders", &orders)
	if len(orders) != 1 || orders[0].Symbol != "MSFT" {
		t.Fatalf("after cancel of AAPL: %+v", orders)
	}
	post("/admin/v1/cancel", `{"firm":"ALPHA","reason":"end of day"}`)
	v.waitOpen(t, alpha, func(n int) bool { return n == 0 })
	v.order(t, "ALPHA", "a5", msft, matching.Buy, 40000, 5)
	post("/admin/v1/cancel", `{"account":"ALPHA-1","symbol":"MSFT","reason":"desk request"}`)
	v.waitOpen(t, alpha, func(n int) bool { return n == 0 })

	// Block and unblock logons.
	post("/admin/v1/block", `{"firm":"CHARLIE","blocked":true,"reason":"unpaid"}`)
	if !v.gw.FirmBlocked(v.cfg.Accounts[v.cfg.AccountByName("CHARLIE-1")-1].Firm) {
		t.Fatal("CHARLIE not blocked in the gateway")
	}
	get("sessions", &sessions)
	if !sessions[2].LogonsBlocked {
		t.Fatalf("sessions: %+v", sessions[2])
	}
	post("/admin/v1/block", `{"firm":"CHARLIE","blocked":false,"reason":"paid"}`)
	if v.gw.FirmBlocked(3) {
		t.Fatal("CHARLIE still blocked")
	}

	// Limits: a field given changes, the others stay.
	lm := post("/admin/v1/limits", `{"account":"ALPHA-1","limits":{"max_order_lots":7,"max_order_notional":"5000.00"},"reason":"new desk"}`)
	get("accounts/ALPHA-1", &acct)
	if *acct.Limits.MaxOrderLots != 7 || *acct.Limits.MaxOrderNotional != "5000.00" || *acct.Limits.MaxOpenOrders != 10000 || !acct.LimitsChanged {
		t.Fatalf("limits: %+v", acct.Limits)
	}
	sid := v.cfg.SessionByCompID("ALPHA")
	id, _ := ordermanager.MakeClOrdID("big")
	inspect(func(om *ordermanager.Manager) {
		var reps []ordermanager.Report
		req := ordermanager.Request{Kind: ordermanager.ReqNew, Session: sid, Firm: 1, Account: alpha, Symbol: msft,
			Side: matching.Buy, Type: matching.Limit, TIF: matching.GTC, Price: 40000, Qty: 8, ClOrdID: id}
		// A read-only check of the new limit: Submit of an order over it is
		// refused at once and produces no command.
		var cmds []ordermanager.Pending
		cmds, reps = om.Submit(&req, cmds, reps)
		if len(cmds) != 0 || len(reps) != 1 || reps[0].Reject != ordermanager.RejMaxOrderLots {
			t.Errorf("order over the new limit: %d commands, reports %+v", len(cmds), reps)
		}
	})

	// The actions list says who, why, what, in order.
	var acts []Action
	get("actions?n=100", &acts)
	want := []string{"halt", "resume", "halt", "resume", "kill-on", "kill-off", "kill-on", "kill-off", "cancel-all", "cancel-all", "cancel-all", "block-firm", "unblock-firm", "set-limits"}
	if len(acts) != len(want) {
		t.Fatalf("%d actions: %+v", len(acts), acts)
	}
	for i, a := range acts {
		if a.Action != want[i] || a.Who != "demo-operator" || a.Why == "" || (i > 0 && a.Seq <= acts[i-1].Seq) {
			t.Fatalf("action %d: %+v", i, a)
		}
	}
	if acts[0].Seq != uint64(h["seq"].(float64)) || acts[0].Symbol != "AAPL" || acts[2].Symbol != "*" || acts[len(acts)-1].Seq != uint64(lm["seq"].(float64)) {
		t.Fatalf("actions: %+v", acts)
	}
	get("actions?n=2", &acts)
	if len(acts) != 2 || acts[1].Action != "set-limits" {
		t.Fatalf("last 2 actions: %+v", acts)
	}
}
