package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/quickfixgo/quickfix"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/fixsession"
)

// BeginStrings are the FIX versions every configured CompID may log on with.
var BeginStrings = []string{quickfix.BeginStringFIX44, quickfix.BeginStringFIX42}

// sessionKey names a session in the generated settings.
type sessionKey struct {
	cfg   config.SessionID
	begin string
}

// buildSettings turns the exchange configuration into QuickFIX/Go settings:
// global settings (the listen address acceptorAddr) and one [SESSION] per
// configured SenderCompID and BeginString. The optional QuickFIX settings
// file named by cfg.QuickFIXSettings is applied on top; sessionSettings then
// reads the keys the session layer honours.
func buildSettings(cfg *config.Config, acceptorAddr string) (*quickfix.Settings, map[quickfix.SessionID]sessionKey, error) {
	host, port, err := net.SplitHostPort(acceptorAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: acceptor address %q: %w", acceptorAddr, err)
	}
	if cfg.HeartbeatSeconds <= 0 {
		return nil, nil, fmt.Errorf("gateway: heartbeat_seconds %d must be positive", cfg.HeartbeatSeconds)
	}
	s := quickfix.NewSettings()
	g := s.GlobalSettings()
	g.Set("SocketAcceptHost", host)
	g.Set("SocketAcceptPort", port)
	g.Set("SenderCompID", cfg.TargetCompID)
	g.Set("HeartBtInt", strconv.Itoa(cfg.HeartbeatSeconds))
	// The session layer's store (its own format, hence not QuickFIX's
	// fix-store folder). The journal is the exchange's source of truth; the
	// FIX store only keeps sequence numbers and sent messages for resends, so
	// it is written through the page cache without an fsync per message.
	g.Set("FileStorePath", filepath.Join(cfg.DataDir, "fix-sessions"))
	g.Set("FileStoreSync", "N")
	g.Set("ResetOnLogon", "N")
	g.Set("ResetOnLogout", "N")
	g.Set("ResetOnDisconnect", "N")

	sessions := map[quickfix.SessionID]*quickfix.SessionSettings{}
	keys := map[quickfix.SessionID]sessionKey{}
	for i := range cfg.Sessions {
		cs := &cfg.Sessions[i]
		for _, begin := range BeginStrings {
			ss := quickfix.NewSessionSettings()
			ss.Set("BeginString", begin)
			ss.Set("SenderCompID", cfg.TargetCompID)
			ss.Set("TargetCompID", cs.SenderCompID)
			sid := quickfix.SessionID{BeginString: begin, SenderCompID: cfg.TargetCompID, TargetCompID: cs.SenderCompID}
			sessions[sid] = ss
			keys[sid] = sessionKey{cfg: cs.ID, begin: begin}
		}
	}
	if cfg.QuickFIXSettings != "" {
		if err := applyOverrides(cfg, cfg.QuickFIXSettings, g, sessions); err != nil {
			return nil, nil, err
		}
	}
	for sid, ss := range sessions {
		if _, err := s.AddSession(ss); err != nil {
			return nil, nil, fmt.Errorf("gateway: session %s: %w", sid, err)
		}
	}
	return s, keys, nil
}

// identityKeys name a session; an override file may not change them.
var identityKeys = map[string]bool{"BeginString": true, "SenderCompID": true, "TargetCompID": true}

// listenKeys place the acceptor behind the guard; the public address is
// listen.fix in the exchange configuration.
var listenKeys = map[string]bool{"SocketAcceptHost": true, "SocketAcceptPort": true, "DynamicSessions": true}

// applyOverrides reads a QuickFIX settings file: keys under [DEFAULT] override
// the generated global settings; a [SESSION] must name a configured firm
// session by TargetCompID (the broker's CompID), optionally narrowed by
// BeginString, and its keys override that session's settings.
func applyOverrides(cfg *config.Config, path string, global *quickfix.SessionSettings, sessions map[quickfix.SessionID]*quickfix.SessionSettings) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("gateway: quickfix settings: %w", err)
	}
	defer f.Close()
	sections, err := parseSettingsFile(f)
	if err != nil {
		return fmt.Errorf("gateway: quickfix settings %s: %w", path, err)
	}
	for _, sec := range sections {
		for _, kv := range sec.kvs {
			if listenKeys[kv[0]] {
				return fmt.Errorf("gateway: quickfix settings %s line %d: %s cannot be overridden; set listen.fix in the exchange configuration", path, sec.line, kv[0])
			}
			if !sessionKeys[kv[0]] && !identityKeys[kv[0]] {
				return fmt.Errorf("gateway: quickfix settings %s line %d: %s is not supported by the exchange's FIX session layer (supported: %s)", path, sec.line, kv[0], strings.Join(supportedKeys(), ", "))
			}
		}
		if sec.name == "DEFAULT" {
			for _, kv := range sec.kvs {
				if identityKeys[kv[0]] {
					return fmt.Errorf("gateway: quickfix settings %s line %d: %s cannot be set in [DEFAULT]; it comes from the exchange configuration", path, sec.line, kv[0])
				}
				global.Set(kv[0], kv[1])
			}
			continue
		}
		target, begin := sec.get("TargetCompID"), sec.get("BeginString")
		if cfg.SessionByCompID(target) == 0 {
			return fmt.Errorf("gateway: quickfix settings %s line %d: [SESSION] TargetCompID %q is not a configured firm session", path, sec.line, target)
		}
		if sc := sec.get("SenderCompID"); sc != "" && sc != cfg.TargetCompID {
			return fmt.Errorf("gateway: quickfix settings %s line %d: SenderCompID %q is not the exchange's CompID %q", path, sec.line, sc, cfg.TargetCompID)
		}
		matched := false
		for _, b := range BeginStrings {
			if begin != "" && begin != b {
				continue
			}
			ss := sessions[quickfix.SessionID{BeginString: b, SenderCompID: cfg.TargetCompID, TargetCompID: target}]
			for _, kv := range sec.kvs {
				if !identityKeys[kv[0]] {
					ss.Set(kv[0], kv[1])
				}
			}
			matched = true
		}
		if !matched {
			return fmt.Errorf("gateway: quickfix settings %s line %d: BeginString %q is not one of %s", path, sec.line, begin, strings.Join(BeginStrings, ", "))
		}
	}
	return nil
}

type settingsSection struct {
	name string // DEFAULT or SESSION
	line int
	kvs  [][2]string
}

func (s *settingsSection) get(key string) string {
	for _, kv := range s.kvs {
		if kv[0] == key {
			return kv[1]
		}
	}
	return ""
}

// parseSettingsFile reads the QuickFIX INI-like format: [DEFAULT] and
// [SESSION] headers, key=value lines, # comments.
func parseSettingsFile(r io.Reader) ([]settingsSection, error) {
	var out []settingsSection
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.EqualFold(line, "[DEFAULT]"):
			out = append(out, settingsSection{name: "DEFAULT", line: n})
		case strings.EqualFold(line, "[SESSION]"):
			out = append(out, settingsSection{name: "SESSION", line: n})
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("line %d: expected key=value", n)
			}
			if len(out) == 0 {
				return nil, fmt.Errorf("line %d: setting before any [DEFAULT] or [SESSION] header", n)
			}
			sec := &out[len(out)-1]
			sec.kvs = append(sec.kvs, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		}
	}
	return out, sc.Err()
}

// sessionKeys are the QuickFIX settings keys the exchange's FIX session
// layer honours (the identity and listen keys come from the exchange
// configuration); an override file naming any other key is refused rather
// than silently ignored.
var sessionKeys = map[string]bool{
	"HeartBtInt": true, "FileStorePath": true, "FileStoreSync": true,
	"ResetOnLogon": true, "ResetOnLogout": true, "ResetOnDisconnect": true,
	"CheckLatency": true, "MaxLatency": true,
}

// sessionSettings turns one generated QuickFIX session's settings into the
// session layer's.
func sessionSettings(sid quickfix.SessionID, ss *quickfix.SessionSettings) (fixsession.Settings, error) {
	out := fixsession.Settings{
		Header: fixsession.Header{BeginString: sid.BeginString, SenderCompID: sid.SenderCompID, TargetCompID: sid.TargetCompID},
	}
	flag := func(key string, dst *bool) error {
		if !ss.HasSetting(key) {
			return nil
		}
		v, err := ss.BoolSetting(key)
		if err != nil {
			return fmt.Errorf("gateway: session %s: %s: %w", sid, key, err)
		}
		*dst = v
		return nil
	}
	for key, dst := range map[string]*bool{"ResetOnLogon": &out.ResetOnLogon, "ResetOnLogout": &out.ResetOnLogout, "ResetOnDisconnect": &out.ResetOnDisconnect, "FileStoreSync": &out.StoreSync} {
		if err := flag(key, dst); err != nil {
			return out, err
		}
	}
	if hb, err := ss.IntSetting("HeartBtInt"); err == nil {
		out.HeartBtInt = time.Duration(hb) * time.Second
	}
	check := true
	if err := flag("CheckLatency", &check); err != nil {
		return out, err
	}
	if check {
		out.MaxLatency = 120 * time.Second
		if ss.HasSetting("MaxLatency") {
			n, err := ss.IntSetting("MaxLatency")
			if err != nil || n <= 0 {
				return out, fmt.Errorf("gateway: session %s: MaxLatency must be a positive number of seconds", sid)
			}
			out.MaxLatency = time.Duration(n) * time.Second
		}
	}
	dir, err := ss.Setting("FileStorePath")
	if err != nil {
		return out, fmt.Errorf("gateway: session %s: %w", sid, err)
	}
	out.StoreDir = dir
	return out, nil
}

func supportedKeys() []string {
	var out []string
	for k := range sessionKeys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
