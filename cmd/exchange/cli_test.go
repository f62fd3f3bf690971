package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
)

// flagLine is a flag's line in PrintDefaults: "  -name" and an optional
// argument name. A back-quoted phrase in a usage string would become that
// name, spaces and all.
var flagLine = regexp.MustCompile(`^  -(\S+)(.*)$`)

// Every command answers -h and --help with its usage on exit code 0, and no
// flag's argument name is a phrase taken from back quotes in its usage text.
func TestHelpExitsZero(t *testing.T) {
	cmds := make([]string, 0, len(commandHelp))
	for c := range commandHelp {
		cmds = append(cmds, c)
	}
	sort.Strings(cmds)
	for _, c := range cmds {
		for _, h := range []string{"-h", "--help"} {
			var stdout, stderr bytes.Buffer
			if code := run([]string{c, h}, strings.NewReader(""), &stdout, &stderr); code != 0 {
				t.Errorf("exchange %s %s: exit %d, want 0; stderr:\n%s", c, h, code, stderr.String())
			}
			out := stderr.String()
			if !strings.HasPrefix(out, "Usage: exchange "+c) {
				t.Errorf("exchange %s %s: usage does not start with its synopsis:\n%s", c, h, out)
			}
			for _, line := range strings.Split(out, "\n") {
				if m := flagLine.FindStringSubmatch(line); m != nil && len(strings.Fields(strings.SplitN(m[2], "\t", 2)[0])) > 1 {
					t.Errorf("exchange %s: flag -%s shows the argument name %q (back quotes in its usage?)", c, m[1], strings.TrimSpace(m[2]))
				}
			}
		}
	}
	var stdout, stderr bytes.Buffer
	run([]string{"config", "--help"}, nil, &stdout, &stderr)
	if !strings.Contains(stderr.String(), "default configuration") || stdout.Len() != 0 {
		t.Errorf("config --help should describe itself and print no configuration; stdout %d bytes, stderr:\n%s", stdout.Len(), stderr.String())
	}
	// A wrong flag is still a usage error.
	if code := run([]string{"serve", "--no-such-flag"}, nil, io.Discard, io.Discard); code != 2 {
		t.Errorf("serve --no-such-flag: exit %d, want 2", code)
	}
}

// A busy port is reported once, naming the listener and the address once,
// and before the data folder (journal, snapshots) is created.
func TestServeBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	for _, tc := range []struct{ flag, name string }{{"--fix", "FIX listener"}, {"--http", "HTTP listener"}, {"--debug", "debug listener"}} {
		dir := filepath.Join(t.TempDir(), "data")
		args := []string{"serve", "--data", dir, "--fix", "127.0.0.1:0", "--http", "127.0.0.1:0", tc.flag, addr, "--log-level", "error"}
		var stdout, stderr bytes.Buffer
		if code := run(args, nil, &stdout, &stderr); code != 1 {
			t.Fatalf("%s busy: exit %d, want 1; stderr:\n%s", tc.flag, code, stderr.String())
		}
		msg := stderr.String()
		if n := strings.Count(msg, addr); n != 1 || !strings.Contains(msg, tc.name) {
			t.Errorf("%s busy: the message names %s %d times (want once) or not the %s:\n%s", tc.flag, addr, n, tc.name, msg)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s busy: the data folder was created before the listeners were checked (stat: %v)", tc.flag, err)
		}
	}
}

// The profiler is served only on the debug listener, never beside the web
// page.
func TestPprofOnlyOnDebugListener(t *testing.T) {
	get := func(url string) int {
		t.Helper()
		cl := http.Client{Timeout: 10 * time.Second}
		resp, err := cl.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	if v.debugSrv != nil {
		t.Fatal("a debug listener runs although none was configured")
	}
	if code := get("http://" + v.httpAddr + "/debug/pprof/"); code == http.StatusOK {
		t.Errorf("the public HTTP listener serves /debug/pprof/ (status %d)", code)
	}
	cfg := config.Default()
	cfg.ListenDebug = "127.0.0.1:0"
	d := startTestVenue(t, cfg, t.TempDir(), "", "none")
	if d.debugAddr == "" || d.debugAddr == d.httpAddr {
		t.Fatalf("debug listener %q (HTTP %q)", d.debugAddr, d.httpAddr)
	}
	if code := get("http://" + d.debugAddr + "/debug/pprof/"); code != http.StatusOK {
		t.Errorf("the debug listener answers /debug/pprof/ with %d", code)
	}
	if code := get("http://" + d.httpAddr + "/debug/pprof/"); code == http.StatusOK {
		t.Errorf("the public HTTP listener serves /debug/pprof/ beside a debug listener")
	}
}

// Logs written to a file carry no colour codes, and durations carry units.
func TestLogPlainWithUnits(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	logRecovery(newLogger(f), v)
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("\x1b[")) {
		t.Errorf("log written to a file holds ANSI escape codes: %q", b)
	}
	if !regexp.MustCompile(`took=[0-9.]+(ns|µs|ms|s)\b`).Match(b) {
		t.Errorf("recovery line's duration has no unit: %q", b)
	}
}

// The demo's summary offers a replay command only for a folder that is kept.
func TestDemoSummaryReplayHint(t *testing.T) {
	cfg := config.Default()
	v := startTestVenue(t, cfg, t.TempDir(), "", "none")
	for _, kept := range []bool{false, true} {
		var b bytes.Buffer
		printDemoSummary(&b, cfg, v, nil, kept)
		if got := strings.Contains(b.String(), "replay --data"); got != kept {
			t.Errorf("kept=%v: replay command printed %v:\n%s", kept, got, b.String())
		}
	}
}

// replay exits 3 when it verified nothing, as README says: also when it
// starts from a snapshot at the journal's tip.
func TestReplayExitCodes(t *testing.T) {
	cfg := config.Default()
	dir := t.TempDir()
	x, _, err := pipeline.Open(pipeline.Options{Ref: cfg.Registry, Dir: dir, Durability: "none", Log: zerolog.Nop(),
		CheckpointEvery: 4, Reports: func([]ordermanager.Report) {}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		r := newRequest(cfg, "ALPHA", "r"+strconv.Itoa(i), 1, int64(18000+i))
		if !x.Submit(&r) {
			t.Fatal("submit refused")
		}
	}
	if err := x.Close(); err != nil { // journals checkpoints and a snapshot at the tip
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"replay", "--data", dir}, 0},
		{[]string{"replay", "--data", dir, "--from-snapshot"}, 3},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, nil, &stdout, &stderr); code != tc.code {
			t.Errorf("%v: exit %d, want %d; stdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, stdout.String(), stderr.String())
		}
	}
}

// bench --only names every scenario it knows in its usage, refuses one it
// does not know by name, and runs just the ones asked for.
func TestBenchOnly(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"bench", "--only", "wake,nonesuch"}, nil, &stdout, &stderr); code == 0 {
		t.Fatal("bench --only nonesuch: exit 0")
	}
	if !strings.Contains(stderr.String(), `unknown scenario "nonesuch"`) || !strings.Contains(stderr.String(), "memory") {
		t.Errorf("bench --only nonesuch: want the scenario named and the known ones listed; stderr:\n%s", stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"bench", "--quick", "--only", " wake "}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("bench --quick --only wake: exit %d; stderr:\n%s", code, stderr.String())
	}
	if out := stdout.String(); !strings.Contains(out, "thread wake-up, idle") || strings.Contains(out, "engine mix") {
		t.Errorf("bench --only wake ran other scenarios or not this one:\n%s", out)
	}
}

// broker refuses --replay with --journal, and names a replay file it cannot
// open, before it connects anywhere.
func TestBrokerSourceFlags(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"broker", "--replay", "a.csv", "--journal", "dir"}, nil, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "choose one") {
		t.Errorf("--replay with --journal: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	missing := filepath.Join(t.TempDir(), "orders.csv")
	if code := run([]string{"broker", "--replay", missing}, nil, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), missing) {
		t.Errorf("--replay of a missing file: exit %d, stderr %q", code, stderr.String())
	}
}

// One venue per data folder: a second start on a folder in use is refused
// with an error naming the folder and the holder, before it touches the
// journal; once the first stops the folder is free.
func TestDataFolderInUse(t *testing.T) {
	dir := t.TempDir()
	v := startTestVenue(t, config.Default(), dir, "", "none")
	cfg := config.Default()
	cfg.DataDir, cfg.ListenFIX, cfg.ListenHTTP, cfg.ListenAdmin = dir, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	_, err := startVenue(cfg, venueOptions{dataDir: dir, durability: "none"}, testLogger())
	if err == nil || !strings.Contains(err.Error(), "is in use by another process (pid "+strconv.Itoa(os.Getpid())+")") {
		t.Fatalf("second venue on %s: %v", dir, err)
	}
	if err := v.stop(); err != nil {
		t.Fatal(err)
	}
	v2, err := startVenue(cfg, venueOptions{dataDir: dir, durability: "none"}, testLogger())
	if err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
	if err := v2.stop(); err != nil {
		t.Fatal(err)
	}
}
