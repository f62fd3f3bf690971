package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/gateway"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/matching"
)

const (
	operatorToken = "demo-operator-token"
	viewerToken   = "demo-viewer-token"
)

// testVenue is a pipeline, a gateway that does not listen, and the admin
// API on an httptest server.
type testVenue struct {
	cfg *config.Config
	x   *pipeline.Exchange
	gw  *gateway.Gateway
	srv *Server
	ts  *httptest.Server
}

func newTestVenue(t *testing.T) *testVenue {
	t.Helper()
	cfg := config.Default()
	// The gateway keeps its FIX session stores in the data folder.
	cfg.ListenFIX, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	x, _, err := pipeline.Open(pipeline.Options{Ref: cfg.Registry, Dir: cfg.DataDir, Durability: "none", Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Options{Ref: cfg.Registry, Settings: gateway.Settings{ListenFIX: cfg.ListenFIX, DataDir: cfg.DataDir,
		TargetCompID: cfg.TargetCompID, HeartbeatSeconds: cfg.HeartbeatSeconds, FloodLogoutAfter: cfg.FloodLogoutAfter,
		SeqResetTime: cfg.SeqResetTime, StoreRetentionDays: cfg.StoreRetentionDays}, Submitter: x, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Ref: cfg.Registry, Tokens: cfg.AdminTokens, Durability: cfg.Durability, Exchange: x, Gateway: gw, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.restore(); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := x.Close(); err != nil {
			t.Error(err)
		}
	})
	return &testVenue{cfg: cfg, x: x, gw: gw, srv: s, ts: ts}
}

// call sends method path with body (a string of JSON, or "") and returns the
// status and the decoded answer.
func (v *testVenue) call(t *testing.T, token, method, path, body string) (int, map[string]any, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, v.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %s", method, path, b)
		}
	}
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %s: content type %q", method, path, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, m, b
}

// order submits a resting limit order for comp's default account and waits
// until the order manager holds it.
func (v *testVenue) order(t *testing.T, comp, cl string, sym matching.SymbolID, side matching.Side, price, qty int64) {
	t.Helper()
	sid := v.cfg.SessionByCompID(comp)
	s, _ := v.cfg.Session(sid)
	id, _ := ordermanager.MakeClOrdID(cl)
	req := ordermanager.Request{Kind: ordermanager.ReqNew, Session: sid, Firm: s.Firm, Account: s.DefaultAccount,
		Symbol: sym, Side: side, Type: matching.Limit, TIF: matching.GTC, Price: price, Qty: qty, ClOrdID: id}
	if !v.x.Submit(&req) {
		t.Fatal("submit refused")
	}
	v.waitOpen(t, s.DefaultAccount, func(n int) bool { return n > 0 })
}

// waitOpen waits (bounded) until the account's open-order count satisfies ok.
func (v *testVenue) waitOpen(t *testing.T, acct matching.AccountID, ok func(int) bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		var n int
		if err := v.x.Inspect(context.Background(), func(om *ordermanager.Manager) {
			a, _ := om.Account(acct)
			n = a.OpenOrders
		}); err != nil {
			t.Fatal(err)
		}
		if ok(n) {
			return
		}
	}
	t.Fatalf("account %d: open orders never as expected", acct)
}
