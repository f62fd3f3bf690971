package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/internal/bench"
	"github.com/exchange-sim/exchange/internal/pgtest"
)

// runOK runs the binary's command line and fails the test on a non-zero exit.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("exchange %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readCSV(t, string(b))
}

// TestReportMatchesReplay: the reporter's trades and executions equal, row
// for row, what `exchange replay --executions --trades` regenerates from
// the same journal, on SQLite and on PostgreSQL.
func TestReportMatchesReplay(t *testing.T) {
	dir := t.TempDir()
	const accounts = 30
	if _, err := bench.WriteJournal(dir, 15_000, accounts, 5); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "bench.yaml")
	if err := os.WriteFile(cfgPath, []byte(bench.BenchConfigYAML(accounts)), 0o644); err != nil {
		t.Fatal(err)
	}
	execPath, tapePath := filepath.Join(t.TempDir(), "exec.csv"), filepath.Join(t.TempDir(), "tape.csv")
	runOK(t, "replay", "--data", dir, "--config", cfgPath, "--executions", execPath, "--trades", tapePath)
	replayExec := readCSVFile(t, execPath) // seq,out_seq,match_id,time,symbol,price,qty,taker_side,taker_order,taker_account,maker_order,maker_account
	replayTape := readCSVFile(t, tapePath) // symbol,match_id,out_seq,time,price,qty,taker_side,taker_order,maker_order
	if len(replayExec) < 100 {
		t.Fatalf("replay regenerated %d trades; the journal should hold more", len(replayExec)-1)
	}
	for _, b := range []struct {
		name string
		db   func(t *testing.T) []string
	}{
		{"sqlite", func(t *testing.T) []string { return []string{"--db", filepath.Join(t.TempDir(), "reports.db")} }},
		{"postgres", func(t *testing.T) []string { return []string{"--dsn", pgtest.DSN(t)} }},
	} {
		t.Run(b.name, func(t *testing.T) {
			db := b.db(t)
			runOK(t, append([]string{"reporter", "--data", dir, "--config", cfgPath, "--once", "--batch", "3000", "--log-level", "warn"}, db...)...)
			trades := readCSV(t, runOK(t, append([]string{"report", "trades", "--config", cfgPath, "--format", "csv"}, db...)...))
			// time,symbol,match_id,price,qty,aggressor,buy_order,buy_account,sell_order,sell_account,auction,seq,out_seq
			if len(trades) != len(replayExec) {
				t.Fatalf("report trades: %d rows, replay --executions: %d", len(trades)-1, len(replayExec)-1)
			}
			for i := 1; i < len(trades); i++ {
				r := trades[i]
				takerO, takerA, makerO, makerA := r[6], r[7], r[8], r[9]
				if r[5] == "sell" {
					takerO, takerA, makerO, makerA = makerO, makerA, takerO, takerA
				}
				got := []string{r[11], r[12], r[2], r[0], r[1], r[3], r[4], r[5], takerO, takerA, makerO, makerA}
				// replay --executions prints decimals without trailing zeros.
				got[5], got[6] = normDec(got[5]), normDec(got[6])
				if strings.Join(got, ",") != strings.Join(replayExec[i], ",") {
					t.Fatalf("trade row %d:\n  report %v\n  replay %v", i, got, replayExec[i])
				}
			}
			// The tape is per symbol (one here), in trade order.
			for i := 1; i < len(replayTape); i++ {
				r, tp := trades[i], replayTape[i]
				takerO, makerO := r[6], r[8]
				if r[5] == "sell" {
					takerO, makerO = makerO, takerO
				}
				got := []string{r[1], r[2], r[12], r[0], r[3], r[4], r[5], takerO, makerO}
				if strings.Join(got, ",") != strings.Join(tp, ",") {
					t.Fatalf("tape row %d:\n  report %v\n  replay %v", i, got, tp)
				}
			}
			// Each trade is two fill reports: the taker's (ExecID 2×OutSeq) and
			// the maker's (2×OutSeq+1), at the trade's price and quantity.
			execs := readCSV(t, runOK(t, append([]string{"report", "executions", "--config", cfgPath, "--format", "csv"}, db...)...))
			// time,exec_id,seq,account,symbol,side,exec_type,ord_status,order_id,...,last_px(15),last_qty(16)
			fills := map[string][]string{}
			for _, e := range execs[1:] {
				if e[6] == "F" {
					fills[e[1]] = e
				}
			}
			if len(fills) != 2*(len(replayExec)-1) {
				t.Fatalf("%d fill reports, want %d (two per trade)", len(fills), 2*(len(replayExec)-1))
			}
			for _, x := range replayExec[1:] {
				var out uint64
				fmt.Sscan(x[1], &out)
				for k, who := range [][2]string{{x[8], x[9]}, {x[10], x[11]}} {
					f := fills[fmt.Sprint(2*out+uint64(k))]
					if f == nil || f[8] != who[0] || f[3] != who[1] || normDec(f[15]) != x[5] || normDec(f[16]) != x[6] || f[2] != x[0] {
						t.Fatalf("trade %v: fill report %d is %v", x, 2*out+uint64(k), f)
					}
				}
			}
			// The other formats carry the same rows.
			var js []map[string]string
			if err := json.Unmarshal([]byte(runOK(t, append([]string{"report", "trades", "--config", cfgPath, "--format", "json", "--limit", "5"}, db...)...)), &js); err != nil {
				t.Fatal(err)
			}
			if len(js) != 5 || js[0]["match_id"] != trades[1][2] || js[4]["price"] != trades[5][3] {
				t.Fatalf("json: %v", js)
			}
			// No operator acted in this journal: the report is its header.
			if acts := readCSV(t, runOK(t, append([]string{"report", "actions", "--config", cfgPath, "--format", "csv"}, db...)...)); len(acts) != 1 || strings.Join(acts[0], ",") != "seq,time,who,action,target,reason,detail" {
				t.Fatalf("report actions: %v", acts)
			}
			table := runOK(t, append([]string{"report", "bars", "--config", cfgPath}, db...)...)
			if !strings.Contains(table, "BENCH") || !strings.HasPrefix(table, "day ") {
				t.Fatalf("bars table:\n%s", table)
			}
			// Filters: one account's trades are those where it bought or sold.
			acct := trades[1][7]
			mine := readCSV(t, runOK(t, append([]string{"report", "trades", "--config", cfgPath, "--format", "csv", "--account", acct}, db...)...))
			want := 0
			for _, r := range trades[1:] {
				if r[7] == acct || r[9] == acct {
					want++
				}
			}
			if len(mine)-1 != want || want == 0 {
				t.Fatalf("--account %s: %d rows, want %d", acct, len(mine)-1, want)
			}
		})
	}
}

func TestReportBadInput(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"report", "trades", "--data", t.TempDir()}, strings.NewReader(""), &out, &errb); code == 0 || !strings.Contains(errb.String(), "no history database") {
		t.Fatalf("missing database: exit %d, %s", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"report", "nonsense", "--db", filepath.Join(t.TempDir(), "x.db")}, strings.NewReader(""), &out, &errb); code == 0 {
		t.Fatalf("unknown report: exit 0")
	}
	errb.Reset()
	if code := run([]string{"reporter", "--data", t.TempDir(), "--dsn", "postgres://u:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"}, strings.NewReader(""), &out, &errb); code == 0 ||
		!strings.Contains(errb.String(), "cannot connect") || strings.Contains(errb.String(), "secret") {
		t.Fatalf("bad DSN: exit %d, %s", code, errb.String())
	}
}

func normDec(s string) string {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return s
	}
	return d.String()
}
