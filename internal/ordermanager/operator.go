package ordermanager

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// Operator actions. Every action of the operator console is journaled as a
// note (a CmdAdmin command that carries who, why, what and on whom) followed
// by the commands that carry it out: halts, kill switches, mass cancels, a
// change of risk limits. Replay applies the note like any other command, so
// the list of operator actions, the halt reasons, the blocked firms and the
// changed limits are part of the replayed state.

// OperatorAction says what an operator did.
type OperatorAction uint8

const (
	ActHalt        OperatorAction = 1 // halt Symbol (0: every symbol)
	ActResume      OperatorAction = 2 // resume Symbol (0: every symbol)
	ActKillOn      OperatorAction = 3 // kill switch on for Account, or every account of Firm
	ActKillOff     OperatorAction = 4 // kill switch off, same scope
	ActCancelAll   OperatorAction = 5 // cancel every order of Firm, Account and/or Symbol
	ActDisconnect  OperatorAction = 6 // disconnect FIX session Session (the gateway acts)
	ActBlockFirm   OperatorAction = 7 // refuse Firm's logons (the gateway acts)
	ActUnblockFirm OperatorAction = 8
	ActSetLimits   OperatorAction = 9  // new risk limits for Account
	ActPhase       OperatorAction = 10 // move Symbol (0: every symbol not halted) to Phase
	ActListSymbol  OperatorAction = 11 // list a new symbol (Listing); the note's Symbol is its ID
	ActExpire      OperatorAction = 12 // end of day: DAY orders (and due GTD) of Symbol (0: all) expire
	actCount       OperatorAction = 13
)

var actionNames = [actCount]string{
	ActHalt: "halt", ActResume: "resume", ActKillOn: "kill-on", ActKillOff: "kill-off",
	ActCancelAll: "cancel-all", ActDisconnect: "disconnect", ActBlockFirm: "block-firm",
	ActUnblockFirm: "unblock-firm", ActSetLimits: "set-limits", ActPhase: "phase",
	ActListSymbol: "list-symbol", ActExpire: "expire",
}

// String is the action's name as the console prints it.
func (a OperatorAction) String() string {
	if a < actCount && actionNames[a] != "" {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// Limits of an operator note's text (the note travels in a command's meta
// bytes, at most MetaMax).
const (
	operatorWhoMax = refdata.OperatorNameMax
	OperatorWhyMax = 72
	// OperatorNotesKept is how many notes the manager remembers (newest).
	OperatorNotesKept = 256
)

// OperatorNote is one journaled operator action.
type OperatorNote struct {
	Seq    uint64 // the note's sequence number (0 until sequenced, live)
	TimeNs int64  // the sequencer's stamp (live: the pipeline's clock)
	Action OperatorAction
	Symbol matching.SymbolID
	// Account and Firm scope kill switches, cancels and limits; Session names
	// the session of a disconnect.
	Account matching.AccountID
	Firm    refdata.FirmID
	Session refdata.SessionID
	Who     string
	Why     string
	Limits  refdata.Limits // ActSetLimits: the new limits
	Phase   matching.Phase // ActPhase: the phase forced
}

// Operation is one operator action asked of the manager (see Operate).
type Operation struct {
	Action  OperatorAction
	Who     string
	Why     string
	Symbol  matching.SymbolID
	Account matching.AccountID
	Firm    refdata.FirmID
	Session refdata.SessionID
	Limits  refdata.Limits // ActSetLimits
	Phase   matching.Phase // ActPhase
	// Listing is the symbol ActListSymbol lists (refdata.Registry.BuildSymbol's; its ID
	// is set by Operate).
	Listing refdata.Symbol
}

// Errors of Operate, each wrapped with the name or number at fault.
var (
	ErrUnknownSymbol  = errors.New("unknown symbol")
	ErrUnknownAccount = errors.New("unknown account")
	ErrUnknownFirm    = errors.New("unknown firm")
	ErrUnknownSession = errors.New("unknown session")
	ErrOperation      = errors.New("invalid operation")
	// ErrRefused: the action is well formed but the venue's state refuses
	// it (a phase change for a halted symbol, say).
	ErrRefused = errors.New("refused")
)

// operatorState is what notes change: it is replayed state, kept in the
// snapshot's operator section (AppendOperatorState).
type operatorState struct {
	notes     []OperatorNote // ring of the newest OperatorNotesKept
	notesNext int            // ring position of the next note once full
	reasons   map[matching.SymbolID]string
	blocked   map[refdata.FirmID]bool
	limits    map[matching.AccountID]bool // accounts whose limits an operator set
}

const (
	opNote   = 32 // meta op of an operator note
	opLimits = 33 // meta op of a change of risk limits
)

// Note meta, version 1 like every meta, little-endian:
//
//	[0] 1 | [1] opNote | [2] action | [3:7] symbol u32 | [7:11] account u32 |
//	[11:13] firm u16 | [13:17] session u32 | who length, who | why length, why
//	(ActPhase only: | phase u8)
//
// Limits meta: [0] 1 | [1] opLimits | [2:6] account u32 | max order lots i64 |
// max order notional i64 | price band bps i64 | max open orders i64 |
// short limit lots i64 | allow short u8 | require market protection u8
const (
	noteFixed   = 17
	limitsBytes = 6 + 5*8 + 2
)

func isOperatorMeta(b []byte) bool {
	return len(b) >= 2 && b[0] == metaVersion && (b[1] == opNote || b[1] == opLimits || b[1] == opListSymbol)
}

func encodeNote(p *Pending, n *OperatorNote) {
	le := binary.LittleEndian
	b := append(p.Meta[:0], metaVersion, opNote, byte(n.Action))
	b = le.AppendUint32(b, uint32(n.Symbol))
	b = le.AppendUint32(b, uint32(n.Account))
	b = le.AppendUint16(b, uint16(n.Firm))
	b = le.AppendUint32(b, uint32(n.Session))
	b = append(b, byte(len(n.Who)))
	b = append(b, n.Who...)
	b = append(b, byte(len(n.Why)))
	b = append(b, n.Why...)
	if n.Action == ActPhase {
		b = append(b, byte(n.Phase))
	}
	p.MetaLen = uint8(len(b))
}

func encodeLimits(p *Pending, acct matching.AccountID, l *refdata.Limits) {
	le := binary.LittleEndian
	b := append(p.Meta[:0], metaVersion, opLimits)
	b = le.AppendUint32(b, uint32(acct))
	for _, v := range [...]int64{l.MaxOrderLots, l.MaxOrderNotional, l.PriceBandBps, int64(l.MaxOpenOrders), l.ShortLimitLots} {
		b = le.AppendUint64(b, uint64(v))
	}
	b = append(b, boolByte(l.AllowShort), boolByte(l.RequireMarketProtection))
	p.MetaLen = uint8(len(b))
}

// DecodeOperatorNote decodes a journaled command's meta as an operator note;
// ok is false for any other command (or meta it cannot read). The note's Seq
// and TimeNs are the command's. It never panics.
func DecodeOperatorNote(cmd *matching.Command, b []byte) (n OperatorNote, ok bool) {
	if cmd.Kind != matching.CmdAdmin || len(b) < noteFixed+2 || b[0] != metaVersion || b[1] != opNote {
		return n, false
	}
	le := binary.LittleEndian
	n.Seq, n.TimeNs = cmd.Seq, cmd.TimeNs
	n.Action = OperatorAction(b[2])
	n.Symbol = matching.SymbolID(le.Uint32(b[3:]))
	n.Account = matching.AccountID(le.Uint32(b[7:]))
	n.Firm = refdata.FirmID(le.Uint16(b[11:]))
	n.Session = refdata.SessionID(le.Uint32(b[13:]))
	r := b[noteFixed:]
	who, r, ok1 := lenPrefixed(r, operatorWhoMax)
	why, r, ok2 := lenPrefixed(r, OperatorWhyMax)
	if n.Action == ActPhase && len(r) == 1 && matching.Phase(r[0]) <= matching.PhaseVolatilityAuction {
		n.Phase, r = matching.Phase(r[0]), r[1:]
	}
	if !ok1 || !ok2 || len(r) != 0 || n.Action == 0 || n.Action >= actCount {
		return OperatorNote{}, false
	}
	n.Who, n.Why = string(who), string(why)
	return n, true
}

func lenPrefixed(r []byte, max int) (v, rest []byte, ok bool) {
	if len(r) < 1 || int(r[0]) > max || len(r) < 1+int(r[0]) {
		return nil, r, false
	}
	return r[1 : 1+int(r[0])], r[1+int(r[0]):], true
}

func decodeLimits(b []byte) (matching.AccountID, refdata.Limits, bool) {
	var l refdata.Limits
	if len(b) != limitsBytes || b[0] != metaVersion || b[1] != opLimits {
		return 0, l, false
	}
	le := binary.LittleEndian
	acct := matching.AccountID(le.Uint32(b[2:]))
	v := func(i int) int64 { return int64(le.Uint64(b[6+8*i:])) }
	l.MaxOrderLots, l.MaxOrderNotional, l.PriceBandBps = v(0), v(1), v(2)
	open := v(3)
	l.ShortLimitLots = v(4)
	if b[46] > 1 || b[47] > 1 || open < 0 || open > 1<<31-1 {
		return 0, l, false
	}
	l.MaxOpenOrders = int(open)
	l.AllowShort, l.RequireMarketProtection = b[46] == 1, b[47] == 1
	return acct, l, validLimits(&l) == nil
}

func validLimits(l *refdata.Limits) error {
	switch {
	case l.MaxOrderLots <= 0 || l.MaxOrderLots > matching.QtyMax:
		return fmt.Errorf("%w: max_order_lots %d must be 1..%d", ErrOperation, l.MaxOrderLots, matching.QtyMax)
	case l.MaxOrderNotional <= 0 || l.MaxOrderNotional > notionalMax:
		return fmt.Errorf("%w: max_order_notional %d must be positive and at most %d minor units", ErrOperation, l.MaxOrderNotional, notionalMax)
	case l.PriceBandBps < 0 || l.PriceBandBps > bpsDenom*100:
		return fmt.Errorf("%w: price_band_bps %d must be 0..%d", ErrOperation, l.PriceBandBps, bpsDenom*100)
	case l.MaxOpenOrders <= 0:
		return fmt.Errorf("%w: max_open_orders %d must be positive", ErrOperation, l.MaxOpenOrders)
	case l.ShortLimitLots < 0 || l.ShortLimitLots > matching.QtyMax:
		return fmt.Errorf("%w: short_limit_lots %d must be 0..%d", ErrOperation, l.ShortLimitLots, matching.QtyMax)
	}
	return nil
}

// applyOperator is the state change of a note or a change of limits, live
// and in replay.
func (m *Manager) applyOperator(cmd *matching.Command, b []byte) error {
	if b[1] == opListSymbol {
		return m.applyListing(cmd, b)
	}
	if cmd.Kind != matching.CmdAdmin {
		return fmt.Errorf("%w: operator meta on command kind %d", ErrMeta, cmd.Kind)
	}
	o := &m.opr
	if b[1] == opLimits {
		acct, l, ok := decodeLimits(b)
		a := m.acct(acct)
		if !ok || a == nil || acct != cmd.Account {
			return fmt.Errorf("%w: limits of account %d", ErrMeta, acct)
		}
		a.lim = l
		if o.limits == nil {
			o.limits = map[matching.AccountID]bool{}
		}
		o.limits[acct] = true
		return nil
	}
	n, ok := DecodeOperatorNote(cmd, b)
	if !ok {
		return fmt.Errorf("%w: operator note", ErrMeta)
	}
	switch n.Action {
	case ActHalt, ActResume:
		if o.reasons == nil {
			o.reasons = map[matching.SymbolID]string{}
		}
		for s := range m.syms {
			id := matching.SymbolID(s + 1)
			if n.Symbol != 0 && n.Symbol != id {
				continue
			}
			if n.Action == ActHalt {
				o.reasons[id] = n.Why
			} else {
				delete(o.reasons, id)
			}
		}
	case ActBlockFirm, ActUnblockFirm:
		if o.blocked == nil {
			o.blocked = map[refdata.FirmID]bool{}
		}
		if n.Action == ActBlockFirm {
			o.blocked[n.Firm] = true
		} else {
			delete(o.blocked, n.Firm)
		}
	}
	o.push(n)
	return nil
}

func (o *operatorState) push(n OperatorNote) {
	if len(o.notes) < OperatorNotesKept {
		o.notes = append(o.notes, n)
		return
	}
	o.notes[o.notesNext] = n
	o.notesNext = (o.notesNext + 1) % OperatorNotesKept
}

// newest returns the ring position of the newest note, or -1.
func (o *operatorState) newest() int {
	if len(o.notes) == 0 {
		return -1
	}
	if len(o.notes) < OperatorNotesKept {
		return len(o.notes) - 1
	}
	return (o.notesNext + OperatorNotesKept - 1) % OperatorNotesKept
}

// StampNote gives the newest note, accepted live with Seq 0, the sequence
// number and time the pipeline handed it to the sequencer with.
func (m *Manager) StampNote(seq uint64, timeNs int64) {
	if i := m.opr.newest(); i >= 0 && m.opr.notes[i].Seq == 0 {
		m.opr.notes[i].Seq, m.opr.notes[i].TimeNs = seq, timeNs
	}
}

// OperatorNotes returns up to n of the newest operator notes, oldest first.
// O(n); it allocates.
func (m *Manager) OperatorNotes(n int) []OperatorNote {
	o := &m.opr
	n = min(max(n, 0), len(o.notes))
	out := make([]OperatorNote, 0, n)
	start := 0
	if len(o.notes) == OperatorNotesKept {
		start = o.notesNext
	}
	for i := len(o.notes) - n; i < len(o.notes); i++ {
		out = append(out, o.notes[(start+i)%len(o.notes)])
	}
	return out
}

// HaltReason is the reason of the operator halt of sym ("" when none).
func (m *Manager) HaltReason(sym matching.SymbolID) string { return m.opr.reasons[sym] }

// FirmBlocked reports whether an operator blocked firm's logons.
func (m *Manager) FirmBlocked(firm refdata.FirmID) bool { return m.opr.blocked[firm] }

// Operate validates one operator action and appends its commands to cmds:
// the note first, then what carries it out (halts, kill switches, mass
// cancels, new limits, a phase command, a symbol listing). Like Submit, it makes their state change; the caller
// must sequence every command it gets back, in order. It returns an error
// wrapping ErrUnknownSymbol, ErrUnknownAccount, ErrUnknownFirm,
// ErrUnknownSession, ErrOperation, ErrRefused or refdata.ErrDuplicateSymbol,
// and no commands, when the action cannot be done. Cost: O(symbols) for a halt of every symbol, O(accounts) for a
// cancel of a symbol's orders; it allocates only when cmds must grow.
func (m *Manager) Operate(op *Operation, cmds []Pending) ([]Pending, error) {
	if err := m.checkOperation(op); err != nil {
		return cmds, err
	}
	n := OperatorNote{Action: op.Action, Symbol: op.Symbol, Account: op.Account, Firm: op.Firm,
		Session: op.Session, Who: op.Who, Why: op.Why, Limits: op.Limits, Phase: op.Phase}
	if op.Action == ActListSymbol {
		op.Listing.ID = matching.SymbolID(len(m.syms) + 1)
		n.Symbol = op.Listing.ID
	}
	start := len(cmds)
	cmds = append(cmds, Pending{Cmd: matching.Command{Kind: matching.CmdAdmin}})
	encodeNote(&cmds[start], &n)
	if err := m.applyOperator(&cmds[start].Cmd, cmds[start].MetaBytes()); err != nil {
		return cmds[:start], err
	}
	accts := m.scopeAccounts(op)
	switch op.Action {
	case ActHalt, ActResume:
		kind := matching.CmdHalt
		mop := uint8(opHalt)
		if op.Action == ActResume {
			kind, mop = matching.CmdResume, opResume
		}
		for s := range m.syms {
			id := matching.SymbolID(s + 1)
			if op.Symbol == 0 || op.Symbol == id {
				cmds, _ = m.push(cmds, &matching.Command{Kind: kind, Symbol: id}, &meta{op: mop}, 0)
			}
		}
	case ActKillOn, ActKillOff:
		for _, a := range accts {
			mop := uint8(opKillOff)
			if op.Action == ActKillOn {
				mop = opKillOn
			}
			cmds, _ = m.push(cmds, &matching.Command{Kind: matching.CmdAdmin, Account: a}, &meta{op: mop}, 0)
			if op.Action == ActKillOn && m.accts[a-1].open > 0 {
				cmds, _ = m.push(cmds, &matching.Command{Kind: matching.CmdMassCancel, Account: a}, &meta{op: opMassCancel}, 0)
			}
		}
	case ActCancelAll:
		for _, a := range accts {
			if m.accts[a-1].open > 0 {
				cmd := matching.Command{Kind: matching.CmdMassCancel, Account: a, Symbol: op.Symbol}
				cmds, _ = m.push(cmds, &cmd, &meta{op: opMassCancel}, 0)
			}
		}
	case ActExpire:
		// The scheduler's end-of-day expiry.
		cmds, _ = m.push(cmds, &matching.Command{Kind: matching.CmdExpire, Symbol: op.Symbol}, &meta{op: opExpire}, 0)
	case ActPhase:
		// The scheduler's command: Symbol 0 moves every symbol that is not
		// halted, as the calendar does.
		cmd := matching.Command{Kind: matching.CmdPhase, Symbol: op.Symbol, Phase: op.Phase}
		cmds, _ = m.push(cmds, &cmd, &meta{op: opPhase}, 0)
	case ActListSymbol:
		at := len(cmds)
		cmds = append(cmds, Pending{Cmd: matching.Command{Kind: matching.CmdAddSymbol, Symbol: op.Listing.ID,
			Price: op.Listing.StaticBandBps, StopPrice: op.Listing.DynamicBandBps}})
		encodeListing(&cmds[at], &op.Listing)
		if err := m.applyOperator(&cmds[at].Cmd, cmds[at].MetaBytes()); err != nil {
			// checkOperation checked the listing: this cannot happen (but
			// the note is already applied; say so loudly).
			return cmds[:at], err
		}
	case ActSetLimits:
		at := len(cmds)
		cmds = append(cmds, Pending{Cmd: matching.Command{Kind: matching.CmdAdmin, Account: op.Account}})
		encodeLimits(&cmds[at], op.Account, &op.Limits)
		if err := m.applyOperator(&cmds[at].Cmd, cmds[at].MetaBytes()); err != nil {
			// checkOperation validated the limits: this cannot happen.
			return cmds[:at], err
		}
	}
	return cmds, nil
}

func (m *Manager) checkOperation(op *Operation) error {
	if len(op.Who) == 0 || len(op.Who) > operatorWhoMax {
		return fmt.Errorf("%w: who must be 1 to %d bytes", ErrOperation, operatorWhoMax)
	}
	if len(op.Why) > OperatorWhyMax {
		return fmt.Errorf("%w: reason is %d bytes, at most %d", ErrOperation, len(op.Why), OperatorWhyMax)
	}
	if op.Symbol != 0 && m.sym(op.Symbol) == nil {
		return fmt.Errorf("%w: %d", ErrUnknownSymbol, op.Symbol)
	}
	if op.Account != 0 && m.acct(op.Account) == nil {
		return fmt.Errorf("%w: %d", ErrUnknownAccount, op.Account)
	}
	if op.Firm != 0 {
		if _, ok := m.ref.Firm(op.Firm); !ok {
			return fmt.Errorf("%w: %d", ErrUnknownFirm, op.Firm)
		}
	}
	if op.Account != 0 && op.Firm != 0 && m.accts[op.Account-1].firm != op.Firm {
		return fmt.Errorf("%w: account %d is not of firm %d", ErrOperation, op.Account, op.Firm)
	}
	switch op.Action {
	case ActHalt, ActResume, ActExpire:
	case ActKillOn, ActKillOff:
		if op.Account == 0 && op.Firm == 0 {
			return fmt.Errorf("%w: a kill switch needs an account or a firm", ErrOperation)
		}
	case ActCancelAll:
		if op.Account == 0 && op.Firm == 0 && op.Symbol == 0 {
			return fmt.Errorf("%w: cancel-all needs a firm, an account or a symbol", ErrOperation)
		}
	case ActDisconnect:
		if _, ok := m.ref.Session(op.Session); !ok {
			return fmt.Errorf("%w: %d", ErrUnknownSession, op.Session)
		}
	case ActBlockFirm, ActUnblockFirm:
		if op.Firm == 0 {
			return fmt.Errorf("%w: blocking logons needs a firm", ErrOperation)
		}
	case ActSetLimits:
		if op.Account == 0 {
			return fmt.Errorf("%w: limits need an account", ErrOperation)
		}
		return validLimits(&op.Limits)
	case ActPhase:
		return m.checkPhase(op)
	case ActListSymbol:
		if op.Symbol != 0 {
			return fmt.Errorf("%w: a listing names no existing symbol", ErrOperation)
		}
		return m.checkListing(op)
	default:
		return fmt.Errorf("%w: action %d", ErrOperation, op.Action)
	}
	return nil
}

// scopeAccounts lists the accounts an operation covers, by ID: its account,
// or its firm's accounts, or (neither) every account.
func (m *Manager) scopeAccounts(op *Operation) []matching.AccountID {
	if op.Account != 0 {
		return []matching.AccountID{op.Account}
	}
	if f, ok := m.ref.Firm(op.Firm); ok && op.Firm != 0 {
		return slices.Clone(f.Accounts)
	}
	out := make([]matching.AccountID, len(m.accts))
	for i := range out {
		out[i] = matching.AccountID(i + 1)
	}
	return out
}

// OperatorPhases are the phases an operator may force, by name: every phase
// a schedule may set, and a volatility auction. Halts are ActHalt's.
var OperatorPhases = func() map[string]matching.Phase {
	m := map[string]matching.Phase{}
	for name, p := range refdata.PhaseNames {
		m[name] = p
	}
	m[matching.PhaseVolatilityAuction.String()] = matching.PhaseVolatilityAuction
	return m
}()

// checkPhase refuses what the engine would refuse (a phase change for a
// halted symbol) and a change to the phase a symbol is already in, before
// anything is journaled. The manager's view of phases is the engine's as of
// the last event back; a halt still in flight is refused by the engine
// instead (EvRejected, nothing changes).
func (m *Manager) checkPhase(op *Operation) error {
	if op.Phase > matching.PhaseVolatilityAuction {
		return fmt.Errorf("%w: phase %d", ErrOperation, op.Phase)
	}
	if op.Symbol != 0 {
		s := m.sym(op.Symbol)
		switch {
		case s.halted:
			return fmt.Errorf("%w: symbol %d is halted: resume it before changing its phase", ErrRefused, op.Symbol)
		case s.phase == op.Phase:
			return fmt.Errorf("%w: symbol %d is already in phase %s", ErrRefused, op.Symbol, op.Phase)
		}
		return nil
	}
	for i := range m.syms {
		if !m.syms[i].halted {
			return nil
		}
	}
	return fmt.Errorf("%w: every symbol is halted: resume them before changing their phase", ErrRefused)
}
