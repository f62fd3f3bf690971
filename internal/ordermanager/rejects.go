package ordermanager

import "github.com/exchange-sim/exchange/matching"

// Reject codes. Every refusal names the check that failed; RejectText gives the
// fixed text for FIX Text (58), OrdRejReason and CxlRejReason the FIX codes.
const (
	RejNone RejectCode = iota
	// RejBusy: the sequencer queue was full; nothing changed.
	RejBusy
	RejUnknownSession
	RejUnknownAccount
	RejWrongFirm
	RejInvalidClOrdID
	RejDuplicateClOrdID
	RejUnknownSymbol
	RejHalted
	RejInvalidSide
	RejInvalidType
	RejInvalidTIF
	RejInvalidSTP
	RejPostOnlyNotAllowed
	RejInvalidQty
	RejMaxOrderLots
	RejInvalidPrice
	RejPriceBand
	RejNoProtection
	RejNoReference
	RejMaxNotional
	RejMaxOpenOrders
	RejInsufficientCash
	RejInsufficientHoldings
	RejShortLimit
	RejKillSwitch
	RejUnknownOrder
	RejTooLate
	RejPending
	RejReplaceMismatch
	RejNotReplaceable
	RejMassCancelPending
	RejPostOnlyWouldTrade
	RejEngine
	RejUnsupported
	// RejCancelPending: a cancel is the last request in flight for the
	// order; nothing may be chained behind it.
	RejCancelPending
	// RejPhase: the symbol's trading phase does not accept the request (for
	// example a new order in post-close, IOC in a call, at-the-open outside
	// the pre-open call).
	RejPhase
	RejInvalidStopPrice
	RejInvalidDisplay
	RejInvalidExpiry
	rejCount
)

var rejectTexts = [rejCount]string{
	RejNone:                 "",
	RejBusy:                 "exchange busy: order manager queue full, request not processed",
	RejUnknownSession:       "unknown session or session not of this firm",
	RejUnknownAccount:       "unknown account",
	RejWrongFirm:            "account belongs to another firm",
	RejInvalidClOrdID:       "ClOrdID missing or too long",
	RejDuplicateClOrdID:     "duplicate ClOrdID for this session",
	RejUnknownSymbol:        "unknown symbol",
	RejHalted:               "symbol halted",
	RejInvalidSide:          "invalid side",
	RejInvalidType:          "invalid order type",
	RejInvalidTIF:           "invalid time in force",
	RejInvalidSTP:           "invalid self-trade prevention mode",
	RejPostOnlyNotAllowed:   "post-only not allowed with market, IOC or FOK orders",
	RejInvalidQty:           "quantity must be positive and at most 2^40 lots",
	RejMaxOrderLots:         "quantity exceeds the account's maximum order size",
	RejInvalidPrice:         "price must be positive and at most 2^50 ticks",
	RejPriceBand:            "price outside the price band around the reference price",
	RejNoProtection:         "market order needs a protection price for this account",
	RejNoReference:          "market order without protection price: no price band or reference price to derive one",
	RejMaxNotional:          "notional exceeds the account's maximum order notional",
	RejMaxOpenOrders:        "account has the maximum number of open orders",
	RejInsufficientCash:     "insufficient free cash",
	RejInsufficientHoldings: "insufficient free holdings (short selling not allowed)",
	RejShortLimit:           "sale would exceed the account's short limit",
	RejKillSwitch:           "account kill switch is on",
	RejUnknownOrder:         "unknown order",
	RejTooLate:              "order already closed (too late)",
	RejPending:              "order already has the maximum number of cancels and replaces pending",
	RejReplaceMismatch:      "replace may not change symbol, side or order type",
	RejNotReplaceable:       "order cannot be replaced",
	RejMassCancelPending:    "too many mass cancels pending for this account",
	RejPostOnlyWouldTrade:   "post-only order would take liquidity",
	RejEngine:               "refused by the matching engine",
	RejUnsupported:          "unsupported request",
	RejCancelPending:        "order already has a cancel pending",
	RejPhase:                "not accepted in the symbol's current trading phase",
	RejInvalidStopPrice:     "stop price missing, out of range, or given for an order that is not a stop order",
	RejInvalidDisplay:       "MaxFloor must be below the order quantity, on a limit order that may rest",
	RejInvalidExpiry:        "GTD order needs an ExpireTime or ExpireDate in the future; other orders none",
}

// RejectText returns the fixed text of c (for FIX Text 58). It does not
// allocate; an unknown code gives "unknown reject code".
func RejectText(c RejectCode) string {
	if c >= rejCount {
		return "unknown reject code"
	}
	return rejectTexts[c]
}

// String is RejectText(c).
func (c RejectCode) String() string { return RejectText(c) }

// OrdRejReason returns the FIX OrdRejReason (103) value of c for a rejected
// order: 0 broker/exchange option, 1 unknown symbol, 2 exchange closed,
// 3 order exceeds limit, 5 unknown order, 6 duplicate order, 11 unsupported
// order characteristic, 13 incorrect quantity, 15 unknown account, 99 other.
func (c RejectCode) OrdRejReason() int {
	switch c {
	case RejKillSwitch:
		return 0
	case RejUnknownSymbol:
		return 1
	case RejHalted, RejPhase:
		return 2
	case RejMaxOrderLots, RejMaxNotional, RejMaxOpenOrders, RejInsufficientCash,
		RejInsufficientHoldings, RejShortLimit:
		return 3
	case RejUnknownOrder, RejTooLate:
		return 5
	case RejDuplicateClOrdID:
		return 6
	case RejInvalidSide, RejInvalidType, RejInvalidTIF, RejInvalidSTP, RejPostOnlyNotAllowed,
		RejInvalidStopPrice, RejInvalidDisplay, RejInvalidExpiry,
		RejNoProtection, RejNoReference, RejPostOnlyWouldTrade, RejReplaceMismatch, RejNotReplaceable:
		return 11
	case RejInvalidQty:
		return 13
	case RejUnknownAccount, RejWrongFirm:
		return 15
	}
	return 99
}

// CxlRejReason returns the FIX CxlRejReason (102) value of c for a refused
// cancel or replace: 0 too late to cancel, 1 unknown order, 3 already pending,
// 6 duplicate ClOrdID, 99 other.
func (c RejectCode) CxlRejReason() int {
	switch c {
	case RejTooLate:
		return 0
	case RejUnknownOrder:
		return 1
	case RejPending, RejCancelPending:
		return 3
	case RejDuplicateClOrdID:
		return 6
	}
	return 99
}

// engineReject maps the engine's rejection reason to a RejectCode.
func engineReject(r matching.Reason) RejectCode {
	switch r {
	case matching.ReasonUnknownSymbol:
		return RejUnknownSymbol
	case matching.ReasonUnknownOrder:
		return RejTooLate
	case matching.ReasonInvalidQty:
		return RejInvalidQty
	case matching.ReasonInvalidPrice:
		return RejInvalidPrice
	case matching.ReasonInvalidSide:
		return RejInvalidSide
	case matching.ReasonInvalidType:
		return RejInvalidType
	case matching.ReasonInvalidTIF:
		return RejInvalidTIF
	case matching.ReasonInvalidSTP:
		return RejInvalidSTP
	case matching.ReasonHalted:
		return RejHalted
	case matching.ReasonPostOnlyWouldTrade:
		return RejPostOnlyWouldTrade
	case matching.ReasonNotReplaceable:
		return RejNotReplaceable
	case matching.ReasonPhase:
		return RejPhase
	case matching.ReasonInvalidStopPrice:
		return RejInvalidStopPrice
	case matching.ReasonInvalidDisplay:
		return RejInvalidDisplay
	case matching.ReasonInvalidExpiry:
		return RejInvalidExpiry
	}
	return RejEngine
}
