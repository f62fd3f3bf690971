package gateway

import (
	"fmt"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/fixsession/tag"
)

// echoValid is echo for a reject's copy of the request's fields, leaving
// out a value a FIX data dictionary would refuse in the reject itself (an
// undefined Side, OrdType or TimeInForce, a quantity or price that is not a
// plain decimal): a validating client would otherwise reject the reject and
// never see its reason. The reject's Text names the bad value.
func echoValid(from fields, to *fixBody, tags ...int) {
	for _, t := range tags {
		v, ok := optional(from, t)
		if !ok || len(v) == 0 || !validValue(t, v) {
			continue
		}
		to.SetBytes(t, v)
	}
}

// validValue reports whether v is a value FIX 4.4 (and 4.2, whose sets are
// subsets) defines for t; tags it does not check are valid.
func validValue(t int, v []byte) bool {
	switch t {
	case tag.Side:
		return len(v) == 1 && (v[0] >= '1' && v[0] <= '9' || v[0] >= 'A' && v[0] <= 'G')
	case tag.OrdType:
		return len(v) == 1 && (v[0] >= '1' && v[0] <= '9' || v[0] >= 'A' && v[0] <= 'M' || v[0] == 'P')
	case tag.TimeInForce:
		return len(v) == 1 && v[0] >= '0' && v[0] <= '7'
	case tag.OrderQty, tag.Price:
		return plainDecimal(v)
	}
	return true
}

// plainDecimal reports whether v is a FIX float: an optional '-', digits
// and at most one '.', at least one digit (no '+', no exponent).
func plainDecimal(v []byte) bool {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
	}
	digits, dot := 0, false
	for _, c := range v {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// transactTime checks TransactTime (60) of an order when it is there: it
// must be a UTCTimestamp (session Reject 373=6 otherwise). Its absence is
// accepted, although FIX 4.2 and 4.4 require it on NewOrderSingle and
// OrderCancelReplaceRequest: the exchange never reads the client's time
// (every report carries the sequencer's), and refusing orders without it
// would turn away hand-written and minimal clients for a field nothing
// uses. exchange broker and QuickFIX-based brokers send it (see README).
func transactTime(b fields) *fixsession.RejectError {
	v, ok := optional(b, tag.TransactTime)
	if !ok {
		return nil
	}
	if _, ok := fixsession.ParseTimestamp(v); !ok {
		return fixsession.RejectTag(sessRejIncorrectDataFormat, tag.TransactTime, fmt.Sprintf("incorrect data format for value: TransactTime (60) %q is not a UTCTimestamp", clip(v)))
	}
	return nil
}
