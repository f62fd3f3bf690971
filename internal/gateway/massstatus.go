package gateway

import (
	"fmt"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/fixsession/tag"
	"github.com/exchange-sim/exchange/internal/ordermanager"
)

// OrderMassStatusRequest (35=AF, FIX 4.3 and later) and its answers.
const (
	msgTypeMassStatus    = "AF"
	tagMassStatusReqID   = 584
	tagMassStatusReqType = 585
	tagTotNumReports     = 911
	tagLastRptRequested  = 912
	tagExecRestatement   = 378
)

// handleMassStatus takes an OrderMassStatusRequest: MassStatusReqType 7
// (all the firm's open orders, or Account's when given) or 1 (those of
// Symbol). The order manager answers with one ExecutionReport (ExecType I)
// per open order carrying MassStatusReqID, TotNumReports and, on the last,
// LastRptRequested=Y; or one report with OrderID NONE when there is none.
// A request it cannot take gets a BusinessMessageReject naming AF.
func (g *Gateway) handleMassStatus(m *fixsession.Message, fs *fixsession.Session, st *sessionState) *fixsession.RejectError {
	if fs.ID().BeginString == fixsession.BeginStringFIX42 {
		return fixsession.BusinessReject(bizUnsupportedMsgType, "OrderMassStatusRequest (AF) is not part of FIX 4.2")
	}
	b := rawFields{m}
	refuse := func(code int, format string, a ...any) *fixsession.RejectError {
		g.massStatusReject(m, fs, code, fmt.Sprintf(format, a...))
		return nil
	}
	if st.closing.Load() {
		return refuse(bizOther, "session is being logged out for flooding")
	}
	if !st.limiter.Allow() {
		g.m.rateLimited.Add(1)
		return refuse(bizOther, "%s", st.rateTxt)
	}
	id, merr := required(b, tagMassStatusReqID, "MassStatusReqID")
	if merr != nil {
		return merr
	}
	typ, merr := required(b, tagMassStatusReqType, "MassStatusReqType")
	if merr != nil {
		return merr
	}
	req := ordermanager.Request{Kind: ordermanager.ReqMassStatus, Session: st.cfg.ID, Firm: st.cfg.Firm}
	var ok bool
	if req.ClOrdID, ok = ordermanager.MakeClOrdIDBytes(id); !ok {
		return refuse(bizOther, "MassStatusReqID (584) is longer than %d characters", ordermanager.ClOrdIDMax)
	}
	n := normalizer{cfg: g.cfg, sess: st.cfg, units: g.units}
	switch string(typ) {
	case "7":
	case "1":
		if _, merr := required(b, tag.Symbol, "Symbol"); merr != nil {
			return merr
		}
		sym, rej := n.symbol(b)
		if rej != nil {
			return refuse(bizUnknownSecurity, "%s", rej.text)
		}
		req.Symbol = sym.ID
	default:
		return refuse(bizOther, "MassStatusReqType (585) %q is not supported: use 1 (orders of one symbol) or 7 (all orders)", clip(typ))
	}
	if b.Has(tag.Account) {
		acct, rej := n.account(b)
		if rej != nil {
			return refuse(bizNotAuthorized, "%s", rej.text)
		}
		req.Account = acct
	}
	if b.Has(tag.Side) {
		req.Side, _ = side(b) // only echoed on a "no orders" answer
	}
	req.RecvNs = m.ReceiveTime.UnixNano()
	if !g.submit.Submit(&req) {
		return refuse(bizNotAvailable, "exchange busy: order queue full, try again")
	}
	return nil
}

// massStatusReject sends a BusinessMessageReject of an
// OrderMassStatusRequest.
func (g *Gateway) massStatusReject(m *fixsession.Message, fs *fixsession.Session, code int, text string) {
	var b fixBody
	if m.SeqNum != 0 {
		b.SetInt(tag.RefSeqNum, int(m.SeqNum))
	}
	b.SetString(tag.RefMsgType, msgTypeMassStatus)
	if v, ok := m.Get(tagMassStatusReqID); ok && len(v) > 0 {
		b.SetBytes(tag.BusinessRejectRefID, v)
	}
	b.SetInt(tag.BusinessRejectReason, code)
	b.SetString(tag.Text, text)
	b.sortFields(0)
	if err := fs.SendBody("j", b.b); err != nil {
		g.m.dropped[dropSendFailed].Add(1)
	}
}

// massStatusFields completes an ExecutionReport answering an
// OrderMassStatusRequest.
func massStatusFields(b *fixBody, rep *ordermanager.Report) {
	ms := &rep.MassStatus
	b.SetBytes(tagMassStatusReqID, ms.ReqID.Bytes())
	b.SetInt(tagTotNumReports, int(ms.Total))
	if ms.Last {
		b.SetString(tagLastRptRequested, "Y")
	} else {
		b.SetString(tagLastRptRequested, "N")
	}
	switch {
	case ms.None:
		b.SetString(tag.Text, "no open orders match the request")
	case ms.Cut && ms.Last:
		b.SetString(tag.Text, fmt.Sprintf("more than %d open orders match: the %d oldest are reported; ask per symbol", ordermanager.MassStatusReportsMax, ordermanager.MassStatusReportsMax))
	}
}
