package ordermanager

import (
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// ClOrdIDMax is the longest client order ID accepted (a UUID in text fits).
const ClOrdIDMax = 40

// ClOrdID is a client order ID held without allocation. It is comparable, so it
// can key a map.
type ClOrdID struct {
	n uint8
	b [ClOrdIDMax]byte
}

// MakeClOrdID copies s into a ClOrdID; ok is false when s is empty or longer
// than ClOrdIDMax.
func MakeClOrdID(s string) (id ClOrdID, ok bool) { return makeClOrdID(s) }

// MakeClOrdIDBytes is MakeClOrdID for a byte slice; it does not allocate.
func MakeClOrdIDBytes(s []byte) (id ClOrdID, ok bool) { return makeClOrdID(s) }

func makeClOrdID[T string | []byte](s T) (id ClOrdID, ok bool) {
	if len(s) == 0 || len(s) > ClOrdIDMax {
		return id, false
	}
	id.n = uint8(copy(id.b[:], s))
	return id, true
}

// String returns the ID as text (allocates).
func (c ClOrdID) String() string { return string(c.b[:c.n]) }

// Bytes returns the ID's bytes; the slice aliases c.
func (c *ClOrdID) Bytes() []byte { return c.b[:c.n] }

// IsZero reports whether the ID is empty.
func (c ClOrdID) IsZero() bool { return c.n == 0 }

// RequestKind says what a Request asks for.
type RequestKind uint8

const (
	ReqNew        RequestKind = 1 // NewOrderSingle
	ReqCancel     RequestKind = 2 // OrderCancelRequest
	ReqReplace    RequestKind = 3 // OrderCancelReplaceRequest
	ReqStatus     RequestKind = 4 // OrderStatusRequest: answered from state, not sequenced
	ReqMassCancel RequestKind = 5 // OrderMassCancelRequest (Symbol 0 = all symbols)
	// ReqDisconnect tells the order manager a session went away; with the
	// session's cancel-on-disconnect setting its open orders are cancelled.
	ReqDisconnect RequestKind = 6
	// ReqKillSwitch turns an account's kill switch on (On=true: cancel all its
	// orders, refuse new ones) or off. An operator action.
	ReqKillSwitch RequestKind = 7
	// ReqHalt and ReqResume halt and resume a symbol. Operator actions.
	ReqHalt   RequestKind = 8
	ReqResume RequestKind = 9
	// ReqExpire ends the trading day for Symbol (0 = all): Day orders expire,
	// and GTD orders due by the sequencer's time.
	ReqExpire RequestKind = 10
	// ReqPhase moves Symbol (0 = all) to Phase; ReqExpireGTD expires the GTD
	// orders due by the sequencer's time. The scheduler's requests.
	ReqPhase     RequestKind = 11
	ReqExpireGTD RequestKind = 12
)

// Request is one normalized message from the gateway: decimals already
// converted to ticks and lots, names to IDs. It is a fixed-size value.
type Request struct {
	Kind     RequestKind
	Side     matching.Side
	Type     matching.OrderType
	TIF      matching.TimeInForce
	STP      matching.STPMode
	PostOnly bool
	On       bool           // ReqKillSwitch
	Phase    matching.Phase // ReqPhase

	Session refdata.SessionID
	Firm    refdata.FirmID
	Account matching.AccountID
	Symbol  matching.SymbolID
	Price   int64 // ticks; limit price, or market protection price (0 none)
	Qty     int64 // lots; order quantity, or new total quantity on replace
	// StopPrice is a stop or stop-limit order's trigger price in ticks
	// (FIX StopPx 99); Display an iceberg's peak in lots (MaxFloor 111);
	// ExpireNs a GTD order's expiry, Unix ns (ExpireTime 126 or the end of
	// ExpireDate 432).
	StopPrice int64
	Display   int64
	ExpireNs  int64

	ClOrdID     ClOrdID
	OrigClOrdID ClOrdID
	OrderID     matching.OrderID // FIX OrderID (37), optional on cancel/replace/status

	// RecvNs is when the gateway received the message (monotonic-ish Unix ns),
	// carried for latency measurement only; it never affects state.
	RecvNs int64
}

// ReportKind says what a Report is.
type ReportKind uint8

const (
	RepExec           ReportKind = 1 // ExecutionReport (35=8)
	RepCancelReject   ReportKind = 2 // OrderCancelReject (35=9)
	RepMassCancel     ReportKind = 3 // OrderMassCancelReport (35=r)
	RepBusinessReject ReportKind = 4 // BusinessMessageReject (35=j)
)

// FIX ExecType (150) and OrdStatus (39) values carried in reports.
const (
	ExecNew      byte = '0'
	ExecCanceled byte = '4'
	ExecReplaced byte = '5'
	ExecRejected byte = '8'
	ExecExpired  byte = 'C'
	ExecTrade    byte = 'F'
	// ExecTriggered (150=L): a stop order was triggered and now works as a
	// market or limit order.
	ExecTriggered   byte = 'L'
	ExecOrderStatus byte = 'I'

	StatusNew             byte = '0'
	StatusPartiallyFilled byte = '1'
	StatusFilled          byte = '2'
	StatusCanceled        byte = '4'
	StatusRejected        byte = '8'
	StatusExpired         byte = 'C'
	StatusPendingNew      byte = 'A'
)

// RejectCode names the check or rule that refused a request. RejectText(code)
// (also code.String()) gives its fixed text; code.OrdRejReason() and
// code.CxlRejReason() give the FIX reason codes (103 and 102).
type RejectCode uint8

// Report is one message for the gateway to send to a session. It is a
// fixed-size value; the gateway converts ticks and lots back to decimals.
type Report struct {
	Kind    ReportKind
	Session refdata.SessionID

	ExecType  byte
	OrdStatus byte
	ExecID    uint64
	// OutSeq is the OutSeq of the engine event the report comes from (its
	// ExecID is derived from it), so the journal regenerates it at recovery;
	// 0 for the order manager's own answers (rejects before sequencing,
	// status answers), which nothing regenerates.
	OutSeq uint64

	OrderID     matching.OrderID
	ClOrdID     ClOrdID
	OrigClOrdID ClOrdID
	Account     matching.AccountID
	Symbol      matching.SymbolID
	Side        matching.Side
	Type        matching.OrderType
	TIF         matching.TimeInForce

	Price    int64 // order limit price, ticks
	OrderQty int64 // lots
	CumQty   int64
	Leaves   int64
	LastPx   int64 // ticks
	LastQty  int64
	// CumTicksLots is the sum of price×qty over the order's fills, in tick-lots,
	// so AvgPx = CumTicksLots / CumQty ticks exactly (the gateway divides in
	// decimal).
	CumTicksLots int64
	// Fee charged on this fill, in minor currency units (negative is a rebate).
	Fee int64
	// Auction marks a fill printed by an auction uncross (FIX
	// LastLiquidityInd 851 = 4).
	Auction bool

	Reject RejectCode // for rejects: why
	// CxlRejResponseTo is FIX 434: '1' cancel, '2' replace (RepCancelReject).
	CxlRejResponseTo byte
	// MassCancelled is the number of orders a mass cancel affected (RepMassCancel).
	MassCancelled int64
	// RefMsgType is FIX 372 for RepBusinessReject ('D', 'F', 'G', 'H', 'q').
	RefMsgType byte

	TransactNs int64 // engine time of the change (sequencer stamp)
	RecvNs     int64 // copied from the request, for latency measurement

	// Cancel says why the exchange cancelled or reduced the order itself
	// (ExecType 4, C or D); 0 when the client asked for it.
	Cancel CancelReason
	// MassStatus is set on the answers to an OrderMassStatusRequest
	// (massstatus.go).
	MassStatus MassStatus
}

// ExecRestated (150=D) reports an order reduced in place by the exchange
// (self-trade prevention decrement); the order stays open.
const ExecRestated byte = 'D'
