package gateway

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/quickfixgo/quickfix"
)

// handle runs on the session's own goroutine for each application message:
// rate limit, normalize, submit; every refusal is answered.
func (g *Gateway) handle(msg *quickfix.Message, sid quickfix.SessionID, st *sessionState) quickfix.MessageRejectError {
	mtb, err := msg.Header.GetBytes(tagMsgType)
	if err != nil || len(mtb) != 1 {
		return quickfix.NewBusinessMessageRejectError("unsupported message type", bizUnsupportedMsgType, nil)
	}
	mt := mtb[0]
	switch mt {
	case 'D', 'F', 'G', 'H', 'q':
	case 'V':
		if g.md == nil {
			return quickfix.NewBusinessMessageRejectError("MarketDataRequest (V) is not supported by this exchange", bizUnsupportedMsgType, nil)
		}
	default:
		return quickfix.NewBusinessMessageRejectError(fmt.Sprintf("unsupported message type %q", mtb), bizUnsupportedMsgType, nil)
	}
	g.m.countIn(mt)
	if st.closing.Load() {
		g.refuse(msg, sid, mt, &rejection{why: rFlood, text: "session is being logged out for flooding"})
		return nil
	}
	if !st.limiter.Allow() {
		g.rateLimited(msg, sid, st, mt)
		return nil
	}
	st.flood.Store(0)
	if mt == 'V' {
		return g.md.OnMarketDataRequest(msg, sid)
	}
	req, rej, merr := normalizer{cfg: g.cfg, sess: st.cfg, units: g.units}.normalize(msg, mt)
	if merr != nil {
		g.m.countReject(mt, reasonCount)
		return merr
	}
	if rej != nil {
		g.refuse(msg, sid, mt, rej)
		return nil
	}
	if msg.ReceiveTime.IsZero() {
		req.RecvNs = time.Now().UnixNano()
	} else {
		req.RecvNs = msg.ReceiveTime.UnixNano()
	}
	if !g.submit.Submit(&req) {
		g.refuse(msg, sid, mt, &rejection{why: rBusy, text: "exchange busy: order queue full, try again"})
		return nil
	}
	g.m.countSubmitted(uint8(req.Kind))
	return nil
}

// rateLimited refuses a message over the session's rate and, after
// FloodLogoutAfter of them in a row, logs the session out: a Logout with a
// Text goes out at once and the connection is closed if the broker has not
// answered it within the grace period.
func (g *Gateway) rateLimited(msg *quickfix.Message, sid quickfix.SessionID, st *sessionState, mt byte) {
	g.m.rateLimited.Add(1)
	n := st.flood.Add(1)
	g.refuse(msg, sid, mt, &rejection{why: rRateLimited, text: st.rateTxt})
	if g.cfg.FloodLogoutAfter <= 0 || n < int64(g.cfg.FloodLogoutAfter) || !st.closing.CompareAndSwap(false, true) {
		return
	}
	g.m.floodLogouts.Add(1)
	text := fmt.Sprintf("logged out for flooding: %d messages over the rate limit (%s msgs/s) in a row", n, strconv.FormatFloat(st.cfg.RatePerSecond, 'f', -1, 64))
	g.log.Warn().Str("session", sid.String()).Int64("rate_limited", n).Msg("flood logout")
	// The session takes nothing more (closing is set), but the reports of
	// what it sent before the flood are still on their way through the order
	// manager and the engine: let them out first (bounded), so an accepted
	// order is never left without its acknowledgement by the logout.
	go func() {
		deadline := time.Now().Add(g.floodGrace / 2)
		time.Sleep(floodQuiet)
		for !st.out.quietFor(floodQuiet) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		logout := quickfix.NewMessage()
		logout.Header.SetString(tagMsgType, "5")
		logout.Body.SetString(tagText, text)
		_ = quickfix.SendToTarget(logout, sid)
		st.mu.Lock()
		conn := st.conns[sid]
		st.mu.Unlock()
		if conn != nil {
			time.AfterFunc(g.floodGrace, func() { _ = conn.Close() })
		}
	}()
}

// floodQuiet is how long a flooding session's outbox must have been idle
// before its Logout goes out.
const floodQuiet = 50 * time.Millisecond

// refuse answers a message the gateway will not pass on with the reject of
// its type: ExecutionReport (rejected) for D, OrderCancelReject for F and G,
// OrderMassCancelReport (rejected) for q, BusinessMessageReject otherwise.
// Identifying fields of the request are echoed.
func (g *Gateway) refuse(in *quickfix.Message, sid quickfix.SessionID, mt byte, rej *rejection) {
	g.m.countReject(mt, rej.why)
	out := g.rejectMessage(in, sid.BeginString, mt, rej)
	if err := quickfix.SendToTarget(out, sid); err != nil {
		g.m.dropped[dropSendFailed].Add(1)
	}
}

// rejectMessage builds the reject for refuse (separate so tests and the fuzz
// target can inspect it without a session).
func (g *Gateway) rejectMessage(in *quickfix.Message, begin string, mt byte, rej *rejection) *quickfix.Message {
	out := quickfix.NewMessage()
	ib, ob := &in.Body, &out.Body
	code := reasonCode(mt, rej.why)
	now := quickfix.FIXUTCTimestamp{Time: time.Now(), Precision: quickfix.Micros}
	switch mt {
	case 'D':
		out.Header.SetString(tagMsgType, "8")
		ob.SetString(tagOrderID, "NONE")
		ob.SetString(tagExecID, g.nextExecID())
		if begin == quickfix.BeginStringFIX42 {
			ob.SetString(tagExecTransType, "0")
		}
		ob.SetString(tagExecType, "8")
		ob.SetString(tagOrdStatus, "8")
		echo(ib, ob, tagClOrdID, tagAccount, tagSymbol, tagSide, tagOrderQty, tagOrdType, tagPrice, tagTimeInForce)
		ob.SetString(tagCumQty, "0")
		ob.SetString(tagLeavesQty, "0")
		ob.SetString(tagAvgPx, "0")
		ob.SetInt(tagOrdRejReason, fixCode(begin == quickfix.BeginStringFIX42, '8', code))
		ob.SetField(tagTransactTime, now)
	case 'F', 'G':
		out.Header.SetString(tagMsgType, "9")
		if !echo(ib, ob, tagOrderID) {
			ob.SetString(tagOrderID, "NONE")
		}
		echo(ib, ob, tagClOrdID, tagOrigClOrdID, tagAccount)
		if !ob.Has(tagOrigClOrdID) {
			ob.SetString(tagOrigClOrdID, "NONE")
		}
		ob.SetString(tagOrdStatus, "8")
		if mt == 'F' {
			ob.SetString(tagCxlRejResponseTo, "1")
		} else {
			ob.SetString(tagCxlRejResponseTo, "2")
		}
		ob.SetInt(tagCxlRejReason, fixCode(begin == quickfix.BeginStringFIX42, '9', code))
		ob.SetField(tagTransactTime, now)
	case 'q':
		out.Header.SetString(tagMsgType, "r")
		ob.SetString(tagOrderID, "NONE")
		echo(ib, ob, tagClOrdID, tagMassCancelRequestType, tagSymbol, tagAccount)
		ob.SetString(tagMassCancelResponse, massResponseRejected)
		ob.SetInt(tagMassCancelRejectReason, code)
		ob.SetInt(tagTotalAffectedOrders, 0)
		ob.SetField(tagTransactTime, now)
	default:
		out.Header.SetString(tagMsgType, "j")
		if seq, err := in.Header.GetBytes(tagMsgSeqNum); err == nil {
			ob.SetBytes(tagRefSeqNum, bytes.Clone(seq))
		}
		ob.SetString(tagRefMsgType, string(mt))
		if v, ok := optional(ib, tagClOrdID); ok && len(v) > 0 {
			ob.SetBytes(tagBusinessRejectRefID, bytes.Clone(v))
		}
		ob.SetInt(tagBusinessRejectReason, code)
	}
	ob.SetString(tagText, rej.text)
	return out
}

// echo copies the tags present in from to to; it reports whether all were.
func echo(from *quickfix.Body, to *quickfix.Body, tags ...quickfix.Tag) bool {
	all := true
	for _, t := range tags {
		v, ok := optional(from, t)
		if !ok || len(v) == 0 {
			all = false
			continue
		}
		to.SetBytes(t, bytes.Clone(v))
	}
	return all
}

// nextExecID names an ExecutionReport the gateway itself generates; the
// prefix keeps it apart from the order manager's numeric ExecIDs.
func (g *Gateway) nextExecID() string {
	return "GW" + g.startTag + "-" + strconv.FormatUint(g.execSeq.Add(1), 10)
}
