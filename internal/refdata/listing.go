package refdata

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/matching"
)

// Symbols listed at run time. The configured symbols (Tables.Symbols) never
// change; a symbol an operator lists while the venue runs is journaled by
// the order manager and registered here, in sequence, by whichever stage
// applies the listing first (live: the order manager as it accepts the
// action; in replay: the replay). Registration is idempotent, so every
// stage that applies the same journal may register the same listing.
// Lookups (Symbol, SymbolByName, AllSymbols) see a registered symbol from
// then on, from any goroutine: the table is copied on write and published
// with one atomic store.

// ErrListing wraps every reason a listing is refused; ErrDuplicateSymbol is
// the one for a name already in use.
var (
	ErrListing         = errors.New("symbol listing")
	ErrDuplicateSymbol = fmt.Errorf("%w: duplicate name", ErrListing)
)

// ListingError is the error of BuildSymbol and RegisterSymbol for a bad
// field: Field is its name as the configuration and the admin API spell it.
type ListingError struct{ Field, Msg string }

func (e *ListingError) Error() string { return "symbol listing: " + e.Field + ": " + e.Msg }

// Unwrap makes a ListingError an ErrListing.
func (e *ListingError) Unwrap() error { return ErrListing }

func listingErr(field, format string, args ...any) error {
	return &ListingError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// listed is the table of symbols listed at run time, shared by every copy
// of a Registry (it is reached through a pointer).
type listed struct {
	mu  sync.Mutex // writers only
	tab atomic.Pointer[listedTable]
}

// listedTable is one published version: never changed once stored.
type listedTable struct {
	syms   []Symbol // IDs len(Tables.Symbols)+1 on
	byName map[string]matching.SymbolID
}

func (r *Registry) listedTab() *listedTable {
	if r.listed == nil {
		return nil
	}
	return r.listed.tab.Load()
}

// lookupListed returns a symbol listed at run time.
func (r *Registry) lookupListed(id matching.SymbolID) (*Symbol, bool) {
	t := r.listedTab()
	i := int(id) - len(r.Symbols) - 1
	if t == nil || i < 0 || i >= len(t.syms) {
		return nil, false
	}
	return &t.syms[i], true
}

func (r *Registry) listedByName(name string) matching.SymbolID {
	if t := r.listedTab(); t != nil {
		return t.byName[name]
	}
	return 0
}

// AllSymbols returns the configured symbols then those listed at run time,
// by ID. The slice must not be changed; it allocates only when symbols were
// listed.
func (r *Registry) AllSymbols() []Symbol {
	t := r.listedTab()
	if t == nil || len(t.syms) == 0 {
		return r.Symbols
	}
	out := make([]Symbol, 0, len(r.Symbols)+len(t.syms))
	return append(append(out, r.Symbols...), t.syms...)
}

// SymbolCount is the number of symbols, listed ones included: the largest
// SymbolID.
func (r *Registry) SymbolCount() int {
	n := len(r.Symbols)
	if t := r.listedTab(); t != nil {
		n += len(t.syms)
	}
	return n
}

// SymbolListing is a symbol as an operator lists it: the YAML fields of a
// configured symbol.
type SymbolListing struct {
	Name           string
	TickSize       string
	LotSize        string
	ReferencePrice string // optional
	StaticBandBps  int64
	DynamicBandBps int64
}

// BuildSymbol checks a listing against the rules of the configuration's
// symbols section (name, positive tick and lot sizes whose product is a
// whole number of minor units, a reference price on the tick grid, bands
// within 0..matching.BandBpsMax) and returns the symbol with ID id. An
// error is a *ListingError naming the field at fault (name, tick_size,
// lot_size, reference_price, static_band_bps, dynamic_band_bps).
func (r *Registry) BuildSymbol(l *SymbolListing, id matching.SymbolID) (Symbol, error) {
	var sym Symbol
	if l.Name == "" || strings.ContainsAny(l.Name, " \t\x01|") || len(l.Name) > SymbolNameMax {
		return sym, listingErr("name", "%q must be 1 to %d characters without spaces", l.Name, SymbolNameMax)
	}
	tick, ok := positive(l.TickSize)
	if !ok {
		return sym, listingErr("tick_size", "%q must be a positive decimal number", l.TickSize)
	}
	lot, ok := positive(l.LotSize)
	if !ok {
		return sym, listingErr("lot_size", "%q must be a positive decimal number", l.LotSize)
	}
	for _, b := range []struct {
		name string
		v    int64
	}{{"static_band_bps", l.StaticBandBps}, {"dynamic_band_bps", l.DynamicBandBps}} {
		if b.v < 0 || b.v > matching.BandBpsMax {
			return sym, listingErr(b.name, "%d must be within 0..%d", b.v, matching.BandBpsMax)
		}
	}
	sym = Symbol{ID: id, Name: l.Name, TickSize: tick, LotSize: lot, StaticBandBps: l.StaticBandBps, DynamicBandBps: l.DynamicBandBps}
	if err := r.completeSymbol(&sym); err != nil {
		return Symbol{}, err
	}
	if l.ReferencePrice != "" {
		ref, err := decimal.NewFromString(l.ReferencePrice)
		if err != nil {
			return Symbol{}, listingErr("reference_price", "%q is not a decimal number", l.ReferencePrice)
		}
		if sym.RefTicks, err = sym.PriceToTicks(ref); err != nil {
			return Symbol{}, listingErr("reference_price", "%v", err)
		}
	}
	return sym, nil
}

// positive parses a positive decimal number.
func positive(s string) (decimal.Decimal, bool) {
	d, err := decimal.NewFromString(s)
	return d, err == nil && d.IsPositive()
}

// SymbolNameMax bounds a symbol's name.
const SymbolNameMax = 16

// completeSymbol derives CashPerTickLot from the sizes and checks them as
// the configuration does.
func (r *Registry) completeSymbol(sym *Symbol) error {
	per := sym.TickSize.Mul(sym.LotSize).Shift(r.MinorUnits)
	if !per.Equal(per.Truncate(0)) || !per.IsPositive() || !per.LessThan(decimal.New(1, 15)) {
		return listingErr("tick_size", "one tick (%s) on one lot (%s) is %s minor units of %s; it must be a whole number below 10^15",
			sym.TickSize, sym.LotSize, per, r.CurrencyCode)
	}
	sym.CashPerTickLot = per.IntPart()
	return nil
}

// RegisterSymbol lists sym from now on. sym.ID must be the next ID
// (SymbolCount()+1), or the ID of the same symbol listed before (then
// nothing changes: every stage that applies a journal registers its
// listings). A name in use is ErrDuplicateSymbol. CashPerTickLot is
// derived from the sizes. Safe from any goroutine; O(symbols listed).
func (r *Registry) RegisterSymbol(sym Symbol) error {
	if err := r.completeSymbol(&sym); err != nil {
		return err
	}
	if r.listed == nil {
		return fmt.Errorf("%w: this registry was not built by New", ErrListing)
	}
	r.listed.mu.Lock()
	defer r.listed.mu.Unlock()
	if have, ok := r.Symbol(sym.ID); ok {
		if have.Name != sym.Name || !have.TickSize.Equal(sym.TickSize) || !have.LotSize.Equal(sym.LotSize) ||
			have.RefTicks != sym.RefTicks || have.StaticBandBps != sym.StaticBandBps || have.DynamicBandBps != sym.DynamicBandBps {
			return fmt.Errorf("%w: symbol %d is %s here and %s in the listing", ErrListing, sym.ID, have.Name, sym.Name)
		}
		return nil
	}
	if int(sym.ID) != r.SymbolCount()+1 {
		return fmt.Errorf("%w: symbol ID %d is not the next (%d)", ErrListing, sym.ID, r.SymbolCount()+1)
	}
	if r.SymbolByName(sym.Name) != 0 {
		return fmt.Errorf("%w: %q", ErrDuplicateSymbol, sym.Name)
	}
	old := r.listedTab()
	t := &listedTable{byName: map[string]matching.SymbolID{}}
	if old != nil {
		t.syms = append(t.syms, old.syms...)
		for k, v := range old.byName {
			t.byName[k] = v
		}
	}
	t.syms = append(t.syms, sym)
	t.byName[sym.Name] = sym.ID
	r.listed.tab.Store(t)
	return nil
}
