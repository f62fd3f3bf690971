package admin

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func (v *testVenue) runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code := Main(args, getenv, &out, &errb)
	return code, out.String(), errb.String()
}

// TestCLI: tables for people, --json for scripts, exit status 0, 1 with
// the server's error, 2 for usage; address and token from flags or the
// environment.
func TestCLI(t *testing.T) {
	v := newTestVenue(t)
	env := map[string]string{"EXCHANGE_ADMIN_ADDR": v.ts.URL, "EXCHANGE_ADMIN_TOKEN": operatorToken}
	viewer := map[string]string{"EXCHANGE_ADMIN_ADDR": v.ts.URL, "EXCHANGE_ADMIN_TOKEN": viewerToken}

	code, out, errs := v.runCLI(t, viewer, "status")
	if code != 0 || !strings.Contains(out, "SYMBOL") || !strings.Contains(out, "AAPL    continuous") {
		t.Fatalf("status: %d %q %q", code, out, errs)
	}
	// Flags override the environment.
	code, _, errs = v.runCLI(t, nil, "--addr", v.ts.URL, "--token", "wrong", "status")
	if code != 1 || !strings.Contains(errs, "401") {
		t.Fatalf("wrong token: %d %q", code, errs)
	}
	code, _, errs = v.runCLI(t, map[string]string{"EXCHANGE_ADMIN_ADDR": v.ts.URL}, "status")
	if code != 1 || !strings.Contains(errs, "401 Unauthorized") {
		t.Fatalf("no token: %d %q", code, errs)
	}
	code, _, errs = v.runCLI(t, viewer, "halt", "AAPL", "--reason", "x")
	if code != 1 || !strings.Contains(errs, "403 Forbidden") || !strings.Contains(errs, "role viewer") {
		t.Fatalf("viewer halt: %d %q", code, errs)
	}
	code, _, errs = v.runCLI(t, env, "halt", "NOPE", "--reason", "x")
	if code != 1 || !strings.Contains(errs, `unknown symbol "NOPE" (symbol)`) {
		t.Fatalf("unknown symbol: %d %q", code, errs)
	}
	code, _, errs = v.runCLI(t, env, "halt", "AAPL")
	if code != 1 || !strings.Contains(errs, "(reason)") {
		t.Fatalf("no reason: %d %q", code, errs)
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"kill", "maybe", "--account", "ALPHA-1", "--reason", "x"}, {"halt", "A", "B"}, {"status", "--bogus"}, {"limits", "ALPHA-1", "--max-order-lots", "x", "--reason", "r"}} {
		if code, _, _ := v.runCLI(t, env, args...); code != 2 {
			t.Fatalf("%q: exit %d, want 2", args, code)
		}
	}
	code, _, _ = v.runCLI(t, env, "--addr", "127.0.0.1:1", "status")
	if code != 1 {
		t.Fatalf("unreachable: exit %d", code)
	}

	// Actions print where they were journaled; flags may follow arguments.
	code, out, errs = v.runCLI(t, env, "halt", "AAPL", "--reason", "news pending")
	if code != 0 || !strings.Contains(out, "halt done: journaled at seq 1") || !strings.Contains(out, "demo-operator: news pending") {
		t.Fatalf("halt: %d %q %q", code, out, errs)
	}
	code, out, _ = v.runCLI(t, env, "--json", "resume", "--reason", "ok", "AAPL")
	var res ActionResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Action != "resume" || res.Seq != 3 {
		t.Fatalf("resume --json: %d %q", code, out)
	}
	for _, args := range [][]string{
		{"halt", "--all", "--reason", "fire drill"},
		{"resume", "--all", "--reason", "drill over"},
		{"kill", "on", "--firm", "ALPHA", "--reason", "runaway"},
		{"kill", "off", "--account", "ALPHA-1", "--reason", "fixed"},
		{"cancel", "--symbol", "MSFT", "--reason", "bad data"},
		{"block", "CHARLIE", "--reason", "unpaid"},
		{"unblock", "CHARLIE", "--reason", "paid"},
		{"limits", "BRAVO-1", "--max-order-lots", "50", "--allow-short", "true", "--reason", "tighter"},
	} {
		if code, out, errs := v.runCLI(t, env, args...); code != 0 || !strings.Contains(out, " done: journaled at seq ") {
			t.Fatalf("%q: %d %q %q", args, code, out, errs)
		}
	}
	code, _, errs = v.runCLI(t, env, "disconnect", "ALPHA", "--reason", "x")
	if code != 1 || !strings.Contains(errs, "409 Conflict") {
		t.Fatalf("disconnect: %d %q", code, errs)
	}

	// Reads as tables and as JSON.
	code, out, _ = v.runCLI(t, viewer, "actions")
	if code != 0 || strings.Count(out, "demo-operator") != 10 || !strings.Contains(out, "symbol AAPL") || !strings.Contains(out, "account BRAVO-1") {
		t.Fatalf("actions: %d %q", code, out)
	}
	code, out, _ = v.runCLI(t, viewer, "actions", "--n", "1", "--json")
	var acts []Action
	if code != 0 || json.Unmarshal([]byte(out), &acts) != nil || len(acts) != 1 || acts[0].Action != "set-limits" {
		t.Fatalf("actions --json: %d %q", code, out)
	}
	code, out, _ = v.runCLI(t, viewer, "accounts", "BRAVO-1")
	if code != 0 || !strings.Contains(out, "BRAVO-1  BRAVO") || !strings.Contains(out, `"max_order_lots":50`) || !strings.Contains(out, "changed by an operator") {
		t.Fatalf("accounts BRAVO-1: %d %q", code, out)
	}
	code, out, _ = v.runCLI(t, viewer, "accounts")
	if code != 0 || strings.Count(out, "\n") != len(v.cfg.Accounts)+1 || !strings.Contains(out, "ALPHA-1    ALPHA    100000000.00") {
		t.Fatalf("accounts: %d %q", code, out)
	}
	code, out, _ = v.runCLI(t, viewer, "sessions")
	if code != 0 || !strings.Contains(out, "SESSION") || !strings.Contains(out, "CHARLIE  CHARLIE  down ") {
		t.Fatalf("sessions: %d %q", code, out)
	}
	code, out, _ = v.runCLI(t, viewer, "orders", "ALPHA", "--limit", "5")
	if code != 0 || !strings.Contains(out, "0 open orders") {
		t.Fatalf("orders: %d %q", code, out)
	}
	code, out, _ = v.runCLI(t, viewer, "--json", "status")
	var st Status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || len(st.Symbols) != 4 {
		t.Fatalf("status --json: %d %q", code, out)
	}
}
