// Package tag names the FIX 4.2/4.4 field numbers the exchange reads and
// writes, as untyped constants (so they serve as the int tags of the
// session layer's wire functions without a conversion). The names are the
// FIX specification's field names. Add a field here when code first needs
// it; this is not a full data dictionary (fixsession embeds that).
package tag

// Field numbers, by name.
const (
	Account                = 1
	AvgPx                  = 6
	BusinessRejectReason   = 380
	BusinessRejectRefID    = 379
	ClOrdID                = 11
	CommType               = 13
	Commission             = 12
	CumQty                 = 14
	CxlRejReason           = 102
	CxlRejResponseTo       = 434
	ExecID                 = 17
	ExecInst               = 18
	ExecTransType          = 20
	ExecType               = 150
	ExpireDate             = 432
	ExpireTime             = 126
	LastLiquidityInd       = 851
	LastPx                 = 31
	LastQty                = 32
	LeavesQty              = 151
	MassCancelRejectReason = 532
	MassCancelRequestType  = 530
	MassCancelResponse     = 531
	MaxFloor               = 111
	MsgType                = 35
	OrdRejReason           = 103
	OrdStatus              = 39
	OrdType                = 40
	OrderID                = 37
	OrderQty               = 38
	OrigClOrdID            = 41
	Password               = 554
	Price                  = 44
	RefMsgType             = 372
	RefSeqNum              = 45
	SecurityTradingStatus  = 326
	Side                   = 54
	StopPx                 = 99
	Symbol                 = 55
	Text                   = 58
	TimeInForce            = 59
	TotalAffectedOrders    = 533
	TradSesStatus          = 340
	TradingSessionID       = 336
	TradingSessionSubID    = 625
	TransactTime           = 60
	UnsolicitedIndicator   = 325
	Username               = 553
)
