package admin

import "time"

// The JSON bodies of the API, shared by the server and the client. Prices,
// quantities and money are decimal strings, as everywhere at the edges.

// HaltRequest is POST /admin/v1/halt, /admin/v1/resume and /admin/v1/expire:
// one symbol, or every symbol with "all": true.
type HaltRequest struct {
	Symbol string `json:"symbol,omitempty"`
	All    bool   `json:"all,omitempty"`
	Reason string `json:"reason"`
}

// PhaseRequest is POST /admin/v1/phase: force one symbol, or every symbol
// that is not halted with "all": true, into a trading phase (one of
// ordermanager.OperatorPhases: closed, pre_open, opening_auction,
// continuous, closing_call, closing_auction, post_close,
// volatility_auction). Leaving a call uncrosses the book first, as the
// schedule's phase changes do.
type PhaseRequest struct {
	Symbol string `json:"symbol,omitempty"`
	All    bool   `json:"all,omitempty"`
	Phase  string `json:"phase"`
	Reason string `json:"reason"`
}

// KillRequest is POST /admin/v1/kill: the kill switch of an account, or of
// every account of a firm. On true cancels their open orders and refuses new
// ones; false lifts it.
type KillRequest struct {
	Account string `json:"account,omitempty"`
	Firm    string `json:"firm,omitempty"`
	On      *bool  `json:"on"`
	Reason  string `json:"reason"`
}

// CancelRequest is POST /admin/v1/cancel: every open order of a firm, an
// account and/or a symbol (at least one of them).
type CancelRequest struct {
	Firm    string `json:"firm,omitempty"`
	Account string `json:"account,omitempty"`
	Symbol  string `json:"symbol,omitempty"`
	Reason  string `json:"reason"`
}

// DisconnectRequest is POST /admin/v1/disconnect: log a FIX session out,
// named by its SenderCompID.
type DisconnectRequest struct {
	Session string `json:"session"`
	Reason  string `json:"reason"`
}

// BlockRequest is POST /admin/v1/block: refuse (blocked true) or again
// accept a firm's logons.
type BlockRequest struct {
	Firm    string `json:"firm"`
	Blocked *bool  `json:"blocked"`
	Reason  string `json:"reason"`
}

// LimitsRequest is POST /admin/v1/limits: new risk limits for an account;
// a field left out keeps its current value.
type LimitsRequest struct {
	Account string     `json:"account"`
	Limits  LimitsJSON `json:"limits"`
	Reason  string     `json:"reason"`
}

// LimitsJSON is a set of risk limits as the API writes them.
type LimitsJSON struct {
	MaxOrderLots            *int64  `json:"max_order_lots,omitempty"`
	MaxOrderNotional        *string `json:"max_order_notional,omitempty"`
	PriceBandBps            *int64  `json:"price_band_bps,omitempty"`
	MaxOpenOrders           *int    `json:"max_open_orders,omitempty"`
	AllowShort              *bool   `json:"allow_short,omitempty"`
	ShortLimitLots          *int64  `json:"short_limit_lots,omitempty"`
	RequireMarketProtection *bool   `json:"require_market_protection,omitempty"`
}

// ActionResult answers every action: where its commands went in the journal.
type ActionResult struct {
	Action string `json:"action"`
	Who    string `json:"who"`
	Why    string `json:"why"`
	// Seq is the sequence number of the action's note; LastSeq of its last
	// command. The action is in effect from Seq on, in replay too.
	Seq      uint64 `json:"seq"`
	LastSeq  uint64 `json:"last_seq"`
	Commands int    `json:"commands"`
}

// Status is GET /admin/v1/status.
type Status struct {
	Started       time.Time      `json:"started"`
	UptimeSeconds float64        `json:"uptime_seconds"`
	Journal       JournalStatus  `json:"journal"`
	Queues        QueueStatus    `json:"queues"`
	Symbols       []SymbolStatus `json:"symbols"`
	SessionsUp    int            `json:"sessions_logged_on"`
	Sessions      int            `json:"sessions"`
}

// JournalStatus is the journal's position and policy.
type JournalStatus struct {
	Dir        string `json:"dir"`
	Durability string `json:"durability"`
	DurableSeq uint64 `json:"durable_seq"`
	Records    uint64 `json:"records"`
	Fsyncs     uint64 `json:"fsyncs"`
}

// QueueStatus is how much work waits between the stages.
type QueueStatus struct {
	Inbound  int    `json:"inbound"`   // requests waiting for the order manager
	InFlight uint64 `json:"in_flight"` // commands sequenced and not yet matched
	Busy     uint64 `json:"busy"`      // requests refused because a queue was full
}

// SymbolStatus is one symbol's trading state. Phase is the engine's phase
// ("halted" while halted, as matching.Engine.Phase says it); PhaseUnderHalt
// is the phase a halted symbol resumes in.
type SymbolStatus struct {
	Symbol         string `json:"symbol"`
	Phase          string `json:"phase"`
	PhaseUnderHalt string `json:"phase_under_halt,omitempty"`
	Halted         bool   `json:"halted"`
	HaltReason     string `json:"halt_reason,omitempty"`
	Last           string `json:"last,omitempty"`
}

// Session is one FIX session in GET /admin/v1/sessions.
type Session struct {
	Session          string    `json:"session"` // the client's SenderCompID
	Firm             string    `json:"firm"`
	TargetCompID     string    `json:"target_comp_id"`
	LoggedOn         bool      `json:"logged_on"`
	BeginString      string    `json:"begin_string,omitempty"`
	Address          string    `json:"address,omitempty"`
	ConnectedSince   time.Time `json:"connected_since,omitzero"`
	NextSeqIn        uint64    `json:"next_seq_in,omitempty"`
	NextSeqOut       uint64    `json:"next_seq_out,omitempty"`
	MsgsIn           uint64    `json:"msgs_in"`
	Rejects          uint64    `json:"rejects"`
	MsgsPerSecond    float64   `json:"msgs_per_second"`
	RejectsPerSecond float64   `json:"rejects_per_second"`
	LogonsBlocked    bool      `json:"logons_blocked"`
}

// Account is one account in GET /admin/v1/accounts.
type Account struct {
	Account       string             `json:"account"`
	Firm          string             `json:"firm"`
	Cash          string             `json:"cash"`
	CashReserved  string             `json:"cash_reserved"`
	Holdings      map[string]Holding `json:"holdings"`
	OpenOrders    int                `json:"open_orders"`
	KillSwitch    bool               `json:"kill_switch"`
	Limits        LimitsJSON         `json:"limits"`
	LimitsChanged bool               `json:"limits_changed"`
}

// Holding is an account's position in one symbol.
type Holding struct {
	Qty      string `json:"qty"`
	Reserved string `json:"reserved"`
}

// Order is one open order in GET /admin/v1/firms/{firm}/orders.
type Order struct {
	OrderID string `json:"order_id"`
	ClOrdID string `json:"cl_ord_id"`
	Account string `json:"account"`
	Session string `json:"session"`
	Symbol  string `json:"symbol"`
	Side    string `json:"side"`
	Type    string `json:"type"`
	TIF     string `json:"tif"`
	Price   string `json:"price"`
	Qty     string `json:"qty"`
	Filled  string `json:"filled"`
	Leaves  string `json:"leaves"`
}

// Action is one journaled operator action in GET /admin/v1/actions.
type Action struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Action  string    `json:"action"`
	Who     string    `json:"who"`
	Why     string    `json:"why"`
	Symbol  string    `json:"symbol,omitempty"`
	Account string    `json:"account,omitempty"`
	Firm    string    `json:"firm,omitempty"`
	Session string    `json:"session,omitempty"`
	Phase   string    `json:"phase,omitempty"` // the phase of a "phase" action
}
