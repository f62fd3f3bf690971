package ordermanager

import (
	"encoding/binary"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// Listing a symbol at run time (ActListSymbol). The action journals its note
// and then one matching.CmdAddSymbol whose meta carries the whole symbol
// (name, sizes, reference price, bands). Applying that command, live or in
// replay, registers the symbol in the reference data (refdata.Registry.RegisterSymbol,
// idempotent), grows the manager's per-symbol tables and every account's
// holdings by one, and the engine opens the book in sequence. The symbols
// listed so far travel in their own snapshot section (AppendListings), in
// the same encoding, so a restore lists them again before it reads the
// manager's own section.

const opListSymbol = 34 // meta op of a listing

// Listing meta: [0] 1 | [1] opListSymbol | [2:6] id u32 | tick size
// coefficient i64, exponent i8 | lot size coefficient i64, exponent i8 |
// reference ticks i64 | static band bps i64 | dynamic band bps i64 | name
// length u8, name.
const listingFixed = 6 + 9 + 9 + 3*8 + 1

// decimalParts splits d into an int64 coefficient and an int8 exponent.
func decimalParts(d decimal.Decimal) (int64, int8, bool) {
	c, e := d.Coefficient(), d.Exponent()
	if !c.IsInt64() || e < -128 || e > 127 {
		return 0, 0, false
	}
	return c.Int64(), int8(e), true
}

func encodeListing(p *Pending, s *refdata.Symbol) bool {
	tc, te, ok1 := decimalParts(s.TickSize)
	lc, lexp, ok2 := decimalParts(s.LotSize)
	if !ok1 || !ok2 || len(s.Name) > refdata.SymbolNameMax {
		return false
	}
	le := binary.LittleEndian
	b := append(p.Meta[:0], metaVersion, opListSymbol)
	b = le.AppendUint32(b, uint32(s.ID))
	b = le.AppendUint64(b, uint64(tc))
	b = append(b, byte(te))
	b = le.AppendUint64(b, uint64(lc))
	b = append(b, byte(lexp))
	for _, v := range [...]int64{s.RefTicks, s.StaticBandBps, s.DynamicBandBps} {
		b = le.AppendUint64(b, uint64(v))
	}
	b = append(b, byte(len(s.Name)))
	b = append(b, s.Name...)
	p.MetaLen = uint8(len(b))
	return true
}

// decodeListing reads a listing meta. CashPerTickLot is left for
// refdata.Registry.RegisterSymbol to derive. It never panics.
func decodeListing(b []byte) (refdata.Symbol, bool) {
	var s refdata.Symbol
	if len(b) < listingFixed || b[0] != metaVersion || b[1] != opListSymbol || len(b) != listingFixed+int(b[listingFixed-1]) {
		return s, false
	}
	le := binary.LittleEndian
	s.ID = matching.SymbolID(le.Uint32(b[2:]))
	s.TickSize = decimal.New(int64(le.Uint64(b[6:])), int32(int8(b[14])))
	s.LotSize = decimal.New(int64(le.Uint64(b[15:])), int32(int8(b[23])))
	s.RefTicks = int64(le.Uint64(b[24:]))
	s.StaticBandBps = int64(le.Uint64(b[32:]))
	s.DynamicBandBps = int64(le.Uint64(b[40:]))
	s.Name = string(b[listingFixed:])
	ok := s.ID != 0 && s.TickSize.IsPositive() && s.LotSize.IsPositive() && s.RefTicks >= 0 && s.RefTicks <= matching.PriceMax &&
		s.StaticBandBps >= 0 && s.StaticBandBps <= matching.BandBpsMax && s.DynamicBandBps >= 0 && s.DynamicBandBps <= matching.BandBpsMax &&
		s.Name != "" && len(s.Name) <= refdata.SymbolNameMax
	return s, ok
}

// applyListing is the state change of a listing command, live and in
// replay.
func (m *Manager) applyListing(cmd *matching.Command, b []byte) error {
	s, ok := decodeListing(b)
	if !ok || cmd.Kind != matching.CmdAddSymbol || cmd.Symbol != s.ID || cmd.Price != s.StaticBandBps || cmd.StopPrice != s.DynamicBandBps {
		return fmt.Errorf("%w: symbol listing", ErrMeta)
	}
	return m.listSymbol(s)
}

// listSymbol lists s: it must be the next symbol. O(accounts); it allocates.
func (m *Manager) listSymbol(s refdata.Symbol) error {
	if int(s.ID) != len(m.syms)+1 || len(m.listed) >= matching.SymbolsAddedMax {
		return fmt.Errorf("%w: listing of symbol %d (%s) with %d symbols already (a symbol listed at run time must stay out of the configuration file while the journal holds its listing)",
			ErrMeta, s.ID, s.Name, len(m.syms))
	}
	if err := m.ref.RegisterSymbol(s); err != nil {
		return fmt.Errorf("%w: %v", ErrMeta, err)
	}
	reg, _ := m.ref.Symbol(s.ID)
	m.syms = append(m.syms, symState{cpt: reg.CashPerTickLot, ref: reg.RefTicks})
	for i := range m.accts {
		a := &m.accts[i]
		a.hold = append(a.hold, 0)
		a.holdRes = append(a.holdRes, 0)
	}
	m.listed = append(m.listed, *reg)
	return nil
}

// checkListing refuses a listing before anything is journaled: a name in
// use (refdata.ErrDuplicateSymbol), no room left (ErrRefused), sizes the
// journal cannot carry (ErrOperation).
func (m *Manager) checkListing(op *Operation) error {
	s := &op.Listing
	if m.ref.SymbolByName(s.Name) != 0 {
		return fmt.Errorf("%w: %q", refdata.ErrDuplicateSymbol, s.Name)
	}
	if len(m.listed) >= matching.SymbolsAddedMax {
		return fmt.Errorf("%w: %d symbols listed at run time already, at most %d", ErrRefused, len(m.listed), matching.SymbolsAddedMax)
	}
	var p Pending
	next := *s
	next.ID = matching.SymbolID(len(m.syms) + 1)
	if !encodeListing(&p, &next) {
		return fmt.Errorf("%w: tick or lot size %s/%s has too many digits", ErrOperation, s.TickSize, s.LotSize)
	}
	if _, ok := decodeListing(p.MetaBytes()); !ok {
		return fmt.Errorf("%w: listing of %q out of range", ErrOperation, s.Name)
	}
	return nil
}

// Listed returns the symbols listed at run time, oldest first. The slice
// must not be changed.
func (m *Manager) Listed() []refdata.Symbol { return m.listed }

// AppendListings appends the snapshot section of the symbols listed at run
// time: count u32, then each listing meta with its length u8.
func (m *Manager) AppendListings(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m.listed)))
	var p Pending
	for i := range m.listed {
		encodeListing(&p, &m.listed[i])
		b = append(b, p.MetaLen)
		b = append(b, p.MetaBytes()...)
	}
	return b
}

func (m *Manager) restoreListings(b []byte) error {
	r := &reader{b: b}
	for range r.count(1+listingFixed, "listings") {
		n := int(r.u8("listing length"))
		v := r.take(n, "listing")
		if r.err != nil {
			break
		}
		s, ok := decodeListing(v)
		if !ok {
			r.fail("listing")
			break
		}
		if err := m.listSymbol(s); err != nil {
			return fmt.Errorf("%w: %v", ErrSnapshot, err)
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes after the listings")
	}
	return r.err
}
