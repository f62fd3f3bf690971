package reporter

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// table describes one table's insert: its columns, and for tables keyed by
// something the batch may meet again in a later batch, the upsert that merges
// a new row into the stored one.
type table struct {
	name     string
	cols     []string
	conflict string // "" for append-only tables; else "ON CONFLICT ..." ({greatest} and {least} name the dialect's two-argument max and min)
}

var (
	tExecutions = &table{name: "executions", cols: []string{"seq", "exec_id", "time_ns", "exec_type", "ord_status", "order_id", "cl_ord_id", "orig_cl_ord_id",
		"account_id", "symbol_id", "side", "ord_type", "tif", "price", "order_qty", "last_px", "last_qty", "cum_qty", "leaves_qty", "fee", "reject", "auction"}}
	tTrades = &table{name: "trades", cols: []string{"match_id", "seq", "out_seq", "time_ns", "symbol_id", "price", "qty", "aggressor",
		"buy_order", "buy_account", "sell_order", "sell_account", "auction"}}
	tOrders = &table{name: "orders", cols: []string{"order_id", "cl_ord_id", "account_id", "symbol_id", "side", "ord_type", "tif", "price", "order_qty",
		"status", "cum_qty", "leaves_qty", "cum_ticks_lots", "fees", "transitions", "created_ns", "updated_ns"},
		conflict: `ON CONFLICT (order_id) DO UPDATE SET cl_ord_id = excluded.cl_ord_id, price = excluded.price, order_qty = excluded.order_qty,
			status = excluded.status, cum_qty = excluded.cum_qty, leaves_qty = excluded.leaves_qty, cum_ticks_lots = excluded.cum_ticks_lots,
			fees = orders.fees + excluded.fees, transitions = orders.transitions + excluded.transitions, updated_ns = excluded.updated_ns`}
	tBars = &table{name: "daily_bars", cols: []string{"symbol_id", "day", "open", "high", "low", "close", "volume", "notional", "trades", "first_ns", "last_ns"},
		conflict: `ON CONFLICT (symbol_id, day) DO UPDATE SET high = {greatest}(daily_bars.high, excluded.high), low = {least}(daily_bars.low, excluded.low),
			close = excluded.close, volume = daily_bars.volume + excluded.volume, notional = daily_bars.notional + excluded.notional,
			trades = daily_bars.trades + excluded.trades, last_ns = excluded.last_ns`}
	tStatements = &table{name: "statements", cols: []string{"day", "account_id", "cash", "cash_reserved", "fees", "fills", "bought", "sold", "updated_ns", "realized_pnl"},
		conflict: `ON CONFLICT (day, account_id) DO UPDATE SET cash = excluded.cash, cash_reserved = excluded.cash_reserved,
			fees = statements.fees + excluded.fees, fills = statements.fills + excluded.fills, bought = statements.bought + excluded.bought,
			sold = statements.sold + excluded.sold, updated_ns = excluded.updated_ns, realized_pnl = statements.realized_pnl + excluded.realized_pnl`}
	tPositions = &table{name: "statement_positions", cols: []string{"day", "account_id", "symbol_id", "lots", "reserved_lots", "bought_lots", "sold_lots", "realized_pnl", "cost"},
		conflict: `ON CONFLICT (day, account_id, symbol_id) DO UPDATE SET lots = excluded.lots, reserved_lots = excluded.reserved_lots,
			bought_lots = statement_positions.bought_lots + excluded.bought_lots, sold_lots = statement_positions.sold_lots + excluded.sold_lots,
			realized_pnl = statement_positions.realized_pnl + excluded.realized_pnl, cost = excluded.cost`}
	tSymbols = &table{name: "symbols", cols: []string{"id", "name", "tick_size", "lot_size"}, conflict: `ON CONFLICT (id) DO NOTHING`}
	tActions = &table{name: "operator_actions", cols: []string{"seq", "time_ns", "who", "action", "target", "reason", "detail"}}
	tBasis   = &table{name: "cost_basis", cols: []string{"account_id", "symbol_id", "lots", "cost", "realized_pnl"},
		conflict: `ON CONFLICT (account_id, symbol_id) DO UPDATE SET lots = excluded.lots, cost = excluded.cost, realized_pnl = excluded.realized_pnl`}
)

// rows is a table's pending rows, flattened: len(args) = rows × columns.
type rows struct {
	t    *table
	args []any
}

// insertSQL is the multi-row INSERT of n rows of t.
func insertSQL(d dialect, t *table, n int) string {
	var b strings.Builder
	if d == dialectSQLite {
		// OR FAIL: a failing row stops the statement without undoing the
		// rows before it, which spares SQLite a statement journal (a copy of
		// every page a multi-row insert touches); the whole transaction is
		// rolled back on any error anyway.
		b.WriteString("INSERT OR FAIL INTO ")
	} else {
		b.WriteString("INSERT INTO ")
	}
	b.WriteString(t.name)
	b.WriteString(" (")
	b.WriteString(strings.Join(t.cols, ", "))
	b.WriteString(") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ") + ")"
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	if t.conflict != "" {
		b.WriteByte(' ')
		b.WriteString(strings.NewReplacer("{greatest}", d.greatest(), "{least}", d.least()).Replace(t.conflict))
	}
	return d.rebind(b.String())
}

// sqliteWriter writes batches with multi-row prepared inserts on one
// connection held for the writer's life. It talks to the driver directly
// (database/sql's argument conversion was a tenth of the work) and keeps its
// prepared statements for the connection's life, so SQLite parses each
// statement once, not once per transaction.
type sqliteWriter struct {
	db    *DB
	conn  *sql.Conn
	stmts map[stmtKey]driver.Stmt
	nv    []driver.NamedValue
}

type stmtKey struct {
	t *table
	n int // rows
}

// sqliteChunks are the multi-row statement sizes, largest first: a table's
// rows go in as many full chunks as fit, the rest in smaller ones.
var sqliteChunks = [...]int{128, 16, 1}

type sqliteConn interface {
	driver.ConnBeginTx
	driver.ConnPrepareContext
}

func (w *sqliteWriter) stmt(c sqliteConn, k stmtKey) (driver.Stmt, error) {
	if st := w.stmts[k]; st != nil {
		return st, nil
	}
	var q string
	if k.t == nil {
		q = positionSQL(w.db.d)
	} else {
		q = insertSQL(w.db.d, k.t, k.n)
	}
	st, err := c.PrepareContext(context.Background(), q)
	if err != nil {
		return nil, err
	}
	if w.stmts == nil {
		w.stmts = map[stmtKey]driver.Stmt{}
	}
	w.stmts[k] = st
	return st, nil
}

func (w *sqliteWriter) exec(c sqliteConn, k stmtKey, args []any) error {
	st, err := w.stmt(c, k)
	if err != nil {
		return err
	}
	w.nv = w.nv[:0]
	for i, a := range args {
		w.nv = append(w.nv, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	// No context: the driver would start a goroutine per statement to watch
	// it, and a batch is short; Run's context stops the next one.
	_, err = st.(driver.StmtExecContext).ExecContext(context.Background(), w.nv)
	clear(w.nv)
	return err
}

// commit writes every table's rows and the new position in one
// transaction.
func (w *sqliteWriter) commit(ctx context.Context, ts []*rows, pos Position) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return w.conn.Raw(func(dc any) error {
		c, ok := dc.(sqliteConn)
		if !ok {
			return fmt.Errorf("the SQLite driver's connection %T cannot prepare or begin with a context", dc)
		}
		tx, err := c.BeginTx(context.Background(), driver.TxOptions{})
		if err != nil {
			return err
		}
		for _, r := range ts {
			cols := len(r.t.cols)
			args := r.args
			for _, n := range sqliteChunks {
				for len(args) >= n*cols {
					if err := w.exec(c, stmtKey{r.t, n}, args[:n*cols]); err != nil {
						tx.Rollback()
						return fmt.Errorf("%s: %w", r.t.name, err)
					}
					args = args[n*cols:]
				}
			}
		}
		if err := w.exec(c, stmtKey{}, []any{int64(pos.Seq), int64(pos.EventHash), int64(pos.OutSeq), pos.LastTimeNs}); err != nil {
			tx.Rollback()
			return fmt.Errorf("reporter_state: %w", err)
		}
		return tx.Commit()
	})
}

// close releases the prepared statements and the connection.
func (w *sqliteWriter) close() {
	w.conn.Raw(func(any) error {
		for _, st := range w.stmts {
			st.Close()
		}
		return nil
	})
	w.stmts = nil
	w.conn.Close()
}

func positionSQL(d dialect) string {
	return d.rebind(`INSERT INTO reporter_state (id, last_seq, event_hash, out_seq, last_time_ns) VALUES (1, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq, event_hash = excluded.event_hash, out_seq = excluded.out_seq, last_time_ns = excluded.last_time_ns`)
}

func setPosition(ctx context.Context, exec func(context.Context, string, ...any) (sql.Result, error), d dialect, pos Position) error {
	_, err := exec(ctx, positionSQL(d),
		int64(pos.Seq), int64(pos.EventHash), int64(pos.OutSeq), pos.LastTimeNs)
	if err != nil {
		return fmt.Errorf("reporter_state: %w", err)
	}
	return nil
}

// pgWriter writes batches to PostgreSQL: COPY for the append-only tables,
// multi-row upserts for the keyed ones, all in one pgx transaction on a
// connection held for the writer's life.
type pgWriter struct {
	db   *DB
	conn *sql.Conn
}

type flatSource struct {
	args []any
	cols int
	i    int
}

func (s *flatSource) Next() bool             { s.i += s.cols; return s.i <= len(s.args) }
func (s *flatSource) Values() ([]any, error) { return s.args[s.i-s.cols : s.i], nil }
func (s *flatSource) Err() error             { return nil }

func (w *pgWriter) commit(ctx context.Context, ts []*rows, pos Position) error {
	return w.conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		for _, r := range ts {
			if len(r.args) == 0 {
				continue
			}
			cols := len(r.t.cols)
			if r.t.conflict == "" {
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{r.t.name}, r.t.cols, &flatSource{args: r.args, cols: cols}); err != nil {
					return fmt.Errorf("%s: COPY: %w", r.t.name, err)
				}
				continue
			}
			chunk := 60000 / cols // PostgreSQL allows 65535 parameters
			for a := r.args; len(a) > 0; {
				n := min(len(a)/cols, chunk)
				if _, err := tx.Exec(ctx, insertSQL(w.db.d, r.t, n), a[:n*cols]...); err != nil {
					return fmt.Errorf("%s: %w", r.t.name, err)
				}
				a = a[n*cols:]
			}
		}
		if err := setPosition(ctx, func(ctx context.Context, q string, args ...any) (sql.Result, error) {
			_, err := tx.Exec(ctx, q, args...)
			return nil, err
		}, w.db.d, pos); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

func (w *pgWriter) close() { w.conn.Close() }
