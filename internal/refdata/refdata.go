// Package refdata is the venue's reference data once resolved: the symbols
// with their tick and lot sizes, the member firms with their fees, FIX
// sessions and accounts, the accounts' opening balances and risk limits, the
// quote currency, the trading calendar, the operators' admin tokens, and the
// symbols an operator lists while the venue runs. Everything here is keyed by the small integer IDs the
// stages use (matching.SymbolID, matching.AccountID, FirmID, SessionID) and
// counted in int64 units; decimals appear only in the conversions on Symbol
// and Registry.
//
// It is a leaf: it imports matching and units, never the configuration file's
// parser (internal/config resolves the YAML into a Registry) nor any stage, so
// that the order manager, the gateway, market data, the admin console and the
// reporter can all share one vocabulary without taking the whole
// configuration.
package refdata

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/exchange-sim/exchange/internal/units"
	"github.com/exchange-sim/exchange/matching"
)

// FirmID is the small integer a firm is known by inside the exchange (from 1).
type FirmID uint16

// SessionID is the small integer a FIX session (one SenderCompID) is known by
// inside the exchange (from 1). It is stable for a given configuration, so it can
// be journaled.
type SessionID uint32

// Symbol is one instrument.
type Symbol struct {
	ID       matching.SymbolID
	Name     string
	TickSize decimal.Decimal
	LotSize  decimal.Decimal
	// RefTicks is the configured reference price in ticks, used for the price
	// band until the first trade.
	RefTicks int64
	// CashPerTickLot is the cash, in minor units, of one tick on one lot: the
	// notional of an order is Price (ticks) × Qty (lots) × CashPerTickLot.
	CashPerTickLot int64
	// StaticBandBps and DynamicBandBps are the engine's volatility bands
	// (around the last auction price and the last trade price); 0: none.
	StaticBandBps, DynamicBandBps int64
}

// Firm is a member of the exchange.
type Firm struct {
	ID       FirmID
	Name     string
	Sessions []SessionID
	Accounts []matching.AccountID
	MakerBps int64
	TakerBps int64
}

// Session is one FIX session a firm may log on with.
type Session struct {
	ID                 SessionID
	Firm               FirmID
	SenderCompID       string
	Username           string
	PasswordHash       string
	DefaultAccount     matching.AccountID
	CancelOnDisconnect bool
	RatePerSecond      float64
	Burst              int
}

// Account holds cash and positions and carries risk limits.
type Account struct {
	ID       matching.AccountID
	Name     string
	Firm     FirmID
	Cash     int64                       // minor units
	Holdings map[matching.SymbolID]int64 // lots
	Limits   Limits
}

// Limits are one account's risk limits in internal units.
type Limits struct {
	MaxOrderLots            int64
	MaxOrderNotional        int64 // minor units
	PriceBandBps            int64 // 0 disables the band
	MaxOpenOrders           int
	AllowShort              bool
	ShortLimitLots          int64
	RequireMarketProtection bool
}

// OperatorNameMax bounds the name an operator acts under (an admin token's
// name): it is journaled with every action.
const OperatorNameMax = 32

// Tables are the reference data as configured, each slice indexed by ID-1.
type Tables struct {
	CurrencyCode string // ISO 4217 code of the quote currency
	MinorUnits   int32  // decimal places of the quote currency's minor unit

	Symbols  []Symbol // the configured symbols; see also AllSymbols
	Firms    []Firm
	Sessions []Session
	Accounts []Account
}

// Registry is the resolved reference data with its lookups. The tables never
// change once built; symbols listed at run time (listing.go) are kept beside
// them, so a lookup by ID or name sees both. A copy of a Registry shares its
// listed symbols with the original.
type Registry struct {
	Tables

	symbolByName  map[string]matching.SymbolID
	sessionByComp map[string]SessionID
	accountByName map[string]matching.AccountID
	listed        *listed // symbols listed at run time
}

// New indexes t. It checks what the lookups rely on: every ID is its index
// plus one, names, SenderCompIDs and account names are unique, and every
// firm an account or session names exists. It does not repeat the
// configuration's checks of values (sizes, limits, fees). O(entries).
func New(t Tables) (*Registry, error) {
	r := &Registry{
		Tables:        t,
		symbolByName:  make(map[string]matching.SymbolID, len(t.Symbols)),
		sessionByComp: make(map[string]SessionID, len(t.Sessions)),
		accountByName: make(map[string]matching.AccountID, len(t.Accounts)),
		listed:        &listed{},
	}
	if t.MinorUnits < 0 || t.MinorUnits > 8 {
		return nil, fmt.Errorf("refdata: minor units %d outside 0..8", t.MinorUnits)
	}
	for i := range t.Symbols {
		s := &t.Symbols[i]
		if int(s.ID) != i+1 {
			return nil, fmt.Errorf("refdata: symbols[%d] has ID %d, want %d", i, s.ID, i+1)
		}
		if _, dup := r.symbolByName[s.Name]; dup || s.Name == "" {
			return nil, fmt.Errorf("refdata: symbols[%d]: name %q is empty or used twice", i, s.Name)
		}
		r.symbolByName[s.Name] = s.ID
	}
	for i := range t.Firms {
		if int(t.Firms[i].ID) != i+1 {
			return nil, fmt.Errorf("refdata: firms[%d] has ID %d, want %d", i, t.Firms[i].ID, i+1)
		}
	}
	for i := range t.Accounts {
		a := &t.Accounts[i]
		if int(a.ID) != i+1 {
			return nil, fmt.Errorf("refdata: accounts[%d] has ID %d, want %d", i, a.ID, i+1)
		}
		if _, dup := r.accountByName[a.Name]; dup || a.Name == "" {
			return nil, fmt.Errorf("refdata: accounts[%d]: name %q is empty or used twice", i, a.Name)
		}
		if _, ok := r.Firm(a.Firm); !ok {
			return nil, fmt.Errorf("refdata: accounts[%d] (%s): unknown firm %d", i, a.Name, a.Firm)
		}
		r.accountByName[a.Name] = a.ID
	}
	for i := range t.Sessions {
		s := &t.Sessions[i]
		if int(s.ID) != i+1 {
			return nil, fmt.Errorf("refdata: sessions[%d] has ID %d, want %d", i, s.ID, i+1)
		}
		if _, dup := r.sessionByComp[s.SenderCompID]; dup || s.SenderCompID == "" {
			return nil, fmt.Errorf("refdata: sessions[%d]: SenderCompID %q is empty or used twice", i, s.SenderCompID)
		}
		if _, ok := r.Firm(s.Firm); !ok {
			return nil, fmt.Errorf("refdata: sessions[%d] (%s): unknown firm %d", i, s.SenderCompID, s.Firm)
		}
		r.sessionByComp[s.SenderCompID] = s.ID
	}
	return r, nil
}

// SymbolByName returns the ID of a symbol, configured or listed, or 0. O(1).
func (r *Registry) SymbolByName(name string) matching.SymbolID {
	if id := r.symbolByName[name]; id != 0 {
		return id
	}
	return r.listedByName(name)
}

// SessionByCompID returns the session whose SenderCompID is comp, or 0. O(1).
func (r *Registry) SessionByCompID(comp string) SessionID { return r.sessionByComp[comp] }

// AccountByName returns the ID of an account, or 0. O(1).
func (r *Registry) AccountByName(name string) matching.AccountID { return r.accountByName[name] }

// Symbol returns the symbol with ID id, configured or listed; ok is false
// for an unknown ID. O(1).
func (r *Registry) Symbol(id matching.SymbolID) (*Symbol, bool) {
	if id == 0 || int(id) > len(r.Symbols) {
		return r.lookupListed(id)
	}
	return &r.Symbols[id-1], true
}

// Account returns the account with ID id; ok is false for an unknown ID.
func (r *Registry) Account(id matching.AccountID) (*Account, bool) {
	if id == 0 || int(id) > len(r.Accounts) {
		return nil, false
	}
	return &r.Accounts[id-1], true
}

// Session returns the session with ID id; ok is false for an unknown ID.
func (r *Registry) Session(id SessionID) (*Session, bool) {
	if id == 0 || int(id) > len(r.Sessions) {
		return nil, false
	}
	return &r.Sessions[id-1], true
}

// Firm returns the firm with ID id; ok is false for an unknown ID.
func (r *Registry) Firm(id FirmID) (*Firm, bool) {
	if id == 0 || int(id) > len(r.Firms) {
		return nil, false
	}
	return &r.Firms[id-1], true
}

// PriceToTicks converts a decimal price to ticks of sym. It refuses a price that
// is not a whole number of ticks, is not positive, or is out of range.
func (s *Symbol) PriceToTicks(p decimal.Decimal) (int64, error) {
	return units.FromDecimal(p, s.TickSize, "tick size")
}

// QtyToLots converts a decimal quantity to lots of sym, refusing one that is not
// a whole, positive number of lots.
func (s *Symbol) QtyToLots(q decimal.Decimal) (int64, error) {
	return units.FromDecimal(q, s.LotSize, "lot size")
}

// TicksToPrice converts ticks back to a decimal price.
func (s *Symbol) TicksToPrice(t int64) decimal.Decimal { return units.ToDecimal(t, s.TickSize) }

// LotsToQty converts lots back to a decimal quantity.
func (s *Symbol) LotsToQty(l int64) decimal.Decimal { return units.ToDecimal(l, s.LotSize) }

// MoneyToMinor converts a decimal amount of the quote currency to minor units,
// refusing fractions of a minor unit.
func (t *Tables) MoneyToMinor(v decimal.Decimal) (int64, error) {
	return units.MinorFromDecimal(v, t.MinorUnits)
}

// MinorToMoney converts minor units back to a decimal amount.
func (t *Tables) MinorToMoney(m int64) decimal.Decimal { return units.MinorToDecimal(m, t.MinorUnits) }
