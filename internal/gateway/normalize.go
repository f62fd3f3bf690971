package gateway

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/fixsession/tag"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/internal/units"
	"github.com/exchange-sim/exchange/matching"
)

// FIX tags come from internal/fixsession/tag; this one is the exchange's
// own.
const (
	// tagSTPMode is the user-defined tag that carries an order's self-trade
	// prevention mode: 0 none, 1 cancel newest, 2 cancel oldest, 3 cancel
	// both, 4 decrement and cancel (matching.STPMode values).
	tagSTPMode = 7928
)

// reason is why the gateway itself refused a message. Each message type
// renders it with its own FIX reason code (see reasonCode).
type reason uint8

const (
	rOther reason = iota
	rUnknownSymbol
	rUnsupported // a value FIX allows but this exchange does not support
	rBadQty
	rBadPrice
	rUnknownAccount
	rUnknownOrder
	rTooLong
	rRateLimited
	rBusy
	rFlood
	reasonCount
)

var reasonNames = [reasonCount]string{"other", "unknown_symbol", "unsupported", "bad_qty", "bad_price", "unknown_account", "unknown_order", "too_long", "rate_limited", "busy", "flood"}

// FIX reason codes used by the gateway's own rejects.
const (
	ordRejUnknownSymbol  = 1  // OrdRejReason 103
	ordRejUnknownOrder   = 5  //
	ordRejUnsupported    = 11 // unsupported order characteristic
	ordRejIncorrectQty   = 13
	ordRejUnknownAccount = 15
	ordRejOther          = 99

	cxlRejUnknownOrder = 1 // CxlRejReason 102
	cxlRejOther        = 99

	massRejNotSupported   = 0 // MassCancelRejectReason 532
	massRejUnknownSymbol  = 1
	massRejOther          = 99
	massResponseRejected  = "0" // MassCancelResponse 531
	bizOther              = 0   // BusinessRejectReason 380
	bizUnknownID          = 1
	bizUnknownSecurity    = 2
	bizUnsupportedMsgType = 3
	bizNotAvailable       = 4
	bizNotAuthorized      = 6
)

// reasonCode is the FIX reason code for r in a reject of message type mt:
// OrdRejReason for D, CxlRejReason for F and G, MassCancelRejectReason for q,
// BusinessRejectReason for the rest.
func reasonCode(mt byte, r reason) int {
	switch mt {
	case 'D':
		switch r {
		case rUnknownSymbol:
			return ordRejUnknownSymbol
		case rUnsupported:
			return ordRejUnsupported
		case rBadQty:
			return ordRejIncorrectQty
		case rUnknownAccount:
			return ordRejUnknownAccount
		case rUnknownOrder:
			return ordRejUnknownOrder
		}
		return ordRejOther
	case 'F', 'G':
		switch r {
		case rUnknownOrder:
			return cxlRejUnknownOrder
		}
		return cxlRejOther
	case 'q':
		switch r {
		case rUnknownSymbol:
			return massRejUnknownSymbol
		case rUnsupported:
			return massRejNotSupported
		}
		return massRejOther
	}
	switch r {
	case rUnknownSymbol:
		return bizUnknownSecurity
	case rUnknownOrder:
		return bizUnknownID
	case rBadPrice, rBadQty, rUnsupported, rTooLong:
		return bizOther
	case rBusy:
		return bizNotAvailable
	case rUnknownAccount:
		return bizNotAuthorized
	}
	return bizOther
}

// rejection is a business-level refusal of one message: it is answered with
// the reject message of its type (ExecutionReport, OrderCancelReject,
// OrderMassCancelReport or BusinessMessageReject) carrying code and text.
type rejection struct {
	why  reason
	text string
}

func reject(why reason, format string, args ...any) *rejection {
	return &rejection{why: why, text: fmt.Sprintf(format, args...)}
}

// normalizer turns one inbound application message of a logged-on session
// into an ordermanager.Request. It never panics on any input: a message is
// either a Request, a rejection (business reject with a code and text), or a
// fixsession.RejectError (session-level Reject: required tag missing,
// incorrect data format).
type normalizer struct {
	cfg   *venueConfig
	sess  *refdata.Session
	units []symUnits // by SymbolID-1; nil means the decimal path only
}

// fields is read access to a message's fields: rawFields over the session
// layer's message (no parse into maps), or the tests' messages.
type fields interface {
	Has(tag int) bool
	// Get returns the value of tag's first field, ok false when absent.
	Get(tag int) (v []byte, ok bool)
}

// rawFields reads the fields of an inbound message as the session layer
// framed it. Header fields are there too; none of them is a tag the
// normalizer asks for.
type rawFields struct{ m *fixsession.Message }

func (r rawFields) Has(t int) bool {
	_, ok := r.m.Get(t)
	return ok
}

func (r rawFields) Get(t int) ([]byte, bool) { return r.m.Get(t) }

func (n normalizer) normalizeFields(b fields, mt byte) (req ordermanager.Request, rej *rejection, merr *fixsession.RejectError) {
	req.Session = n.sess.ID
	req.Firm = n.sess.Firm
	switch mt {
	case 'D':
		req.Kind = ordermanager.ReqNew
		return n.order(b, req, true)
	case 'F':
		req.Kind = ordermanager.ReqCancel
		return n.cancel(b, req)
	case 'G':
		req.Kind = ordermanager.ReqReplace
		return n.order(b, req, false)
	case 'H':
		req.Kind = ordermanager.ReqStatus
		return n.status(b, req)
	case 'q':
		req.Kind = ordermanager.ReqMassCancel
		return n.massCancel(b, req)
	}
	return req, nil, fixsession.BusinessReject(bizUnsupportedMsgType, fmt.Sprintf("unsupported message type %q", mt))
}

// order handles NewOrderSingle (isNew) and OrderCancelReplaceRequest.
func (n normalizer) order(b fields, req ordermanager.Request, isNew bool) (ordermanager.Request, *rejection, *fixsession.RejectError) {
	clOrdID, merr := required(b, tag.ClOrdID, "ClOrdID")
	if merr != nil {
		return req, nil, merr
	}
	for _, t := range []struct {
		tag  int
		name string
	}{{tag.Symbol, "Symbol"}, {tag.Side, "Side"}, {tag.OrderQty, "OrderQty"}, {tag.OrdType, "OrdType"}} {
		if _, merr := required(b, t.tag, t.name); merr != nil {
			return req, nil, merr
		}
	}
	if merr := transactTime(b); merr != nil {
		return req, nil, merr
	}
	var rej *rejection
	if req.ClOrdID, rej = newClOrdID(clOrdID); rej != nil {
		return req, rej, nil
	}
	if !isNew {
		if rej, merr := n.orderRef(b, &req); rej != nil || merr != nil {
			return req, rej, merr
		}
	}
	sym, rej := n.symbol(b)
	if rej != nil {
		return req, rej, nil
	}
	req.Symbol = sym.ID
	if req.Side, rej = side(b); rej != nil {
		return req, rej, nil
	}
	ordType, _ := b.Get(tag.OrdType)
	switch string(ordType) {
	case "1":
		req.Type = matching.Market
	case "2":
		req.Type = matching.Limit
	case "3":
		req.Type = matching.Stop
	case "4":
		req.Type = matching.StopLimit
	default:
		return req, reject(rUnsupported, "OrdType (40) %q is not supported: use 1 (market), 2 (limit), 3 (stop) or 4 (stop limit)", clip(ordType)), nil
	}
	req.TIF = matching.Day
	if tif, ok := optional(b, tag.TimeInForce); ok {
		switch string(tif) {
		case "0":
			req.TIF = matching.Day
		case "1":
			req.TIF = matching.GTC
		case "2":
			req.TIF = matching.AtOpen
		case "3":
			req.TIF = matching.IOC
		case "4":
			req.TIF = matching.FOK
		case "6":
			req.TIF = matching.GTD
		case "7":
			req.TIF = matching.AtClose
		default:
			return req, reject(rUnsupported, "TimeInForce (59) %q is not supported: use 0 (day), 1 (GTC), 2 (at the opening), 3 (IOC), 4 (FOK), 6 (GTD) or 7 (at the close)", clip(tif)), nil
		}
	}
	if req.TIF == matching.GTD {
		if req.ExpireNs, rej = expiry(b, n.cfg.Schedule); rej != nil {
			return req, rej, nil
		}
	}
	if inst, ok := optional(b, tag.ExecInst); ok {
		req.PostOnly = hasToken(inst, '6')
	}
	if stp, ok := optional(b, tagSTPMode); ok {
		if len(stp) != 1 || stp[0] < '0' || stp[0] > '4' {
			return req, reject(rUnsupported, "SelfTradePrevention (7928) %q is not supported: use 0 (none), 1 (cancel newest), 2 (cancel oldest), 3 (cancel both) or 4 (decrement and cancel)", clip(stp)), nil
		}
		req.STP = matching.STPMode(stp[0] - '0')
	}
	if req.Account, rej = n.account(b); rej != nil {
		return req, rej, nil
	}
	var su symUnits
	if int(sym.ID) <= len(n.units) {
		su = n.units[sym.ID-1]
	}
	if req.Qty, rej, merr = unitsField(b, tag.OrderQty, "OrderQty", su.lot, sym.QtyToLots, rBadQty); rej != nil || merr != nil {
		return req, rej, merr
	}
	if b.Has(tag.Price) {
		if req.Price, rej, merr = unitsField(b, tag.Price, "Price", su.tick, sym.PriceToTicks, rBadPrice); rej != nil || merr != nil {
			return req, rej, merr
		}
	} else if req.Type == matching.Limit || req.Type == matching.StopLimit {
		return req, reject(rBadPrice, "Price (44) is required for a limit order"), nil
	}
	if req.Type == matching.Stop || req.Type == matching.StopLimit {
		if !b.Has(tag.StopPx) {
			return req, reject(rBadPrice, "StopPx (99) is required for a stop order"), nil
		}
		if req.StopPrice, rej, merr = unitsField(b, tag.StopPx, "StopPx", su.tick, sym.PriceToTicks, rBadPrice); rej != nil || merr != nil {
			return req, rej, merr
		}
	}
	if b.Has(tag.MaxFloor) {
		if req.Display, rej, merr = unitsField(b, tag.MaxFloor, "MaxFloor", su.lot, sym.QtyToLots, rBadQty); rej != nil || merr != nil {
			return req, rej, merr
		}
	}
	return req, nil, nil
}

// expiry reads a GTD order's expiry: ExpireTime (126, a UTC timestamp) or
// else ExpireDate (432, YYYYMMDD, a LocalMktDate: a date of the venue's
// calendar, in the schedule's time zone), which ends with that date's
// trading day (refdata.Schedule.ExpireDateEnd).
func expiry(b fields, sched *refdata.Schedule) (int64, *rejection) {
	if v, ok := optional(b, tag.ExpireTime); ok {
		for _, layout := range []string{"20060102-15:04:05.000000000", "20060102-15:04:05.000000", "20060102-15:04:05.000", "20060102-15:04:05"} {
			if len(v) == len(layout) {
				if t, err := time.Parse(layout, string(v)); err == nil {
					return t.UnixNano(), nil
				}
			}
		}
		return 0, reject(rUnsupported, "ExpireTime (126) %q is not a UTC timestamp (YYYYMMDD-HH:MM:SS[.sss])", clip(v))
	}
	if v, ok := optional(b, tag.ExpireDate); ok {
		t, err := time.Parse("20060102", string(v))
		if err != nil || len(v) != 8 {
			return 0, reject(rUnsupported, "ExpireDate (432) %q is not a date (YYYYMMDD)", clip(v))
		}
		return sched.ExpireDateEnd(t.Date()).UnixNano(), nil
	}
	return 0, reject(rUnsupported, "a GTD order (TimeInForce 6) needs ExpireTime (126) or ExpireDate (432)")
}

// cancel handles OrderCancelRequest.
func (n normalizer) cancel(b fields, req ordermanager.Request) (ordermanager.Request, *rejection, *fixsession.RejectError) {
	clOrdID, merr := required(b, tag.ClOrdID, "ClOrdID")
	if merr != nil {
		return req, nil, merr
	}
	var rej *rejection
	if req.ClOrdID, rej = newClOrdID(clOrdID); rej != nil {
		return req, rej, nil
	}
	if rej, merr := n.orderRef(b, &req); rej != nil || merr != nil {
		return req, rej, merr
	}
	if b.Has(tag.Symbol) {
		sym, rej := n.symbol(b)
		if rej != nil {
			return req, rej, nil
		}
		req.Symbol = sym.ID
	}
	if b.Has(tag.Side) {
		if req.Side, rej = side(b); rej != nil {
			return req, rej, nil
		}
	}
	if req.Account, rej = n.account(b); rej != nil {
		return req, rej, nil
	}
	return req, nil, nil
}

// orderRef reads the order a cancel or replace refers to: OrigClOrdID (41)
// and/or OrderID (37); at least one is required.
func (n normalizer) orderRef(b fields, req *ordermanager.Request) (*rejection, *fixsession.RejectError) {
	orig, _ := optional(b, tag.OrigClOrdID)
	oid, _ := optional(b, tag.OrderID)
	if len(orig) == 0 && len(oid) == 0 {
		return nil, requiredMissing(tag.OrigClOrdID, "OrigClOrdID")
	}
	if len(orig) > 0 {
		var ok bool
		if req.OrigClOrdID, ok = ordermanager.MakeClOrdIDBytes(orig); !ok {
			return reject(rUnknownOrder, "unknown order: OrigClOrdID (41) is longer than %d characters", ordermanager.ClOrdIDMax), nil
		}
	}
	if len(oid) > 0 {
		id, ok := parseOrderID(oid)
		if !ok {
			return reject(rUnknownOrder, "unknown order: OrderID (37) %q", clip(oid)), nil
		}
		req.OrderID = id
	}
	return nil, nil
}

// status handles OrderStatusRequest: ClOrdID or OrderID identifies the order.
func (n normalizer) status(b fields, req ordermanager.Request) (ordermanager.Request, *rejection, *fixsession.RejectError) {
	clOrdID, _ := optional(b, tag.ClOrdID)
	oid, _ := optional(b, tag.OrderID)
	if len(clOrdID) == 0 && len(oid) == 0 {
		return req, nil, requiredMissing(tag.ClOrdID, "ClOrdID")
	}
	if len(clOrdID) > 0 {
		var ok bool
		if req.ClOrdID, ok = ordermanager.MakeClOrdIDBytes(clOrdID); !ok {
			return req, reject(rUnknownOrder, "unknown order: ClOrdID (11) is longer than %d characters", ordermanager.ClOrdIDMax), nil
		}
		req.OrigClOrdID = req.ClOrdID // the order manager finds the order by OrigClOrdID
	}
	if len(oid) > 0 {
		id, ok := parseOrderID(oid)
		if !ok {
			return req, reject(rUnknownOrder, "unknown order: OrderID (37) %q", clip(oid)), nil
		}
		req.OrderID = id
	}
	if b.Has(tag.Symbol) {
		sym, rej := n.symbol(b)
		if rej != nil {
			return req, rej, nil
		}
		req.Symbol = sym.ID
	}
	if b.Has(tag.Side) {
		// Echoed on an "unknown order" answer, whose ExecutionReport
		// requires a Side.
		req.Side, _ = side(b)
	}
	var rej *rejection
	if req.Account, rej = n.account(b); rej != nil {
		return req, rej, nil
	}
	return req, nil, nil
}

// massCancel handles OrderMassCancelRequest: 530=1 cancels the account's
// orders in Symbol, 530=7 all of them.
func (n normalizer) massCancel(b fields, req ordermanager.Request) (ordermanager.Request, *rejection, *fixsession.RejectError) {
	clOrdID, merr := required(b, tag.ClOrdID, "ClOrdID")
	if merr != nil {
		return req, nil, merr
	}
	typ, merr := required(b, tag.MassCancelRequestType, "MassCancelRequestType")
	if merr != nil {
		return req, nil, merr
	}
	var rej *rejection
	if req.ClOrdID, rej = newClOrdID(clOrdID); rej != nil {
		return req, rej, nil
	}
	switch string(typ) {
	case "1":
		if !b.Has(tag.Symbol) {
			return req, reject(rUnknownSymbol, "Symbol (55) is required with MassCancelRequestType (530) 1"), nil
		}
		sym, rej := n.symbol(b)
		if rej != nil {
			return req, rej, nil
		}
		req.Symbol = sym.ID
	case "7":
	default:
		return req, reject(rUnsupported, "MassCancelRequestType (530) %q is not supported: use 1 (by symbol) or 7 (all orders)", clip(typ)), nil
	}
	if req.Account, rej = n.account(b); rej != nil {
		return req, rej, nil
	}
	return req, nil, nil
}

// newClOrdID is the ClOrdID (11) of a new, cancel, replace or mass cancel
// request, refused when it is too long to keep.
func newClOrdID(v []byte) (ordermanager.ClOrdID, *rejection) {
	id, ok := ordermanager.MakeClOrdIDBytes(v)
	if !ok {
		return id, reject(rTooLong, "ClOrdID (11) is longer than %d characters", ordermanager.ClOrdIDMax)
	}
	return id, nil
}

func (n normalizer) symbol(b fields) (*refdata.Symbol, *rejection) {
	name, _ := b.Get(tag.Symbol)
	sym, ok := n.cfg.Symbol(n.cfg.SymbolByName(string(name)))
	if !ok {
		return nil, reject(rUnknownSymbol, "unknown symbol %q", clip(name))
	}
	return sym, nil
}

// account is Account (1) when given, which must be an account of the
// session's firm, else the session's default account.
func (n normalizer) account(b fields) (matching.AccountID, *rejection) {
	name, ok := optional(b, tag.Account)
	if !ok {
		return n.sess.DefaultAccount, nil
	}
	acc, ok := n.cfg.Account(n.cfg.AccountByName(string(name)))
	if !ok {
		return 0, reject(rUnknownAccount, "unknown account %q", clip(name))
	}
	if acc.Firm != n.sess.Firm {
		return 0, reject(rUnknownAccount, "account %q does not belong to this firm", clip(name))
	}
	return acc.ID, nil
}

func side(b fields) (matching.Side, *rejection) {
	v, _ := b.Get(tag.Side)
	switch string(v) {
	case "1":
		return matching.Buy, nil
	case "2":
		return matching.Sell, nil
	}
	return 0, reject(rUnsupported, "Side (54) %q is not supported: use 1 (buy) or 2 (sell)", clip(v))
}

// optional reads a field that may be absent.
func optional(b fields, tag int) ([]byte, bool) { return b.Get(tag) }

func required(b fields, tag int, name string) ([]byte, *fixsession.RejectError) {
	v, ok := b.Get(tag)
	if !ok || len(v) == 0 {
		return nil, requiredMissing(tag, name)
	}
	return v, nil
}

// Session-level reject reasons (373).
const (
	sessRejRequiredTagMissing  = fixsession.ReasonRequiredTagMissing
	sessRejValueIncorrect      = fixsession.ReasonValueIncorrect
	sessRejIncorrectDataFormat = fixsession.ReasonIncorrectDataFormat
	sessRejTagRepeated         = fixsession.ReasonTagRepeated
)

func requiredMissing(tag int, name string) *fixsession.RejectError {
	return fixsession.RejectTag(sessRejRequiredTagMissing, tag, fmt.Sprintf("required tag missing: %s (%d)", name, tag))
}

// toUnits converts the decimal field tag to units: the int64 fast path when
// it can answer, else the decimal path of the symbol (slow), whose error says
// why the value is refused. A value that is not a decimal number at all gives
// a *fixsession.RejectError (a session-level reject).
// unitsField reads a price or quantity field as toUnits does and turns a
// failure into the answer it deserves: a session-level reject for a field
// that is not a FIX float, else a business reject with why, naming the
// field as name (tag).
func unitsField(b fields, t int, name string, fast units.Unit, slow func(decimal.Decimal) (int64, error), why reason) (int64, *rejection, *fixsession.RejectError) {
	v, err := toUnits(b, t, fast, slow)
	if err == nil {
		return v, nil, nil
	}
	if merr, ok := err.(*fixsession.RejectError); ok {
		return 0, nil, merr
	}
	return 0, reject(why, "%s (%d) %s", name, t, err), nil
}

func toUnits(b fields, tag int, fast units.Unit, slow func(decimal.Decimal) (int64, error)) (int64, error) {
	if v, ok := b.Get(tag); ok && isFIXFloat(v) {
		if u, ok := fast.ParseFast(v); ok {
			return u, nil
		}
	}
	d, merr := decimalField(b, tag)
	if merr != nil {
		return 0, merr
	}
	return slow(d)
}

// decimalFieldMax bounds the text of a decimal field; a longer one cannot be a
// price or quantity this exchange accepts and is refused before parsing.
const decimalFieldMax = 32

// decimalField parses a FIX float field strictly: optional sign, digits, an
// optional point and digits, nothing else (no exponent, no spaces), so that
// parsing costs little whatever the input.
func decimalField(b fields, tag int) (decimal.Decimal, *fixsession.RejectError) {
	v, ok := b.Get(tag)
	if !ok {
		return decimal.Decimal{}, fixsession.RejectTag(sessRejIncorrectDataFormat, tag, fmt.Sprintf("incorrect data format for value: tag %d is empty", tag))
	}
	if !isFIXFloat(v) {
		return decimal.Decimal{}, fixsession.RejectTag(sessRejIncorrectDataFormat, tag, fmt.Sprintf("incorrect data format for value: tag %d %q is not a decimal number", tag, clip(v)))
	}
	d, perr := decimal.NewFromString(string(v))
	if perr != nil {
		return decimal.Decimal{}, fixsession.RejectTag(sessRejIncorrectDataFormat, tag, fmt.Sprintf("incorrect data format for value: tag %d %q is not a decimal number", tag, clip(v)))
	}
	return d, nil
}

func isFIXFloat(v []byte) bool {
	if len(v) == 0 || len(v) > decimalFieldMax {
		return false
	}
	i := 0
	if v[0] == '-' || v[0] == '+' {
		i++
	}
	digits, point := 0, false
	for ; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}

func parseOrderID(v []byte) (matching.OrderID, bool) {
	if len(v) == 0 || len(v) > 20 {
		return 0, false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil || id == 0 {
		return 0, false
	}
	return matching.OrderID(id), true
}

// hasToken reports whether the space-separated multiple-value field v holds
// the one-character value c.
func hasToken(v []byte, c byte) bool {
	for i := 0; i < len(v); i++ {
		if v[i] == c && (i == 0 || v[i-1] == ' ') && (i == len(v)-1 || v[i+1] == ' ') {
			return true
		}
	}
	return false
}

// clip shortens an echoed input value for a Text so a hostile field cannot
// blow up a reject message.
func clip(v []byte) string {
	const n = 40
	if len(v) > n {
		return string(v[:n]) + "..."
	}
	return string(v)
}
