package gateway

import (
	"fmt"
	"strconv"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/fixsession/tag"
)

// handle runs on the session's own goroutine for each application message:
// rate limit, normalize, submit; every refusal is answered.
func (g *Gateway) handle(m *fixsession.Message, fs *fixsession.Session, st *sessionState) *fixsession.RejectError {
	mtb := m.MsgType
	if string(mtb) == msgTypeMassStatus {
		return g.handleMassStatus(m, fs, st)
	}
	if len(mtb) != 1 {
		return fixsession.BusinessReject(bizUnsupportedMsgType, "unsupported message type")
	}
	mt := mtb[0]
	msg := inbound{f: rawFields{m}, seq: m.SeqNum}
	switch mt {
	case 'D', 'F', 'G', 'H', 'q':
	case 'g':
		g.answerSessionStatus(m, fs)
		return nil
	case 'V':
		if g.md == nil {
			return fixsession.BusinessReject(bizUnsupportedMsgType, "MarketDataRequest (V) is not supported by this exchange")
		}
	default:
		return fixsession.BusinessReject(bizUnsupportedMsgType, fmt.Sprintf("unsupported message type %q", mtb))
	}
	g.m.countIn(mt)
	if st.closing.Load() {
		g.refuse(msg, fs, mt, &rejection{why: rFlood, text: "session is being logged out for flooding"})
		return nil
	}
	if !st.limiter.Allow() {
		g.rateLimited(msg, fs, st, mt)
		return nil
	}
	st.flood.Store(0)
	if mt == 'V' {
		// The session layer framed and checked it against its dictionary.
		return g.md.OnMarketDataRequest(m.Raw, fs.ID())
	}
	if t, dup := repeatedTag(m.Fields); dup {
		g.m.countReject(mt, reasonCount)
		return fixsession.RejectTag(sessRejTagRepeated, t, fmt.Sprintf("tag %d appears more than once", t))
	}
	req, rej, merr := normalizer{cfg: g.cfg, sess: st.cfg, units: g.units}.normalizeFields(msg.f, mt)
	if merr != nil {
		g.m.countReject(mt, reasonCount)
		return merr
	}
	if rej != nil {
		g.refuse(msg, fs, mt, rej)
		return nil
	}
	if m.ReceiveTime.IsZero() {
		req.RecvNs = time.Now().UnixNano()
	} else {
		req.RecvNs = m.ReceiveTime.UnixNano()
	}
	routed := false
	if mt != 'H' && hasRoute(m) {
		// Every report about the order goes back the way it came.
		routed = st.routes.remember(req.ClOrdID, m)
	}
	if !g.submit.Submit(&req) {
		if routed {
			st.routes.forget(req.ClOrdID)
		}
		g.refuse(msg, fs, mt, &rejection{why: rBusy, text: "exchange busy: order queue full, try again"})
		return nil
	}
	g.m.countSubmitted(uint8(req.Kind))
	return nil
}

// hasRoute reports whether m carries third-party routing (115, 116, 144,
// 128, 129, 145). Cost: one pass over the fields, no allocation.
func hasRoute(m *fixsession.Message) bool {
	for _, f := range m.Fields {
		switch f.Tag {
		case 115, 116, 144, 128, 129, 145:
			return true
		}
	}
	return false
}

// rateLimited refuses a message over the session's rate and, after
// FloodLogoutAfter of them in a row, logs the session out: a Logout with a
// Text goes out at once and the connection is closed if the broker has not
// answered it within the grace period.
func (g *Gateway) rateLimited(msg inbound, fs *fixsession.Session, st *sessionState, mt byte) {
	g.m.rateLimited.Add(1)
	n := st.flood.Add(1)
	g.refuse(msg, fs, mt, &rejection{why: rRateLimited, text: st.rateTxt})
	if g.cfg.FloodLogoutAfter <= 0 || n < int64(g.cfg.FloodLogoutAfter) || !st.closing.CompareAndSwap(false, true) {
		return
	}
	g.m.floodLogouts.Add(1)
	text := fmt.Sprintf("logged out for flooding: %d messages over the rate limit (%s msgs/s) in a row", n, strconv.FormatFloat(st.cfg.RatePerSecond, 'f', -1, 64))
	g.log.Warn().Str("session", fs.ID().String()).Int64("rate_limited", n).Msg("flood logout")
	// The session takes nothing more (closing is set), but the reports of
	// what it sent before the flood are still on their way through the order
	// manager and the engine: let them out first (bounded), so an accepted
	// order is never left without its acknowledgement by the logout.
	go func() {
		deadline := time.Now().Add(g.floodGrace / 2)
		time.Sleep(floodQuiet)
		for time.Now().UnixNano()-st.lastDeliverNs.Load() < int64(floodQuiet) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if st.fs.Load() != fs {
			return // logged off meanwhile
		}
		_ = fs.Logout(text)
		time.AfterFunc(g.floodGrace, fs.Disconnect)
	}()
}

// floodQuiet is how long a flooding session must have had no reports
// delivered before its Logout goes out.
const floodQuiet = 50 * time.Millisecond

// refuse answers a message the gateway will not pass on with the reject of
// its type: ExecutionReport (rejected) for D, OrderCancelReject for F and G,
// OrderMassCancelReport (rejected) for q, BusinessMessageReject otherwise.
// Identifying fields of the request are echoed.
func (g *Gateway) refuse(in inbound, fs *fixsession.Session, mt byte, rej *rejection) {
	g.m.countReject(mt, rej.why)
	if st := g.byFS[fs]; st != nil {
		st.adm.rejects.Add(1)
	}
	var b fixBody
	out := g.rejectFields(in, fs.ID().BeginString, mt, rej, &b)
	var to *fixsession.Message // the request, whose routing the reject reverses
	if rf, ok := in.f.(rawFields); ok {
		to = rf.m
	}
	if err := fs.ReplyBody(to, out, b.b); err != nil {
		g.m.dropped[dropSendFailed].Add(1)
	}
}

// inbound is what a reject needs of the message it answers.
type inbound struct {
	f   fields
	seq uint64 // MsgSeqNum, 0 when unknown
}

// rejectFields builds the reject for refuse into b and returns its
// MsgType (separate so tests and the fuzz target can inspect it without a
// session). The fields are set as for a report and then put in tag order
// (sortFields: the order these rejects have always had on the wire).
func (g *Gateway) rejectFields(in inbound, begin string, mt byte, rej *rejection, b *fixBody) (msgType string) {
	start := len(b.b)
	ib := in.f
	code := reasonCode(mt, rej.why)
	fix42 := begin == fixsession.BeginStringFIX42
	now := time.Now().UnixNano()
	switch mt {
	case 'D':
		msgType = "8"
		b.SetString(tag.OrderID, "NONE")
		b.SetString(tag.ExecID, g.nextExecID())
		if fix42 {
			b.SetString(tag.ExecTransType, "0")
		}
		b.SetString(tag.ExecType, "8")
		b.SetString(tag.OrdStatus, "8")
		echo(ib, b, tag.ClOrdID, tag.Account, tag.Symbol)
		echoValid(ib, b, tag.Side, tag.OrderQty, tag.OrdType, tag.Price, tag.TimeInForce)
		b.SetString(tag.CumQty, "0")
		b.SetString(tag.LeavesQty, "0")
		b.SetString(tag.AvgPx, "0")
		b.SetInt(tag.OrdRejReason, fixCode(fix42, '8', code))
		b.SetTime(tag.TransactTime, now)
	case 'F', 'G':
		msgType = "9"
		if !echo(ib, b, tag.OrderID) {
			b.SetString(tag.OrderID, "NONE")
		}
		echo(ib, b, tag.ClOrdID, tag.Account)
		if !echo(ib, b, tag.OrigClOrdID) {
			b.SetString(tag.OrigClOrdID, "NONE")
		}
		b.SetString(tag.OrdStatus, "8")
		if mt == 'F' {
			b.SetString(tag.CxlRejResponseTo, "1")
		} else {
			b.SetString(tag.CxlRejResponseTo, "2")
		}
		b.SetInt(tag.CxlRejReason, fixCode(fix42, '9', code))
		b.SetTime(tag.TransactTime, now)
	case 'q':
		msgType = "r"
		b.SetString(tag.OrderID, "NONE")
		echo(ib, b, tag.ClOrdID, tag.MassCancelRequestType, tag.Symbol, tag.Account)
		b.SetString(tag.MassCancelResponse, massResponseRejected)
		b.SetInt(tag.MassCancelRejectReason, code)
		b.SetInt(tag.TotalAffectedOrders, 0)
		b.SetTime(tag.TransactTime, now)
	default:
		msgType = "j"
		if in.seq != 0 {
			b.SetInt(tag.RefSeqNum, int(in.seq))
		}
		b.SetString(tag.RefMsgType, string(mt))
		if v, ok := optional(ib, tag.ClOrdID); ok && len(v) > 0 {
			b.SetBytes(tag.BusinessRejectRefID, v)
		}
		b.SetInt(tag.BusinessRejectReason, code)
	}
	b.SetString(tag.Text, rej.text)
	b.sortFields(start)
	return msgType
}

// echo copies the tags present (and not empty) in from to to; it reports
// whether all were.
func echo(from fields, to *fixBody, tags ...int) bool {
	all := true
	for _, t := range tags {
		v, ok := optional(from, t)
		if !ok || len(v) == 0 {
			all = false
			continue
		}
		to.SetBytes(t, v)
	}
	return all
}

// nextExecID names an ExecutionReport the gateway itself generates; the
// prefix keeps it apart from the order manager's numeric ExecIDs.
func (g *Gateway) nextExecID() string {
	return "GW" + g.startTag + "-" + strconv.FormatUint(g.execSeq.Add(1), 10)
}

// repeatedTag returns a field the normalizer reads that the message
// carries more than once (which value would be meant is anyone's guess: the
// message is refused with SessionRejectReason 13). Other tags may repeat:
// they can belong to repeating groups the exchange does not read.
func repeatedTag(fs []fixsession.Field) (int, bool) {
	var seen uint16
	for i := range fs {
		bit := normalizedTagBit(fs[i].Tag)
		if bit == 0 {
			continue
		}
		if seen&bit != 0 {
			return fs[i].Tag, true
		}
		seen |= bit
	}
	return 0, false
}

// normalizedTagBit gives each tag the normalizer reads its own bit.
func normalizedTagBit(t int) uint16 {
	switch t {
	case tag.ClOrdID:
		return 1 << 0
	case tag.OrigClOrdID:
		return 1 << 1
	case tag.OrderID:
		return 1 << 2
	case tag.Symbol:
		return 1 << 3
	case tag.Side:
		return 1 << 4
	case tag.OrderQty:
		return 1 << 5
	case tag.OrdType:
		return 1 << 6
	case tag.Price:
		return 1 << 7
	case tag.TimeInForce:
		return 1 << 8
	case tag.ExecInst:
		return 1 << 9
	case tag.Account:
		return 1 << 10
	case tag.MassCancelRequestType:
		return 1 << 11
	case tagSTPMode:
		return 1 << 12
	}
	return 0
}
