package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// keyConsumers names, for every key of the YAML file, the field of the
// resolved Config it becomes (a path through Config, its element types
// included) and who reads that field. A key added to File without a line here
// fails TestEveryKeyHasAConsumer; a line whose field nothing outside this
// package reads fails it too (that is how journal.batch_delay once went
// unused). Keys not in File are refused by Parse (see the "unknown key" case
// of TestErrorsNameTheField).
var keyConsumers = map[string]struct{ field, reader string }{
	"listen.fix":                                      {"ListenFIX", "gateway.New: the FIX acceptor's address"},
	"listen.http":                                     {"ListenHTTP", "cmd/exchange startVenue: the HTTP listener"},
	"listen.debug":                                    {"ListenDebug", "cmd/exchange startVenue: the pprof listener, off when empty"},
	"gateway.seq_reset_time":                          {"SeqResetTime", "gateway: the daily sequence reset of the session stores"},
	"gateway.store_retention_days":                    {"StoreRetentionDays", "gateway: how long earlier days' session stores are kept"},
	"schedule.time_zone":                              {"Schedule.Location", "pipeline.Scheduler: local midnight of the calendar; gateway: ExpireDate (432) as a local date"},
	"schedule.trading_days":                           {"Schedule.TradingDays", "pipeline.Scheduler: the days that trade"},
	"schedule.symbols":                                {"Schedule.Symbols", "pipeline.Scheduler: the symbols the calendar drives"},
	"schedule.gtd_check":                              {"Schedule.GTDCheck", "pipeline.Scheduler: how often due GTD orders expire"},
	"schedule.steps.at":                               {"Schedule.Steps.At", "pipeline.Scheduler: when a step fires"},
	"schedule.steps.phase":                            {"Schedule.Steps.Phase", "pipeline.Scheduler: the phase a step sets"},
	"schedule.steps.expire":                           {"Schedule.Steps.Expire", "pipeline.Scheduler: a step that expires DAY orders"},
	"symbols.static_band_bps":                         {"Symbols.StaticBandBps", "pipeline state: the engine's static volatility band"},
	"symbols.dynamic_band_bps":                        {"Symbols.DynamicBandBps", "pipeline state: the engine's dynamic volatility band"},
	"reporter.enabled":                                {"ReporterEnabled", "cmd/exchange serve: runs the reporter inside the venue"},
	"reporter.dsn":                                    {"ReporterDSN", "cmd/exchange: the reporter's PostgreSQL DSN"},
	"reporter.process":                                {"ReporterProcess", "cmd/exchange serve: the reporter as a child process or a goroutine"},
	"reporter.nice":                                   {"ReporterNice", "cmd/exchange serve: the reporter child's CPU priority"},
	"cluster.node_id":                                 {"Cluster.NodeID", "cluster.Node: this node's raft ID"},
	"cluster.peers.id":                                {"Cluster.Peers.ID", "cluster.Node: the peers' raft IDs"},
	"cluster.peers.raft":                              {"Cluster.Peers.Raft", "cluster.Node: the peers' raft addresses"},
	"cluster.peers.fix":                               {"Cluster.Peers.FIX", "cmd/exchange: the leader's FIX address in a standby's Logout"},
	"cluster.peers.http":                              {"Cluster.Peers.HTTP", "cmd/exchange: the node's HTTP listener"},
	"cluster.heartbeat_timeout":                       {"Cluster.HeartbeatTimeout", "cluster.Node: raft's heartbeat timeout"},
	"cluster.election_timeout":                        {"Cluster.ElectionTimeout", "cluster.Node: raft's election timeout"},
	"cluster.leader_lease_timeout":                    {"Cluster.LeaderLeaseTimeout", "cluster.Node: raft's leader lease"},
	"cluster.snapshot_threshold":                      {"Cluster.SnapshotThreshold", "cluster.Node: entries between raft snapshots"},
	"cluster.join":                                    {"Cluster.Join", "cluster.Node: a node added later waits to be added"},
	"cluster.log_store":                               {"Cluster.LogStore", "cluster.Node: raft's log and stable store (segments or boltdb)"},
	"listen.admin":                                    {"ListenAdmin", "cmd/exchange startAdmin: the operator console's listener"},
	"admin.tokens.name":                               {"AdminTokens.Name", "admin: journaled as who took an action"},
	"admin.tokens.role":                               {"AdminTokens.Role", "admin: viewer or operator"},
	"admin.tokens.hash":                               {"AdminTokens.Hash", "admin: the bcrypt check of a bearer token"},
	"data_dir":                                        {"DataDir", "cmd/exchange pipelineOptions → pipeline.Options.Dir (journal, snapshots); gateway (session stores)"},
	"journal.durability":                              {"Durability", "cmd/exchange pipelineOptions → pipeline.Options.Durability → sequencer.Config.Durability"},
	"journal.segment_bytes":                           {"SegmentBytes", "cmd/exchange pipelineOptions → pipeline.Options.SegmentBytes → sequencer.Config.SegmentBytesMax"},
	"journal.snapshot_every":                          {"SnapshotEvery", "cmd/exchange pipelineOptions → pipeline.Options.SnapshotEvery: commands between snapshots"},
	"journal.batch_records_max":                       {"BatchRecordsMax", "cmd/exchange pipelineOptions → pipeline.Options.BatchRecordsMax → sequencer.Config.BatchRecordsMax"},
	"journal.batch_delay":                             {"BatchDelay", "cmd/exchange pipelineOptions → pipeline.Options.BatchDelay → sequencer.Config.BatchLinger"},
	"currency.code":                                   {"CurrencyCode", "cmd/exchange serve's connect information; config's own error texts"},
	"currency.minor_units":                            {"MinorUnits", "config's money conversions, gateway's reports"},
	"symbols.name":                                    {"Symbols.Name", "gateway (Symbol 55), market data, broker"},
	"symbols.tick_size":                               {"Symbols.TickSize", "gateway and market data price conversions"},
	"symbols.lot_size":                                {"Symbols.LotSize", "gateway and market data quantity conversions"},
	"symbols.reference_price":                         {"Symbols.RefTicks", "ordermanager's price band before the first trade; demo's brokers"},
	"fees.maker_bps":                                  {"Firms.MakerBps", "ordermanager's fees"},
	"fees.taker_bps":                                  {"Firms.TakerBps", "ordermanager's fees"},
	"risk_defaults.max_order_lots":                    {"Accounts.Limits.MaxOrderLots", "ordermanager risk checks"},
	"risk_defaults.max_order_notional":                {"Accounts.Limits.MaxOrderNotional", "ordermanager risk checks"},
	"risk_defaults.price_band_bps":                    {"Accounts.Limits.PriceBandBps", "ordermanager risk checks"},
	"risk_defaults.max_open_orders":                   {"Accounts.Limits.MaxOpenOrders", "ordermanager risk checks"},
	"risk_defaults.allow_short":                       {"Accounts.Limits.AllowShort", "ordermanager risk checks"},
	"risk_defaults.short_limit_lots":                  {"Accounts.Limits.ShortLimitLots", "ordermanager risk checks"},
	"risk_defaults.require_market_protection":         {"Accounts.Limits.RequireMarketProtection", "ordermanager risk checks"},
	"gateway.target_comp_id":                          {"TargetCompID", "gateway's sessions and logon checks"},
	"gateway.heartbeat_seconds":                       {"HeartbeatSeconds", "gateway's session settings"},
	"gateway.rate_per_second":                         {"Sessions.RatePerSecond", "gateway's per-session token bucket"},
	"gateway.burst":                                   {"Sessions.Burst", "gateway's per-session token bucket"},
	"gateway.flood_logout_after":                      {"FloodLogoutAfter", "gateway's inbound rate limiting"},
	"gateway.cancel_on_disconnect":                    {"Sessions.CancelOnDisconnect", "ordermanager on logout"},
	"gateway.queue_depth":                             {"QueueDepth", "cmd/exchange pipelineOptions → pipeline.Options.QueueDepth: the inbound queue"},
	"gateway.quickfix_settings":                       {"QuickFIXSettings", "gateway's session settings overrides"},
	"market_data.depth_levels":                        {"DepthLevels", "cmd/exchange → marketdata.Config.DepthDefault"},
	"market_data.trades_kept":                         {"TradesKept", "cmd/exchange → marketdata.Config.TradesMax"},
	"firms.name":                                      {"Firms.Name", "the firm's name in logs and errors"},
	"firms.fees.maker_bps":                            {"Firms.MakerBps", "ordermanager's fees"},
	"firms.fees.taker_bps":                            {"Firms.TakerBps", "ordermanager's fees"},
	"firms.sessions.sender_comp_id":                   {"Sessions.SenderCompID", "gateway's logon"},
	"firms.sessions.username":                         {"Sessions.Username", "gateway's logon (553)"},
	"firms.sessions.password_hash":                    {"Sessions.PasswordHash", "gateway's logon (554): bcrypt, or an API key's sha256:<hex>"},
	"firms.sessions.account":                          {"Sessions.DefaultAccount", "gateway's normalization, ordermanager"},
	"firms.sessions.cancel_on_disconnect":             {"Sessions.CancelOnDisconnect", "ordermanager on logout"},
	"firms.sessions.rate_per_second":                  {"Sessions.RatePerSecond", "gateway's per-session token bucket"},
	"firms.sessions.burst":                            {"Sessions.Burst", "gateway's per-session token bucket"},
	"firms.accounts.name":                             {"Accounts.Name", "account names in reports and errors"},
	"firms.accounts.cash":                             {"Accounts.Cash", "ordermanager's wallets"},
	"firms.accounts.holdings":                         {"Accounts.Holdings", "ordermanager's positions"},
	"firms.accounts.limits.max_order_lots":            {"Accounts.Limits.MaxOrderLots", "ordermanager risk checks"},
	"firms.accounts.limits.max_order_notional":        {"Accounts.Limits.MaxOrderNotional", "ordermanager risk checks"},
	"firms.accounts.limits.price_band_bps":            {"Accounts.Limits.PriceBandBps", "ordermanager risk checks"},
	"firms.accounts.limits.max_open_orders":           {"Accounts.Limits.MaxOpenOrders", "ordermanager risk checks"},
	"firms.accounts.limits.allow_short":               {"Accounts.Limits.AllowShort", "ordermanager risk checks"},
	"firms.accounts.limits.short_limit_lots":          {"Accounts.Limits.ShortLimitLots", "ordermanager risk checks"},
	"firms.accounts.limits.require_market_protection": {"Accounts.Limits.RequireMarketProtection", "ordermanager risk checks"},
}

// yamlKeys lists the leaf keys of t (a struct type of the file), dotted; list
// elements and pointers are looked through.
func yamlKeys(t reflect.Type, prefix string, out *[]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		*out = append(*out, prefix)
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		if prefix != "" {
			name = prefix + "." + name
		}
		yamlKeys(f.Type, name, out)
	}
}

// configField checks that path names a field of Config (through slices,
// maps, pointers and structs) and returns the last field's name.
func configField(t *testing.T, path string) string {
	t.Helper()
	typ := reflect.TypeFor[Config]()
	var last string
	for _, name := range strings.Split(path, ".") {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		f, ok := typ.FieldByName(name)
		if !ok || !f.IsExported() {
			t.Fatalf("%s: Config has no exported field %s", path, name)
		}
		typ, last = f.Type, name
	}
	return last
}

// selectorsOutsideConfig returns every name used after a dot in the module's
// non-test Go files outside this package.
func selectorsOutsideConfig(t *testing.T) map[string]bool {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	here, _ := filepath.Abs(".")
	names := map[string]bool{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == here || strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if s, ok := n.(*ast.SelectorExpr); ok {
				names[s.Sel.Name] = true
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// Every key of the configuration file changes behaviour somewhere: it is
// listed in keyConsumers with the Config field it resolves into, and that
// field is read by code outside this package. (Reading is checked by name, so
// the test catches a field nobody reads, as batch_delay was, not a reader that
// ignores what it read.)
func TestEveryKeyHasAConsumer(t *testing.T) {
	var keys []string
	yamlKeys(reflect.TypeFor[File](), "", &keys)
	sort.Strings(keys)
	used := selectorsOutsideConfig(t)
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
		c, ok := keyConsumers[k]
		if !ok {
			t.Errorf("configuration key %s is not in keyConsumers: name the Config field it sets and who reads it", k)
			continue
		}
		if name := configField(t, c.field); !used[name] {
			t.Errorf("configuration key %s sets Config.%s, which no code outside internal/config reads (%s was expected to)", k, c.field, c.reader)
		}
	}
	for k := range keyConsumers {
		if !seen[k] {
			t.Errorf("keyConsumers lists %s, which is not a key of the file", k)
		}
	}
}

// keyAlternatives gives each key a value other than the embedded default's,
// for TestEveryKeyReachesItsField. A key left out cannot be changed alone
// (noted beside it).
var keyAlternatives = map[string]string{
	"listen.fix": "127.0.0.1:19878", "listen.http": "127.0.0.1:18080", "listen.debug": "127.0.0.1:6060", "listen.admin": "127.0.0.1:18081", "gateway.seq_reset_time": `"06:30"`, "gateway.store_retention_days": "3", "reporter.enabled": "false",
	// cluster.*: a cluster section is valid only whole (node_id among its peers).
	"reporter.dsn": "postgres://x@127.0.0.1/y", "reporter.process": "inline", "reporter.nice": "5",
	"data_dir": "/elsewhere", "journal.durability": "none", "journal.segment_bytes": "4096000",
	"journal.snapshot_every": "5", "journal.batch_records_max": "17", "journal.batch_delay": "3ms",
	"currency.code": "EUR", "currency.minor_units": "4",
	// symbols.name: the accounts' holdings name the first symbol.
	"symbols.tick_size": `"0.05"`, "symbols.lot_size": `"10"`, "symbols.reference_price": `"191.00"`,
	"symbols.static_band_bps": "500", "symbols.dynamic_band_bps": "50",
	// schedule.*: a calendar is valid only whole (steps, a zone), not one key alone.
	"fees.maker_bps": "2", "fees.taker_bps": "4",
	"gateway.target_comp_id": "EXCH2", "gateway.heartbeat_seconds": "7", "gateway.rate_per_second": "7",
	"gateway.burst": "7", "gateway.flood_logout_after": "7", "gateway.cancel_on_disconnect": "true",
	"gateway.queue_depth": "32", "gateway.quickfix_settings": "x.cfg",
	"market_data.depth_levels": "7", "market_data.trades_kept": "7",
	"firms.name": "ALPHA2", "firms.fees.maker_bps": "5", "firms.fees.taker_bps": "5",
	"firms.sessions.sender_comp_id": "ALPHA2", "firms.sessions.username": "alpha2",
	"firms.sessions.password_hash": `"sha256:` + strings.Repeat("ab", 32) + `"`, "firms.sessions.cancel_on_disconnect": "true",
	"firms.sessions.rate_per_second": "7", "firms.sessions.burst": "7",
	// firms.sessions.account: the first firm has one account, already the default.
	"firms.accounts.name": "ALPHA-X", "firms.accounts.cash": `"5.00"`, "firms.accounts.holdings": `{AAPL: "5"}`,
}

func init() {
	for _, k := range []string{"max_order_lots", "max_order_notional", "price_band_bps", "max_open_orders",
		"allow_short", "short_limit_lots", "require_market_protection"} {
		v := map[string]string{"max_order_notional": `"5.00"`, "allow_short": "true", "require_market_protection": "true"}[k]
		if v == "" {
			v = "7"
		}
		keyAlternatives["risk_defaults."+k] = v
		keyAlternatives["firms.accounts.limits."+k] = v
	}
}

// setKey sets the dotted key path in the YAML mapping m (the first element
// of each list on the way), creating mappings that are not there, to the
// YAML value text.
func setKey(t *testing.T, m *yaml.Node, path []string, value string) {
	t.Helper()
	for m.Kind == yaml.SequenceNode {
		m = m.Content[0]
	}
	var v yaml.Node
	if err := yaml.Unmarshal([]byte(value), &v); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(m.Content); i += 2 {
		if m.Content[i].Value == path[0] {
			if len(path) == 1 {
				m.Content[i+1] = v.Content[0]
			} else {
				setKey(t, m.Content[i+1], path[1:], value)
			}
			return
		}
	}
	key := &yaml.Node{Kind: yaml.ScalarNode, Value: path[0]}
	if len(path) == 1 {
		m.Content = append(m.Content, key, v.Content[0])
		return
	}
	sub := &yaml.Node{Kind: yaml.MappingNode}
	m.Content = append(m.Content, key, sub)
	setKey(t, sub, path[1:], value)
}

// fieldValue returns the value at a Config field path (the first element of
// each slice on the way).
func fieldValue(c *Config, path string) any {
	v := reflect.ValueOf(c).Elem()
	for _, name := range strings.Split(path, ".") {
		for v.Kind() == reflect.Slice || v.Kind() == reflect.Pointer {
			v = v.Index(0)
		}
		v = v.FieldByName(name)
	}
	return v.Interface()
}

// Every key reaches the Config field keyConsumers names: changing the key
// alone in the embedded default changes that field.
func TestEveryKeyReachesItsField(t *testing.T) {
	def := Default()
	for key, c := range keyConsumers {
		alt, ok := keyAlternatives[key]
		if !ok {
			continue
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(defaultYAML, &doc); err != nil {
			t.Fatal(err)
		}
		setKey(t, doc.Content[0], strings.Split(key, "."), alt)
		b, err := yaml.Marshal(&doc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(b, key)
		if err != nil {
			t.Errorf("%s: %s: %v", key, alt, err)
			continue
		}
		if reflect.DeepEqual(fieldValue(got, c.field), fieldValue(def, c.field)) {
			t.Errorf("%s: %s left Config.%s at %v", key, alt, c.field, fieldValue(def, c.field))
		}
	}
}
