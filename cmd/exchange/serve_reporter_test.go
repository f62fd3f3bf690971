package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/matching"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeReporter: beside serve the reporter follows the journal into
// DATA/reports.db, its lag is a metric, the data service answers from the
// database, and the history survives a restart of the venue; as serve's
// child process (the default) and as a goroutine of serve.
func TestServeReporter(t *testing.T) {
	for _, mode := range []string{config.ReporterChild, config.ReporterInline} {
		t.Run(mode, func(t *testing.T) { testServeReporter(t, mode) })
	}
}

func testServeReporter(t *testing.T, mode string) {
	dir := t.TempDir()
	cfg := testConfig(t)
	cfg.DataDir, cfg.ListenFIX, cfg.ListenHTTP = dir, "127.0.0.1:0", "127.0.0.1:0"
	cfg.ReporterProcess = mode
	start := func() *venue {
		v, err := startVenue(cfg, venueOptions{dataDir: dir, reporter: true}, testLogger())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	caughtUp := func(v *venue) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			durable := v.x.Stats().Sequencer.DurableSeq
			if v.repChild != nil {
				if db, err := v.repChild.historyDB(context.Background()); err == nil {
					if pos, err := db.Position(context.Background()); err == nil && durable > 0 && pos.Seq == durable {
						return
					}
				}
			} else if rep, err := v.rep.current(); err != nil {
				t.Fatal(err)
			} else if rep != nil && durable > 0 && rep.Stats().AppliedSeq == durable {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the reporter did not catch up with seq %d", durable)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	v := start()
	for i, px := range []int64{19000, 19010, 19005} {
		buy := newRequest(cfg, "ALPHA", "b"+string(rune('0'+i)), matching.Buy, px)
		sell := newRequest(cfg, "BRAVO", "s"+string(rune('0'+i)), matching.Sell, px)
		if !v.x.Submit(&buy) || !v.x.Submit(&sell) {
			t.Fatal("submit refused")
		}
	}
	caughtUp(v)
	base := "http://" + v.httpAddr
	code, body := httpGet(t, base+"/api/history/trades/AAPL")
	var trades []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &trades) != nil || len(trades) != 3 || trades[0]["price"] != "190.00" || trades[2]["price"] != "190.05" {
		t.Fatalf("trades: %d %s", code, body)
	}
	code, body = httpGet(t, base+"/api/history/candles/AAPL?interval=1m")
	var candles []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &candles) != nil || len(candles) < 1 || candles[len(candles)-1]["close"] != "190.05" {
		t.Fatalf("candles: %d %s", code, body)
	}
	if code, body = httpGet(t, base+"/api/history/candles/NOPE"); code != 404 || !strings.Contains(body, `"param":"symbol"`) {
		t.Fatalf("unknown symbol: %d %s", code, body)
	}
	if code, body = httpGet(t, base+"/api/history/candles/AAPL?interval=7m"); code != 400 || !strings.Contains(body, `"param":"interval"`) {
		t.Fatalf("bad interval: %d %s", code, body)
	}
	_, metrics := httpGet(t, base+"/metrics")
	for _, m := range []string{"exchange_reporter_up 1", "exchange_reporter_lag_records 0", "exchange_reporter_applied_seq "} {
		if !strings.Contains(metrics, m) {
			t.Fatalf("/metrics lacks %q", m)
		}
	}
	if err := v.stop(); err != nil {
		t.Fatal(err)
	}
	// After a restart the history is there before anything new trades.
	v = start()
	defer v.stop()
	caughtUp(v)
	if code, body = httpGet(t, "http://"+v.httpAddr+"/api/history/trades/AAPL"); code != 200 || strings.Count(body, "match_id") != 3 {
		t.Fatalf("after restart: %d %s", code, body)
	}
}

// The reporter child never outlives serve: a serve killed with SIGKILL
// takes its reporter process with it (the child's stdin pipe closes).
func TestServeReporterChildEndsWithServe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts serve as a child process")
	}
	dir := t.TempDir()
	fixAddr := freePort(t)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildEnv+"="+joinArgs("serve", "--data", dir, "--fix", fixAddr, "--http", freePort(t), "--admin", "127.0.0.1:0", "--log-level", "error"))
	child.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = child.Wait(); close(done) }()
	defer func() { _ = child.Process.Kill(); <-done }()
	waitListening(t, fixAddr, 15*time.Second)
	var rep int
	deadline := time.Now().Add(15 * time.Second)
	for rep == 0 {
		if time.Now().After(deadline) {
			t.Fatal("serve started no reporter process")
		}
		rep = childOf(child.Process.Pid)
		time.Sleep(20 * time.Millisecond)
	}
	_ = child.Process.Kill()
	<-done
	deadline = time.Now().Add(15 * time.Second)
	for processAlive(rep) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(rep, syscall.SIGKILL)
			t.Fatalf("the reporter process %d outlived serve by 15 s", rep)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// childOf returns the pid of a child process of parent, or 0.
func childOf(parent int) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _ := procStat(pid); ppid == parent {
			return pid
		}
	}
	return 0
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	_, state := procStat(pid)
	return state != "" && state != "Z"
}

// procStat reads a process's parent pid and state from /proc/PID/stat.
func procStat(pid int) (ppid int, state string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, ""
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0]
}
