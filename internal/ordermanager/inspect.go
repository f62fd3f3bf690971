package ordermanager

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// RepSecurityStatus tells a session that a symbol halted or resumed
// (SecurityStatus, 35=f): ExecType carries SecurityTradingStatus (326),
// SecurityHalted or securityTrading. Every configured session gets one.
const RepSecurityStatus ReportKind = 16

// FIX SecurityTradingStatus (326) values of RepSecurityStatus.
const (
	SecurityHalted  byte = 2
	securityTrading byte = 17
)

// appendSecurityStatus appends a RepSecurityStatus for every configured
// session. The ExecID comes from the event's OutSeq, so it is the same live
// and in replay. O(sessions).
func (m *Manager) appendSecurityStatus(reps []Report, ev *matching.Event) []Report {
	st := securityTrading
	if ev.Kind == matching.EvHalted {
		st = SecurityHalted
	}
	for i := range m.ref.Sessions {
		reps = append(reps, Report{
			Kind: RepSecurityStatus, Session: m.ref.Sessions[i].ID, ExecType: st,
			ExecID: ev.OutSeq * 2, Symbol: ev.Symbol, TransactNs: ev.TimeNs,
		})
	}
	return reps
}

// AccountView is one account as the operator console shows it.
type AccountView struct {
	ID           matching.AccountID
	Firm         refdata.FirmID
	Cash         int64 // minor units
	CashReserved int64
	// Holdings and HoldingsReserved are lots, by SymbolID-1.
	Holdings         []int64
	HoldingsReserved []int64
	OpenOrders       int
	KillSwitch       bool
	Limits           refdata.Limits
	LimitsChanged    bool // an operator set the limits
}

// Account returns a copy of account id's state; ok is false for an unknown
// account. O(symbols); it allocates.
func (m *Manager) Account(id matching.AccountID) (v AccountView, ok bool) {
	a := m.acct(id)
	if a == nil {
		return v, false
	}
	return AccountView{
		ID: id, Firm: a.firm, Cash: a.cash, CashReserved: a.cashRes,
		Holdings: slices.Clone(a.hold), HoldingsReserved: slices.Clone(a.holdRes),
		OpenOrders: int(a.open), KillSwitch: a.kill, Limits: a.lim, LimitsChanged: m.opr.limits[id],
	}, true
}

// OrderView is one open order as the operator console shows it.
type OrderView struct {
	ID       matching.OrderID
	Account  matching.AccountID
	Symbol   matching.SymbolID
	Session  refdata.SessionID
	Side     matching.Side
	Type     matching.OrderType
	TIF      matching.TimeInForce
	Price    int64 // ticks
	Qty      int64 // lots
	Filled   int64
	Leaves   int64
	ClOrdID  string
	Amending bool // a cancel or replace is in flight
}

// OpenOrdersOf returns the open orders of the accounts keep accepts, by
// OrderID, at most limit of them (limit <= 0: all). O(open orders); it
// allocates.
func (m *Manager) OpenOrdersOf(keep func(matching.AccountID) bool, limit int) []OrderView {
	var out []OrderView
	for i := 0; i < m.orders.len(); i++ {
		r := m.orders.at(int32(i))
		if r.id == 0 || !keep(r.acct) {
			continue
		}
		out = append(out, OrderView{
			ID: r.id, Account: r.acct, Symbol: r.sym, Session: r.session, Side: r.side, Type: r.typ, TIF: r.tif,
			Price: r.price, Qty: r.qty, Filled: r.filled, Leaves: r.leaves, ClOrdID: r.cl.String(), Amending: r.pending,
		})
	}
	slices.SortFunc(out, func(a, b OrderView) int { return cmp.Compare(a.ID, b.ID) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Operator section of a snapshot, little-endian, version 1: what operator
// notes changed, so that a venue restored from a snapshot keeps them.
//
//	version u32 | reasons u32, each: symbol u32 | length u8 | text |
//	blocked firms u32, each: firm u16 | limits u32, each: the limits meta |
//	notes u32, each: seq u64 | time i64 | meta length u8 | the note meta
const operatorSnapVersion = 1

// AppendOperatorState appends the operator state (halt reasons, blocked
// firms, changed limits, the newest notes) to b. O(notes); it allocates.
func (m *Manager) AppendOperatorState(b []byte) []byte {
	le := binary.LittleEndian
	o := &m.opr
	b = le.AppendUint32(b, operatorSnapVersion)
	syms := sortedKeys(o.reasons)
	b = le.AppendUint32(b, uint32(len(syms)))
	for _, s := range syms {
		b = le.AppendUint32(b, uint32(s))
		b = append(b, byte(len(o.reasons[s])))
		b = append(b, o.reasons[s]...)
	}
	firms := sortedKeys(o.blocked)
	b = le.AppendUint32(b, uint32(len(firms)))
	for _, f := range firms {
		b = le.AppendUint16(b, uint16(f))
	}
	accts := sortedKeys(o.limits)
	b = le.AppendUint32(b, uint32(len(accts)))
	var p Pending
	for _, a := range accts {
		encodeLimits(&p, a, &m.accts[a-1].lim)
		b = append(b, p.MetaBytes()...)
	}
	notes := m.OperatorNotes(OperatorNotesKept)
	b = le.AppendUint32(b, uint32(len(notes)))
	for i := range notes {
		b = le.AppendUint64(b, notes[i].Seq)
		b = le.AppendUint64(b, uint64(notes[i].TimeNs))
		encodeNote(&p, &notes[i])
		b = append(b, p.MetaLen)
		b = append(b, p.MetaBytes()...)
	}
	return b
}

func sortedKeys[K ~uint16 | ~uint32, V any](mp map[K]V) []K {
	out := make([]K, 0, len(mp))
	for k := range mp {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// RestoreOperatorState sets the operator state from AppendOperatorState's
// output. It returns an error wrapping ErrSnapshot, and never panics, on
// input it cannot read or that does not fit the configuration.
func (m *Manager) RestoreOperatorState(b []byte) error {
	r := &reader{b: b}
	if v := r.u32("operator version"); r.err == nil && v != operatorSnapVersion {
		return fmt.Errorf("%w: operator section version %d, want %d", ErrSnapshot, v, operatorSnapVersion)
	}
	var o operatorState
	o.reasons = map[matching.SymbolID]string{}
	for range r.count(5, "halt reasons") {
		s := matching.SymbolID(r.u32("halt symbol"))
		n := int(r.u8("halt reason length"))
		txt := r.take(n, "halt reason")
		if m.sym(s) == nil || n > OperatorWhyMax {
			r.fail("halt reason out of range")
		}
		o.reasons[s] = string(txt)
	}
	o.blocked = map[refdata.FirmID]bool{}
	for range r.count(2, "blocked firms") {
		v := r.take(2, "blocked firm")
		if v != nil {
			o.blocked[refdata.FirmID(binary.LittleEndian.Uint16(v))] = true
		}
	}
	o.limits = map[matching.AccountID]bool{}
	lims := map[matching.AccountID]refdata.Limits{}
	for range r.count(limitsBytes, "limits") {
		acct, l, ok := decodeLimits(r.take(limitsBytes, "limits"))
		if !ok || m.acct(acct) == nil {
			r.fail("limits out of range")
			break
		}
		o.limits[acct], lims[acct] = true, l
	}
	for range r.count(17, "notes") {
		seq, ns := r.u64("note seq"), r.i64("note time")
		n := int(r.u8("note length"))
		cmd := matching.Command{Kind: matching.CmdAdmin, Seq: seq, TimeNs: ns}
		note, ok := DecodeOperatorNote(&cmd, r.take(n, "note"))
		if !ok && r.err == nil {
			r.fail("note")
		}
		o.push(note)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return r.err
	}
	for a, l := range lims {
		m.accts[a-1].lim = l
	}
	m.opr = o
	return nil
}
