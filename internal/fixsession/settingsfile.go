package fixsession

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// QuickFIX-format settings: the INI-like text QuickFIX engines are
// configured with ([DEFAULT] and [SESSION] sections of key=value lines),
// read here so that an operator's existing settings file keeps working.
// The session layer honours the keys of SettingsKeys; which keys a user of
// the package lets a file set is that user's policy.

// SettingsSection is one [DEFAULT] or [SESSION] section of a settings file,
// its key=value lines in file order.
type SettingsSection struct {
	Name  string // "DEFAULT" or "SESSION"
	Line  int    // line number of its header
	Pairs [][2]string
}

// Get returns the value of key in the section ("" when it has none).
func (s *SettingsSection) Get(key string) string {
	for _, kv := range s.Pairs {
		if kv[0] == key {
			return kv[1]
		}
	}
	return ""
}

// ParseSettings reads QuickFIX-format settings text: [DEFAULT] and
// [SESSION] headers (any case), key=value lines (spaces around both
// trimmed), blank lines and # comments; a line longer than 64 KiB is an
// error (bufio.Scanner's limit). An error names the line.
func ParseSettings(r io.Reader) ([]SettingsSection, error) {
	var out []SettingsSection
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.EqualFold(line, "[DEFAULT]"):
			out = append(out, SettingsSection{Name: "DEFAULT", Line: n})
		case strings.EqualFold(line, "[SESSION]"):
			out = append(out, SettingsSection{Name: "SESSION", Line: n})
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("line %d: expected key=value", n)
			}
			if len(out) == 0 {
				return nil, fmt.Errorf("line %d: setting before any [DEFAULT] or [SESSION] header", n)
			}
			sec := &out[len(out)-1]
			sec.Pairs = append(sec.Pairs, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		}
	}
	return out, sc.Err()
}

// SettingsKeys are the QuickFIX settings keys KeyValues.Settings reads, in
// alphabetical order.
func SettingsKeys() []string {
	return []string{"CheckLatency", "FileStorePath", "FileStoreSync", "HeartBtInt", "MaxLatency",
		"ResetOnDisconnect", "ResetOnLogon", "ResetOnLogout"}
}

// KeyValues is one session's QuickFIX-format settings, key to value: the
// [DEFAULT] ones with the session's own over them.
type KeyValues map[string]string

// Settings turns kv into the session layer's Settings for the session id,
// as a QuickFIX engine reads the same keys: Y/N flags (ResetOnLogon,
// ResetOnLogout, ResetOnDisconnect, FileStoreSync), HeartBtInt in seconds
// (ignored unless a whole number), the required FileStorePath, and
// MaxLatency in seconds (default 120) unless CheckLatency=N.
func (kv KeyValues) Settings(id SessionID) (Settings, error) {
	out := Settings{Header: id}
	flag := func(key string, dst *bool) error {
		v, ok := kv[key]
		if !ok {
			return nil
		}
		switch v {
		case "Y", "y":
			*dst = true
		case "N", "n":
			*dst = false
		default:
			return fmt.Errorf("session %s: %s: %q is invalid for %s", id, key, v, key)
		}
		return nil
	}
	for _, f := range [...]struct {
		key string
		dst *bool
	}{{"ResetOnLogon", &out.ResetOnLogon}, {"ResetOnLogout", &out.ResetOnLogout}, {"ResetOnDisconnect", &out.ResetOnDisconnect}, {"FileStoreSync", &out.StoreSync}} {
		if err := flag(f.key, f.dst); err != nil {
			return out, err
		}
	}
	if hb, err := strconv.Atoi(kv["HeartBtInt"]); err == nil {
		out.HeartBtInt = time.Duration(hb) * time.Second
	}
	check := true
	if err := flag("CheckLatency", &check); err != nil {
		return out, err
	}
	if check {
		out.MaxLatency = 120 * time.Second
		if v, ok := kv["MaxLatency"]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return out, fmt.Errorf("session %s: MaxLatency must be a positive number of seconds", id)
			}
			out.MaxLatency = time.Duration(n) * time.Second
		}
	}
	dir, ok := kv["FileStorePath"]
	if !ok {
		return out, fmt.Errorf("session %s: Conditionally Required Setting: FileStorePath", id)
	}
	out.StoreDir = dir
	return out, nil
}
