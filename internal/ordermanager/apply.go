package ordermanager

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// Meta layout, version 1 (little-endian), at most 97 bytes:
//
//	[0]      version (1)
//	[1]      op: 1 new, 2 cancel, 3 replace, 4 mass cancel, 5 kill switch on,
//	         6 kill switch off, 7 halt, 8 resume, 9 expire
//	[2:6]    session u32 (0 for operator and internal commands)
//	[6]      flags: bit 0 = answer the mass cancel with RepMassCancel
//	[7:15]   hold i64: what a replace holds on top of the order's reservation
//	         (cash in minor units for a buy, lots for a sell)
//	[15]     ClOrdID length n (0..40), then n bytes
//	[..]     OrigClOrdID length k (0..40), then k bytes
const (
	metaVersion = 1
	metaFixed   = 15
)

const (
	opNew        = 1
	opCancel     = 2
	opReplace    = 3
	opMassCancel = 4
	opKillOn     = 5
	opKillOff    = 6
	opHalt       = 7
	opResume     = 8
	opExpire     = 9
	opPhase      = 10
	opExpireGTD  = 11
	opCount      = 12

	flagReport = 1
)

// opKind is the command kind each op travels as.
var opKind = [opCount]matching.CommandKind{
	opNew: matching.CmdNew, opCancel: matching.CmdCancel, opReplace: matching.CmdReplace,
	opMassCancel: matching.CmdMassCancel, opKillOn: matching.CmdAdmin, opKillOff: matching.CmdAdmin,
	opHalt: matching.CmdHalt, opResume: matching.CmdResume, opExpire: matching.CmdExpire,
	opPhase: matching.CmdPhase, opExpireGTD: matching.CmdExpireGTD,
}

// meta is the decoded form of a command's meta bytes.
type meta struct {
	op      uint8
	flags   uint8
	session refdata.SessionID
	hold    int64
	cl      ClOrdID
	orig    ClOrdID
}

// ErrMeta wraps every reason ApplySequenced refuses a command.
var ErrMeta = errors.New("ordermanager: bad sequenced command")

func (mt *meta) encode(p *Pending) {
	b := p.Meta[:0]
	b = append(b, metaVersion, mt.op)
	b = binary.LittleEndian.AppendUint32(b, uint32(mt.session))
	b = append(b, mt.flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(mt.hold))
	b = appendCl(b, &mt.cl)
	b = appendCl(b, &mt.orig)
	p.MetaLen = uint8(len(b))
}

func (mt *meta) decode(b []byte) error {
	if len(b) < metaFixed+2 {
		return fmt.Errorf("%w: meta of %d bytes", ErrMeta, len(b))
	}
	if b[0] != metaVersion {
		return fmt.Errorf("%w: meta version %d", ErrMeta, b[0])
	}
	mt.op = b[1]
	if mt.op == 0 || mt.op >= opCount {
		return fmt.Errorf("%w: meta op %d", ErrMeta, mt.op)
	}
	mt.session = refdata.SessionID(binary.LittleEndian.Uint32(b[2:]))
	mt.flags = b[6]
	mt.hold = int64(binary.LittleEndian.Uint64(b[7:]))
	r := b[metaFixed:]
	var ok bool
	if r, ok = decodeClOrdID(r, &mt.cl); !ok {
		return fmt.Errorf("%w: meta ClOrdID", ErrMeta)
	}
	if r, ok = decodeClOrdID(r, &mt.orig); !ok {
		return fmt.Errorf("%w: meta OrigClOrdID", ErrMeta)
	}
	if len(r) != 0 {
		return fmt.Errorf("%w: %d trailing meta bytes", ErrMeta, len(r))
	}
	return nil
}

func decodeClOrdID(r []byte, id *ClOrdID) ([]byte, bool) {
	if len(r) < 1 {
		return r, false
	}
	n := int(r[0])
	if n > ClOrdIDMax || len(r) < 1+n {
		return r, false
	}
	*id = ClOrdID{}
	id.n = uint8(copy(id.b[:], r[1:1+n]))
	return r[1+n:], true
}

// ApplySequenced re-applies the state change of a command read back from the
// journal, with its meta bytes: the same function Submit applies to the
// commands it accepts, so live and replayed state cannot diverge. It produces
// no reports. It returns an error wrapping ErrMeta, and changes nothing, for
// meta it cannot decode or a command that cannot have come from Submit; it
// never panics. Cost: O(1).
func (m *Manager) ApplySequenced(cmd *matching.Command, metaBytes []byte) error {
	if isOperatorMeta(metaBytes) {
		return m.applyOperator(cmd, metaBytes)
	}
	var mt meta
	if err := mt.decode(metaBytes); err != nil {
		return err
	}
	return m.apply(cmd, &mt, 0)
}

// apply is the state change of an accepted command. It validates everything
// it relies on before changing anything.
func (m *Manager) apply(cmd *matching.Command, mt *meta, recvNs int64) error {
	if cmd.Kind != opKind[mt.op] {
		return fmt.Errorf("%w: op %d with command kind %d", ErrMeta, mt.op, cmd.Kind)
	}
	switch mt.op {
	case opNew:
		return m.applyNew(cmd, mt, recvNs)
	case opCancel, opReplace:
		return m.applyAmend(cmd, mt, recvNs)
	case opMassCancel:
		a := m.acct(cmd.Account)
		if a == nil || (cmd.Symbol != 0 && m.sym(cmd.Symbol) == nil) {
			return fmt.Errorf("%w: mass cancel of account %d symbol %d", ErrMeta, cmd.Account, cmd.Symbol)
		}
		op := massOp{session: mt.session, symbol: cmd.Symbol, report: mt.flags&flagReport != 0, cl: mt.cl, recvNs: recvNs}
		op.clRef, op.clEnt = m.cl.register(mt.session, mt.cl, 0)
		a.massWait = append(a.massWait, op)
	case opKillOn, opKillOff:
		a := m.acct(cmd.Account)
		if a == nil {
			return fmt.Errorf("%w: kill switch of account %d", ErrMeta, cmd.Account)
		}
		a.kill = mt.op == opKillOn
	}
	return nil
}

func (m *Manager) applyNew(cmd *matching.Command, mt *meta, recvNs int64) error {
	a, s := m.acct(cmd.Account), m.sym(cmd.Symbol)
	if a == nil || s == nil || (cmd.Side != matching.Buy && cmd.Side != matching.Sell) ||
		cmd.OrderID == 0 || cmd.Qty <= 0 || cmd.Qty > matching.QtyMax || cmd.Price < 0 || cmd.Price > matching.PriceMax {
		return fmt.Errorf("%w: new order %d", ErrMeta, cmd.OrderID)
	}
	if _, ok := notional(cmd.Price, cmd.Qty, s.cpt); !ok {
		return fmt.Errorf("%w: new order %d: notional overflow", ErrMeta, cmd.OrderID)
	}
	if m.index.has(orderKey(cmd.OrderID)) {
		return fmt.Errorf("%w: new order %d: already open", ErrMeta, cmd.OrderID)
	}
	r := m.newOrder(cmd.OrderID)
	r.acct, r.sym, r.session = cmd.Account, cmd.Symbol, mt.session
	r.side, r.typ, r.tif, r.stp = cmd.Side, cmd.Type, cmd.TIF, cmd.STP
	r.price, r.qty, r.leaves = cmd.Price, cmd.Qty, cmd.Qty
	r.cl, r.recvNs = mt.cl, recvNs
	r.clRef, r.clEnt = m.cl.register(mt.session, mt.cl, cmd.OrderID)
	m.reserve(a, r.side, r.sym, m.reservation(r, r.leaves, r.price))
	a.open++
	if cmd.OrderID >= m.nextOrderID {
		m.nextOrderID = cmd.OrderID + 1
	}
	return nil
}

// applyAmend records a cancel or replace in flight: it appends a link to
// the order's amend chain. The order itself may already be gone (in replay,
// its fills arrive before the command); the engine will then reject the
// command and the link resolves the same way. Live, earlier links of the
// chain may still be in flight; in replay the chain is empty here, since
// every command's events follow it at once. Either way the new link's state
// is a function of the command and its meta.
func (m *Manager) applyAmend(cmd *matching.Command, mt *meta, recvNs int64) error {
	a, s := m.acct(cmd.Account), m.sym(cmd.Symbol)
	if a == nil || s == nil || cmd.OrderID == 0 || (cmd.Side != matching.Buy && cmd.Side != matching.Sell) {
		return fmt.Errorf("%w: amend of order %d", ErrMeta, cmd.OrderID)
	}
	op := opRec{
		replace: mt.op == opReplace, session: mt.session, acct: cmd.Account, sym: cmd.Symbol,
		side: cmd.Side, cl: mt.cl, orig: mt.orig, recvNs: recvNs,
	}
	if op.replace {
		if mt.hold < 0 || mt.hold > 2*notionalMax || cmd.Qty <= 0 || cmd.Qty > matching.QtyMax ||
			cmd.Price <= 0 || cmd.Price > matching.PriceMax {
			return fmt.Errorf("%w: replace of order %d", ErrMeta, cmd.OrderID)
		}
		if _, ok := notional(cmd.Price, cmd.Qty, s.cpt); !ok {
			return fmt.Errorf("%w: replace of order %d: notional overflow", ErrMeta, cmd.OrderID)
		}
		op.price, op.qty, op.hold = cmd.Price, cmd.Qty, mt.hold
	}
	// No bound on the chain here: the leader's Submit applied
	// AmendsInFlightMax by its own engine's progress; this node's engine
	// may be further behind (a standby), with more links in flight.
	l := m.pushOp(cmd.OrderID, op)
	if l.replace {
		m.reserve(a, l.side, l.sym, l.hold)
	}
	l.clRef, l.clEnt = m.cl.register(mt.session, mt.cl, cmd.OrderID)
	if r := m.order(cmd.OrderID); r != nil {
		r.pending = true
	}
	return nil
}
