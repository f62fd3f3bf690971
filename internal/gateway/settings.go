package gateway

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/refdata"
)

// beginStrings are the FIX versions every configured CompID may log on with.
var beginStrings = []string{fixsession.BeginStringFIX44, fixsession.BeginStringFIX42}

// sessionKey names a session in the generated settings.
type sessionKey struct {
	cfg   refdata.SessionID
	begin string
}

// buildSettings turns the exchange configuration into QuickFIX-format
// settings, one set per configured SenderCompID and BeginString: the
// global ones (the listen address acceptorAddr, the store, the heartbeat)
// with the session's identity over them. The optional QuickFIX settings
// file named by cfg.QuickFIXSettings is applied on top; each set's
// Settings method then reads the keys the session layer honours.
func buildSettings(cfg *venueConfig, acceptorAddr string) (map[fixsession.SessionID]fixsession.KeyValues, map[fixsession.SessionID]sessionKey, error) {
	host, port, err := net.SplitHostPort(acceptorAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: acceptor address %q: %w", acceptorAddr, err)
	}
	if cfg.HeartbeatSeconds <= 0 {
		return nil, nil, fmt.Errorf("gateway: heartbeat_seconds %d must be positive", cfg.HeartbeatSeconds)
	}
	g := fixsession.KeyValues{
		"SocketAcceptHost": host,
		"SocketAcceptPort": port,
		"SenderCompID":     cfg.TargetCompID,
		"HeartBtInt":       strconv.Itoa(cfg.HeartbeatSeconds),
		// The session layer's store (its own format, hence not QuickFIX's
		// fix-store folder). The journal is the exchange's source of truth;
		// the FIX store only keeps sequence numbers and sent messages for
		// resends, so it is written through the page cache without an fsync
		// per message.
		"FileStorePath":     filepath.Join(cfg.DataDir, "fix-sessions"),
		"FileStoreSync":     "N",
		"ResetOnLogon":      "N",
		"ResetOnLogout":     "N",
		"ResetOnDisconnect": "N",
	}

	sessions := map[fixsession.SessionID]fixsession.KeyValues{}
	keys := map[fixsession.SessionID]sessionKey{}
	for i := range cfg.Sessions {
		cs := &cfg.Sessions[i]
		for _, begin := range beginStrings {
			sid := fixsession.SessionID{BeginString: begin, SenderCompID: cfg.TargetCompID, TargetCompID: cs.SenderCompID}
			sessions[sid] = fixsession.KeyValues{"BeginString": begin, "SenderCompID": cfg.TargetCompID, "TargetCompID": cs.SenderCompID}
			keys[sid] = sessionKey{cfg: cs.ID, begin: begin}
		}
	}
	if cfg.QuickFIXSettings != "" {
		if err := applyOverrides(cfg, cfg.QuickFIXSettings, g, sessions); err != nil {
			return nil, nil, err
		}
	}
	for sid, ss := range sessions {
		all := make(fixsession.KeyValues, len(g)+len(ss))
		for k, v := range g {
			all[k] = v
		}
		for k, v := range ss {
			all[k] = v
		}
		sessions[sid] = all
	}
	return sessions, keys, nil
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
func applyOverrides(cfg *venueConfig, path string, global fixsession.KeyValues, sessions map[fixsession.SessionID]fixsession.KeyValues) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("gateway: quickfix settings: %w", err)
	}
	defer f.Close()
	sections, err := fixsession.ParseSettings(f)
	if err != nil {
		return fmt.Errorf("gateway: quickfix settings %s: %w", path, err)
	}
	for _, sec := range sections {
		for _, kv := range sec.Pairs {
			if listenKeys[kv[0]] {
				return fmt.Errorf("gateway: quickfix settings %s line %d: %s cannot be overridden; set listen.fix in the exchange configuration", path, sec.Line, kv[0])
			}
			if !slices.Contains(fixsession.SettingsKeys(), kv[0]) && !identityKeys[kv[0]] {
				return fmt.Errorf("gateway: quickfix settings %s line %d: %s is not supported by the exchange's FIX session layer (supported: %s)", path, sec.Line, kv[0], strings.Join(fixsession.SettingsKeys(), ", "))
			}
		}
		if sec.Name == "DEFAULT" {
			for _, kv := range sec.Pairs {
				if identityKeys[kv[0]] {
					return fmt.Errorf("gateway: quickfix settings %s line %d: %s cannot be set in [DEFAULT]; it comes from the exchange configuration", path, sec.Line, kv[0])
				}
				global[kv[0]] = kv[1]
			}
			continue
		}
		target, begin := sec.Get("TargetCompID"), sec.Get("BeginString")
		if cfg.SessionByCompID(target) == 0 {
			return fmt.Errorf("gateway: quickfix settings %s line %d: [SESSION] TargetCompID %q is not a configured firm session", path, sec.Line, target)
		}
		if sc := sec.Get("SenderCompID"); sc != "" && sc != cfg.TargetCompID {
			return fmt.Errorf("gateway: quickfix settings %s line %d: SenderCompID %q is not the exchange's CompID %q", path, sec.Line, sc, cfg.TargetCompID)
		}
		matched := false
		for _, b := range beginStrings {
			if begin != "" && begin != b {
				continue
			}
			ss := sessions[fixsession.SessionID{BeginString: b, SenderCompID: cfg.TargetCompID, TargetCompID: target}]
			for _, kv := range sec.Pairs {
				if !identityKeys[kv[0]] {
					ss[kv[0]] = kv[1]
				}
			}
			matched = true
		}
		if !matched {
			return fmt.Errorf("gateway: quickfix settings %s line %d: BeginString %q is not one of %s", path, sec.Line, begin, strings.Join(beginStrings, ", "))
		}
	}
	return nil
}

// sessionSettings is the session layer's Settings of the generated session
// sid whose QuickFIX-format settings are kv.
func sessionSettings(sid fixsession.SessionID, kv fixsession.KeyValues) (fixsession.Settings, error) {
	st, err := kv.Settings(sid)
	if err != nil {
		return st, fmt.Errorf("gateway: %w", err)
	}
	return st, nil
}
