package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/internal/gateway"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// actionsMax bounds GET /admin/v1/actions?n=.
const actionsMax = ordermanager.OperatorNotesKept

// ordersMax bounds GET /admin/v1/firms/{firm}/orders?limit=.
const ordersMax = 10000

func (s *Server) routes() {
	const p = "/admin/v1/"
	s.handle("GET "+p+"status", refdata.RoleViewer, s.status)
	s.handle("GET "+p+"sessions", refdata.RoleViewer, s.sessions)
	s.handle("GET "+p+"accounts", refdata.RoleViewer, s.accounts)
	s.handle("GET "+p+"accounts/{account}", refdata.RoleViewer, s.accounts)
	s.handle("GET "+p+"firms/{firm}/orders", refdata.RoleViewer, s.firmOrders)
	s.handle("GET "+p+"actions", refdata.RoleViewer, s.actions)
	s.handle("POST "+p+"halt", refdata.RoleOperator, s.halt)
	s.handle("POST "+p+"resume", refdata.RoleOperator, s.halt)
	s.handle("POST "+p+"phase", refdata.RoleOperator, s.phase)
	s.handle("POST "+p+"symbols", refdata.RoleOperator, s.listSymbol)
	s.handle("POST "+p+"expire", refdata.RoleOperator, s.expire)
	s.handle("POST "+p+"kill", refdata.RoleOperator, s.kill)
	s.handle("POST "+p+"cancel", refdata.RoleOperator, s.cancel)
	s.handle("POST "+p+"disconnect", refdata.RoleOperator, s.disconnect)
	s.handle("POST "+p+"block", refdata.RoleOperator, s.block)
	s.handle("POST "+p+"limits", refdata.RoleOperator, s.limits)
	s.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
		if m, ok := s.methods[r.URL.Path]; ok {
			w.Header().Set("Allow", m)
			writeJSON(w, http.StatusMethodNotAllowed, errf(405, "method", "%s %s: use %s", r.Method, r.URL.Path, m))
			return
		}
		writeJSON(w, http.StatusNotFound, errf(404, "path", "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
}

// Names to IDs. An empty name is 0 (not given); an unknown one is a 404
// naming the field.

func (s *Server) symbolID(name, field string) (matching.SymbolID, *apiError) {
	if name == "" {
		return 0, nil
	}
	if id := s.ref.SymbolByName(name); id != 0 {
		return id, nil
	}
	return 0, errf(404, field, "unknown symbol %q", name)
}

func (s *Server) accountID(name, field string) (matching.AccountID, *apiError) {
	if name == "" {
		return 0, nil
	}
	if id := s.ref.AccountByName(name); id != 0 {
		return id, nil
	}
	return 0, errf(404, field, "unknown account %q", name)
}

func (s *Server) firmID(name, field string) (refdata.FirmID, *apiError) {
	if name == "" {
		return 0, nil
	}
	for i := range s.ref.Firms {
		if s.ref.Firms[i].Name == name {
			return s.ref.Firms[i].ID, nil
		}
	}
	return 0, errf(404, field, "unknown firm %q", name)
}

func (s *Server) firmName(id refdata.FirmID) string {
	if f, ok := s.ref.Firm(id); ok {
		return f.Name
	}
	return ""
}

func (s *Server) symbolName(id matching.SymbolID) string {
	if sym, ok := s.ref.Symbol(id); ok {
		return sym.Name
	}
	return ""
}

func (s *Server) accountName(id matching.AccountID) string {
	if a, ok := s.ref.Account(id); ok {
		return a.Name
	}
	return ""
}

func (s *Server) sessionName(id refdata.SessionID) string {
	if ss, ok := s.ref.Session(id); ok {
		return ss.SenderCompID
	}
	return ""
}

func needReason(reason string) *apiError {
	if reason == "" {
		return errf(400, "reason", "every action needs a reason")
	}
	if len(reason) > ordermanager.OperatorWhyMax {
		return errf(400, "reason", "%d bytes, at most %d", len(reason), ordermanager.OperatorWhyMax)
	}
	return nil
}

// operate runs op and answers with where it was journaled.
// scopedSymbol checks an action's reason and its scope, one symbol or
// "all": true (ID 0), and returns the symbol's ID.
func (s *Server) scopedSymbol(reason, symbol string, all bool) (matching.SymbolID, *apiError) {
	if err := needReason(reason); err != nil {
		return 0, err
	}
	if (symbol == "") == !all {
		return 0, errf(400, "symbol", `give a symbol or "all": true, not both`)
	}
	return s.symbolID(symbol, "symbol")
}

func (s *Server) operate(r *http.Request, op *ordermanager.Operation) (any, *apiError) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	res, err := s.venue().Operate(ctx, op)
	if err != nil {
		return nil, venueErr(err)
	}
	s.log.Info().Str("who", op.Who).Str("action", op.Action.String()).Str("why", op.Why).
		Uint64("seq", res.Seq).Int("commands", res.Commands).Msg("operator action")
	return ActionResult{Action: op.Action.String(), Who: op.Who, Why: op.Why, Seq: res.Seq, LastSeq: res.LastSeq, Commands: res.Commands}, nil
}

func (s *Server) halt(r *http.Request, body []byte, who refdata.AdminToken) (any, *apiError) {
	var req HaltRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	sym, aerr := s.scopedSymbol(req.Reason, req.Symbol, req.All)
	if aerr != nil {
		return nil, aerr
	}
	op := &ordermanager.Operation{Action: ordermanager.ActHalt, Symbol: sym, Who: who.Name, Why: req.Reason}
	resume := r.URL.Path == "/admin/v1/resume"
	if resume {
		op.Action = ordermanager.ActResume
	}
	// The reason goes to the gateway and market data before the halt, so
	// the SecurityStatus messages and the web page carry it.
	for _, cs := range s.ref.AllSymbols() {
		if id := cs.ID; sym == 0 || sym == id {
			if resume {
				defer s.setHaltReason(id, "")
			} else {
				s.setHaltReason(id, req.Reason)
			}
		}
	}
	return s.operate(r, op)
}

func (s *Server) kill(r *http.Request, body []byte, who refdata.AdminToken) (any, *apiError) {
	var req KillRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if req.On == nil {
		return nil, errf(400, "on", "required: true turns the kill switch on, false off")
	}
	if err := needReason(req.Reason); err != nil {
		return nil, err
	}
	if (req.Account == "") == (req.Firm == "") {
		return nil, errf(400, "account", "give an account or a firm, not both")
	}
	op := &ordermanager.Operation{Action: ordermanager.ActKillOff, Who: who.Name, Why: req.Reason}
	if *req.On {
		op.Action = ordermanager.ActKillOn
	}
	var aerr *apiError
	if op.Account, aerr = s.accountID(req.Account, "account"); aerr != nil {
		return nil, aerr
	}
	if op.Firm, aerr = s.firmID(req.Firm, "firm"); aerr != nil {
		return nil, aerr
	}
	return s.operate(r, op)
}

func (s *Server) cancel(r *http.Request, body []byte, who refdata.AdminToken) (any, *apiError) {
	var req CancelRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if err := needReason(req.Reason); err != nil {
		return nil, err
	}
	if req.Firm == "" && req.Account == "" && req.Symbol == "" {
		return nil, errf(400, "firm", "give a firm, an account or a symbol (or several)")
	}
	op := &ordermanager.Operation{Action: ordermanager.ActCancelAll, Who: who.Name, Why: req.Reason}
	var aerr *apiError
	if op.Firm, aerr = s.firmID(req.Firm, "firm"); aerr != nil {
		return nil, aerr
	}
	if op.Account, aerr = s.accountID(req.Account, "account"); aerr != nil {
		return nil, aerr
	}
	if op.Symbol, aerr = s.symbolID(req.Symbol, "symbol"); aerr != nil {
		return nil, aerr
	}
	if op.Account != 0 && op.Firm != 0 {
		if a, _ := s.ref.Account(op.Account); a.Firm != op.Firm {
			return nil, errf(400, "account", "account %q is not of firm %q", req.Account, req.Firm)
		}
	}
	return s.operate(r, op)
}

func (s *Server) disconnect(r *http.Request, body []byte, who refdata.AdminToken) (any, *apiError) {
	var req DisconnectRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if req.Session == "" {
		return nil, errf(400, "session", "required: the session's SenderCompID")
	}
	if err := needReason(req.Reason); err != nil {
		return nil, err
	}
	id := s.ref.SessionByCompID(req.Session)
	if id == 0 {
		return nil, errf(404, "session", "unknown session %q", req.Session)
	}
	if s.gw == nil || !s.gw.Connected(id) {
		return nil, errf(409, "session", "session %q is not logged on", req.Session)
	}
	v, aerr := s.operate(r, &ordermanager.Operation{Action: ordermanager.ActDisconnect, Session: id, Who: who.Name, Why: req.Reason})
	if aerr != nil {
		return nil, aerr
	}
	if err := s.gw.Disconnect(id, "disconnected by the exchange: "+req.Reason); err != nil {
		if errors.Is(err, gateway.ErrNotLoggedOn) {
			return nil, errf(409, "session", "session %q logged out meanwhile", req.Session)
		}
		return nil, errf(500, "", "%v", err)
	}
	return v, nil
}

func (s *Server) block(r *http.Request, body []byte, who refdata.AdminToken) (any, *apiError) {
	var req BlockRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if req.Firm == "" {
		return nil, errf(400, "firm", "required")
	}
	if req.Blocked == nil {
		return nil, errf(400, "blocked", "required: true refuses the firm's logons, false accepts them again")
	}
	if err := needReason(req.Reason); err != nil {
		return nil, err
	}
	firm, aerr := s.firmID(req.Firm, "firm")
	if aerr != nil {
		return nil, aerr
	}
	op := &ordermanager.Operation{Action: ordermanager.ActUnblockFirm, Firm: firm, Who: who.Name, Why: req.Reason}
	if *req.Blocked {
		op.Action = ordermanager.ActBlockFirm
	}
	v, aerr := s.operate(r, op)
	if aerr == nil && s.gw != nil {
		s.gw.BlockFirm(firm, *req.Blocked)
	}
	return v, aerr
}

func (s *Server) limits(r *http.Request, body []byte, who refdata.AdminToken) (any, *apiError) {
	var req LimitsRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if req.Account == "" {
		return nil, errf(400, "account", "required")
	}
	if err := needReason(req.Reason); err != nil {
		return nil, err
	}
	acct, aerr := s.accountID(req.Account, "account")
	if aerr != nil {
		return nil, aerr
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	var cur ordermanager.AccountView
	if err := s.venue().Inspect(ctx, func(om *ordermanager.Manager) { cur, _ = om.Account(acct) }); err != nil {
		return nil, venueErr(err)
	}
	l := cur.Limits
	in := &req.Limits
	if in.MaxOrderLots != nil {
		l.MaxOrderLots = *in.MaxOrderLots
	}
	if in.MaxOrderNotional != nil {
		d, err := decimal.NewFromString(*in.MaxOrderNotional)
		if err != nil {
			return nil, errf(400, "limits.max_order_notional", "%q is not a decimal amount", *in.MaxOrderNotional)
		}
		if l.MaxOrderNotional, err = s.ref.MoneyToMinor(d); err != nil {
			return nil, errf(400, "limits.max_order_notional", "%v", err)
		}
	}
	if in.PriceBandBps != nil {
		l.PriceBandBps = *in.PriceBandBps
	}
	if in.MaxOpenOrders != nil {
		l.MaxOpenOrders = *in.MaxOpenOrders
	}
	if in.AllowShort != nil {
		l.AllowShort = *in.AllowShort
	}
	if in.ShortLimitLots != nil {
		l.ShortLimitLots = *in.ShortLimitLots
	}
	if in.RequireMarketProtection != nil {
		l.RequireMarketProtection = *in.RequireMarketProtection
	}
	return s.operate(r, &ordermanager.Operation{Action: ordermanager.ActSetLimits, Account: acct, Limits: l, Who: who.Name, Why: req.Reason})
}

// Reads.

func (s *Server) status(r *http.Request, _ []byte, _ refdata.AdminToken) (any, *apiError) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	st := Status{Started: s.started.UTC(), UptimeSeconds: time.Since(s.started).Seconds()}
	var syms []SymbolStatus
	err := s.venue().Inspect(ctx, func(om *ordermanager.Manager) {
		// Read inside: a listing changes the list on this goroutine.
		all := s.ref.AllSymbols()
		syms = make([]SymbolStatus, len(all))
		for i := range all {
			sym := &all[i]
			ss := SymbolStatus{Symbol: sym.Name, Phase: om.Phase(sym.ID).String(), Halted: om.Halted(sym.ID)}
			if ss.Halted {
				ss.PhaseUnderHalt, ss.HaltReason = om.PhaseUnderHalt(sym.ID).String(), om.HaltReason(sym.ID)
			}
			if last := om.LastPrice(sym.ID); last != 0 {
				ss.Last = price(sym, last)
			}
			syms[i] = ss
		}
	})
	if err != nil {
		return nil, venueErr(err)
	}
	st.Symbols = syms
	xs := s.venue().Stats()
	st.Journal = JournalStatus{Dir: s.venue().Dir(), Durability: string(s.dur), DurableSeq: xs.Sequencer.DurableSeq,
		Records: xs.Sequencer.Records, Fsyncs: xs.Sequencer.Fsyncs}
	st.Queues = QueueStatus{Inbound: s.venue().QueueDepth(), InFlight: xs.Commands - min(xs.Processed, xs.Commands), Busy: xs.Busy}
	st.Sessions = len(s.ref.Sessions)
	if s.gw != nil {
		for _, si := range s.gw.Sessions() {
			if si.LoggedOn {
				st.SessionsUp++
			}
		}
	}
	return st, nil
}

func (s *Server) sessions(_ *http.Request, _ []byte, _ refdata.AdminToken) (any, *apiError) {
	out := []Session{}
	if s.gw == nil {
		return out, nil
	}
	for _, si := range s.gw.Sessions() {
		out = append(out, Session{
			Session: si.SenderCompID, Firm: s.firmName(si.Firm), TargetCompID: si.TargetCompID, LoggedOn: si.LoggedOn,
			BeginString: si.BeginString, Address: si.RemoteAddr, ConnectedSince: si.Since.UTC(),
			NextSeqIn: si.NextSeqIn, NextSeqOut: si.NextSeqOut, MsgsIn: si.MsgsIn, Rejects: si.Rejects,
			MsgsPerSecond: si.MsgsPerSecond, RejectsPerSecond: si.RejectsPerSecond, LogonsBlocked: si.LogonsBlocked,
		})
	}
	return out, nil
}

func (s *Server) accounts(r *http.Request, _ []byte, _ refdata.AdminToken) (any, *apiError) {
	var ids []matching.AccountID
	one := r.PathValue("account")
	if one != "" {
		id, aerr := s.accountID(one, "account")
		if aerr != nil {
			return nil, aerr
		}
		ids = append(ids, id)
	} else {
		for i := range s.ref.Accounts {
			ids = append(ids, s.ref.Accounts[i].ID)
		}
	}
	views := make([]ordermanager.AccountView, len(ids))
	ctx, cancel := s.ctx(r)
	defer cancel()
	if err := s.venue().Inspect(ctx, func(om *ordermanager.Manager) {
		for i, id := range ids {
			views[i], _ = om.Account(id)
		}
	}); err != nil {
		return nil, venueErr(err)
	}
	out := make([]Account, len(views))
	for i := range views {
		out[i] = s.accountJSON(&views[i])
	}
	if one != "" {
		return out[0], nil
	}
	return out, nil
}

func (s *Server) accountJSON(v *ordermanager.AccountView) Account {
	a := Account{
		Account: s.accountName(v.ID), Firm: s.firmName(v.Firm), Cash: s.money(v.Cash),
		CashReserved: s.money(v.CashReserved), Holdings: map[string]Holding{},
		OpenOrders: v.OpenOrders, KillSwitch: v.KillSwitch, LimitsChanged: v.LimitsChanged,
	}
	all := s.ref.AllSymbols()
	for i := range all {
		sym := &all[i]
		if i < len(v.Holdings) && (v.Holdings[i] != 0 || v.HoldingsReserved[i] != 0) {
			a.Holdings[sym.Name] = Holding{Qty: qty(sym, v.Holdings[i]), Reserved: qty(sym, v.HoldingsReserved[i])}
		}
	}
	l := v.Limits
	notional := s.money(l.MaxOrderNotional)
	a.Limits = LimitsJSON{
		MaxOrderLots: &l.MaxOrderLots, MaxOrderNotional: &notional, PriceBandBps: &l.PriceBandBps,
		MaxOpenOrders: &l.MaxOpenOrders, AllowShort: &l.AllowShort, ShortLimitLots: &l.ShortLimitLots,
		RequireMarketProtection: &l.RequireMarketProtection,
	}
	return a
}

func (s *Server) firmOrders(r *http.Request, _ []byte, _ refdata.AdminToken) (any, *apiError) {
	firm, aerr := s.firmID(r.PathValue("firm"), "firm")
	if aerr != nil {
		return nil, aerr
	}
	limit, aerr := queryInt(r, "limit", 1000, ordersMax)
	if aerr != nil {
		return nil, aerr
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	var views []ordermanager.OrderView
	if err := s.venue().Inspect(ctx, func(om *ordermanager.Manager) {
		views = om.OpenOrdersOf(func(a matching.AccountID) bool {
			acc, ok := s.ref.Account(a)
			return ok && acc.Firm == firm
		}, limit)
	}); err != nil {
		return nil, venueErr(err)
	}
	out := make([]Order, 0, len(views))
	for i := range views {
		v := &views[i]
		sym, _ := s.ref.Symbol(v.Symbol)
		out = append(out, Order{
			OrderID: strconv.FormatUint(uint64(v.ID), 10), ClOrdID: v.ClOrdID, Account: s.accountName(v.Account),
			Session: s.sessionName(v.Session), Symbol: s.symbolName(v.Symbol), Side: v.Side.String(),
			Type: v.Type.String(), TIF: v.TIF.String(), Price: price(sym, v.Price), Qty: qty(sym, v.Qty),
			Filled: qty(sym, v.Filled), Leaves: qty(sym, v.Leaves),
		})
	}
	return out, nil
}

func (s *Server) actions(r *http.Request, _ []byte, _ refdata.AdminToken) (any, *apiError) {
	n, aerr := queryInt(r, "n", 20, actionsMax)
	if aerr != nil {
		return nil, aerr
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	var notes []ordermanager.OperatorNote
	if err := s.venue().Inspect(ctx, func(om *ordermanager.Manager) { notes = om.OperatorNotes(n) }); err != nil {
		return nil, venueErr(err)
	}
	out := make([]Action, 0, len(notes))
	for i := range notes {
		out = append(out, s.ActionJSON(&notes[i]))
	}
	return out, nil
}

// ActionJSON is a note as the API and `exchange replay` show it.
func (s *Server) ActionJSON(n *ordermanager.OperatorNote) Action { return NoteAction(s.ref, n) }

// NoteAction describes an operator note with the reference data's names.
func NoteAction(ref *refdata.Registry, n *ordermanager.OperatorNote) Action {
	a := Action{Seq: n.Seq, Time: time.Unix(0, n.TimeNs).UTC(), Action: n.Action.String(), Who: n.Who, Why: n.Why}
	if sym, ok := ref.Symbol(n.Symbol); ok {
		a.Symbol = sym.Name
	} else if n.Action == ordermanager.ActHalt || n.Action == ordermanager.ActResume || n.Action == ordermanager.ActPhase ||
		n.Action == ordermanager.ActExpire {
		a.Symbol = "*"
	}
	if n.Action == ordermanager.ActPhase {
		a.Phase = n.Phase.String()
	}
	if acc, ok := ref.Account(n.Account); ok {
		a.Account = acc.Name
	}
	if f, ok := ref.Firm(n.Firm); ok {
		a.Firm = f.Name
	}
	if ss, ok := ref.Session(n.Session); ok {
		a.Session = ss.SenderCompID
	}
	return a
}

func price(sym *refdata.Symbol, ticks int64) string {
	if sym == nil {
		return strconv.FormatInt(ticks, 10)
	}
	return decimal.NewFromInt(ticks).Mul(sym.TickSize).String()
}

func qty(sym *refdata.Symbol, lots int64) string {
	if sym == nil {
		return strconv.FormatInt(lots, 10)
	}
	return decimal.NewFromInt(lots).Mul(sym.LotSize).String()
}

func (s *Server) money(minor int64) string {
	return s.ref.MinorToMoney(minor).StringFixed(s.ref.MinorUnits)
}
