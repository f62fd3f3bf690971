package fixsession

import (
	"strings"
	"testing"
	"time"
)

func TestParseSettings(t *testing.T) {
	secs, err := ParseSettings(strings.NewReader("# comment\n\n[default]\n MaxLatency = 30 \n[SESSION]\nTargetCompID=ALPHA\nBeginString=FIX.4.4\nResetOnLogon=Y\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 2 || secs[0].Name != "DEFAULT" || secs[0].Line != 3 || secs[1].Name != "SESSION" || secs[1].Line != 5 {
		t.Fatalf("%+v", secs)
	}
	if v := secs[0].Get("MaxLatency"); v != "30" {
		t.Errorf("MaxLatency %q", v)
	}
	if v := secs[1].Get("TargetCompID"); v != "ALPHA" || secs[1].Get("Nothing") != "" || len(secs[1].Pairs) != 3 {
		t.Errorf("%+v", secs[1])
	}
	for text, want := range map[string]string{
		"HeartBtInt=5\n":           "line 1: setting before any",
		"[DEFAULT]\nno equals\n":   "line 2: expected key=value",
		"[DEFAULT]\n=value\n":      "line 2: expected key=value",
		strings.Repeat("x", 70000): "token too long",
	} {
		if _, err := ParseSettings(strings.NewReader(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.20q: %v, want %q", text, err, want)
		}
	}
}

func TestKeyValuesSettings(t *testing.T) {
	id := SessionID{BeginString: "FIX.4.4", SenderCompID: "EXCHANGE", TargetCompID: "ALPHA"}
	st, err := KeyValues{"FileStorePath": "/tmp/fs", "HeartBtInt": "30", "ResetOnLogon": "Y", "ResetOnLogout": "n",
		"FileStoreSync": "y", "MaxLatency": "15", "SocketAcceptPort": "1"}.Settings(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Header != id || st.StoreDir != "/tmp/fs" || st.HeartBtInt != 30*time.Second || !st.ResetOnLogon || st.ResetOnLogout ||
		st.ResetOnDisconnect || !st.StoreSync || st.MaxLatency != 15*time.Second {
		t.Fatalf("%+v", st)
	}
	if st, _ := (KeyValues{"FileStorePath": "d"}).Settings(id); st.MaxLatency != 120*time.Second || st.HeartBtInt != 0 {
		t.Errorf("defaults %+v", st)
	}
	if st, _ := (KeyValues{"FileStorePath": "d", "CheckLatency": "N", "MaxLatency": "x", "HeartBtInt": "x"}).Settings(id); st.MaxLatency != 0 || st.HeartBtInt != 0 {
		t.Errorf("CheckLatency=N %+v", st)
	}
	for kv, want := range map[*KeyValues]string{
		{"FileStorePath": "d", "ResetOnLogon": "yes"}: `session FIX.4.4:EXCHANGE->ALPHA: ResetOnLogon: "yes" is invalid for ResetOnLogon`,
		{"FileStorePath": "d", "CheckLatency": "1"}:   `CheckLatency: "1" is invalid`,
		{"FileStorePath": "d", "MaxLatency": "0"}:     "MaxLatency must be a positive number of seconds",
		{"FileStorePath": "d", "MaxLatency": "1.5"}:   "MaxLatency must be a positive number of seconds",
		{}: "Conditionally Required Setting: FileStorePath",
	} {
		if _, err := kv.Settings(id); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v, want %q", *kv, err, want)
		}
	}
	if keys := SettingsKeys(); len(keys) != 8 || !strings.Contains(strings.Join(keys, ","), "FileStorePath") {
		t.Errorf("keys %v", keys)
	}
}

// FuzzParseSettings: any text parses or is refused with an error naming a
// line; nothing panics, and every pair parsed is in a section.
func FuzzParseSettings(f *testing.F) {
	f.Add("[DEFAULT]\nHeartBtInt=30\n[SESSION]\nTargetCompID=A\n")
	f.Add("# c\n[session]\n a = b = c \n")
	f.Add("x=y")
	f.Add("[DEFAULT]\n=\n")
	f.Fuzz(func(t *testing.T, text string) {
		secs, err := ParseSettings(strings.NewReader(text))
		if err != nil {
			if !strings.Contains(err.Error(), "line ") && !strings.Contains(err.Error(), "too long") {
				t.Fatalf("error %v names no line", err)
			}
			return
		}
		for _, s := range secs {
			if s.Name != "DEFAULT" && s.Name != "SESSION" || s.Line < 1 {
				t.Fatalf("section %+v", s)
			}
			for _, kv := range s.Pairs {
				if kv[0] == "" || strings.TrimSpace(kv[0]) != kv[0] {
					t.Fatalf("key %q", kv[0])
				}
				if _, err := (KeyValues{kv[0]: kv[1], "FileStorePath": "d"}).Settings(SessionID{}); err != nil && !strings.Contains(err.Error(), kv[0]) {
					t.Fatalf("error %v does not name %s", err, kv[0])
				}
			}
		}
	})
}
