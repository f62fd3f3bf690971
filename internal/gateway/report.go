package gateway

import (
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

// Deliver converts each Report to its FIX message and sends it to the FIX
// session its Session is logged on with, in order. Calls never overlap (the
// pipeline makes them from its order manager or its report goroutine, one
// at a time); it never blocks on a slow
// broker: the session layer only appends to the connection's buffer (a
// broker that stops reading is disconnected once that buffer is full, and
// what did not fit is stored for its next logon). A report for a session
// that is not logged on is sequenced and kept in that session's FIX store,
// and reaches the broker at its next logon through the resend its sequence
// gap asks for (see fixsession.Session.DeliverOut). A report of the
// journal is stored keyed by its ExecID (redeliver.go), and one about an
// order sent for a third party carries that routing back (route.go).
func (g *Gateway) Deliver(reps []ordermanager.Report) {
	d := &g.dl
	d.body.reset()
	d.msgs = d.msgs[:0]
	defer d.trim()
	for i := range reps {
		rep := &reps[i]
		st := g.session(rep.Session)
		if st == nil {
			g.m.dropped[dropUnknownSession].Add(1)
			continue
		}
		fs := st.fs.Load()
		if fs == nil {
			fs = st.home.Load()
		}
		if fs == nil {
			g.m.dropped[dropUnknownSession].Add(1)
			continue
		}
		if g.lose != nil && rep.OutSeq != 0 && g.lose(rep) {
			continue
		}
		if g.co != nil && g.co.hold(st, rep) {
			continue
		}
		if rep.Reject != 0 {
			st.adm.rejects.Add(1)
		}
		start := len(d.body.b)
		mt := g.reportMessage(rep, fs.ID().BeginString, &d.num, &d.body)
		om := outMsg{st: st, fs: fs, mt: mt, start: start, end: len(d.body.b), route: st.routes.of(rep)}
		if rep.OutSeq != 0 {
			// The store's key: which of the journal's reports it holds
			// (redeliver.go).
			om.key = rep.ExecID
		}
		d.msgs = append(d.msgs, om)
	}
	if len(d.msgs) == 0 {
		return
	}
	now := time.Now().UnixNano()
	d.gen++
	for i := range d.msgs {
		st := d.msgs[i].st
		if st.dlGen == d.gen {
			continue // this session's messages went out with an earlier one
		}
		st.dlGen = d.gen
		st.lastDeliverNs.Store(now)
		d.idx = d.idx[:0]
		for j := i; j < len(d.msgs); j++ {
			if d.msgs[j].st == st {
				d.idx = append(d.idx, j)
			}
		}
		fs := d.msgs[i].fs
		first, queued, err := fs.DeliverOut(len(d.idx), func(k int, o *fixsession.Out) {
			m := &d.msgs[d.idx[k]]
			o.MsgType, o.Body, o.Key, o.Route = msgTypes[m.mt], d.body.b[m.start:m.end], m.key, m.route
		})
		if g.co != nil && (err == nil || err == fixsession.ErrTooMuch) {
			g.co.delivered(st, fs, d.lastKeyed(first))
		}
		switch err {
		case nil:
			if queued {
				// Stored for the next logon, not sent: counted apart.
				g.m.queued.Add(uint64(len(d.idx)))
				break
			}
			for _, j := range d.idx {
				g.m.countOut(d.msgs[j].mt)
			}
		case fixsession.ErrTooMuch:
			// Disconnected; what did not fit is stored for its next logon.
			g.m.queued.Add(uint64(len(d.idx)))
			if st.closing.CompareAndSwap(false, true) {
				g.log.Error().Str("session", fs.ID().String()).
					Msg("broker is not reading its reports: session disconnected, further reports stored for its next logon")
			}
		default:
			g.m.dropped[dropSendFailed].Add(uint64(len(d.idx)))
		}
	}
}

// deliverScratch is Deliver's reused state (one call at a time).
type deliverScratch struct {
	gen  uint64 // counts Deliver calls that send: marks the sessions done in this one
	body fixBody
	num  []byte
	msgs []outMsg
	idx  []int
}

type outMsg struct {
	st         *sessionState
	fs         *fixsession.Session
	mt         byte
	start, end int
	key        uint64 // fixsession.Out.Key
	route      []byte // fixsession.Out.Route
}

// msgTypes is the MsgType text of each report MsgType byte, without a
// conversion per message.
var msgTypes = func() (t [256]string) {
	for i := range t {
		t[i] = string(rune(i))
	}
	return t
}()

// reportMessage builds the FIX message for rep; mt is its MsgType.
// scratch is a number-formatting buffer owned by the caller.
func (g *Gateway) reportMessage(rep *ordermanager.Report, begin string, scratch *[]byte, b *fixBody) byte {
	sym, _ := g.cfg.Symbol(rep.Symbol)
	fix42 := begin == fixsession.BeginStringFIX42
	var mt byte
	switch rep.Kind {
	case ordermanager.RepCancelReject:
		mt = '9'
		b.SetString(tag.OrderID, orderIDText(rep.OrderID))
		g.setClOrdIDs(b, rep, true)
		b.SetString(tag.OrdStatus, string(orDefault(rep.OrdStatus, ordermanager.StatusRejected)))
		b.SetString(tag.CxlRejResponseTo, string(orDefault(rep.CxlRejResponseTo, '1')))
		b.SetInt(tag.CxlRejReason, fixCode(fix42, '9', rep.Reject.CxlRejReason()))
		b.SetString(tag.Text, rep.Reject.String())
		g.setAccount(b, rep.Account)
	case ordermanager.RepMassCancel:
		mt = 'r'
		g.setClOrdIDs(b, rep, false)
		if rep.OrderID != 0 {
			b.SetString(tag.OrderID, orderIDText(rep.OrderID))
		} else if !rep.ClOrdID.IsZero() {
			b.SetString(tag.OrderID, rep.ClOrdID.String())
		} else {
			b.SetString(tag.OrderID, "NONE")
		}
		typ := "7"
		if sym != nil {
			typ = "1"
			b.SetString(tag.Symbol, sym.Name)
		}
		b.SetString(tag.MassCancelRequestType, typ)
		if rep.Reject != 0 {
			b.SetString(tag.MassCancelResponse, massResponseRejected)
			code := massRejOther
			if rep.Reject.OrdRejReason() == ordRejUnknownSymbol {
				code = massRejUnknownSymbol
			}
			b.SetInt(tag.MassCancelRejectReason, code)
			b.SetString(tag.Text, rep.Reject.String())
		} else {
			b.SetString(tag.MassCancelResponse, typ)
		}
		b.SetInt(tag.TotalAffectedOrders, int(min(rep.MassCancelled, 1<<31-1)))
		g.setAccount(b, rep.Account)
	case ordermanager.RepBusinessReject:
		mt = 'j'
		if rep.RefMsgType != 0 {
			b.SetString(tag.RefMsgType, string(rep.RefMsgType))
		} else if !rep.MassStatus.ReqID.IsZero() {
			b.SetString(tag.RefMsgType, msgTypeMassStatus)
		}
		if !rep.ClOrdID.IsZero() {
			b.SetString(tag.BusinessRejectRefID, rep.ClOrdID.String())
		}
		code := bizOther
		switch rep.Reject.OrdRejReason() {
		case ordRejUnknownSymbol:
			code = bizUnknownSecurity
		case ordRejUnknownOrder:
			code = bizUnknownID
		case ordRejUnknownAccount:
			code = bizNotAuthorized
		}
		b.SetInt(tag.BusinessRejectReason, code)
		b.SetString(tag.Text, rep.Reject.String())
	case ordermanager.RepSecurityStatus:
		mt = 'f'
		g.securityStatus(b, rep, sym, fix42)
	default: // RepExec
		mt = '8'
		g.execReport(b, rep, sym, fix42, scratch)
	}
	if mt != 'j' {
		b.SetTime(tag.TransactTime, rep.TransactNs)
	}
	return mt
}

func (g *Gateway) execReport(b *fixBody, rep *ordermanager.Report, sym *refdata.Symbol, fix42 bool, scratch *[]byte) {
	w := numWriter{b: b, buf: (*scratch)[:0], sym: sym}
	if sym != nil && int(sym.ID) <= len(g.units) {
		w.su = g.units[sym.ID-1]
	}
	defer func() { *scratch = w.buf[:0] }()
	if rep.OrderID != 0 {
		w.uint(tag.OrderID, uint64(rep.OrderID))
	} else {
		b.SetString(tag.OrderID, "NONE")
	}
	g.setClOrdIDs(b, rep, false)
	if rep.ExecID != 0 {
		w.uint(tag.ExecID, rep.ExecID)
	} else {
		b.SetString(tag.ExecID, g.nextExecID())
	}
	execType := rep.ExecType
	if fix42 {
		// FIX 4.2 has no Trade (F) or Order Status (I) ExecType: a fill is a
		// partial fill (1) or fill (2), a status answer carries the status.
		transType := "0"
		switch execType {
		case ordermanager.ExecTrade:
			execType = '1'
			if rep.OrdStatus == ordermanager.StatusFilled {
				execType = '2'
			}
		case ordermanager.ExecOrderStatus:
			execType = rep.OrdStatus
			transType = "3"
		case ordermanager.ExecTriggered:
			execType = ordermanager.ExecRestated // FIX 4.2 has no Triggered (L)
		}
		b.SetString(tag.ExecTransType, transType)
	}
	b.SetString(tag.ExecType, string(orDefault(execType, ordermanager.ExecNew)))
	b.SetString(tag.OrdStatus, string(orDefault(rep.OrdStatus, ordermanager.StatusNew)))
	if sym != nil {
		b.SetString(tag.Symbol, sym.Name)
	} else {
		b.SetString(tag.Symbol, "NONE")
	}
	switch {
	case rep.Side == matching.Buy:
		b.SetString(tag.Side, "1")
	case rep.Side == matching.Sell:
		b.SetString(tag.Side, "2")
	case rep.MassStatus.None:
		// Side is required in an ExecutionReport; a "no orders" answer has
		// no order, and 7 (undisclosed) is the dictionary's word for that.
		b.SetString(tag.Side, "7")
	}
	switch rep.Type {
	case matching.Market:
		b.SetString(tag.OrdType, "1")
	case matching.Limit:
		b.SetString(tag.OrdType, "2")
		if rep.Price > 0 {
			w.price(tag.Price, rep.Price)
		}
	case matching.Stop:
		b.SetString(tag.OrdType, "3")
	case matching.StopLimit:
		b.SetString(tag.OrdType, "4")
		if rep.Price > 0 {
			w.price(tag.Price, rep.Price)
		}
	}
	switch rep.TIF {
	case matching.Day:
		b.SetString(tag.TimeInForce, "0")
	case matching.GTC:
		b.SetString(tag.TimeInForce, "1")
	case matching.IOC:
		b.SetString(tag.TimeInForce, "3")
	case matching.FOK:
		b.SetString(tag.TimeInForce, "4")
	case matching.AtOpen:
		b.SetString(tag.TimeInForce, "2")
	case matching.GTD:
		b.SetString(tag.TimeInForce, "6")
	case matching.AtClose:
		b.SetString(tag.TimeInForce, "7")
	}
	if rep.OrderQty > 0 {
		w.qty(tag.OrderQty, rep.OrderQty)
	}
	w.qty(tag.CumQty, rep.CumQty)
	w.qty(tag.LeavesQty, rep.Leaves)
	w.avgPx(tag.AvgPx, rep.CumTicksLots, rep.CumQty)
	if rep.LastQty > 0 {
		w.price(tag.LastPx, rep.LastPx)
		w.qty(tag.LastQty, rep.LastQty)
		if rep.Fee != 0 {
			// MinorToMoney(rep.Fee).String() without the decimal's allocations.
			w.buf = units.AppendScaled(w.buf[:0], rep.Fee, g.cfg.MinorUnits)
			w.set(tag.Commission)
			b.SetString(tag.CommType, "3") // absolute
		}
		if rep.Auction && !fix42 {
			b.SetString(tag.LastLiquidityInd, "4") // auction execution
		}
	}
	if rep.Reject != 0 {
		if rep.ExecType == ordermanager.ExecRejected {
			b.SetInt(tag.OrdRejReason, fixCode(fix42, '8', rep.Reject.OrdRejReason()))
		}
		b.SetString(tag.Text, rep.Reject.String())
	} else if rep.Cancel != 0 {
		// FIX 4.2's ExecRestatementReason stops at 5: the code is for 4.4.
		if rr := rep.Cancel.RestatementReason(); rr >= 0 && !fix42 {
			b.SetInt(tagExecRestatement, rr)
		}
		b.SetString(tag.Text, rep.Cancel.String())
	}
	if !rep.MassStatus.ReqID.IsZero() {
		massStatusFields(b, rep)
	}
	g.setAccount(b, rep.Account)
}

// setClOrdIDs writes ClOrdID and OrigClOrdID; orig "NONE" stands in for an
// absent OrigClOrdID where FIX requires one (OrderCancelReject).
func (g *Gateway) setClOrdIDs(b *fixBody, rep *ordermanager.Report, origRequired bool) {
	if !rep.ClOrdID.IsZero() {
		b.SetBytes(tag.ClOrdID, rep.ClOrdID.Bytes())
	} else if origRequired {
		b.SetString(tag.ClOrdID, "NONE")
	}
	if !rep.OrigClOrdID.IsZero() {
		b.SetBytes(tag.OrigClOrdID, rep.OrigClOrdID.Bytes())
	} else if origRequired {
		b.SetString(tag.OrigClOrdID, "NONE")
	}
}

func (g *Gateway) setAccount(b *fixBody, id matching.AccountID) {
	if acc, ok := g.cfg.Account(id); ok {
		b.SetString(tag.Account, acc.Name)
	}
}

// fixCode adapts a FIX 4.4 reject reason to FIX 4.2, whose OrdRejReason
// stops at 8 and CxlRejReason at 3: anything beyond becomes broker option.
func fixCode(fix42 bool, mt byte, code int) int {
	if !fix42 {
		return code
	}
	switch {
	case mt == '8' && code > 8:
		return 0
	case mt == '9' && code > 3:
		return 2
	}
	return code
}

func orDefault(v, def byte) byte {
	if v == 0 {
		return def
	}
	return v
}

func orderIDText(id matching.OrderID) string {
	if id == 0 {
		return "NONE"
	}
	return strconv.FormatUint(uint64(id), 10)
}

// fixBody accumulates the body fields of an outbound message in wire form,
// in the order they are set. Every message the gateway sends is built in
// one: execution reports and the other reports of the order manager
// (reportMessage), the gateway's own rejects (rejectFields,
// massStatusReject) and TradingSessionStatus.
type fixBody struct{ b []byte }

func (f *fixBody) reset() { f.b = f.b[:0] }

func (f *fixBody) SetString(t int, v string) {
	f.b = fixsession.AppendString(f.b, t, v)
}

func (f *fixBody) SetBytes(t int, v []byte) {
	f.b = fixsession.AppendField(f.b, t, v)
}

func (f *fixBody) SetInt(t int, v int) {
	f.b = fixsession.AppendInt(f.b, t, int64(v))
}

// SetTime writes a UTCTimestamp in microseconds; ns 0 is now.
func (f *fixBody) SetTime(t int, ns int64) {
	tm := time.Now()
	if ns != 0 {
		tm = time.Unix(0, ns)
	}
	f.b = strconv.AppendInt(f.b, int64(t), 10)
	f.b = append(f.b, '=')
	f.b = fixsession.AppendTimestamp(f.b, tm)
	f.b = append(f.b, 0x01)
}

func priceText(sym *refdata.Symbol, ticks int64) string {
	if sym == nil {
		return strconv.FormatInt(ticks, 10)
	}
	return sym.TicksToPrice(ticks).String()
}

func qtyText(sym *refdata.Symbol, lots int64) string {
	if sym == nil {
		return strconv.FormatInt(lots, 10)
	}
	return sym.LotsToQty(lots).String()
}

// numWriter sets numeric fields formatted into a reused buffer, with the
// int64 fast path for prices and quantities and the decimal path as
// fallback.
type numWriter struct {
	b   *fixBody
	buf []byte
	sym *refdata.Symbol
	su  symUnits
}

func (w *numWriter) set(tag int) { w.b.SetBytes(tag, w.buf) }

func (w *numWriter) uint(tag int, v uint64) {
	w.buf = strconv.AppendUint(w.buf[:0], v, 10)
	w.set(tag)
}

func (w *numWriter) price(tag int, ticks int64) {
	var ok bool
	if w.buf, ok = w.su.tick.AppendFast(w.buf[:0], ticks); !ok {
		w.buf = append(w.buf[:0], priceText(w.sym, ticks)...)
	}
	w.set(tag)
}

func (w *numWriter) qty(tag int, lots int64) {
	var ok bool
	if w.buf, ok = w.su.lot.AppendFast(w.buf[:0], lots); !ok {
		w.buf = append(w.buf[:0], qtyText(w.sym, lots)...)
	}
	w.set(tag)
}

// avgPx is exact in whole ticks on the fast path; a fractional-tick average
// takes the decimal path.
func (w *numWriter) avgPx(tag int, cumTicksLots, cumQty int64) {
	if cumQty > 0 && cumTicksLots > 0 && cumTicksLots%cumQty == 0 {
		w.price(tag, cumTicksLots/cumQty)
		return
	}
	w.buf = append(w.buf[:0], avgPx(w.sym, cumTicksLots, cumQty)...)
	w.set(tag)
}

// avgPxExtraDigits is how many digits beyond the tick's the average price
// keeps when CumTicksLots/CumQty does not terminate.
const avgPxExtraDigits = 8

// avgPx is CumTicksLots / CumQty × tick size: exact whenever the quotient
// terminates within the tick's digits plus avgPxExtraDigits (always so for
// one fill, or for fills whose average is a whole number of ticks), rounded
// half-up beyond that; trailing zeros trimmed; "0" before the first fill.
func avgPx(sym *refdata.Symbol, cumTicksLots, cumQty int64) string {
	if cumQty <= 0 || cumTicksLots <= 0 {
		return "0"
	}
	tick := decimal.NewFromInt(1)
	if sym != nil {
		tick = sym.TickSize
	}
	num := decimal.NewFromInt(cumTicksLots).Mul(tick)
	prec := avgPxExtraDigits
	if e := -int(tick.Exponent()); e > 0 {
		prec += e
	}
	return num.DivRound(decimal.NewFromInt(cumQty), int32(prec)).String()
}
