package gateway

import "github.com/exchange-sim/exchange/internal/refdata"

// Settings are the gateway's own configuration: the FIX listener, the FIX
// session layer's settings and the session stores. cmd/exchange fills them
// from the YAML's listen.fix, data_dir and gateway: section.
type Settings struct {
	// ListenFIX is the acceptor's address; DataDir holds the session
	// stores (DATA/fix/).
	ListenFIX string
	DataDir   string
	// TargetCompID is the exchange's CompID; HeartbeatSeconds the
	// heartbeat interval it offers.
	TargetCompID     string
	HeartbeatSeconds int
	// FloodLogoutAfter is how many messages a session may send over its
	// rate limit before it is logged out.
	FloodLogoutAfter int
	// QuickFIXSettings names a QuickFIX-format settings file whose keys
	// override the generated ones ("": none).
	QuickFIXSettings string
	// SeqResetTime ("HH:MM" UTC, or "never") and StoreRetentionDays: the
	// sessions' daily sequence reset and how long earlier days' stores
	// are kept.
	SeqResetTime       string
	StoreRetentionDays int
	// Schedule is the trading calendar (ExpireDate's end of day); nil:
	// continuous trading.
	Schedule *refdata.Schedule
}

// venueConfig is what the gateway reads: the reference data and its own
// settings.
type venueConfig struct {
	*refdata.Registry
	Settings
}
