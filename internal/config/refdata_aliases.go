package config

import "github.com/exchange-sim/exchange/internal/refdata"

// The reference data moved to internal/refdata. These aliases keep the
// packages that still spell it config.X compiling until they name
// refdata.X themselves; then this file goes.

type (
	FirmID        = refdata.FirmID
	SessionID     = refdata.SessionID
	Symbol        = refdata.Symbol
	Firm          = refdata.Firm
	Session       = refdata.Session
	Account       = refdata.Account
	Limits        = refdata.Limits
	Schedule      = refdata.Schedule
	Step          = refdata.Step
	SymbolListing = refdata.SymbolListing
	ListingError  = refdata.ListingError
	AdminRole     = refdata.AdminRole
	AdminToken    = refdata.AdminToken
)

// RoleViewer and RoleOperator are refdata's.
const (
	RoleViewer   = refdata.RoleViewer
	RoleOperator = refdata.RoleOperator
)

// SymbolNameMax bounds a symbol's name (refdata.SymbolNameMax).
const SymbolNameMax = refdata.SymbolNameMax

var (
	// ErrListing and ErrDuplicateSymbol are refdata's.
	ErrListing         = refdata.ErrListing
	ErrDuplicateSymbol = refdata.ErrDuplicateSymbol
	// PhaseNames is refdata.PhaseNames.
	PhaseNames = refdata.PhaseNames
)
