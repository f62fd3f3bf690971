package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
)

func TestBuildSettings(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, "127.0.0.1:9999", dir)
	s, keys, err := buildSettings(venueOf(cfg), "127.0.0.1:4567")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2*len(cfg.Sessions) {
		t.Fatalf("%d sessions", len(keys))
	}
	sid := fixsession.SessionID{BeginString: "FIX.4.2", SenderCompID: "EXCHANGE", TargetCompID: "BRAVO"}
	ss := s[sid]
	if ss == nil || keys[sid].cfg != cfg.SessionByCompID("BRAVO") {
		t.Fatalf("no FIX.4.2 BRAVO session")
	}
	for k, want := range map[string]string{"SocketAcceptPort": "4567", "HeartBtInt": "30",
		"FileStorePath": filepath.Join(dir, "fix-sessions")} {
		if got := ss[k]; got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	// Overrides from a QuickFIX settings file.
	file := filepath.Join(dir, "quickfix.cfg")
	write := func(text string) {
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg.QuickFIXSettings = file
	write("# overrides\n[DEFAULT]\nMaxLatency=30\n[SESSION]\nTargetCompID=ALPHA\nBeginString=FIX.4.4\nResetOnLogon=Y\n")
	if s, _, err = buildSettings(venueOf(cfg), "127.0.0.1:4567"); err != nil {
		t.Fatal(err)
	}
	alpha44 := s[fixsession.SessionID{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}]
	alpha42 := s[fixsession.SessionID{BeginString: "FIX.4.2", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}]
	if v := alpha44["ResetOnLogon"]; v != "Y" {
		t.Errorf("ResetOnLogon not overridden: %q", v)
	}
	if v := alpha42["ResetOnLogon"]; v != "N" {
		t.Errorf("FIX.4.2 session changed: %q", v)
	}
	if v := alpha42["MaxLatency"]; v != "30" {
		t.Errorf("DEFAULT override missing: %q", v)
	}
	// What the session layer makes of them.
	fs44, err := sessionSettings(fixsession.SessionID{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}, alpha44)
	if err != nil {
		t.Fatal(err)
	}
	if !fs44.ResetOnLogon || fs44.StoreSync || fs44.MaxLatency != 30*time.Second || fs44.StoreDir != filepath.Join(dir, "fix-sessions") {
		t.Errorf("session layer settings %+v", fs44)
	}
	for text, want := range map[string]string{
		"[SESSION]\nTargetCompID=ZED\n":                        "not a configured firm session",
		"[DEFAULT]\nSocketAcceptPort=1\n":                      "cannot be overridden",
		"[DEFAULT]\nSenderCompID=X\n":                          "cannot be set in [DEFAULT]",
		"HeartBtInt=5\n":                                       "before any",
		"[DEFAULT]\nSocketReuseAddress=Y\n":                    "is not supported by the exchange's FIX session layer",
		"[SESSION]\nTargetCompID=ALPHA\nBeginString=FIX.4.3\n": "not one of",
	} {
		write(text)
		if _, _, err := buildSettings(venueOf(cfg), "127.0.0.1:4567"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}
