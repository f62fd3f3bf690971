package reporter

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// dayJournal writes a short trading day of symbol 1 (AAPL: tick 0.01, lot
// 1, one minor unit per tick-lot) through the real pipeline: an opening
// call and its uncross, continuous trades, operator actions (a halt and
// resume with reasons, a change of limits, a kill switch), and fills that
// close and reverse long and short positions. Accounts start flat and may
// go short. The hand-computed results are in TestTradingDayHistory.
func dayJournal(t *testing.T) (string, *config.Config) {
	t.Helper()
	cfg := config.Default()
	for i := range cfg.Accounts {
		cfg.Accounts[i].Holdings = nil
		cfg.Accounts[i].Limits.AllowShort = true
		cfg.Accounts[i].Limits.ShortLimitLots = 1000
	}
	dir := t.TempDir()
	clock := int64(1_700_000_000_000_000_000)
	var mu sync.Mutex
	x, _, err := pipeline.Open(pipeline.Options{Ref: cfg.Registry, Dir: dir, Durability: "none", Log: zerolog.Nop(),
		Reports: func([]ordermanager.Report) {}, SnapshotEvery: 1 << 62,
		Clock: func() int64 { mu.Lock(); defer mu.Unlock(); clock += 1000; return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	submitted := uint64(0)
	submit := func(r ordermanager.Request) {
		t.Helper()
		if !x.Submit(&r) {
			t.Fatal("Submit refused")
		}
		submitted++
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			if st := x.Stats(); st.Requests == submitted && st.Processed == st.Commands {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the pipeline did not take the request")
			}
		}
	}
	n := 0
	order := func(comp string, side matching.Side, px, qty int64) ordermanager.Request {
		sid := cfg.SessionByCompID(comp)
		s, _ := cfg.Session(sid)
		n++
		cl, _ := ordermanager.MakeClOrdID(comp + "-" + string(rune('a'+n)))
		return ordermanager.Request{Kind: ordermanager.ReqNew, Session: sid, Firm: s.Firm, Account: s.DefaultAccount,
			Symbol: 1, Side: side, Type: matching.Limit, TIF: matching.Day, Price: px, Qty: qty, ClOrdID: cl}
	}
	operate := func(op ordermanager.Operation) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := x.Operate(ctx, &op); err != nil {
			t.Fatal(err)
		}
	}
	bravo := cfg.Sessions[cfg.SessionByCompID("BRAVO")-1].DefaultAccount
	charlie := cfg.Sessions[cfg.SessionByCompID("CHARLIE")-1].DefaultAccount

	submit(ordermanager.Request{Kind: ordermanager.ReqPhase, Symbol: 1, Phase: matching.PhasePreOpen})
	submit(order("ALPHA", matching.Buy, 19000, 10))
	submit(order("BRAVO", matching.Sell, 18990, 4))
	submit(order("BRAVO", matching.Sell, 19100, 7))
	// The uncross: 4 at 190.00, ALPHA buys from BRAVO.
	submit(ordermanager.Request{Kind: ordermanager.ReqPhase, Symbol: 1, Phase: matching.PhaseContinuous})
	operate(ordermanager.Operation{Action: ordermanager.ActHalt, Who: "alice", Why: "news pending", Symbol: 1})
	operate(ordermanager.Operation{Action: ordermanager.ActResume, Who: "alice", Why: "news out", Symbol: 1})
	lim := cfg.Accounts[bravo-1].Limits
	lim.ShortLimitLots = 500
	operate(ordermanager.Operation{Action: ordermanager.ActSetLimits, Who: "bob", Why: "smaller short limit", Account: bravo, Limits: lim})
	operate(ordermanager.Operation{Action: ordermanager.ActKillOn, Who: "bob", Why: "runaway algo", Account: charlie})
	operate(ordermanager.Operation{Action: ordermanager.ActKillOff, Who: "bob", Why: "fixed", Account: charlie})
	submit(order("BRAVO", matching.Sell, 19000, 6))  // 6 at 190.00 with ALPHA's rest
	submit(order("CHARLIE", matching.Buy, 19150, 5)) // 5 at 191.00 with BRAVO's 19100
	submit(order("MM", matching.Buy, 18900, 4))      // rests
	submit(order("ALPHA", matching.Sell, 18900, 4))  // 4 at 189.00 with MM
	submit(order("MM", matching.Sell, 18500, 14))    // rests, best ask
	submit(order("BRAVO", matching.Buy, 18500, 14))  // 14 at 185.00 with MM
	submit(order("MM", matching.Sell, 19000, 3))     // rests, best ask
	submit(order("BRAVO", matching.Buy, 19000, 3))   // 3 at 190.00 with MM
	// A symbol listed at run time, and a trade in it.
	sym, err := cfg.BuildSymbol(&refdata.SymbolListing{Name: "NEWCO", TickSize: "0.05", LotSize: "10", ReferencePrice: "20"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	operate(ordermanager.Operation{Action: ordermanager.ActListSymbol, Who: "carol", Why: "IPO", Listing: sym})
	newco := matching.SymbolID(len(cfg.Symbols) + 1)
	rest := order("MM", matching.Sell, 400, 2)
	rest.Symbol = newco
	submit(rest)
	take := order("CHARLIE", matching.Buy, 400, 2)
	take.Symbol = newco
	submit(take)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

// TestTradingDayHistory: the auction flag of trades and fills, the operator
// actions with who, what, on whom and why, and realized P&L by average
// cost, all computed by hand for dayJournal; then the same tables from a
// reporter stopped and reopened after every single command.
func TestTradingDayHistory(t *testing.T) {
	dir, cfg := dayJournal(t)
	forEachBackend(t, func(t *testing.T, o func(testing.TB) OpenOptions) {
		opts := o(t)
		r := catchUp(t, Config{Venue: cfg.Registry, DataDir: dir, DB: opts, Log: zerolog.Nop()})
		db := r.db
		q := func(query string) [][]string {
			t.Helper()
			var out [][]string
			rs, err := db.sql.Query(query)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			cols, _ := rs.Columns()
			for rs.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rs.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				row := make([]string, len(cols))
				for i, v := range vals {
					switch v := v.(type) {
					case []byte:
						row[i] = string(v)
					case bool:
						row[i] = map[bool]string{true: "1", false: "0"}[v]
					default:
						row[i] = fmt.Sprint(v)
					}
				}
				out = append(out, row)
			}
			return out
		}
		check := func(what string, got [][]string, want [][]string) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s:\n got  %v\n want %v", what, got, want)
			}
		}
		acct := func(name string) string {
			for _, a := range cfg.Accounts {
				if a.Name == name {
					return fmt.Sprint(a.ID)
				}
			}
			t.Fatalf("no account %s", name)
			return ""
		}
		A, B, C, M := acct("ALPHA-1"), acct("BRAVO-1"), acct("CHARLIE-1"), acct("MM-1")
		check("trades", q(`SELECT price, qty, aggressor, buy_account, sell_account, CASE WHEN auction THEN 1 ELSE 0 END FROM trades WHERE symbol_id = 1 ORDER BY seq, out_seq`), [][]string{
			{"19000", "4", "none", A, B, "1"},
			{"19000", "6", "sell", A, B, "0"},
			{"19100", "5", "buy", C, B, "0"},
			{"18900", "4", "sell", M, A, "0"},
			{"18500", "14", "buy", B, M, "0"},
			{"19000", "3", "buy", B, M, "0"},
		})
		check("auction fills", q(`SELECT account_id, side, last_px, last_qty FROM executions WHERE auction ORDER BY exec_id`), [][]string{
			{A, "buy", "19000", "4"}, {B, "sell", "19000", "4"},
		})
		check("continuous fills flagged", q(`SELECT COUNT(*) FROM executions WHERE exec_type = 'F' AND NOT auction AND symbol_id = 1`), [][]string{{"10"}})
		check("operator actions", q(`SELECT who, action, target, reason FROM operator_actions ORDER BY seq`), [][]string{
			{"alice", "halt", "symbol AAPL", "news pending"},
			{"alice", "resume", "symbol AAPL", "news out"},
			{"bob", "set-limits", "account BRAVO-1", "smaller short limit"},
			{"bob", "kill-on", "account CHARLIE-1", "runaway algo"},
			{"bob", "kill-off", "account CHARLIE-1", "fixed"},
			{"carol", "list-symbol", "symbol NEWCO", "IPO"},
		})
		if d := q(`SELECT detail FROM operator_actions WHERE action = 'list-symbol'`); len(d) != 1 || !strings.Contains(d[0][0], "tick_size=0.05 lot_size=10") {
			t.Errorf("list-symbol detail %v", d)
		}
		// The listed symbol's units are in the database: its trade and bar
		// print in them.
		var bars [][]string
		if err := db.Query(context.Background(), "bars", Filter{Symbol: "NEWCO"}, func(row []string) error { bars = append(bars, append([]string(nil), row...)); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(bars) != 2 || bars[1][2] != "20.00" || bars[1][6] != "20" {
			t.Errorf("NEWCO bars: %v", bars)
		}
		if d := q(`SELECT detail FROM operator_actions WHERE action = 'set-limits'`); len(d) != 1 || !strings.Contains(d[0][0], "short_limit_lots=500 ") {
			t.Errorf("set-limits detail %v, want the new limits", d)
		}
		// By hand, in cents (one minor unit per tick-lot):
		//  ALPHA buys 4+6 at 190.00 (cost 190000), sells 4 at 189.00:
		//    cost out 190000×4/10 = 76000, proceeds 75600: −400; left 6 for 114000.
		//  BRAVO sells short 4+6 at 190.00 and 5 at 191.00 (−15, cost −285500),
		//    buys 14 at 185.00: cost out −285500×14/15 = −266466 (toward 0),
		//    266466 − 259000 = 7466; left −1 for −19034; buys 3 at 190.00:
		//    covers 1, 19034 − 19000 = 34, then long 2 for 38000. 7500 in all,
		//    = 285500 sold − 278000 paid for the 15 lots, exactly.
		//  CHARLIE buys 5 at 191.00: nothing realized, 5 for 95500.
		//  MM buys 4 at 189.00 (75600), sells 14 at 185.00: 74000 − 75600 =
		//    −1600, short 10 for −185000; sells 3 at 190.00: short 13, −242000.
		check("cost basis", q(`SELECT account_id, lots, cost, realized_pnl FROM cost_basis WHERE symbol_id = 1 ORDER BY account_id`), [][]string{
			{A, "6", "114000", "-400"}, {B, "2", "38000", "7500"}, {C, "5", "95500", "0"}, {M, "-13", "-242000", "-1600"},
		})
		check("statements", q(`SELECT account_id, realized_pnl FROM statements ORDER BY account_id`), [][]string{
			{A, "-400"}, {B, "7500"}, {C, "0"}, {M, "-1600"},
		})
		check("statement positions", q(`SELECT account_id, lots, cost, realized_pnl FROM statement_positions WHERE symbol_id = 1 ORDER BY account_id`), [][]string{
			{A, "6", "114000", "-400"}, {B, "2", "38000", "7500"}, {C, "5", "95500", "0"}, {M, "-13", "-242000", "-1600"},
		})
		// The report prints them in the venue's units.
		var rows [][]string
		if err := db.Query(context.Background(), "actions", Filter{}, func(row []string) error { rows = append(rows, append([]string(nil), row...)); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 7 || rows[0][4] != "target" || rows[3][3] != "set-limits" {
			t.Errorf("actions report: %v", rows)
		}
		rows = nil
		if err := db.Query(context.Background(), "statement", Filter{Account: "BRAVO-1"}, func(row []string) error { rows = append(rows, append([]string(nil), row...)); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[1][8] != "75.00" || !strings.Contains(rows[1][10], "AAPL 2 (") || !strings.Contains(rows[1][10], "cost 380.00, realized 75.00") {
			t.Errorf("statement report: %v", rows)
		}
		want := dumpTables(t, db)
		r.Close()

		// Stopped and reopened after every command: every batch boundary,
		// the one between a change of limits' note and its limits included.
		opts2 := o(t)
		last := uint64(0)
		for i := 0; ; i++ {
			ctx, cancel := context.WithCancel(context.Background())
			r, err := Open(ctx, Config{Venue: cfg.Registry, DataDir: dir, DB: opts2, BatchCommands: 1, Log: zerolog.Nop(),
				OnCommit: func(uint64, int64, int64) { cancel() }})
			if err != nil {
				t.Fatal(err)
			}
			err = r.CatchUp(ctx)
			seq := r.Stats().AppliedSeq
			r.Close()
			if err != nil && ctx.Err() == nil { // a batch cut short by the stop is rolled back
				t.Fatal(err)
			}
			cancel()
			if seq == last {
				break
			}
			last = seq
			if i > 1000 {
				t.Fatal("no end")
			}
		}
		if pos := position(t, opts2); pos < 20 || pos != last {
			t.Fatalf("reopened reporter ended at seq %d (last %d); the journal has more commands", pos, last)
		}
		// A database holding a symbol listed at run time opens again.
		catchUp(t, Config{Venue: cfg.Registry, DataDir: dir, DB: opts2, Log: zerolog.Nop()}).Close()
		got := dumpTables(t, mustOpen(t, opts2))
		for name, w := range want {
			if got[name] != w {
				t.Errorf("%s: reopened after every command %s, in one run %s", name, got[name], w)
			}
		}
	})
}

func mustOpen(t *testing.T, o OpenOptions) *DB {
	t.Helper()
	db, err := OpenDB(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
