package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// cliUsage is the help of `exchange admin`.
const cliUsage = `Usage: exchange admin [--addr HOST:PORT] [--token TOKEN] [--json] COMMAND [ARGS]

The address and token default to $EXCHANGE_ADMIN_ADDR (else 127.0.0.1:8081)
and $EXCHANGE_ADMIN_TOKEN. --json prints the server's JSON answer as is.

Reads (viewer or operator token):
  status                              venue status: symbols, journal, queues, sessions
  sessions                            FIX sessions: comp IDs, address, seq numbers, rates
  accounts [ACCOUNT]                  cash, reserved, holdings, open orders, kill switch
  orders FIRM [--limit N]             a firm's open orders
  actions [--n N]                     the last N operator actions (default 20)

Actions (operator token; every one journaled with who and --reason):
  halt SYMBOL|--all --reason R        halt trading
  resume SYMBOL|--all --reason R      resume trading
  expire SYMBOL|--all --reason R      end of day: DAY orders (and due GTD ones) expire
  phase SYMBOL|all PHASE --reason R   force a trading phase: closed, pre_open,
                                      opening_auction, continuous, closing_call,
                                      closing_auction, post_close, volatility_auction
                                      (leaving a call uncrosses; all: every symbol
                                      not halted)
  symbol add NAME --tick-size T --lot-size L [--reference-price P]
         [--static-band-bps N] [--dynamic-band-bps N] --reason R
                                      list a new symbol from now on
  kill on|off --account A|--firm F --reason R
                                      kill switch: cancel open orders and refuse new ones
  cancel [--firm F] [--account A] [--symbol S] --reason R
                                      cancel every open order in scope
  disconnect SESSION --reason R       log a FIX session (SenderCompID) out
  block FIRM --reason R               refuse a firm's logons
  unblock FIRM --reason R             accept them again
  limits ACCOUNT --reason R [--max-order-lots N] [--max-order-notional D]
         [--price-band-bps N] [--max-open-orders N] [--allow-short BOOL]
         [--short-limit-lots N] [--require-market-protection BOOL]
                                      change an account's risk limits from now on

Exit status: 0 done, 1 the server refused (its error is printed) or could not
be reached, 2 usage.
`

// cli is one run of `exchange admin`.
type cli struct {
	addr, token string
	json        bool
	timeout     time.Duration
	stdout      io.Writer
	stderr      io.Writer
}

func (c *cli) globals(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", c.addr, "admin API address (env EXCHANGE_ADMIN_ADDR)")
	fs.StringVar(&c.token, "token", c.token, "bearer token (env EXCHANGE_ADMIN_TOKEN)")
	fs.BoolVar(&c.json, "json", c.json, "print the server's JSON answer")
	fs.DurationVar(&c.timeout, "timeout", c.timeout, "give up after this long")
}

// errUsage marks a usage error already printed.
var errUsage = errors.New("usage")

// Main runs `exchange admin` with args (after "admin") and returns the exit
// status. getenv reads the environment (os.Getenv).
func Main(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := &cli{addr: getenv("EXCHANGE_ADMIN_ADDR"), token: getenv("EXCHANGE_ADMIN_TOKEN"), timeout: 30 * time.Second, stdout: stdout, stderr: stderr}
	if c.addr == "" {
		c.addr = "127.0.0.1:8081"
	}
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, cliUsage) }
	c.globals(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, cliUsage)
		return 2
	}
	err := c.run(rest[0], rest[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintf(stderr, "exchange admin %s: %v\n", rest[0], err)
	return 1
}

// sub parses a command's flags (the global ones too, anywhere among the
// arguments) and returns its positional arguments, of which it wants
// between minPos and maxPos.
func (c *cli) sub(name string, args []string, minPos, maxPos int, define func(fs *flag.FlagSet)) ([]string, error) {
	fs := flag.NewFlagSet("admin "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	c.globals(fs)
	if define != nil {
		define(fs)
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < minPos || len(pos) > maxPos {
		fmt.Fprintf(c.stderr, "exchange admin %s: wrong number of arguments (see exchange admin -h)\n", name)
		return nil, errUsage
	}
	return pos, nil
}

func (c *cli) client() *Client { return &Client{Addr: c.addr, Token: c.token} }

func (c *cli) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

func (c *cli) get(path string, out any) (bool, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	raw, err := c.client().Get(ctx, path, out)
	if err != nil {
		return false, err
	}
	if c.json {
		_, err = fmt.Fprintf(c.stdout, "%s\n", bytes.TrimSpace(raw))
		return true, err
	}
	return false, nil
}

func (c *cli) post(path string, body any) error {
	ctx, cancel := c.ctx()
	defer cancel()
	var res ActionResult
	raw, err := c.client().Post(ctx, path, body, &res)
	if err != nil {
		return err
	}
	if c.json {
		_, err = fmt.Fprintf(c.stdout, "%s\n", bytes.TrimSpace(raw))
		return err
	}
	fmt.Fprintf(c.stdout, "%s done: journaled at seq %d (%d commands, through seq %d) by %s: %s\n",
		res.Action, res.Seq, res.Commands, res.LastSeq, res.Who, res.Why)
	return nil
}

func (c *cli) table() *tabwriter.Writer { return tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0) }

func (c *cli) run(cmd string, args []string) error {
	var reason string
	withReason := func(fs *flag.FlagSet) { fs.StringVar(&reason, "reason", "", "why (journaled; required)") }
	switch cmd {
	case "status":
		if _, err := c.sub(cmd, args, 0, 0, nil); err != nil {
			return err
		}
		var st Status
		if done, err := c.get("status", &st); done || err != nil {
			return err
		}
		c.printStatus(&st)
	case "sessions":
		if _, err := c.sub(cmd, args, 0, 0, nil); err != nil {
			return err
		}
		var ss []Session
		if done, err := c.get("sessions", &ss); done || err != nil {
			return err
		}
		c.printSessions(ss)
	case "accounts":
		pos, err := c.sub(cmd, args, 0, 1, nil)
		if err != nil {
			return err
		}
		var as []Account
		if len(pos) == 1 {
			var a Account
			if done, err := c.get("accounts/"+pathEscape(pos[0]), &a); done || err != nil {
				return err
			}
			as = append(as, a)
		} else if done, err := c.get("accounts", &as); done || err != nil {
			return err
		}
		c.printAccounts(as)
	case "orders":
		limit := 0
		pos, err := c.sub(cmd, args, 1, 1, func(fs *flag.FlagSet) { fs.IntVar(&limit, "limit", 0, "at most this many orders") })
		if err != nil {
			return err
		}
		path := "firms/" + pathEscape(pos[0]) + "/orders"
		if limit > 0 {
			path += "?limit=" + strconv.Itoa(limit)
		}
		var os []Order
		if done, err := c.get(path, &os); done || err != nil {
			return err
		}
		c.printOrders(os)
	case "actions":
		n := 0
		if _, err := c.sub(cmd, args, 0, 0, func(fs *flag.FlagSet) { fs.IntVar(&n, "n", 0, "the last N actions (default 20)") }); err != nil {
			return err
		}
		path := "actions"
		if n > 0 {
			path += "?n=" + strconv.Itoa(n)
		}
		var as []Action
		if done, err := c.get(path, &as); done || err != nil {
			return err
		}
		c.printActions(as)
	case "halt", "resume", "expire":
		var all bool
		pos, err := c.sub(cmd, args, 0, 1, func(fs *flag.FlagSet) {
			withReason(fs)
			fs.BoolVar(&all, "all", false, "every symbol")
		})
		if err != nil {
			return err
		}
		req := HaltRequest{All: all, Reason: reason}
		if len(pos) == 1 {
			req.Symbol = pos[0]
		}
		return c.post(cmd, req)
	case "phase":
		pos, err := c.sub(cmd, args, 2, 2, withReason)
		if err != nil {
			return err
		}
		req := PhaseRequest{Symbol: pos[0], Phase: pos[1], Reason: reason}
		if pos[0] == "all" {
			req.Symbol, req.All = "", true
		}
		return c.post("phase", req)
	case "symbol":
		var req SymbolRequest
		pos, err := c.sub(cmd, args, 2, 2, func(fs *flag.FlagSet) {
			withReason(fs)
			fs.StringVar(&req.TickSize, "tick-size", "", "price increment (decimal)")
			fs.StringVar(&req.LotSize, "lot-size", "", "quantity increment (decimal)")
			fs.StringVar(&req.ReferencePrice, "reference-price", "", "price band reference until the first trade")
			fs.Int64Var(&req.StaticBandBps, "static-band-bps", 0, "static volatility band (0 none)")
			fs.Int64Var(&req.DynamicBandBps, "dynamic-band-bps", 0, "dynamic volatility band (0 none)")
		})
		if err != nil {
			return err
		}
		if pos[0] != "add" {
			fmt.Fprintf(c.stderr, "exchange admin symbol: say add, not %q\n", pos[0])
			return errUsage
		}
		req.Name, req.Reason = pos[1], reason
		return c.post("symbols", req)
	case "kill":
		var acct, firm string
		pos, err := c.sub(cmd, args, 1, 1, func(fs *flag.FlagSet) {
			withReason(fs)
			fs.StringVar(&acct, "account", "", "the account")
			fs.StringVar(&firm, "firm", "", "every account of the firm")
		})
		if err != nil {
			return err
		}
		if pos[0] != "on" && pos[0] != "off" {
			fmt.Fprintf(c.stderr, "exchange admin kill: say on or off, not %q\n", pos[0])
			return errUsage
		}
		on := pos[0] == "on"
		return c.post("kill", KillRequest{Account: acct, Firm: firm, On: &on, Reason: reason})
	case "cancel":
		var req CancelRequest
		if _, err := c.sub(cmd, args, 0, 0, func(fs *flag.FlagSet) {
			withReason(fs)
			fs.StringVar(&req.Firm, "firm", "", "the firm's orders")
			fs.StringVar(&req.Account, "account", "", "the account's orders")
			fs.StringVar(&req.Symbol, "symbol", "", "the symbol's orders")
		}); err != nil {
			return err
		}
		req.Reason = reason
		return c.post("cancel", req)
	case "disconnect":
		pos, err := c.sub(cmd, args, 1, 1, withReason)
		if err != nil {
			return err
		}
		return c.post("disconnect", DisconnectRequest{Session: pos[0], Reason: reason})
	case "block", "unblock":
		pos, err := c.sub(cmd, args, 1, 1, withReason)
		if err != nil {
			return err
		}
		blocked := cmd == "block"
		return c.post("block", BlockRequest{Firm: pos[0], Blocked: &blocked, Reason: reason})
	case "limits":
		var lf limitFlags
		pos, err := c.sub(cmd, args, 1, 1, func(fs *flag.FlagSet) {
			withReason(fs)
			lf.define(fs)
		})
		if err != nil {
			return err
		}
		l, err := lf.limits()
		if err != nil {
			fmt.Fprintf(c.stderr, "exchange admin limits: %v\n", err)
			return errUsage
		}
		return c.post("limits", LimitsRequest{Account: pos[0], Limits: l, Reason: reason})
	case "help", "-h", "--help":
		fmt.Fprint(c.stdout, cliUsage)
	default:
		fmt.Fprintf(c.stderr, "exchange admin: unknown command %q\n\n%s", cmd, cliUsage)
		return errUsage
	}
	return nil
}

// limitFlags are the limits command's flags; only those given are sent.
type limitFlags struct {
	lots, notional, band, open, short, shortLots, protect string
}

func (lf *limitFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&lf.lots, "max-order-lots", "", "largest order, lots")
	fs.StringVar(&lf.notional, "max-order-notional", "", "largest order notional (decimal amount)")
	fs.StringVar(&lf.band, "price-band-bps", "", "limit prices within this many bps of the reference (0 off)")
	fs.StringVar(&lf.open, "max-open-orders", "", "most open orders")
	fs.StringVar(&lf.short, "allow-short", "", "true or false")
	fs.StringVar(&lf.shortLots, "short-limit-lots", "", "largest short position, lots")
	fs.StringVar(&lf.protect, "require-market-protection", "", "true or false")
}

func (lf *limitFlags) limits() (LimitsJSON, error) {
	var l LimitsJSON
	i64 := func(name, v string, dst **int64) error {
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("--%s: %q is not an integer", name, v)
		}
		*dst = &n
		return nil
	}
	b := func(name, v string, dst **bool) error {
		if v == "" {
			return nil
		}
		x, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("--%s: %q is not true or false", name, v)
		}
		*dst = &x
		return nil
	}
	var open *int64
	for _, err := range []error{
		i64("max-order-lots", lf.lots, &l.MaxOrderLots), i64("price-band-bps", lf.band, &l.PriceBandBps),
		i64("max-open-orders", lf.open, &open), i64("short-limit-lots", lf.shortLots, &l.ShortLimitLots),
		b("allow-short", lf.short, &l.AllowShort), b("require-market-protection", lf.protect, &l.RequireMarketProtection),
	} {
		if err != nil {
			return l, err
		}
	}
	if open != nil {
		n := int(*open)
		l.MaxOpenOrders = &n
	}
	if lf.notional != "" {
		l.MaxOrderNotional = &lf.notional
	}
	return l, nil
}

func pathEscape(s string) string {
	return strings.NewReplacer("/", "%2F", "?", "%3F", "#", "%23", " ", "%20", "%", "%25").Replace(s)
}

func (c *cli) printStatus(st *Status) {
	fmt.Fprintf(c.stdout, "up %s (since %s)   journal %s, durability %s, durable seq %d, %d records, %d fsyncs\n",
		(time.Duration(st.UptimeSeconds) * time.Second).String(), st.Started.Format(time.RFC3339), st.Journal.Dir,
		st.Journal.Durability, st.Journal.DurableSeq, st.Journal.Records, st.Journal.Fsyncs)
	fmt.Fprintf(c.stdout, "queues: inbound %d, in flight %d, busy refusals %d   sessions logged on: %d of %d\n\n",
		st.Queues.Inbound, st.Queues.InFlight, st.Queues.Busy, st.SessionsUp, st.Sessions)
	w := c.table()
	fmt.Fprintln(w, "SYMBOL\tPHASE\tLAST\tHALT REASON")
	for _, s := range st.Symbols {
		phase := s.Phase
		if s.PhaseUnderHalt != "" {
			phase += " (in " + s.PhaseUnderHalt + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Symbol, phase, dash(s.Last), s.HaltReason)
	}
	w.Flush()
}

func (c *cli) printSessions(ss []Session) {
	w := c.table()
	fmt.Fprintln(w, "SESSION\tFIRM\tSTATE\tADDRESS\tSINCE\tSEQ IN\tSEQ OUT\tMSGS/S\tREJ/S\tMSGS\tREJECTS")
	for _, s := range ss {
		state := "down"
		if s.LoggedOn {
			state = "up " + s.BeginString
		}
		if s.LogonsBlocked {
			state += " (blocked)"
		}
		since := "-"
		if !s.ConnectedSince.IsZero() && s.LoggedOn {
			since = s.ConnectedSince.Format(time.TimeOnly)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%.1f\t%.1f\t%d\t%d\n", s.Session, s.Firm, state, dash(s.Address), since,
			s.NextSeqIn, s.NextSeqOut, s.MsgsPerSecond, s.RejectsPerSecond, s.MsgsIn, s.Rejects)
	}
	w.Flush()
}

func (c *cli) printAccounts(as []Account) {
	w := c.table()
	fmt.Fprintln(w, "ACCOUNT\tFIRM\tCASH\tRESERVED\tOPEN ORDERS\tKILL SWITCH\tHOLDINGS (qty/reserved)")
	for _, a := range as {
		var hs []string
		for _, sym := range sortedNames(a.Holdings) {
			h := a.Holdings[sym]
			hs = append(hs, sym+" "+h.Qty+"/"+h.Reserved)
		}
		kill := "off"
		if a.KillSwitch {
			kill = "ON"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", a.Account, a.Firm, a.Cash, a.CashReserved, a.OpenOrders, kill, strings.Join(hs, ", "))
	}
	w.Flush()
	if len(as) == 1 {
		b, _ := json.Marshal(as[0].Limits)
		changed := ""
		if as[0].LimitsChanged {
			changed = " (changed by an operator)"
		}
		fmt.Fprintf(c.stdout, "\nlimits%s: %s\n", changed, b)
	}
}

func (c *cli) printOrders(os []Order) {
	w := c.table()
	fmt.Fprintln(w, "ORDER ID\tCLORDID\tACCOUNT\tSESSION\tSYMBOL\tSIDE\tTYPE\tTIF\tPRICE\tQTY\tFILLED\tLEAVES")
	for _, o := range os {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.OrderID, o.ClOrdID, o.Account, dash(o.Session),
			o.Symbol, o.Side, o.Type, o.TIF, o.Price, o.Qty, o.Filled, o.Leaves)
	}
	w.Flush()
	fmt.Fprintf(c.stdout, "%d open orders\n", len(os))
}

func (c *cli) printActions(as []Action) {
	w := c.table()
	fmt.Fprintln(w, "SEQ\tTIME\tACTION\tWHO\tON\tWHY")
	for _, a := range as {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", a.Seq, a.Time.Format(time.RFC3339), a.Action, a.Who, ActionTarget(&a), a.Why)
	}
	w.Flush()
}

// ActionTarget is what an action was about, in one word or two.
func ActionTarget(a *Action) string {
	var parts []string
	for _, p := range [][2]string{{"symbol", a.Symbol}, {"firm", a.Firm}, {"account", a.Account}, {"session", a.Session}, {"to", a.Phase}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+p[1])
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
