package main

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/broker"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// countCommands counts the journal's commands by kind.
func countCommands(t *testing.T, dir string) map[matching.CommandKind]int {
	t.Helper()
	n := map[matching.CommandKind]int{}
	if _, err := sequencer.Replay(dir, sequencer.ReplayOptions{}, func(r *sequencer.Record) error {
		if r.Kind == sequencer.RecordCommand {
			n[r.Item.Cmd.Kind]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// A session recorded in one venue's journal is re-sent over FIX to another
// venue by the broker simulator: every order goes out, every one is answered,
// and the second venue journals the same orders.
func TestE2EBrokerReplaysJournal(t *testing.T) {
	cfg := config.Default()
	src := t.TempDir()
	x, _, err := pipeline.Open(pipeline.Options{Ref: cfg.Registry, Dir: src, Durability: "none", Log: zerolog.Nop(), Reports: func([]ordermanager.Report) {}})
	if err != nil {
		t.Fatal(err)
	}
	// Two firms post resting orders on both sides, then move and cancel some.
	for i := 0; i < 60; i++ {
		comp := "ALPHA"
		side := matching.Buy
		px := int64(18900 - i)
		if i%2 == 1 {
			comp, side, px = "BRAVO", matching.Sell, int64(19100+i)
		}
		r := newRequest(cfg, comp, "o"+strconv.Itoa(i), side, px)
		if !x.Submit(&r) {
			t.Fatal("submit refused")
		}
	}
	for i := 0; i < 10; i++ {
		comp := "ALPHA"
		if i%2 == 1 {
			comp = "BRAVO"
		}
		r := newRequest(cfg, comp, "x"+strconv.Itoa(i), 0, 0)
		r.Kind = ordermanager.ReqCancel
		r.OrigClOrdID, _ = ordermanager.MakeClOrdID("o" + strconv.Itoa(i))
		x.Submit(&r)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	want := countCommands(t, src)
	if want[matching.CmdNew] != 60 || want[matching.CmdCancel] != 10 {
		t.Fatalf("recorded journal: %v", want)
	}

	dst := t.TempDir()
	v := startTestVenue(t, config.Default(), dst, "", "none")
	j, err := broker.OpenJournal(src, cfg.Registry)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	o := broker.DefaultOptions()
	_, port, _ := net.SplitHostPort(v.cfg.ListenFIX)
	o.Port, _ = strconv.Atoi(port)
	o.Source, o.Duration = j, 0
	o.Pace = broker.Pace{Max: true}
	o.Sessions = []broker.Session{
		{SenderCompID: "ALPHA", TargetCompID: "EXCHANGE", Username: "alpha", Password: "demo-alpha"},
		{SenderCompID: "BRAVO", TargetCompID: "EXCHANGE", Username: "bravo", Password: "demo-bravo"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := broker.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 70 || res.Unanswered != 0 || res.Rejected != 0 {
		t.Fatalf("replay over FIX: sent %d, unanswered %d, rejected %d (%v)", res.Sent, res.Unanswered, res.Rejected, res.RejectedByReason)
	}
	quiesce(v)
	stopTestVenue(t, v)
	got := countCommands(t, dst)
	if got[matching.CmdNew] != 60 || got[matching.CmdCancel] != 10 {
		t.Fatalf("second venue journaled %v, want 60 new and 10 cancels", got)
	}
}

func newRequest(cfg *config.Config, comp, cl string, side matching.Side, px int64) ordermanager.Request {
	sid := cfg.SessionByCompID(comp)
	s, _ := cfg.Session(sid)
	id, _ := ordermanager.MakeClOrdID(cl)
	return ordermanager.Request{Kind: ordermanager.ReqNew, Session: sid, Firm: s.Firm, Account: s.DefaultAccount,
		Symbol: 1, Side: side, Type: matching.Limit, TIF: matching.GTC, Price: px, Qty: 5, ClOrdID: id}
}
