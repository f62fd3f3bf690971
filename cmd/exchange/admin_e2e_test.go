package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/admin"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/sequencer"
)

// startAdminVenue is startTestVenue with the operator console on a free
// port.
func startAdminVenue(t *testing.T, dir string) (*venue, func()) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir, cfg.ListenFIX, cfg.ListenHTTP, cfg.ListenAdmin = dir, freePort(t), "127.0.0.1:0", "127.0.0.1:0"
	v, err := startVenue(cfg, venueOptions{dataDir: dir, durability: "batch", admin: true}, testLogger())
	if err != nil {
		t.Fatalf("startVenue: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			quiesce(v)
			if err := v.stop(); err != nil {
				t.Errorf("venue stop: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return v, stop
}

// TestE2EOperatorHaltsWhileBrokersTrade: brokers trade over FIX while an
// operator, through the admin API, halts a symbol (every session gets a
// SecurityStatus with the reason, orders in it are refused, other symbols
// trade on, the web page's statistics say halted and why), resumes it,
// turns a kill switch on (the resting order's cancel is reported), logs a
// session out and blocks a firm's logons. The journal then replays to the
// live state and lists the actions with who and why.
func TestE2EOperatorHaltsWhileBrokersTrade(t *testing.T) {
	dir := t.TempDir()
	v, stop := startAdminVenue(t, dir)
	cs := logonAll(t, v.cfg.ListenFIX, defaultOpts("ALPHA"), defaultOpts("BRAVO"))
	a, b := cs[0], cs[1]
	op := &admin.Client{Addr: v.adm.Addr(), Token: "demo-operator-token"}
	ctx := context.Background()
	act := func(path string, body any) admin.ActionResult {
		t.Helper()
		var res admin.ActionResult
		if _, err := op.Post(ctx, path, body, &res); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return res
	}

	a.limit(t, "A1", "AAPL", "1", "10", "190.00")
	a.expectExec(t, "A1", "0")

	// Halt AAPL while the brokers work.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		act("halt", admin.HaltRequest{Symbol: "AAPL", Reason: "news pending"})
	}()
	for _, c := range cs {
		check(t, "halt status", c.expect(t, "f", "55=AAPL"), "326=2", "325=Y", "58=halted: news pending")
	}
	wg.Wait()
	b.limit(t, "B1", "AAPL", "2", "10", "190.00")
	if rej := b.expectExec(t, "B1", "8"); !strings.Contains(rej.get(58), "halted") {
		t.Fatalf("order in a halted symbol: %s", rej)
	}
	// MSFT trades on.
	a.limit(t, "A2", "MSFT", "1", "5", "420.00")
	a.expectExec(t, "A2", "0")
	b.limit(t, "B2", "MSFT", "2", "5", "420.00")
	check(t, "MSFT trade during the AAPL halt", b.expectExec(t, "B2", "F"), "39=2", "31=420")
	// Market data: the statistics (the web page's source) say halted and why.
	// Market data applies the engine's events on its own goroutine: poll.
	statsSay := func(what string, ok func(st map[string]any) bool) {
		t.Helper()
		var st map[string]any
		for deadline := time.Now().Add(waitMax); ; time.Sleep(5 * time.Millisecond) {
			st = nil
			if getJSON(t, v, "/api/stats/AAPL", &st); ok(st) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("market data stats %s: %v", what, st)
			}
		}
	}
	statsSay("during the halt", func(st map[string]any) bool { return st["halted"] == true && st["halt_reason"] == "news pending" })

	act("resume", admin.HaltRequest{Symbol: "AAPL", Reason: "news out"})
	for _, c := range cs {
		check(t, "resume status", c.expect(t, "f", "55=AAPL"), "326=17")
	}
	statsSay("after the resume", func(st map[string]any) bool { return st["halted"] == false && st["halt_reason"] == nil })
	b.limit(t, "B3", "AAPL", "2", "4", "190.00")
	check(t, "AAPL trades again", b.expectExec(t, "B3", "F"), "31=190", "32=4")
	a.expectExec(t, "A1", "F", "32=4")

	// Kill switch on ALPHA-1: its resting order is cancelled and reported,
	// new orders are refused.
	act("kill", admin.KillRequest{Account: "ALPHA-1", On: ptr(true), Reason: "runaway algo"})
	check(t, "kill switch cancel", a.expectExec(t, "A1", "4"), "39=4", "151=0")
	a.limit(t, "A3", "AAPL", "1", "1", "190.00")
	if rej := a.expectExec(t, "A3", "8"); !strings.Contains(strings.ToLower(rej.get(58)), "kill") {
		t.Fatalf("order under a kill switch: %s", rej)
	}

	// The sessions read shows both brokers; a disconnect logs ALPHA out.
	var sessions []admin.Session
	viewer := &admin.Client{Addr: v.adm.Addr(), Token: "demo-viewer-token"}
	if _, err := viewer.Get(ctx, "sessions", &sessions); err != nil {
		t.Fatal(err)
	}
	if !sessions[0].LoggedOn || sessions[0].Address == "" || sessions[0].NextSeqIn < 4 || sessions[0].MsgsIn < 3 || sessions[0].Rejects < 1 || sessions[0].ConnectedSince.IsZero() {
		t.Fatalf("ALPHA's session: %+v", sessions[0])
	}
	act("disconnect", admin.DisconnectRequest{Session: "ALPHA", Reason: "cleanup"})
	if txt := a.expectLogout(t); !strings.Contains(txt, "cleanup") {
		t.Fatalf("logout text %q", txt)
	}
	a.stop()
	// Blocking ALPHA's logons: the next logon is refused.
	act("block", admin.BlockRequest{Firm: "ALPHA", Blocked: ptr(true), Reason: "investigation"})
	a2 := newClient(t, v.cfg.ListenFIX, defaultOpts("ALPHA"))
	if txt := a2.expectLogout(t); !strings.Contains(txt, "blocked") {
		t.Fatalf("blocked logon: logout %q", txt)
	}
	a2.stop()
	b.stop()

	live := func() (uint64, uint64, uint64) {
		var om, eng, ev uint64
		st := v.x.State()
		om, eng, ev = st.Manager.StateHash(), st.Engine.StateHash(), st.Hasher.Sum()
		return om, eng, ev
	}
	stop()
	om, eng, ev := live()
	var listed []ordermanager.OperatorNote
	st2, _, err := pipeline.Rebuild(v.cfg.Registry, pipeline.RebuildOptions{Dir: dir, IgnoreSnapshots: true, Log: zerolog.Nop(),
		OnItem: func(it *sequencer.Item) {
			if n, ok := ordermanager.DecodeOperatorNote(&it.Cmd, it.MetaBytes()); ok {
				listed = append(listed, n)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if st2.Manager.StateHash() != om || st2.Engine.StateHash() != eng || st2.Hasher.Sum() != ev {
		t.Fatal("the replayed state differs from the live one")
	}
	var names []string
	for _, n := range listed {
		names = append(names, n.Action.String()+" by "+n.Who+": "+n.Why)
	}
	want := "halt by demo-operator: news pending|resume by demo-operator: news out|kill-on by demo-operator: runaway algo|" +
		"disconnect by demo-operator: cleanup|block-firm by demo-operator: investigation"
	if got := strings.Join(names, "|"); got != want {
		t.Fatalf("replayed actions:\n%s\nwant\n%s", got, want)
	}

	// exchange replay lists them too.
	var out, errb bytes.Buffer
	if code := run([]string{"replay", "--data", dir}, nil, &out, &errb); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "operator actions        5") || !strings.Contains(out.String(), "halt         symbol AAPL") ||
		!strings.Contains(out.String(), "by demo-operator: investigation") {
		t.Fatalf("replay output:\n%s", out.String())
	}
}

func ptr[T any](v T) *T { return &v }
