package ordermanager

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// Snapshot layout, little-endian, version 1:
//
//	magic "OMSN" | version u32 | symbols u32 | accounts u32
//	nextOrderID u64 | nextClRef u64 | fees i64 | rejExec u64
//	per symbol:  last i64 | halted u8
//	per account: cash i64 | cashRes i64 | kill u8 | open u32 |
//	             per symbol: hold i64 | holdRes i64 |
//	             mass cancels u32 | each: session u32 | symbol u32 | report u8 | clRef u64 | cl
//	orders u32 | each, by OrderID: id u64 | acct u32 | sym u32 | session u32 |
//	             side u8 | type u8 | tif u8 | pending u8 | price | qty | filled | leaves | cumTL i64 |
//	             clRef u64 | cl | orig
//	ops u32    | each, by OrderID and then oldest first within an order's amend chain:
//	             id u64 | replace u8 | session u32 | acct u32 | sym u32 | side u8 |
//	             price | qty | hold i64 | clRef u64 | cl | orig
//	clordids u32 | each, by registration: session u32 | id | order u64 | ref u64 | status u8
//	retired u32  | each, oldest first: session u32 | id | ref u64
//
// where a ClOrdID (cl, orig, id) is a length byte and that many bytes.
// Everything is written in ID or registration order, so equal states give
// equal bytes. Receive times (latency only) are not kept.
const (
	snapMagic   = "OMSN"
	snapVersion = 1
)

// ErrSnapshot wraps every reason Restore refuses its input.
var ErrSnapshot = errors.New("ordermanager: bad snapshot")

// AppendSnapshot appends the manager's whole state to b in the versioned
// binary form Restore reads. O(state); it allocates (sorting), so it is not
// for the hot path.
func (m *Manager) AppendSnapshot(b []byte) []byte { return m.appendState(b, true) }

// StateHash returns an FNV-1a 64 hash over the replayed state: wallets,
// reservations, kill switches, halts, last prices, open orders, requests in
// flight, remembered ClOrdIDs and the next IDs (not the reject ExecID
// counter). Equal states give equal hashes. O(state).
func (m *Manager) StateHash() uint64 {
	h := fnv.New64a()
	h.Write(m.appendState(nil, false))
	return h.Sum64()
}

func appendCl(b []byte, id *ClOrdID) []byte {
	b = append(b, id.n)
	return append(b, id.b[:id.n]...)
}

func (m *Manager) appendState(b []byte, withRejExec bool) []byte {
	le := binary.LittleEndian
	b = append(b, snapMagic...)
	b = le.AppendUint32(b, snapVersion)
	b = le.AppendUint32(b, uint32(len(m.syms)))
	b = le.AppendUint32(b, uint32(len(m.accts)))
	b = le.AppendUint64(b, uint64(m.nextOrderID))
	b = le.AppendUint64(b, m.cl.nextRef)
	b = le.AppendUint64(b, uint64(m.fees))
	rej := uint64(0)
	if withRejExec {
		rej = m.rejExec
	}
	b = le.AppendUint64(b, rej)
	for i := range m.syms {
		b = le.AppendUint64(b, uint64(m.syms[i].last))
		b = append(b, boolByte(m.syms[i].halted))
	}
	for i := range m.accts {
		a := &m.accts[i]
		b = le.AppendUint64(b, uint64(a.cash))
		b = le.AppendUint64(b, uint64(a.cashRes))
		b = append(b, boolByte(a.kill))
		b = le.AppendUint32(b, uint32(a.open))
		for s := range m.syms {
			b = le.AppendUint64(b, uint64(a.hold[s]))
			b = le.AppendUint64(b, uint64(a.holdRes[s]))
		}
		b = le.AppendUint32(b, uint32(len(a.massWait)))
		for j := range a.massWait {
			op := &a.massWait[j]
			b = le.AppendUint32(b, uint32(op.session))
			b = le.AppendUint32(b, uint32(op.symbol))
			b = append(b, boolByte(op.report))
			b = le.AppendUint64(b, op.clRef)
			b = appendCl(b, &op.cl)
		}
	}
	ids := make([]matching.OrderID, 0, m.index.len())
	for i := range int32(m.orders.len()) {
		if id := m.orders.at(i).id; id != 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	b = le.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		r := m.order(id)
		b = le.AppendUint64(b, uint64(r.id))
		b = le.AppendUint32(b, uint32(r.acct))
		b = le.AppendUint32(b, uint32(r.sym))
		b = le.AppendUint32(b, uint32(r.session))
		b = append(b, byte(r.side), byte(r.typ), byte(r.tif), boolByte(r.pending))
		for _, v := range [...]int64{r.price, r.qty, r.filled, r.leaves, r.cumTL} {
			b = le.AppendUint64(b, uint64(v))
		}
		b = le.AppendUint64(b, r.clRef)
		b = appendCl(b, &r.cl)
		b = appendCl(b, &r.orig)
	}
	ids = ids[:0]
	m.ops.each(func(k orderKey, _ *opChain) { ids = append(ids, matching.OrderID(k)) })
	slices.Sort(ids)
	b = le.AppendUint32(b, uint32(m.amendsInFlight()))
	for _, id := range ids {
		c, _ := m.ops.get(orderKey(id))
		for i := c.head; i != 0; i = m.links[i].next {
			op := &m.links[i]
			b = le.AppendUint64(b, uint64(id))
			b = append(b, boolByte(op.replace))
			b = le.AppendUint32(b, uint32(op.session))
			b = le.AppendUint32(b, uint32(op.acct))
			b = le.AppendUint32(b, uint32(op.sym))
			b = append(b, byte(op.side))
			for _, v := range [...]int64{op.price, op.qty, op.hold} {
				b = le.AppendUint64(b, uint64(v))
			}
			b = le.AppendUint64(b, op.clRef)
			b = appendCl(b, &op.cl)
			b = appendCl(b, &op.orig)
		}
	}
	type kv struct {
		k clKey
		e clEntry
	}
	cls := make([]kv, 0, m.cl.len())
	m.cl.entries(func(k clKey, e clEntry) { cls = append(cls, kv{k, e}) })
	slices.SortFunc(cls, func(x, y kv) int { return cmp.Compare(x.e.ref, y.e.ref) })
	b = le.AppendUint32(b, uint32(len(cls)))
	for i := range cls {
		c := &cls[i]
		b = le.AppendUint32(b, uint32(c.k.session))
		b = appendCl(b, &c.k.id)
		b = le.AppendUint64(b, uint64(c.e.order))
		b = le.AppendUint64(b, c.e.ref)
		b = append(b, c.e.status)
	}
	b = le.AppendUint32(b, uint32(m.cl.rn))
	m.cl.retired(func(k clKey, ref uint64) {
		b = le.AppendUint32(b, uint32(k.session))
		b = appendCl(b, &k.id)
		b = le.AppendUint64(b, ref)
	})
	return b
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// reader decodes a snapshot; the first error sticks and later reads return
// zeros.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrSnapshot, what)
	}
	r.b = nil
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil || len(r.b) < n {
		r.fail("truncated at " + what)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8(what string) uint8 {
	if v := r.take(1, what); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) bool(what string) bool {
	v := r.u8(what)
	if v > 1 {
		r.fail(what + ": not a bool")
	}
	return v == 1
}

func (r *reader) u32(what string) uint32 {
	if v := r.take(4, what); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (r *reader) u64(what string) uint64 {
	if v := r.take(8, what); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

func (r *reader) i64(what string) int64 { return int64(r.u64(what)) }

func (r *reader) cl(what string) ClOrdID {
	var id ClOrdID
	n := int(r.u8(what))
	if n > ClOrdIDMax {
		r.fail(what + ": ClOrdID too long")
		return id
	}
	if v := r.take(n, what); v != nil {
		id.n = uint8(copy(id.b[:], v))
	}
	return id
}

// count reads a count of records at least min bytes each, refusing one the
// remaining input cannot hold.
func (r *reader) count(min int, what string) int {
	n := r.u32(what)
	if uint64(n)*uint64(min) > uint64(len(r.b)) {
		r.fail(what + ": count exceeds input")
		return 0
	}
	return int(n)
}

// Restore rebuilds a manager for ref and cfg from AppendSnapshot's output.
// It returns an error wrapping ErrSnapshot, and never panics, on input that
// is truncated, has trailing bytes, does not fit ref, or describes an
// inconsistent state (reservations or open counts that do not match the
// orders, duplicate IDs, values out of range).
func Restore(ref *refdata.Registry, cfg Config, b []byte) (*Manager, error) {
	return RestoreListed(ref, cfg, b, nil)
}

// RestoreListed is Restore for a venue with symbols listed at run time:
// listings is AppendListings' section (nil: none). The listings are
// registered in ref like a replay registers them.
func RestoreListed(ref *refdata.Registry, cfg Config, b, listings []byte) (*Manager, error) {
	if len(b) < 8 || string(b[:4]) != snapMagic {
		return nil, fmt.Errorf("%w: missing header", ErrSnapshot)
	}
	m := New(ref, cfg)
	if listings != nil {
		if err := m.restoreListings(listings); err != nil {
			return nil, err
		}
	}
	r := &reader{b: b[4:]}
	if v := r.u32("version"); v != snapVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrSnapshot, v, snapVersion)
	}
	if ns, na := r.u32("symbols"), r.u32("accounts"); r.err == nil && (int(ns) != len(m.syms) || int(na) != len(m.accts)) {
		return nil, fmt.Errorf("%w: %d symbols and %d accounts, configuration has %d and %d", ErrSnapshot, ns, na, len(m.syms), len(m.accts))
	}
	m.nextOrderID = matching.OrderID(r.u64("next order ID"))
	m.cl.nextRef = r.u64("next ClOrdID ref")
	m.fees = r.i64("fees")
	m.rejExec = r.u64("reject exec ID")
	for i := range m.syms {
		m.syms[i].last = r.i64("last price")
		m.syms[i].halted = r.bool("halted")
		if m.syms[i].last < 0 || m.syms[i].last > matching.PriceMax {
			r.fail("last price out of range")
		}
	}
	m.restoreAccounts(r)
	indexed := m.restoreOrders(r, cfg.retain())
	m.restoreOps(r, indexed)
	m.restoreClOrdIDs(r)
	m.restoreRetired(r)
	indexed()
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Sprintf("%d trailing bytes", len(r.b)))
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := m.checkConsistent(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	return m, nil
}

// restoreAccounts reads every account: its cash, holdings, reservations,
// kill switch, open count and the mass cancels it has waiting.
func (m *Manager) restoreAccounts(r *reader) {
	for i := range m.accts {
		a := &m.accts[i]
		a.cash, a.cashRes = r.i64("cash"), r.i64("cash reserved")
		a.kill = r.bool("kill switch")
		a.open = int32(r.u32("open orders"))
		for s := range m.syms {
			a.hold[s], a.holdRes[s] = r.i64("holding"), r.i64("holding reserved")
		}
		n := r.count(18, "mass cancels")
		for range n {
			op := massOp{session: refdata.SessionID(r.u32("mass session")), symbol: matching.SymbolID(r.u32("mass symbol"))}
			op.report = r.bool("mass report")
			op.clRef = r.u64("mass ref")
			op.cl = r.cl("mass ClOrdID")
			if op.symbol != 0 && m.sym(op.symbol) == nil {
				r.fail("mass cancel symbol")
			}
			a.massWait = append(a.massWait, op)
		}
	}
}

// orderFixed is the size of an order record before its two ClOrdIDs.
const orderFixed = 8 + 4 + 4 + 4 + 4 + 5*8 + 8

// restoreOrders reads the open orders, in rising ID order, into the slab,
// then indexes them in one bulk load (see bulk.go): the index is sized once
// for them and filled region by region. The load runs on a goroutine of its
// own while the ClOrdIDs are read (it writes the index only, and reads only
// the orders just read): a third of the order manager's restore, beside the
// engine's restore on the other core. Nothing may use the index, or change
// the orders, before the returned indexed has been called; it waits for the
// load (once) and fails r on a duplicate ID.
func (m *Manager) restoreOrders(r *reader, retain int) (indexed func()) {
	first := m.orders.len()
	n := m.readOrders(r, retain)
	loaded := make(chan bool, 1)
	if r.err != nil {
		loaded <- true
	} else {
		// IDs rise strictly, so none repeats and load cannot refuse them.
		go func() {
			loaded <- m.index.load(n, func(i int) (orderKey, int32) {
				at := int32(first + i)
				return orderKey(m.orders.at(at).id), at
			})
		}()
	}
	waited := false
	return func() {
		if !waited {
			waited = true
			if !<-loaded {
				r.fail("duplicate order ID")
			}
		}
	}
}

// readOrders reads the open orders into the slab and returns their count.
func (m *Manager) readOrders(r *reader, retain int) int {
	n := r.count(orderFixed+2, "orders")
	m.cl.reserve(n + retain)
	le := binary.LittleEndian
	var last matching.OrderID
	for range n {
		v := r.take(orderFixed, "order")
		if v == nil {
			return 0
		}
		id := matching.OrderID(le.Uint64(v))
		if id <= last || id >= m.nextOrderID {
			r.fail("order IDs out of order or beyond next ID")
			return 0
		}
		last = id
		o := orderRec{id: id, acct: matching.AccountID(le.Uint32(v[8:])), sym: matching.SymbolID(le.Uint32(v[12:])),
			session: refdata.SessionID(le.Uint32(v[16:])),
			side:    matching.Side(v[20]), typ: matching.OrderType(v[21]), tif: matching.TimeInForce(v[22]),
			price: int64(le.Uint64(v[24:])), qty: int64(le.Uint64(v[32:])), filled: int64(le.Uint64(v[40:])),
			leaves: int64(le.Uint64(v[48:])), cumTL: int64(le.Uint64(v[56:])), clRef: le.Uint64(v[64:])}
		if v[23] > 1 {
			r.fail("pending: not a bool")
			return 0
		}
		o.pending = v[23] == 1
		o.cl, o.orig = r.cl("order ClOrdID"), r.cl("order OrigClOrdID")
		if r.err != nil {
			return 0
		}
		s := m.sym(o.sym)
		if m.acct(o.acct) == nil || s == nil || validOrderFields(o.side, o.typ, o.tif, 0, false) != RejNone ||
			o.leaves <= 0 || o.filled < 0 || o.qty != o.filled+o.leaves || o.qty > matching.QtyMax ||
			o.price < 0 || o.price > matching.PriceMax || o.cumTL < 0 {
			r.fail(fmt.Sprintf("order %d: values out of range", id))
			return 0
		}
		if _, ok := notional(o.price, o.qty, s.cpt); !ok {
			r.fail(fmt.Sprintf("order %d: notional overflow", id))
			return 0
		}
		*m.orders.at(m.orders.add()) = o
	}
	return n
}

// restoreOps reads the cancels and replaces in flight, in the order of
// their orders.
func (m *Manager) restoreOps(r *reader, indexed func()) {
	n := r.count(46, "ops")
	if n > 0 {
		indexed() // ops look their orders up
	}
	var last matching.OrderID
	for range n {
		id := matching.OrderID(r.u64("op order ID"))
		if r.err == nil && (id < last || id == 0) {
			r.fail("ops out of order")
		}
		last = id
		op := opRec{replace: r.bool("op replace"), session: refdata.SessionID(r.u32("op session")),
			acct: matching.AccountID(r.u32("op account")), sym: matching.SymbolID(r.u32("op symbol")), side: matching.Side(r.u8("op side"))}
		op.price, op.qty, op.hold = r.i64("op price"), r.i64("op qty"), r.i64("op hold")
		op.clRef = r.u64("op ref")
		op.cl, op.orig = r.cl("op ClOrdID"), r.cl("op OrigClOrdID")
		if r.err != nil {
			return
		}
		if m.acct(op.acct) == nil || m.sym(op.sym) == nil || (op.side != matching.Buy && op.side != matching.Sell) ||
			op.hold < 0 || op.hold > holdMax {
			r.fail(fmt.Sprintf("op on order %d: values out of range", id))
			return
		}
		// Unbounded, as in ApplySequenced: a standby's snapshot may hold
		// more links than AmendsInFlightMax (r.count bounds them by the
		// snapshot's bytes).
		m.pushOp(id, op)
	}
}

// restoreClOrdIDs reads the ClOrdID index: the entries into the book's
// slab, in registration order, then the index over them in one bulk load.
func (m *Manager) restoreClOrdIDs(r *reader) {
	n := r.count(22, "ClOrdIDs")
	le := binary.LittleEndian
	for range n {
		session := refdata.SessionID(r.u32("ClOrdID session"))
		id := r.cl("ClOrdID")
		v := r.take(17, "ClOrdID entry")
		if v == nil {
			return
		}
		e := clEnt{session: session, id: id, order: matching.OrderID(le.Uint64(v)), ref: le.Uint64(v[8:]), status: v[16], live: true}
		if id.IsZero() || e.ref >= m.cl.nextRef {
			r.fail("ClOrdID empty or beyond next ref")
			return
		}
		*m.cl.ents.at(m.cl.ents.add()) = e
	}
	if r.err == nil && !m.cl.load() {
		r.fail("ClOrdID duplicate")
	}
}

// restoreRetired reads the ring of retired ClOrdIDs.
func (m *Manager) restoreRetired(r *reader) {
	n := r.count(13, "retired ClOrdIDs")
	if n > len(m.cl.ring) {
		r.fail("more retired ClOrdIDs than kept")
		n = 0
	}
	for range n {
		k := clKey{session: refdata.SessionID(r.u32("retired session"))}
		k.id = r.cl("retired ClOrdID")
		ref := r.u64("retired ref")
		if r.err == nil && m.cl.restoreRetired(k, ref) != nil {
			r.fail("retired ClOrdIDs")
		}
	}
}

// checkConsistent verifies that reservations and open counts equal what the
// orders and ops in flight hold. O(state).
func (m *Manager) checkConsistent() error {
	for i := range int32(m.orders.len()) {
		if r := m.orders.at(i); r.id != 0 && m.ops.has(orderKey(r.id)) != r.pending {
			return fmt.Errorf("order %d: pending flag", r.id)
		}
	}
	cashRes, holdRes, open := m.wantReserved()
	ns := len(m.syms)
	for i := range m.accts {
		a := &m.accts[i]
		if a.cashRes != cashRes[i] || a.open != open[i] {
			return fmt.Errorf("account %d: reservations or open count do not match its orders", i+1)
		}
		for s := range ns {
			if a.holdRes[s] != holdRes[i*ns+s] {
				return fmt.Errorf("account %d: holdings reserved do not match its orders", i+1)
			}
		}
	}
	return nil
}

// wantReserved recomputes from the open orders and the ops in flight what
// each account should have reserved: cash per account, lots per account and
// symbol (index acct×symbols + sym, both from 0), and open orders per
// account. O(state); it allocates.
func (m *Manager) wantReserved() (cashRes, holdRes []int64, open []int32) {
	ns := len(m.syms)
	cashRes = make([]int64, len(m.accts))
	holdRes = make([]int64, len(m.accts)*ns)
	open = make([]int32, len(m.accts))
	for i := range int32(m.orders.len()) {
		r := m.orders.at(i)
		if r.id == 0 {
			continue
		}
		if r.side == matching.Buy {
			cashRes[r.acct-1] += m.reservation(r, r.leaves, r.price)
		} else {
			holdRes[int(r.acct-1)*ns+int(r.sym-1)] += r.leaves
		}
		open[r.acct-1]++
	}
	m.eachOp(func(_ matching.OrderID, op *opRec) {
		if op.side == matching.Buy {
			cashRes[op.acct-1] += op.hold
		} else {
			holdRes[int(op.acct-1)*ns+int(op.sym-1)] += op.hold
		}
	})
	return cashRes, holdRes, open
}
