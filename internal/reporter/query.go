package reporter

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Filter selects the rows of a report. Empty fields select everything.
type Filter struct {
	Firm, Account, Symbol string
	// FromNs and ToNs bound the time: FromNs <= t < ToNs (0: unbounded).
	FromNs, ToNs int64
	// Day selects one UTC date (YYYY-MM-DD).
	Day string
	// Limit caps the rows (0: no cap).
	Limit int
}

// Reports names the reports Query knows.
var Reports = []string{"trades", "orders", "executions", "statement", "bars", "actions"}

// units converts the database's ticks, lots and minor units to decimals,
// from the venue description the database holds.
type units struct {
	tick, lot map[int64]decimal.Decimal
	name      map[int64]string
	minor     int32
}

func (db *DB) units(ctx context.Context) (*units, error) {
	u := &units{tick: map[int64]decimal.Decimal{}, lot: map[int64]decimal.Decimal{}, name: map[int64]string{}}
	rs, err := db.sql.QueryContext(ctx, `SELECT id, name, tick_size, lot_size FROM symbols`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var id int64
		var name, tick, lot string
		if err := rs.Scan(&id, &name, &tick, &lot); err != nil {
			return nil, err
		}
		u.name[id] = name
		if u.tick[id], err = decimal.NewFromString(tick); err != nil {
			return nil, fmt.Errorf("symbols %s: tick_size %q: %w", name, tick, err)
		}
		if u.lot[id], err = decimal.NewFromString(lot); err != nil {
			return nil, fmt.Errorf("symbols %s: lot_size %q: %w", name, lot, err)
		}
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	_ = db.sql.QueryRowContext(ctx, `SELECT minor_units FROM venue WHERE id = 1`).Scan(&u.minor)
	return u, nil
}

// px and qty print as many decimals as the tick and lot size have (as the
// market-data tape does).
func (u *units) px(sym, ticks int64) string {
	t := u.tick[sym]
	return decimal.New(ticks, 0).Mul(t).StringFixed(max(0, -t.Exponent()))
}

func (u *units) qty(sym, lots int64) string {
	l := u.lot[sym]
	return decimal.New(lots, 0).Mul(l).StringFixed(max(0, -l.Exponent()))
}

// vwap is notional (tick-lots) / volume (lots), as a price.
func (u *units) vwap(sym, notional, volume int64) string {
	if volume == 0 {
		return ""
	}
	return decimal.New(notional, 0).Mul(u.tick[sym]).DivRound(decimal.New(volume, 0), 8).String()
}

func (u *units) money(m int64) string { return decimal.New(m, -u.minor).StringFixed(u.minor) }

func fmtTime(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

// where builds a WHERE clause from conditions.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// dayRange turns a day into a time range.
func dayRange(day string) (from, to int64, err error) {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return 0, 0, fmt.Errorf("date %q is not YYYY-MM-DD", day)
	}
	return t.UnixNano(), t.Add(24 * time.Hour).UnixNano(), nil
}

func (f *Filter) timeBounds() (from, to int64, err error) {
	from, to = f.FromNs, f.ToNs
	if f.Day != "" {
		df, dt, err := dayRange(f.Day)
		if err != nil {
			return 0, 0, err
		}
		from, to = max(from, df), dt
		if f.ToNs != 0 {
			to = min(to, f.ToNs)
		}
	}
	return from, to, nil
}

// accountCond adds a condition that column (an account ID) belongs to the
// filter's account and firm.
func (f *Filter) accountCond(w *where, cols ...string) {
	for _, pair := range []struct{ val, field string }{{f.Account, "name"}, {f.Firm, "firm"}} {
		if pair.val == "" {
			continue
		}
		var ors []string
		for _, c := range cols {
			ors = append(ors, fmt.Sprintf("%s IN (SELECT id FROM accounts WHERE %s = ?)", c, pair.field))
			w.args = append(w.args, pair.val)
		}
		w.conds = append(w.conds, "("+strings.Join(ors, " OR ")+")")
	}
}

func (f *Filter) symbolCond(w *where, col string) {
	if f.Symbol != "" {
		w.add(col+" IN (SELECT id FROM symbols WHERE name = ?)", f.Symbol)
	}
}

func (f *Filter) limit() string {
	if f.Limit > 0 {
		return " LIMIT " + strconv.Itoa(f.Limit)
	}
	return ""
}

// Query streams report kind (one of Reports) to fn: first the header, then
// one row at a time, values as text (decimals in the venue's units, times in
// RFC 3339 UTC). The slice passed to fn is reused.
func (db *DB) Query(ctx context.Context, kind string, f Filter, fn func(row []string) error) error {
	u, err := db.units(ctx)
	if err != nil {
		return fmt.Errorf("reporter database %s: %w", db.where, err)
	}
	accts, err := db.accountNames(ctx)
	if err != nil {
		return err
	}
	from, to, err := f.timeBounds()
	if err != nil {
		return err
	}
	var w where
	var q string
	var header []string
	var scan func(sc func(...any) error, row []string) error
	timeCond := func(col string) {
		if from != 0 {
			w.add(col+" >= ?", from)
		}
		if to != 0 {
			w.add(col+" < ?", to)
		}
	}
	dayCond := func() {
		if f.Day != "" {
			w.add("day = ?", f.Day)
		} else {
			if from != 0 {
				w.add("day >= ?", time.Unix(0, from).UTC().Format(time.DateOnly))
			}
			if to != 0 {
				w.add("day <= ?", time.Unix(0, to-1).UTC().Format(time.DateOnly))
			}
		}
	}
	switch kind {
	case "trades":
		timeCond("time_ns")
		f.symbolCond(&w, "symbol_id")
		f.accountCond(&w, "buy_account", "sell_account")
		header = []string{"time", "symbol", "match_id", "price", "qty", "aggressor", "buy_order", "buy_account", "sell_order", "sell_account", "auction", "seq", "out_seq"}
		q = `SELECT time_ns, symbol_id, match_id, price, qty, aggressor, buy_order, buy_account, sell_order, sell_account, auction, seq, out_seq FROM trades` + w.String() + ` ORDER BY seq, out_seq`
		scan = func(sc func(...any) error, row []string) error {
			var tns, sym, match, px, qty, bo, ba, so, sa, seq, out int64
			var agg string
			var auction bool
			if err := sc(&tns, &sym, &match, &px, &qty, &agg, &bo, &ba, &so, &sa, &auction, &seq, &out); err != nil {
				return err
			}
			copy(row, []string{fmtTime(tns), u.name[sym], itoa(match), u.px(sym, px), u.qty(sym, qty), agg, itoa(bo), accts[ba], itoa(so), accts[sa],
				strconv.FormatBool(auction), itoa(seq), itoa(out)})
			return nil
		}
	case "executions":
		timeCond("time_ns")
		f.symbolCond(&w, "symbol_id")
		f.accountCond(&w, "account_id")
		header = []string{"time", "exec_id", "seq", "account", "symbol", "side", "exec_type", "ord_status", "order_id", "cl_ord_id", "orig_cl_ord_id",
			"ord_type", "tif", "price", "order_qty", "last_px", "last_qty", "cum_qty", "leaves_qty", "fee", "reject", "auction"}
		q = `SELECT time_ns, exec_id, seq, account_id, symbol_id, side, exec_type, ord_status, order_id, cl_ord_id, orig_cl_ord_id, ord_type, tif,
			price, order_qty, last_px, last_qty, cum_qty, leaves_qty, fee, reject, auction FROM executions` + w.String() + ` ORDER BY seq, exec_id`
		scan = func(sc func(...any) error, row []string) error {
			var tns, eid, seq, acct, sym, oid, px, oq, lpx, lq, cq, lv, fee int64
			var side, et, os, cl, ocl, ot, tif, rej string
			var auction bool
			if err := sc(&tns, &eid, &seq, &acct, &sym, &side, &et, &os, &oid, &cl, &ocl, &ot, &tif, &px, &oq, &lpx, &lq, &cq, &lv, &fee, &rej, &auction); err != nil {
				return err
			}
			copy(row, []string{fmtTime(tns), itoa(eid), itoa(seq), accts[acct], u.name[sym], side, et, os, itoa(oid), cl, ocl, ot, tif,
				u.px(sym, px), u.qty(sym, oq), u.px(sym, lpx), u.qty(sym, lq), u.qty(sym, cq), u.qty(sym, lv), u.money(fee), rej, strconv.FormatBool(auction)})
			return nil
		}
	case "orders":
		timeCond("created_ns")
		f.symbolCond(&w, "symbol_id")
		f.accountCond(&w, "account_id")
		header = []string{"order_id", "cl_ord_id", "account", "symbol", "side", "ord_type", "tif", "price", "order_qty", "status", "cum_qty", "leaves_qty",
			"avg_px", "fees", "transitions", "created", "updated"}
		q = `SELECT order_id, cl_ord_id, account_id, symbol_id, side, ord_type, tif, price, order_qty, status, cum_qty, leaves_qty, cum_ticks_lots, fees,
			transitions, created_ns, updated_ns FROM orders` + w.String() + ` ORDER BY order_id`
		scan = func(sc func(...any) error, row []string) error {
			var oid, acct, sym, px, oq, cq, lv, ctl, fees, tr, cns, uns int64
			var cl, side, ot, tif, st string
			if err := sc(&oid, &cl, &acct, &sym, &side, &ot, &tif, &px, &oq, &st, &cq, &lv, &ctl, &fees, &tr, &cns, &uns); err != nil {
				return err
			}
			copy(row, []string{itoa(oid), cl, accts[acct], u.name[sym], side, ot, tif, u.px(sym, px), u.qty(sym, oq), st, u.qty(sym, cq), u.qty(sym, lv),
				u.vwap(sym, ctl, cq), u.money(fees), itoa(tr), fmtTime(cns), fmtTime(uns)})
			return nil
		}
	case "bars":
		dayCond()
		f.symbolCond(&w, "symbol_id")
		header = []string{"day", "symbol", "open", "high", "low", "close", "volume", "vwap", "trades"}
		q = `SELECT day, symbol_id, open, high, low, close, volume, notional, trades FROM daily_bars` + w.String() + ` ORDER BY day, symbol_id`
		scan = func(sc func(...any) error, row []string) error {
			var day string
			var sym, o, h, l, c, v, n, nt int64
			if err := sc(&day, &sym, &o, &h, &l, &c, &v, &n, &nt); err != nil {
				return err
			}
			copy(row, []string{day, u.name[sym], u.px(sym, o), u.px(sym, h), u.px(sym, l), u.px(sym, c), u.qty(sym, v), u.vwap(sym, n, v), itoa(nt)})
			return nil
		}
	case "statement":
		dayCond()
		f.accountCond(&w, "account_id")
		pos, err := db.positions(ctx, u)
		if err != nil {
			return err
		}
		header = []string{"day", "account", "cash", "cash_reserved", "fees", "fills", "bought", "sold", "realized_pnl", "net_pnl", "positions"}
		q = `SELECT day, account_id, cash, cash_reserved, fees, fills, bought, sold, realized_pnl FROM statements` + w.String() + ` ORDER BY day, account_id`
		scan = func(sc func(...any) error, row []string) error {
			var day string
			var acct, cash, res, fees, fills, bought, sold, pnl int64
			if err := sc(&day, &acct, &cash, &res, &fees, &fills, &bought, &sold, &pnl); err != nil {
				return err
			}
			copy(row, []string{day, accts[acct], u.money(cash), u.money(res), u.money(fees), itoa(fills), u.money(bought), u.money(sold),
				u.money(pnl), u.money(pnl - fees), pos[day+"/"+itoa(acct)]})
			return nil
		}
	case "actions":
		timeCond("time_ns")
		header = []string{"seq", "time", "who", "action", "target", "reason", "detail"}
		q = `SELECT seq, time_ns, who, action, target, reason, detail FROM operator_actions` + w.String() + ` ORDER BY seq`
		scan = func(sc func(...any) error, row []string) error {
			var seq, tns int64
			var who, action, target, reason, detail string
			if err := sc(&seq, &tns, &who, &action, &target, &reason, &detail); err != nil {
				return err
			}
			copy(row, []string{itoa(seq), fmtTime(tns), who, action, target, reason, detail})
			return nil
		}
	default:
		return fmt.Errorf("report %q: not one of %s", kind, strings.Join(Reports, ", "))
	}
	if err := fn(header); err != nil {
		return err
	}
	rs, err := db.sql.QueryContext(ctx, db.d.rebind(q+f.limit()), w.args...)
	if err != nil {
		return fmt.Errorf("reporter database %s: %s: %w", db.where, kind, err)
	}
	defer rs.Close()
	row := make([]string, len(header))
	for rs.Next() {
		if err := scan(rs.Scan, row); err != nil {
			return fmt.Errorf("reporter database %s: %s: %w", db.where, kind, err)
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("reporter database %s: %s: %w", db.where, kind, err)
	}
	return nil
}

// positions returns every statement's positions as text, by "day/account":
// "SYM lots (reserved r, bought b, sold s, avg cost c, realized p); ...".
func (db *DB) positions(ctx context.Context, u *units) (map[string]string, error) {
	rs, err := db.sql.QueryContext(ctx, `SELECT day, account_id, symbol_id, lots, reserved_lots, bought_lots, sold_lots, cost, realized_pnl FROM statement_positions ORDER BY day, account_id, symbol_id`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[string]string{}
	for rs.Next() {
		var day string
		var acct, sym, lots, res, b, s, cost, pnl int64
		if err := rs.Scan(&day, &acct, &sym, &lots, &res, &b, &s, &cost, &pnl); err != nil {
			return nil, err
		}
		k := day + "/" + itoa(acct)
		if out[k] != "" {
			out[k] += "; "
		}
		out[k] += fmt.Sprintf("%s %s (reserved %s, bought %s, sold %s, cost %s, realized %s)", u.name[sym], u.qty(sym, lots), u.qty(sym, res),
			u.qty(sym, b), u.qty(sym, s), u.money(cost), u.money(pnl))
	}
	return out, rs.Err()
}

func (db *DB) accountNames(ctx context.Context) (map[int64]string, error) {
	rs, err := db.sql.QueryContext(ctx, `SELECT id, name FROM accounts`)
	if err != nil {
		return nil, fmt.Errorf("reporter database %s: %w", db.where, err)
	}
	defer rs.Close()
	out := map[int64]string{}
	for rs.Next() {
		var id int64
		var name string
		if err := rs.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rs.Err()
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
