package gateway

import (
	"sync"
	"sync/atomic"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/ordermanager"
)

// routes remembers the third-party routing of a session's requests
// (OnBehalfOfCompID 115, OnBehalfOfSubID 116, OnBehalfOfLocationID 144 and
// their DeliverTo* counterparts), reversed as a reply carries it, by the
// request's ClOrdID: every report about the order (its acknowledgement,
// fills, cancels, expiry, the answers to status requests) goes back to the
// firm it was sent for, not only the gateway's immediate rejects. An entry
// is forgotten when the order ends (or a replace supersedes its ClOrdID).
//
// It lives in memory only: the routing fields are not journaled, so after
// a restart the reports of orders placed before it are not routed
// (recovery's regenerated reports included).
//
// Cost: nothing for a session that never used routing (one atomic load per
// report); otherwise a map lookup under the session's lock.
type routes struct {
	n       atomic.Int32 // entries in m
	mu      sync.Mutex
	m       map[ordermanager.ClOrdID][]byte
	dropped atomic.Uint64 // requests whose routing was not kept (routesMax)
}

// routesMax bounds a session's remembered routes (open orders with
// routing); beyond it, the reports of further orders are not routed.
const routesMax = 1 << 16

// remember keeps the reversed routing of request m under cl (the session's
// reader goroutine, before the request is submitted); added says whether
// it did (forget undoes only that).
func (r *routes) remember(cl ordermanager.ClOrdID, m *fixsession.Message) (added bool) {
	var buf [128]byte
	rt := fixsession.AppendReplyRoute(buf[:0], m)
	if len(rt) == 0 || cl.IsZero() {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[ordermanager.ClOrdID][]byte{}
	}
	if _, ok := r.m[cl]; ok {
		// The ClOrdID is in use by an order of the session: this request
		// is refused as a duplicate, and the order keeps its routing.
		return false
	}
	if len(r.m) >= routesMax {
		r.dropped.Add(1)
		return false
	}
	r.m[cl] = append([]byte(nil), rt...)
	r.n.Store(int32(len(r.m)))
	return true
}

// forget drops the route of cl (a request that was never submitted).
func (r *routes) forget(cl ordermanager.ClOrdID) {
	if r.n.Load() == 0 {
		return
	}
	r.mu.Lock()
	delete(r.m, cl)
	r.n.Store(int32(len(r.m)))
	r.mu.Unlock()
}

// of returns the routing of rep's order (nil: none), and forgets what rep
// ends: the ClOrdIDs of an order that is done, the one a replace
// superseded, the request a cancel reject or mass cancel report answers.
// The slice is never changed afterwards. Deliver's goroutine.
func (r *routes) of(rep *ordermanager.Report) []byte {
	if r.n.Load() == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rt := r.m[rep.ClOrdID]
	if rt == nil && !rep.OrigClOrdID.IsZero() {
		rt = r.m[rep.OrigClOrdID]
	}
	switch rep.Kind {
	case ordermanager.RepExec:
		if rep.ExecType == ordermanager.ExecOrderStatus || !rep.MassStatus.ReqID.IsZero() || rep.Reject == ordermanager.RejDuplicateClOrdID {
			break // an answer about the order, or a duplicate's refusal, ends nothing
		}
		if rep.Leaves == 0 && done(rep.OrdStatus) {
			delete(r.m, rep.ClOrdID)
			delete(r.m, rep.OrigClOrdID)
		} else if rep.ExecType == ordermanager.ExecReplaced {
			delete(r.m, rep.OrigClOrdID)
		}
	case ordermanager.RepCancelReject, ordermanager.RepMassCancel:
		if rep.Reject != ordermanager.RejDuplicateClOrdID {
			delete(r.m, rep.ClOrdID)
		}
	}
	r.n.Store(int32(len(r.m)))
	return rt
}

// done reports whether OrdStatus st ends an order.
func done(st byte) bool {
	switch st {
	case ordermanager.StatusFilled, ordermanager.StatusCanceled, ordermanager.StatusRejected, ordermanager.StatusExpired:
		return true
	}
	return false
}
