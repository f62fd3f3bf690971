package admin

import (
	"net/http"
	"slices"
	"strings"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// phaseNames lists the phases an operator may force, sorted, for errors and
// help.
var phaseNames = func() string {
	names := make([]string, 0, len(ordermanager.OperatorPhases))
	for n := range ordermanager.OperatorPhases {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}()

// phase forces a trading-phase change: the note, then the scheduler's
// phase command, journaled like every action. A change the engine refuses
// (a halted symbol) or that changes nothing (the phase it is in) is a 409.
func (s *Server) phase(r *http.Request, body []byte, who refdata.AdminToken) (any, *apiError) {
	var req PhaseRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	ph, ok := ordermanager.OperatorPhases[req.Phase]
	if req.Phase == matching.PhaseHalted.String() {
		return nil, errf(400, "phase", "halts are not a phase to force: use halt and resume")
	}
	if !ok {
		return nil, errf(400, "phase", "%q is not a phase an operator may set: one of %s", req.Phase, phaseNames)
	}
	sym, aerr := s.scopedSymbol(req.Reason, req.Symbol, req.All)
	if aerr != nil {
		return nil, aerr
	}
	v, aerr := s.operate(r, &ordermanager.Operation{Action: ordermanager.ActPhase, Symbol: sym, Phase: ph, Who: who.Name, Why: req.Reason})
	if aerr != nil || sym == 0 {
		return v, aerr
	}
	// The order manager checked the phase as of the engine's last event; a
	// halt still in flight then makes the engine refuse the command. Say so
	// rather than report a change that did not happen.
	ctx, cancel := s.ctx(r)
	defer cancel()
	var now matching.Phase
	if err := s.venue().Inspect(ctx, func(om *ordermanager.Manager) { now = om.Phase(sym) }); err != nil {
		return nil, venueErr(err)
	}
	if now != ph {
		res := v.(ActionResult)
		return nil, errf(409, "phase", "the engine refused the change (journaled at seq %d without effect): %s is %s", res.Seq, req.Symbol, now)
	}
	return v, nil
}

// expire ends the day's orders (POST /admin/v1/expire, a HaltRequest's
// body): the DAY orders of one symbol, or of every symbol with "all":
// true, expire, and GTD orders that are due, as the schedule's expiry
// step does; each is reported to its owner (ExecType C).
func (s *Server) expire(r *http.Request, body []byte, who refdata.AdminToken) (any, *apiError) {
	var req HaltRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	sym, aerr := s.scopedSymbol(req.Reason, req.Symbol, req.All)
	if aerr != nil {
		return nil, aerr
	}
	return s.operate(r, &ordermanager.Operation{Action: ordermanager.ActExpire, Symbol: sym, Who: who.Name, Why: req.Reason})
}
