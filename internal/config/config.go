// Package config loads the exchange's one YAML configuration file (or the
// embedded default), checks it, and resolves it: the reference data (symbols
// with tick and lot sizes, firms with their FIX sessions and hashed
// passwords, accounts with balances and risk limits) into a
// refdata.Registry, and the rest (listeners, journal policy, gateway and
// market-data settings) into Config's fields, which cmd/exchange maps onto
// each package's own configuration struct. Decimals appear here and at the
// other edges only.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/internal/units"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default configuration file, as `exchange
// config` prints it.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// File is the configuration file as written in YAML.
type File struct {
	// Schedule is the trading calendar (schedule.go); none: continuous
	// trading all day.
	Schedule *ScheduleFile `yaml:"schedule"`

	Listen struct {
		FIX   string `yaml:"fix"`
		HTTP  string `yaml:"http"`
		Admin string `yaml:"admin"`
		// Debug serves /debug/pprof/ on its own listener; empty (the
		// default) serves it nowhere.
		Debug string `yaml:"debug"`
	} `yaml:"listen"`
	DataDir string `yaml:"data_dir"`
	Journal struct {
		Durability      string        `yaml:"durability"`
		SegmentBytes    int64         `yaml:"segment_bytes"`
		SnapshotEvery   uint64        `yaml:"snapshot_every"`
		BatchRecordsMax int           `yaml:"batch_records_max"`
		BatchDelay      time.Duration `yaml:"batch_delay"`
	} `yaml:"journal"`
	Currency struct {
		Code       string `yaml:"code"`
		MinorUnits int32  `yaml:"minor_units"`
	} `yaml:"currency"`
	Symbols      []SymbolFile `yaml:"symbols"`
	Fees         FeesFile     `yaml:"fees"`
	RiskDefaults LimitsFile   `yaml:"risk_defaults"`
	Gateway      struct {
		TargetCompID       string  `yaml:"target_comp_id"`
		HeartbeatSeconds   int     `yaml:"heartbeat_seconds"`
		RatePerSecond      float64 `yaml:"rate_per_second"`
		Burst              int     `yaml:"burst"`
		FloodLogoutAfter   int     `yaml:"flood_logout_after"`
		CancelOnDisconnect bool    `yaml:"cancel_on_disconnect"`
		QueueDepth         int     `yaml:"queue_depth"`
		QuickFIXSettings   string  `yaml:"quickfix_settings"`
		SeqResetTime       string  `yaml:"seq_reset_time"`
		StoreRetentionDays int     `yaml:"store_retention_days"`
	} `yaml:"gateway"`
	MarketData struct {
		DepthLevels int `yaml:"depth_levels"`
		TradesKept  int `yaml:"trades_kept"`
	} `yaml:"market_data"`
	Reporter struct {
		Enabled *bool  `yaml:"enabled"`
		DSN     string `yaml:"dsn"`
		Process string `yaml:"process"`
		Nice    *int   `yaml:"nice"`
	} `yaml:"reporter"`
	Firms   []FirmFile   `yaml:"firms"`
	Admin   AdminFile    `yaml:"admin"`
	Cluster *ClusterFile `yaml:"cluster"`
}

// SymbolFile is a symbol as written in YAML.
type SymbolFile struct {
	Name           string `yaml:"name"`
	TickSize       string `yaml:"tick_size"`
	LotSize        string `yaml:"lot_size"`
	ReferencePrice string `yaml:"reference_price"`
	StaticBandBps  int64  `yaml:"static_band_bps"`
	DynamicBandBps int64  `yaml:"dynamic_band_bps"`
}

// FirmFile is a firm as written in YAML: its fees, FIX sessions and accounts.
type FirmFile struct {
	Name     string        `yaml:"name"`
	Fees     *FeesFile     `yaml:"fees"`
	Sessions []SessionFile `yaml:"sessions"`
	Accounts []AccountFile `yaml:"accounts"`
}

// SessionFile is a firm's FIX session as written in YAML; a setting left out
// takes the gateway section's.
type SessionFile struct {
	SenderCompID       string   `yaml:"sender_comp_id"`
	Username           string   `yaml:"username"`
	PasswordHash       string   `yaml:"password_hash"`
	Account            string   `yaml:"account"`
	CancelOnDisconnect *bool    `yaml:"cancel_on_disconnect"`
	RatePerSecond      *float64 `yaml:"rate_per_second"`
	Burst              *int     `yaml:"burst"`
}

// AccountFile is a firm's account as written in YAML.
type AccountFile struct {
	Name     string            `yaml:"name"`
	Cash     string            `yaml:"cash"`
	Holdings map[string]string `yaml:"holdings"`
	Limits   *LimitsFile       `yaml:"limits"`
}

// FeesFile is a fee schedule as written in YAML.
type FeesFile struct {
	MakerBps *int64 `yaml:"maker_bps"`
	TakerBps *int64 `yaml:"taker_bps"`
}

// LimitsFile is a set of risk limits as written in YAML; a field left out takes
// the value of risk_defaults.
type LimitsFile struct {
	MaxOrderLots            *int64  `yaml:"max_order_lots"`
	MaxOrderNotional        *string `yaml:"max_order_notional"`
	PriceBandBps            *int64  `yaml:"price_band_bps"`
	MaxOpenOrders           *int    `yaml:"max_open_orders"`
	AllowShort              *bool   `yaml:"allow_short"`
	ShortLimitLots          *int64  `yaml:"short_limit_lots"`
	RequireMarketProtection *bool   `yaml:"require_market_protection"`
}

// Config is the resolved configuration: the reference data in the embedded
// Registry (every name with its small integer ID, every amount in its int64
// unit, slices indexed by ID-1; its fields and lookups are promoted), and
// the settings of the listeners and stages. A copy of a Config shares its
// Registry.
type Config struct {
	*refdata.Registry

	Source string // file name, or "embedded default"

	ListenFIX  string
	ListenHTTP string
	DataDir    string
	// ListenAdmin and AdminTokens configure the operator console (admin.go).
	ListenAdmin string
	AdminTokens []refdata.AdminToken
	// ListenDebug is the address of the profiling listener (/debug/pprof/);
	// empty disables it. It is never the public HTTP listener.
	ListenDebug string

	Durability      sequencer.Durability
	SegmentBytes    int64
	SnapshotEvery   uint64
	BatchRecordsMax int
	BatchDelay      time.Duration

	TargetCompID     string
	HeartbeatSeconds int
	FloodLogoutAfter int
	QueueDepth       int
	QuickFIXSettings string
	// SeqResetTime is when, each day, every FIX session's sequence numbers
	// start again at 1 ("HH:MM" UTC, or "never"); StoreRetentionDays is how
	// long the session stores of earlier days are kept.
	SeqResetTime       string
	StoreRetentionDays int

	DepthLevels int
	TradesKept  int

	// Schedule is the trading calendar; nil: continuous trading all day.
	Schedule *refdata.Schedule

	// ReporterEnabled runs the reporter inside serve; ReporterDSN is its
	// PostgreSQL DSN (empty: SQLite at DATA/reports.db).
	ReporterEnabled bool
	ReporterDSN     string
	// ReporterProcess is where serve runs it: ReporterChild (its own
	// process at nice ReporterNice, the default) or ReporterInline.
	ReporterProcess string
	ReporterNice    int
	// Cluster is nil for a venue that runs alone (see cluster.go).
	Cluster *Cluster
}

// Default returns the resolved embedded default configuration.
func Default() *Config {
	c, err := Parse(defaultYAML, "embedded default")
	if err != nil {
		panic("config: embedded default is invalid: " + err.Error())
	}
	return c
}

// Load reads and resolves the configuration file at path. Errors name the file
// and the field.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(b, path)
}

// Parse resolves YAML text; source names it in errors.
func Parse(b []byte, source string) (*Config, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("config %s: %w", source, err)
	}
	c, err := resolve(&f)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", source, err)
	}
	c.Source = source
	return c, nil
}

// unitsMax bounds converted prices and quantities (units.Max).
const unitsMax = units.Max

func resolve(f *File) (*Config, error) {
	c := &Config{
		ListenFIX:          orString(f.Listen.FIX, "127.0.0.1:9878"),
		ListenHTTP:         orString(f.Listen.HTTP, "127.0.0.1:8080"),
		ListenDebug:        f.Listen.Debug,
		DataDir:            orString(f.DataDir, "./exchange-data"),
		SegmentBytes:       orInt64(f.Journal.SegmentBytes, 256<<20),
		SnapshotEvery:      f.Journal.SnapshotEvery,
		BatchRecordsMax:    orInt(f.Journal.BatchRecordsMax, 8192),
		BatchDelay:         f.Journal.BatchDelay,
		TargetCompID:       orString(f.Gateway.TargetCompID, "EXCHANGE"),
		HeartbeatSeconds:   orInt(f.Gateway.HeartbeatSeconds, 30),
		FloodLogoutAfter:   orInt(f.Gateway.FloodLogoutAfter, 10000),
		QueueDepth:         orInt(f.Gateway.QueueDepth, 65536),
		QuickFIXSettings:   f.Gateway.QuickFIXSettings,
		SeqResetTime:       orString(f.Gateway.SeqResetTime, "00:00"),
		StoreRetentionDays: orInt(f.Gateway.StoreRetentionDays, 7),
		DepthLevels:        orInt(f.MarketData.DepthLevels, 10),
		TradesKept:         orInt(f.MarketData.TradesKept, 1000),
		ReporterEnabled:    f.Reporter.Enabled == nil || *f.Reporter.Enabled,
		ReporterDSN:        f.Reporter.DSN,
		ReporterProcess:    orString(f.Reporter.Process, ReporterChild),
		ReporterNice:       19,
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 1_000_000
	}
	if c.BatchDelay < 0 || c.BatchDelay > time.Second {
		return nil, fmt.Errorf("journal.batch_delay: %s is outside 0s..1s", c.BatchDelay)
	}
	var err error
	if c.Durability, err = sequencer.ParseDurability(orString(f.Journal.Durability, string(sequencer.DurabilityBatch))); err != nil {
		return nil, fmt.Errorf("journal.durability: %q is not one of always, batch, none", f.Journal.Durability)
	}
	if c.SegmentBytes < 4096 {
		return nil, fmt.Errorf("journal.segment_bytes: %d is below the minimum 4096", c.SegmentBytes)
	}
	if f.Currency.MinorUnits < 0 || f.Currency.MinorUnits > 8 {
		return nil, fmt.Errorf("currency.minor_units: %d is outside 0..8", f.Currency.MinorUnits)
	}
	if c.QueueDepth < 16 || c.QueueDepth > 1<<24 {
		return nil, fmt.Errorf("gateway.queue_depth: %d is outside 16..16777216", c.QueueDepth)
	}
	if _, err := time.Parse("15:04", c.SeqResetTime); err != nil && c.SeqResetTime != "never" {
		return nil, fmt.Errorf("gateway.seq_reset_time: %q is not HH:MM (UTC) or never", c.SeqResetTime)
	}
	if c.StoreRetentionDays < 1 {
		return nil, fmt.Errorf("gateway.store_retention_days: %d is below 1", c.StoreRetentionDays)
	}
	r := &resolver{
		Tables:        refdata.Tables{CurrencyCode: orString(f.Currency.Code, "USD"), MinorUnits: f.Currency.MinorUnits},
		targetCompID:  c.TargetCompID,
		symbolByName:  map[string]matching.SymbolID{},
		sessionByComp: map[string]refdata.SessionID{},
		accountByName: map[string]matching.AccountID{},
	}
	if err := r.resolveSymbols(f.Symbols); err != nil {
		return nil, err
	}
	if c.Schedule, err = r.schedule(f.Schedule); err != nil {
		return nil, err
	}
	if err := r.resolveFirms(f); err != nil {
		return nil, err
	}
	if c.Registry, err = refdata.New(r.Tables); err != nil {
		return nil, err
	}
	if err := c.resolveAdmin(f); err != nil {
		return nil, err
	}
	if err := c.resolveReporter(f); err != nil {
		return nil, err
	}
	if err := resolveCluster(f.Cluster, c); err != nil {
		return nil, err
	}
	return c, nil
}

// resolver holds the reference data resolved so far, and its indexes by
// name, until refdata.New takes the finished tables.
type resolver struct {
	refdata.Tables
	targetCompID  string
	symbolByName  map[string]matching.SymbolID
	sessionByComp map[string]refdata.SessionID
	accountByName map[string]matching.AccountID
}

// resolveFirms checks the risk defaults, fees and firms sections and fills
// r.Firms, r.Accounts and r.Sessions, their IDs in file order from 1.
func (r *resolver) resolveFirms(f *File) error {
	defLimits, err := r.limits(refdata.Limits{}, &f.RiskDefaults, "risk_defaults")
	if err != nil {
		return err
	}
	if defLimits.MaxOrderLots == 0 {
		defLimits.MaxOrderLots = 1_000_000
	}
	if defLimits.MaxOpenOrders == 0 {
		defLimits.MaxOpenOrders = 10_000
	}
	if defLimits.MaxOrderNotional == 0 {
		defLimits.MaxOrderNotional = unitsMax
	}
	makerDef, takerDef := int64(0), int64(0)
	if f.Fees.MakerBps != nil {
		makerDef = *f.Fees.MakerBps
	}
	if f.Fees.TakerBps != nil {
		takerDef = *f.Fees.TakerBps
	}
	if len(f.Firms) == 0 {
		return errors.New("firms: at least one firm is required")
	}
	if len(f.Firms) > 65535 {
		return errors.New("firms: more than 65535 firms")
	}
	rf := firmResolver{resolver: r, f: f, defLimits: defLimits, usernames: map[string]bool{}}
	firmNames := map[string]bool{}
	for i := range f.Firms {
		fm := &f.Firms[i]
		where := fmt.Sprintf("firms[%d]", i)
		if fm.Name == "" {
			return fmt.Errorf("%s.name: required", where)
		}
		if firmNames[fm.Name] {
			return fmt.Errorf("%s.name: %q is defined twice", where, fm.Name)
		}
		firmNames[fm.Name] = true
		firm := refdata.Firm{ID: refdata.FirmID(i + 1), Name: fm.Name, MakerBps: makerDef, TakerBps: takerDef}
		if fm.Fees != nil {
			if fm.Fees.MakerBps != nil {
				firm.MakerBps = *fm.Fees.MakerBps
			}
			if fm.Fees.TakerBps != nil {
				firm.TakerBps = *fm.Fees.TakerBps
			}
		}
		if firm.MakerBps < -1000 || firm.MakerBps > 1000 || firm.TakerBps < 0 || firm.TakerBps > 1000 {
			return fmt.Errorf("%s.fees: maker %d / taker %d bps outside the allowed range (maker -1000..1000, taker 0..1000)", where, firm.MakerBps, firm.TakerBps)
		}
		if len(fm.Accounts) == 0 {
			return fmt.Errorf("%s.accounts: a firm needs at least one account", where)
		}
		for j := range fm.Accounts {
			if err := rf.account(&firm, &fm.Accounts[j], fmt.Sprintf("%s.accounts[%d]", where, j)); err != nil {
				return err
			}
		}
		for j := range fm.Sessions {
			if err := rf.session(&firm, fm, &fm.Sessions[j], fmt.Sprintf("%s.sessions[%d]", where, j)); err != nil {
				return err
			}
		}
		if len(firm.Sessions) == 0 {
			return fmt.Errorf("%s.sessions: a firm needs at least one FIX session", where)
		}
		r.Firms = append(r.Firms, firm)
	}
	return nil
}

// firmResolver holds what resolving one firm's accounts and sessions needs
// from the rest of the file.
type firmResolver struct {
	*resolver
	f         *File
	defLimits refdata.Limits
	usernames map[string]bool // every session's, across firms
}

// account resolves the account a of firm, aw naming it in errors.
func (rf *firmResolver) account(firm *refdata.Firm, a *AccountFile, aw string) error {
	r := rf.resolver
	var err error
	if a.Name == "" || len(a.Name) > 32 {
		return fmt.Errorf("%s.name: %q must be 1 to 32 characters", aw, a.Name)
	}
	if _, dup := r.accountByName[a.Name]; dup {
		return fmt.Errorf("%s.name: %q is defined twice", aw, a.Name)
	}
	acc := refdata.Account{ID: matching.AccountID(len(r.Accounts) + 1), Name: a.Name, Firm: firm.ID, Holdings: map[matching.SymbolID]int64{}}
	if a.Cash != "" {
		v, err := decimal.NewFromString(a.Cash)
		if err != nil {
			return fmt.Errorf("%s.cash: %q is not a decimal number", aw, a.Cash)
		}
		if v.IsNegative() {
			return fmt.Errorf("%s.cash: %s is negative", aw, a.Cash)
		}
		if acc.Cash, err = r.MoneyToMinor(v); err != nil {
			return fmt.Errorf("%s.cash: %w", aw, err)
		}
	}
	for name, q := range a.Holdings {
		sid := r.symbolByName[name]
		if sid == 0 {
			return fmt.Errorf("%s.holdings: unknown symbol %q", aw, name)
		}
		v, err := decimal.NewFromString(q)
		if err != nil {
			return fmt.Errorf("%s.holdings.%s: %q is not a decimal number", aw, name, q)
		}
		lots, err := r.Symbols[sid-1].QtyToLots(v)
		if err != nil {
			return fmt.Errorf("%s.holdings.%s: %w", aw, name, err)
		}
		acc.Holdings[sid] = lots
	}
	if acc.Limits, err = r.limits(rf.defLimits, a.Limits, aw+".limits"); err != nil {
		return err
	}
	r.accountByName[a.Name] = acc.ID
	r.Accounts = append(r.Accounts, acc)
	firm.Accounts = append(firm.Accounts, acc.ID)
	return nil
}

// session resolves the FIX session s of firm fm, sw naming it in errors.
func (rf *firmResolver) session(firm *refdata.Firm, fm *FirmFile, s *SessionFile, sw string) error {
	r, f := rf.resolver, rf.f
	if s.SenderCompID == "" || strings.ContainsAny(s.SenderCompID, " \x01|=") {
		return fmt.Errorf("%s.sender_comp_id: %q must be non-empty without spaces", sw, s.SenderCompID)
	}
	if s.SenderCompID == rf.targetCompID {
		return fmt.Errorf("%s.sender_comp_id: %q is the exchange's own CompID", sw, s.SenderCompID)
	}
	if _, dup := r.sessionByComp[s.SenderCompID]; dup {
		return fmt.Errorf("%s.sender_comp_id: %q is defined twice", sw, s.SenderCompID)
	}
	if s.Username == "" {
		return fmt.Errorf("%s.username: required", sw)
	}
	if rf.usernames[s.Username] {
		return fmt.Errorf("%s.username: %q is defined twice", sw, s.Username)
	}
	rf.usernames[s.Username] = true
	if err := checkPasswordHash(s.PasswordHash); err != nil {
		return fmt.Errorf("%s.password_hash: %w", sw, err)
	}
	sess := refdata.Session{
		ID:                 refdata.SessionID(len(r.Sessions) + 1),
		Firm:               firm.ID,
		SenderCompID:       s.SenderCompID,
		Username:           s.Username,
		PasswordHash:       s.PasswordHash,
		DefaultAccount:     firm.Accounts[0],
		CancelOnDisconnect: f.Gateway.CancelOnDisconnect,
		RatePerSecond:      f.Gateway.RatePerSecond,
		Burst:              f.Gateway.Burst,
	}
	if s.Account != "" {
		id := r.accountByName[s.Account]
		if id == 0 || r.Accounts[id-1].Firm != firm.ID {
			return fmt.Errorf("%s.account: %q is not an account of firm %s", sw, s.Account, fm.Name)
		}
		sess.DefaultAccount = id
	}
	if s.CancelOnDisconnect != nil {
		sess.CancelOnDisconnect = *s.CancelOnDisconnect
	}
	if s.RatePerSecond != nil {
		sess.RatePerSecond = *s.RatePerSecond
	}
	if s.Burst != nil {
		sess.Burst = *s.Burst
	}
	if sess.RatePerSecond <= 0 {
		sess.RatePerSecond = 50000
	}
	if sess.Burst <= 0 {
		sess.Burst = int(sess.RatePerSecond)
	}
	r.sessionByComp[s.SenderCompID] = sess.ID
	r.Sessions = append(r.Sessions, sess)
	firm.Sessions = append(firm.Sessions, sess.ID)
	return nil
}

// resolveSymbols checks the symbols section and fills r.Symbols, their IDs
// in file order from 1.
func (r *resolver) resolveSymbols(symbols []SymbolFile) error {
	if len(symbols) == 0 {
		return errors.New("symbols: at least one symbol is required")
	}
	for i, s := range symbols {
		where := fmt.Sprintf("symbols[%d]", i)
		if s.Name == "" || strings.ContainsAny(s.Name, " \t\x01|") || len(s.Name) > 16 {
			return fmt.Errorf("%s.name: %q must be 1 to 16 characters without spaces", where, s.Name)
		}
		if _, dup := r.symbolByName[s.Name]; dup {
			return fmt.Errorf("%s.name: %q is defined twice", where, s.Name)
		}
		tick, err := positiveDecimal(s.TickSize, where+".tick_size")
		if err != nil {
			return err
		}
		lot, err := positiveDecimal(s.LotSize, where+".lot_size")
		if err != nil {
			return err
		}
		sym := refdata.Symbol{ID: matching.SymbolID(i + 1), Name: s.Name, TickSize: tick, LotSize: lot,
			StaticBandBps: s.StaticBandBps, DynamicBandBps: s.DynamicBandBps}
		if s.StaticBandBps < 0 || s.StaticBandBps > matching.BandBpsMax || s.DynamicBandBps < 0 || s.DynamicBandBps > matching.BandBpsMax {
			return fmt.Errorf("%s: static_band_bps and dynamic_band_bps must be within 0..%d", where, matching.BandBpsMax)
		}
		per := tick.Mul(lot).Shift(r.MinorUnits)
		if !per.Equal(per.Truncate(0)) || !per.IsPositive() {
			return fmt.Errorf("%s: one tick (%s) on one lot (%s) is %s minor units of %s; it must be a whole number (raise currency.minor_units or change the sizes)",
				where, tick, lot, per, r.CurrencyCode)
		}
		sym.CashPerTickLot = per.IntPart()
		if s.ReferencePrice != "" {
			ref, err := decimal.NewFromString(s.ReferencePrice)
			if err != nil {
				return fmt.Errorf("%s.reference_price: %q is not a decimal number", where, s.ReferencePrice)
			}
			if sym.RefTicks, err = sym.PriceToTicks(ref); err != nil {
				return fmt.Errorf("%s.reference_price: %w", where, err)
			}
		}
		r.symbolByName[s.Name] = sym.ID
		r.Symbols = append(r.Symbols, sym)
	}
	return nil
}

func (r *resolver) limits(base refdata.Limits, lf *LimitsFile, where string) (refdata.Limits, error) {
	l := base
	if lf == nil {
		return l, nil
	}
	if lf.MaxOrderLots != nil {
		if *lf.MaxOrderLots <= 0 || *lf.MaxOrderLots > unitsMax {
			return l, fmt.Errorf("%s.max_order_lots: %d must be between 1 and 2^50", where, *lf.MaxOrderLots)
		}
		l.MaxOrderLots = *lf.MaxOrderLots
	}
	if lf.MaxOrderNotional != nil {
		v, err := decimal.NewFromString(*lf.MaxOrderNotional)
		if err != nil || !v.IsPositive() {
			return l, fmt.Errorf("%s.max_order_notional: %q must be a positive decimal number", where, *lf.MaxOrderNotional)
		}
		if l.MaxOrderNotional, err = r.MoneyToMinor(v); err != nil {
			return l, fmt.Errorf("%s.max_order_notional: %w", where, err)
		}
	}
	if lf.PriceBandBps != nil {
		if *lf.PriceBandBps < 0 || *lf.PriceBandBps > 1_000_000 {
			return l, fmt.Errorf("%s.price_band_bps: %d is outside 0..1000000", where, *lf.PriceBandBps)
		}
		l.PriceBandBps = *lf.PriceBandBps
	}
	if lf.MaxOpenOrders != nil {
		if *lf.MaxOpenOrders <= 0 || *lf.MaxOpenOrders > 10_000_000 {
			return l, fmt.Errorf("%s.max_open_orders: %d is outside 1..10000000", where, *lf.MaxOpenOrders)
		}
		l.MaxOpenOrders = *lf.MaxOpenOrders
	}
	if lf.AllowShort != nil {
		l.AllowShort = *lf.AllowShort
	}
	if lf.ShortLimitLots != nil {
		if *lf.ShortLimitLots < 0 || *lf.ShortLimitLots > unitsMax {
			return l, fmt.Errorf("%s.short_limit_lots: %d is outside 0..2^50", where, *lf.ShortLimitLots)
		}
		l.ShortLimitLots = *lf.ShortLimitLots
	}
	if lf.RequireMarketProtection != nil {
		l.RequireMarketProtection = *lf.RequireMarketProtection
	}
	return l, nil
}

func positiveDecimal(s, where string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return d, fmt.Errorf("%s: %q is not a decimal number", where, s)
	}
	if !d.IsPositive() {
		return d, fmt.Errorf("%s: %s must be positive", where, s)
	}
	return d, nil
}

func orString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orInt64(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}
