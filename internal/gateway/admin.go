package gateway

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/fixsession/tag"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// What the operator console needs of the gateway: a view of the sessions,
// disconnecting one, refusing a firm's logons, and the reason text of
// halts for the SecurityStatus messages clients get.

// adminState is the gateway's operator-facing state.
type adminState struct {
	blocked []atomic.Bool // by FirmID-1: logons refused
	mu      sync.Mutex
	reasons map[matching.SymbolID]string // halt reasons for SecurityStatus Text
}

// sessionAdmin is what the console shows of one session besides its
// configuration: when it logged on, and counters for its rates.
type sessionAdmin struct {
	sinceNs atomic.Int64  // logon time, 0 when not logged on
	msgsIn  atomic.Uint64 // application messages received
	rejects atomic.Uint64 // rejects sent (gateway and order manager)

	mu       sync.Mutex // the rate sample below
	sampleNs int64
	sampleIn uint64
	sampleRj uint64
	inRate   float64
	rejRate  float64
}

// sampleEvery is the shortest interval rates are computed over.
const sampleEvery = time.Second

// SessionInfo is one configured FIX session as the console shows it.
type SessionInfo struct {
	ID           refdata.SessionID
	Firm         refdata.FirmID
	SenderCompID string // the client's CompID
	TargetCompID string // ours
	LoggedOn     bool
	BeginString  string    // of the logged-on session
	RemoteAddr   string    // of the logged-on session
	Since        time.Time // logon time (zero when not logged on)
	NextSeqOut   uint64    // next MsgSeqNum we send
	NextSeqIn    uint64    // next MsgSeqNum we expect
	MsgsIn       uint64    // application messages received since start
	Rejects      uint64    // rejects sent since start
	// MsgsPerSecond and RejectsPerSecond are the rates over the interval
	// between the last two samples (a sample is taken by Sessions at most
	// once a second).
	MsgsPerSecond, RejectsPerSecond float64
	LogonsBlocked                   bool
}

// Sessions describes every configured session, in SessionID order.
// O(sessions); it allocates.
func (g *Gateway) Sessions() []SessionInfo {
	now := time.Now()
	out := make([]SessionInfo, 0, len(g.sessions))
	for _, st := range g.sessions {
		info := SessionInfo{
			ID: st.cfg.ID, Firm: st.cfg.Firm, SenderCompID: st.cfg.SenderCompID, TargetCompID: g.cfg.TargetCompID,
			MsgsIn: st.adm.msgsIn.Load(), Rejects: st.adm.rejects.Load(), LogonsBlocked: g.FirmBlocked(st.cfg.Firm),
		}
		if fs := st.fs.Load(); fs != nil {
			info.LoggedOn = true
			info.BeginString = fs.ID().BeginString
			info.RemoteAddr = fs.RemoteAddr()
			info.NextSeqOut, info.NextSeqIn = fs.NextSeqNums()
			if ns := st.adm.sinceNs.Load(); ns != 0 {
				info.Since = time.Unix(0, ns)
			}
		}
		info.MsgsPerSecond, info.RejectsPerSecond = st.adm.rates(now, info.MsgsIn, info.Rejects)
		out = append(out, info)
	}
	return out
}

func (a *sessionAdmin) rates(now time.Time, in, rej uint64) (float64, float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ns := now.UnixNano()
	if a.sampleNs == 0 {
		a.sampleNs, a.sampleIn, a.sampleRj = ns, in, rej
		return 0, 0
	}
	if d := ns - a.sampleNs; d >= int64(sampleEvery) {
		sec := float64(d) / 1e9
		a.inRate, a.rejRate = float64(in-a.sampleIn)/sec, float64(rej-a.sampleRj)/sec
		a.sampleNs, a.sampleIn, a.sampleRj = ns, in, rej
	}
	return a.inRate, a.rejRate
}

// ErrNotLoggedOn is returned by Disconnect for a session with no connection.
var ErrNotLoggedOn = errors.New("session is not logged on")

// ErrUnknownSession is returned for a SessionID the configuration lacks.
var ErrUnknownSession = errors.New("unknown session")

// Disconnect logs session id out with text as the Logout's reason and
// closes its connection if the client has not answered within the flood
// grace period (2 s by default).
func (g *Gateway) Disconnect(id refdata.SessionID, text string) error {
	st := g.session(id)
	if st == nil {
		return ErrUnknownSession
	}
	fs := st.fs.Load()
	if fs == nil {
		return ErrNotLoggedOn
	}
	g.log.Warn().Str("session", fs.ID().String()).Str("reason", text).Msg("disconnected by an operator")
	if err := fs.Logout(text); err != nil {
		fs.Disconnect()
		return nil
	}
	time.AfterFunc(g.floodGrace, func() {
		if st.fs.Load() == fs {
			fs.Disconnect()
		}
	})
	return nil
}

// Connected reports whether session id is logged on.
func (g *Gateway) Connected(id refdata.SessionID) bool {
	st := g.session(id)
	return st != nil && st.fs.Load() != nil
}

// BlockFirm refuses (blocked) or again accepts the logons of firm's
// sessions. Sessions already logged on stay (Disconnect them).
func (g *Gateway) BlockFirm(firm refdata.FirmID, blocked bool) {
	if firm == 0 || int(firm) > len(g.adm.blocked) {
		return
	}
	g.adm.blocked[firm-1].Store(blocked)
}

// FirmBlocked reports whether firm's logons are refused.
func (g *Gateway) FirmBlocked(firm refdata.FirmID) bool {
	return firm != 0 && int(firm) <= len(g.adm.blocked) && g.adm.blocked[firm-1].Load()
}

// SetHaltReason sets the Text of the SecurityStatus messages that report
// sym halted ("" clears it). Call it before the halt is submitted.
func (g *Gateway) SetHaltReason(sym matching.SymbolID, reason string) {
	g.adm.mu.Lock()
	defer g.adm.mu.Unlock()
	if g.adm.reasons == nil {
		g.adm.reasons = map[matching.SymbolID]string{}
	}
	if reason == "" {
		delete(g.adm.reasons, sym)
	} else {
		g.adm.reasons[sym] = reason
	}
}

func (g *Gateway) haltReason(sym matching.SymbolID) string {
	g.adm.mu.Lock()
	defer g.adm.mu.Unlock()
	return g.adm.reasons[sym]
}

// logonBlocked returns the Logout text for a session of a blocked firm (fs
// is the configured FIX session logging on, nil when none is).
func (g *Gateway) logonBlocked(fs *fixsession.Session) string {
	st := g.byFS[fs]
	if st == nil || !g.FirmBlocked(st.cfg.Firm) {
		return ""
	}
	return "logons of this firm are blocked by the exchange"
}

// securityStatus fills a SecurityStatus (35=f) for rep: unsolicited, the
// symbol's trading status (2 halted, 17 ready to trade) and, in FIX 4.4,
// the halt's reason as Text.
func (g *Gateway) securityStatus(b *fixBody, rep *ordermanager.Report, sym *refdata.Symbol, fix42 bool) {
	if sym != nil {
		b.SetString(tag.Symbol, sym.Name)
	}
	b.SetString(tag.UnsolicitedIndicator, "Y")
	b.SetInt(tag.SecurityTradingStatus, int(rep.ExecType))
	if fix42 {
		return
	}
	if rep.ExecType == ordermanager.SecurityHalted {
		if r := g.haltReason(rep.Symbol); r != "" {
			b.SetString(tag.Text, "halted: "+r)
		} else {
			b.SetString(tag.Text, "halted")
		}
	} else {
		b.SetString(tag.Text, "trading resumed")
	}
}
