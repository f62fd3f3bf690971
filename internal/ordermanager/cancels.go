package ordermanager

import "github.com/exchange-sim/exchange/matching"

// CancelReason says why the exchange itself cancelled or reduced an order
// (Report.Cancel, on the ExecType 4 or D reports the engine's cancels
// cause; 0 on a cancel the client asked for). Its String is the report's
// Text (58); RestatementReason the FIX ExecRestatementReason (378).
type CancelReason uint8

const (
	CancelNone CancelReason = iota
	CancelIOCRemainder
	CancelFOKUnfilled
	CancelMarketNoLiquidity
	// CancelSTP* name the taker's self-trade prevention mode; the report is
	// about the order the mode cancelled (or reduced).
	CancelSTPNewest
	CancelSTPOldest
	CancelSTPBothTaker
	CancelSTPBothMaker
	CancelSTPDecrement
	// CancelSTP is a self-trade cancel whose mode is not known here (an
	// order rested before a restart and re-entered by a replace).
	CancelSTP
	CancelMass
	CancelExpired
	cancelCount
)

var cancelTexts = [cancelCount]string{
	CancelIOCRemainder:      "IOC remainder cancelled: no more liquidity at the limit price",
	CancelFOKUnfilled:       "FOK order killed: it could not be filled in full at once",
	CancelMarketNoLiquidity: "market order remainder cancelled: no more liquidity within the protection price",
	CancelSTPNewest:         "self-trade prevention (cancel newest): the incoming order would have traded with a resting order of the same account and was cancelled",
	CancelSTPOldest:         "self-trade prevention (cancel oldest): a newer order of the same account would have traded with this resting order, which was cancelled",
	CancelSTPBothTaker:      "self-trade prevention (cancel both): the incoming order would have traded with a resting order of the same account; both were cancelled",
	CancelSTPBothMaker:      "self-trade prevention (cancel both): a newer order of the same account would have traded with this resting order; both were cancelled",
	CancelSTPDecrement:      "self-trade prevention (decrement and cancel): the quantity that would have traded with an order of the same account was taken off both orders",
	CancelSTP:               "self-trade prevention: the order would have traded with an order of the same account",
	CancelMass:              "cancelled by a mass cancel (client request, cancel on disconnect or kill switch)",
	CancelExpired:           "order expired (its time in force ended)",
}

// String returns the reason's Text ("" for CancelNone).
func (c CancelReason) String() string {
	if c >= cancelCount {
		return ""
	}
	return cancelTexts[c]
}

// RestatementReason returns FIX 4.4 ExecRestatementReason (378) for c, or
// -1 where FIX has no code: 8 (market, i.e. exchange, option) for the
// engine's own cancels and self-trade reductions. Mass cancels and expiry
// have none in FIX 4.4.
func (c CancelReason) RestatementReason() int {
	switch c {
	case CancelIOCRemainder, CancelFOKUnfilled, CancelMarketNoLiquidity,
		CancelSTPNewest, CancelSTPOldest, CancelSTPBothTaker, CancelSTPBothMaker, CancelSTPDecrement, CancelSTP:
		return 8
	}
	return -1
}

// cancelReason names the engine's cancel of order r (ev.Reason); the
// self-trade mode is the taker's, the order last accepted or re-entered.
func (m *Manager) cancelReason(ev *matching.Event, r *orderRec) CancelReason {
	switch ev.Reason {
	case matching.ReasonIOCRemainder:
		return CancelIOCRemainder
	case matching.ReasonFOKUnfilled:
		return CancelFOKUnfilled
	case matching.ReasonMarketNoLiquidity:
		return CancelMarketNoLiquidity
	case matching.ReasonMassCancel:
		return CancelMass
	case matching.ReasonExpired:
		return CancelExpired
	case matching.ReasonSelfTrade:
	default:
		return CancelNone
	}
	isTaker := r.id == m.taker
	mode := matching.STPNone
	if t := m.order(m.taker); t != nil {
		mode = t.stp
	} else if isTaker {
		mode = r.stp
	}
	switch mode {
	case matching.STPCancelNewest:
		return CancelSTPNewest
	case matching.STPCancelOldest:
		return CancelSTPOldest
	case matching.STPCancelBoth:
		if isTaker {
			return CancelSTPBothTaker
		}
		return CancelSTPBothMaker
	case matching.STPDecrementCancel:
		return CancelSTPDecrement
	}
	return CancelSTP
}
