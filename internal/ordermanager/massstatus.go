package ordermanager

import (
	"slices"

	"github.com/exchange-sim/exchange/matching"
)

// ReqMassStatus is an OrderMassStatusRequest (35=AF): the firm's open
// orders (of Account when set, of Symbol when set), answered from state,
// not sequenced. ClOrdID carries the MassStatusReqID (584).
const ReqMassStatus RequestKind = 16

// MassStatusReportsMax bounds the answers to one mass status request; past
// it the last one says the list was cut (ask per symbol).
const MassStatusReportsMax = 1 << 14

// MassStatus marks a Report as one answer to an OrderMassStatusRequest.
type MassStatus struct {
	ReqID ClOrdID // MassStatusReqID (584); zero: not a mass status answer
	// Total is TotNumReports (911): the number of answers to the request;
	// Last marks the last of them (LastRptRequested 912=Y).
	Total int32
	Last  bool
	// None: no open order matched; the one answer names no order.
	None bool
	// Cut: more orders matched than MassStatusReportsMax; those answered
	// are the oldest.
	Cut bool
}

// answerMassStatus appends one status report (ExecType I) per open order
// of the request's firm matching its account and symbol, by OrderID, or a
// single report without an order when none matches. Cost: O(open orders)
// and a sort of the matching ones; it allocates.
func (m *Manager) answerMassStatus(req *Request, reps []Report) []Report {
	if m.session(req) == nil {
		return m.rejectReq(req, RejUnknownSession, reps)
	}
	if req.Account != 0 {
		if a := m.acct(req.Account); a == nil || a.firm != req.Firm {
			return m.rejectReq(req, RejUnknownAccount, reps)
		}
	}
	if req.Symbol != 0 && m.sym(req.Symbol) == nil {
		return m.rejectReq(req, RejUnknownSymbol, reps)
	}
	var ids []matching.OrderID
	for i := 1; i < m.orders.len(); i++ {
		r := m.orders.at(int32(i))
		if r.id == 0 || r.acct == 0 {
			continue
		}
		if j, ok := m.index.get(orderKey(r.id)); !ok || int(*j) != i {
			continue // a free slot
		}
		if m.accts[r.acct-1].firm != req.Firm || (req.Account != 0 && r.acct != req.Account) || (req.Symbol != 0 && r.sym != req.Symbol) {
			continue
		}
		ids = append(ids, r.id)
	}
	slices.Sort(ids)
	ms := MassStatus{ReqID: req.ClOrdID}
	if len(ids) > MassStatusReportsMax {
		ids, ms.Cut = ids[:MassStatusReportsMax], true
	}
	if len(ids) == 0 {
		reps = append(reps, Report{})
		p := &reps[len(reps)-1]
		p.Kind, p.Session, p.ExecType, p.OrdStatus, p.ExecID = RepExec, req.Session, ExecOrderStatus, StatusRejected, m.nextRejExecID()
		p.Account, p.Symbol, p.Side, p.RecvNs = req.Account, req.Symbol, req.Side, req.RecvNs
		ms.Last, ms.None = true, true
		p.MassStatus = ms
		return reps
	}
	ms.Total = int32(len(ids))
	for k, id := range ids {
		r := m.order(id)
		var p *Report
		reps, p = m.appendExec(reps, r, ExecOrderStatus, r.status(), m.nextRejExecID(), 0)
		p.Session, p.RecvNs = req.Session, req.RecvNs
		p.MassStatus = ms
		p.MassStatus.Last = k == len(ids)-1
	}
	return reps
}
