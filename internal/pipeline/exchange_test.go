package pipeline

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// collector gathers reports from the report goroutine.
type collector struct {
	mu   sync.Mutex
	reps []ordermanager.Report
	cond *sync.Cond
}

func newCollector() *collector {
	c := &collector{}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *collector) add(reps []ordermanager.Report) {
	c.mu.Lock()
	c.reps = append(c.reps, reps...)
	c.cond.Broadcast()
	c.mu.Unlock()
}

// waitFor waits until pred holds over the reports so far, or fails after 5 s.
func (c *collector) waitFor(t *testing.T, what string, pred func([]ordermanager.Report) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	for !pred(c.reps) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; %d reports so far", what, len(c.reps))
		}
		c.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		c.mu.Lock()
	}
}

func (c *collector) snapshot() []ordermanager.Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ordermanager.Report(nil), c.reps...)
}

func open(t *testing.T, dir string, cfg *config.Config, col *collector, durability sequencer.Durability, snapEvery uint64) *Exchange {
	t.Helper()
	clock := int64(1_700_000_000_000_000_000)
	var mu sync.Mutex
	x, _, err := Open(Options{
		Ref: cfg.Registry, Dir: dir, Durability: durability, Log: zerolog.Nop(),
		Reports: col.add, SnapshotEvery: snapEvery, CheckpointEvery: 64,
		Clock: func() int64 { mu.Lock(); defer mu.Unlock(); clock += 1000; return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func clID(t *testing.T, s string) ordermanager.ClOrdID {
	id, ok := ordermanager.MakeClOrdID(s)
	if !ok {
		t.Fatalf("bad ClOrdID %q", s)
	}
	return id
}

func newOrder(cfg *config.Config, comp string, cl ordermanager.ClOrdID, sym matching.SymbolID, side matching.Side, price, qty int64) ordermanager.Request {
	sid := cfg.SessionByCompID(comp)
	s, _ := cfg.Session(sid)
	return ordermanager.Request{Kind: ordermanager.ReqNew, Session: sid, Firm: s.Firm, Account: s.DefaultAccount,
		Symbol: sym, Side: side, Type: matching.Limit, TIF: matching.GTC, Price: price, Qty: qty, ClOrdID: cl}
}

func TestOrderToFillAndRestart(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	col := newCollector()
	x := open(t, dir, cfg, col, "batch", 0)

	buy := newOrder(cfg, "ALPHA", clID(t, "b1"), 1, matching.Buy, 19000, 10)
	sell := newOrder(cfg, "BRAVO", clID(t, "s1"), 1, matching.Sell, 18990, 4)
	rest := newOrder(cfg, "BRAVO", clID(t, "s2"), 1, matching.Sell, 19100, 7)
	for _, r := range []*ordermanager.Request{&buy, &sell, &rest} {
		if !x.Submit(r) {
			t.Fatal("Submit refused")
		}
	}
	col.waitFor(t, "the fill of s1", func(reps []ordermanager.Report) bool {
		for _, r := range reps {
			if r.ClOrdID.String() == "s1" && r.OrdStatus == ordermanager.StatusFilled {
				return true
			}
		}
		return false
	})
	col.waitFor(t, "the ack of s2", func(reps []ordermanager.Report) bool {
		for _, r := range reps {
			if r.ClOrdID.String() == "s2" && r.ExecType == ordermanager.ExecNew {
				return true
			}
		}
		return false
	})
	// The buyer's partial fill prints at the resting buy's price (maker).
	var buyFill *ordermanager.Report
	for _, r := range col.snapshot() {
		if r.ClOrdID.String() == "b1" && r.ExecType == ordermanager.ExecTrade {
			r := r
			buyFill = &r
		}
	}
	if buyFill == nil || buyFill.LastPx != 19000 || buyFill.LastQty != 4 || buyFill.CumQty != 4 || buyFill.Leaves != 6 || buyFill.OrdStatus != ordermanager.StatusPartiallyFilled {
		t.Fatalf("buyer's fill report: %+v", buyFill)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	engHash, omHash, evHash := x.State().Engine.StateHash(), x.State().Manager.StateHash(), x.State().Hasher.Sum()

	// Reopen from the snapshot Close wrote, then from the journal alone: the
	// same state both times, resting orders still there.
	for _, dropSnapshots := range []bool{false, true} {
		if dropSnapshots {
			if err := os.RemoveAll(filepath.Join(dir, "snapshots")); err != nil {
				t.Fatal(err)
			}
		}
		y, rec, err := Open(Options{Ref: cfg.Registry, Dir: dir, Log: zerolog.Nop(), Reports: func([]ordermanager.Report) {}})
		if err != nil {
			t.Fatal(err)
		}
		if dropSnapshots != (rec.Rebuild.SnapshotFile == "") {
			t.Fatalf("dropSnapshots=%v but recovery used snapshot %q", dropSnapshots, rec.Rebuild.SnapshotFile)
		}
		st := y.State()
		if st.Engine.StateHash() != engHash || st.Manager.StateHash() != omHash || st.Hasher.Sum() != evHash {
			t.Fatalf("recovered state differs (snapshots dropped: %v)", dropSnapshots)
		}
		var leaves []int64
		st.Engine.Orders(1, matching.Buy, func(o matching.OrderInfo) bool { leaves = append(leaves, o.Leaves); return true })
		st.Engine.Orders(1, matching.Sell, func(o matching.OrderInfo) bool { leaves = append(leaves, o.Leaves); return true })
		if len(leaves) != 2 || leaves[0] != 6 || leaves[1] != 7 {
			t.Fatalf("resting orders after restart: %v, want [6 7]", leaves)
		}
		if err := y.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// randomRequests returns a reproducible flow of requests from every session:
// new orders around the reference price, cancels and replaces of earlier
// ClOrdIDs (some of them stale on purpose), and now and then a mass cancel.
func randomRequests(cfg *config.Config, seed uint64, n int) []ordermanager.Request {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	type placed struct {
		sess int
		cl   ordermanager.ClOrdID
		sym  matching.SymbolID
		side matching.Side
	}
	var live []placed
	out := make([]ordermanager.Request, 0, n)
	for i := 0; i < n; i++ {
		si := rng.IntN(len(cfg.Sessions))
		s := &cfg.Sessions[si]
		cl, _ := ordermanager.MakeClOrdID("c" + itoa(i))
		req := ordermanager.Request{Session: s.ID, Firm: s.Firm, Account: s.DefaultAccount, ClOrdID: cl}
		sym := matching.SymbolID(1 + rng.IntN(len(cfg.Symbols)))
		ref := cfg.Symbols[sym-1].RefTicks
		switch p := rng.IntN(100); {
		case p < 60 || len(live) == 0:
			req.Kind = ordermanager.ReqNew
			req.Symbol = sym
			req.Side = matching.Side(1 + rng.IntN(2))
			req.Type = matching.Limit
			req.TIF = []matching.TimeInForce{matching.GTC, matching.Day, matching.IOC, matching.FOK}[rng.IntN(4)]
			req.Price = ref - 20 + rng.Int64N(41)
			req.Qty = 1 + rng.Int64N(50)
			if rng.IntN(20) == 0 {
				req.Type, req.TIF, req.Price = matching.Market, matching.IOC, 0
			}
			live = append(live, placed{si, cl, sym, req.Side})
		case p < 80:
			k := rng.IntN(len(live))
			pl := live[k]
			ps := &cfg.Sessions[pl.sess]
			req = ordermanager.Request{Kind: ordermanager.ReqCancel, Session: ps.ID, Firm: ps.Firm, Account: ps.DefaultAccount,
				ClOrdID: cl, OrigClOrdID: pl.cl, Symbol: pl.sym, Side: pl.side}
		case p < 98:
			k := rng.IntN(len(live))
			pl := live[k]
			ps := &cfg.Sessions[pl.sess]
			req = ordermanager.Request{Kind: ordermanager.ReqReplace, Session: ps.ID, Firm: ps.Firm, Account: ps.DefaultAccount,
				ClOrdID: cl, OrigClOrdID: pl.cl, Symbol: pl.sym, Side: pl.side, Type: matching.Limit, TIF: matching.GTC,
				Price: ref - 20 + rng.Int64N(41), Qty: 1 + rng.Int64N(60)}
			live[k].cl = cl
		default:
			req.Kind = ordermanager.ReqMassCancel
			req.Symbol = sym
		}
		out = append(out, req)
	}
	return out
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	return string(b[n:])
}

// The live pipeline (order manager ahead of the engine, events arriving in
// batches) and a replay of its journal (each command's events at once) must
// end in the same state, snapshots taken along the way must restore to the
// same state, and every checkpoint the engine stage journaled must be
// reproduced by the replay.
func TestLiveEqualsReplay(t *testing.T) {
	cfg := config.Default()
	n := 20000
	if testing.Short() {
		n = 5000
	}
	for _, dur := range []sequencer.Durability{sequencer.DurabilityNone, sequencer.DurabilityBatch} {
		t.Run(dur.String(), func(t *testing.T) {
			dir := t.TempDir()
			col := newCollector()
			x := open(t, dir, cfg, col, dur, uint64(n/4))
			reqs := randomRequests(cfg, 7, n)
			for i := range reqs {
				for !x.Submit(&reqs[i]) {
					time.Sleep(50 * time.Microsecond)
				}
			}
			// Let the venue work through the queue before closing, so periodic
			// snapshots happen under load rather than at shutdown.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				if st := x.Stats(); st.Requests == uint64(n) && st.Processed == st.Commands {
					break
				}
			}
			if err := x.Close(); err != nil {
				t.Fatal(err)
			}
			live := x.State()
			reps := col.snapshot()
			if len(reps) < n/2 {
				t.Fatalf("only %d reports for %d requests", len(reps), n)
			}
			if st := x.Stats(); st.Snapshots < 2 {
				t.Fatalf("expected a periodic snapshot and the final one, stats %+v", st)
			}
			// Recover from the oldest snapshot (plus the journal after it) too,
			// not only from the final one.
			snaps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "snap-*.bin"))
			for len(snaps) > 1 {
				if err := os.Remove(snaps[len(snaps)-1]); err != nil {
					t.Fatal(err)
				}
				snaps = snaps[:len(snaps)-1]
			}
			for _, ignore := range []bool{true, false} {
				st, rs, err := Rebuild(cfg.Registry, RebuildOptions{Dir: dir, IgnoreSnapshots: ignore, Log: zerolog.Nop()})
				if err != nil {
					t.Fatal(err)
				}
				if ignore && (rs.Checkpoints == 0 || rs.Verified != rs.Checkpoints) {
					t.Fatalf("checkpoints %d, verified %d", rs.Checkpoints, rs.Verified)
				}
				if st.Engine.StateHash() != live.Engine.StateHash() || st.Manager.StateHash() != live.Manager.StateHash() ||
					st.Hasher.Sum() != live.Hasher.Sum() || st.Seq != live.Seq {
					t.Fatalf("replay (ignore snapshots %v) differs from the live run: seq %d vs %d", ignore, st.Seq, live.Seq)
				}
			}
			// Replay of a prefix stops where told.
			st, _, err := Rebuild(cfg.Registry, RebuildOptions{Dir: dir, IgnoreSnapshots: true, UntilSeq: live.Seq / 2, Log: zerolog.Nop()})
			if err != nil || st.Seq != live.Seq/2 {
				t.Fatalf("until: seq %d err %v", st.Seq, err)
			}
		})
	}
}

func TestOpenRefusesBadDataDir(t *testing.T) {
	cfg := config.Default()
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Open(Options{Ref: cfg.Registry, Dir: f, Log: zerolog.Nop()})
	if err == nil {
		t.Fatal("Open accepted a file as data folder")
	}
}

// fakeMD drops everything and asks for a resync after the first batch.
type fakeMD struct {
	mu     sync.Mutex
	need   bool
	resets int
	seq    uint64
	orders []matching.OrderInfo
}

func (f *fakeMD) Publish(evs []matching.Event) { f.mu.Lock(); f.need = f.resets == 0; f.mu.Unlock() }
func (f *fakeMD) NeedsResync() bool            { f.mu.Lock(); defer f.mu.Unlock(); return f.need }
func (f *fakeMD) Reset(seq uint64, orders []matching.OrderInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets++
	f.need = false
	f.seq = seq
	f.orders = append(f.orders[:0], orders...)
}

func TestMarketDataResyncFromBooks(t *testing.T) {
	cfg := config.Default()
	md := &fakeMD{}
	col := newCollector()
	x, _, err := Open(Options{Ref: cfg.Registry, Dir: t.TempDir(), Durability: "none", Log: zerolog.Nop(), Reports: col.add, Publisher: md})
	if err != nil {
		t.Fatal(err)
	}
	r := newOrder(cfg, "ALPHA", clID(t, "r1"), 2, matching.Sell, 42100, 5)
	x.Submit(&r)
	col.waitFor(t, "the ack", func(reps []ordermanager.Report) bool { return len(reps) > 0 })
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	md.mu.Lock()
	defer md.mu.Unlock()
	if md.resets != 1 || len(md.orders) != 1 || md.orders[0].Symbol != 2 || md.orders[0].Leaves != 5 || md.seq != x.State().Engine.OutSeq() {
		t.Fatalf("resets %d, orders %+v, seq %d (engine %d)", md.resets, md.orders, md.seq, x.State().Engine.OutSeq())
	}
	if x.Stats().MarketDataResyncs != 1 {
		t.Fatalf("resync not counted: %+v", x.Stats())
	}
}

// Reports comes from two goroutines (the order manager while the report
// goroutine is idle, the report goroutine while batches queue up): it must
// still see every batch in order and never two calls at once. Per order,
// the acknowledgement comes before its fills and CumQty never goes back.
func TestReportsInOrderNeverConcurrent(t *testing.T) {
	cfg := config.Default()
	var (
		inCall  atomic.Int32
		overlap atomic.Int32
		col     = newCollector()
	)
	x, _, err := Open(Options{Ref: cfg.Registry, Dir: t.TempDir(), Durability: "none", Log: zerolog.Nop(),
		Reports: func(reps []ordermanager.Report) {
			if inCall.Add(1) != 1 {
				overlap.Add(1)
			}
			col.add(reps)
			inCall.Add(-1)
		}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := randomRequests(cfg, 11, 6000)
	for i := range reqs {
		// A trickle (the order manager delivers itself), then a flood (the
		// report goroutine takes over), then a trickle again.
		if i < 1000 || i >= 5000 {
			time.Sleep(20 * time.Microsecond)
		}
		for !x.Submit(&reqs[i]) {
			time.Sleep(50 * time.Microsecond)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if n := overlap.Load(); n != 0 {
		t.Fatalf("Reports was called %d times while another call was running", n)
	}
	type key struct {
		s  refdata.SessionID
		cl string
	}
	cum := map[key]int64{}
	acked := map[key]bool{}
	reps := col.snapshot()
	if len(reps) < len(reqs)/2 {
		t.Fatalf("only %d reports for %d requests", len(reps), len(reqs))
	}
	fills := 0
	for i := range reps {
		r := &reps[i]
		if r.Kind != ordermanager.RepExec {
			continue
		}
		k := key{r.Session, r.ClOrdID.String()}
		switch r.ExecType {
		case ordermanager.ExecNew, ordermanager.ExecReplaced:
			acked[k] = true
		case ordermanager.ExecTrade:
			fills++
			if !acked[k] {
				t.Fatalf("report %d: a fill of %s before its acknowledgement", i, k.cl)
			}
		}
		if r.CumQty < cum[k] {
			t.Fatalf("report %d: CumQty of %s went from %d back to %d: reports out of order", i, k.cl, cum[k], r.CumQty)
		}
		cum[k] = r.CumQty
	}
	if fills == 0 {
		t.Fatal("no fills: the check of their order saw nothing")
	}
}
