package reporter

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"slices"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// Realized P&L. The order manager keeps cash and holdings but no cost
// basis, so the reporter computes one from the executions it writes, by the
// average-cost method, per account and symbol:
//
//   - A basis is a signed position in lots (negative: short, which the venue
//     allows to accounts whose limits say allow_short) and its signed cost in
//     minor units (what was paid for a long position; minus what was received
//     for a short one). Holdings an account is configured with at start enter
//     at the symbol's configured reference price (0 when it has none).
//   - A fill in the position's direction (or from flat) adds its lots and its
//     notional (price × lots × the symbol's cash per tick-lot) to the basis.
//   - A fill against the position closes min(fill, |position|) lots: the cost
//     taken out is cost × closed / |position|, rounded toward zero to the
//     minor unit (what rounding leaves stays in the remaining position's cost,
//     so a position closed in full realizes exactly its proceeds minus its
//     cost). Realized P&L is the closed lots' notional minus that cost for a
//     long position, that cost's magnitude minus the notional for a short one.
//     What is left of the fill opens a position the other way at the fill's
//     price.
//   - Fees are not in the basis and not in realized P&L: statements show them
//     apart (statements.fees), so realized_pnl − fees is the net figure.
//
// The basis is integer arithmetic in the journal's order, so it is the same
// on every run; it is stored in cost_basis in the same transaction as the
// rows and the journal position, and read back when the reporter opens.

// basis is one account's cost basis in one symbol.
type basis struct {
	lots, cost int64
	realized   int64 // since the start of the journal
}

// fill applies a fill of qty lots (positive) on side at price px (ticks),
// cpt minor units per tick-lot, and returns the P&L it realizes.
func (b *basis) fill(side matching.Side, px, qty, cpt int64) (realized int64) {
	dir := int64(1)
	if side == matching.Sell {
		dir = -1
	}
	if b.lots == 0 || (b.lots > 0) == (dir > 0) {
		b.lots += dir * qty
		b.cost += dir * px * qty * cpt
		return 0
	}
	held := b.lots
	if held < 0 {
		held = -held
	}
	closed := min(qty, held)
	removed := mulDiv(b.cost, closed, held)
	notional := px * closed * cpt
	if b.lots > 0 {
		realized = notional - removed
	} else {
		realized = -removed - notional
	}
	b.lots += dir * closed
	b.cost -= removed
	if b.lots == 0 {
		b.cost = 0 // exact already; kept explicit
	}
	if rest := qty - closed; rest > 0 {
		b.lots = dir * rest
		b.cost = dir * px * rest * cpt
	}
	b.realized += realized
	return realized
}

// mulDiv is v × n / d rounded toward zero, for 0 ≤ n ≤ d, d > 0, without
// overflowing in the product.
func mulDiv(v, n, d int64) int64 {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	hi, lo := bits.Mul64(u, uint64(n))
	q, _ := bits.Div64(hi, lo, uint64(d)) // hi < d because n ≤ d
	if neg {
		return -int64(q)
	}
	return int64(q)
}

// initialBasis is the basis of the holdings accounts are configured with:
// at the symbol's reference price.
func initialBasis(v *refdata.Registry) map[posKey]*basis {
	out := map[posKey]*basis{}
	for _, a := range v.Accounts {
		for sid, lots := range a.Holdings {
			if lots == 0 {
				continue
			}
			var px, cpt int64 = 0, 1
			if s, ok := v.Symbol(sid); ok {
				px, cpt = s.RefTicks, s.CashPerTickLot
			}
			out[posKey{a.ID, sid}] = &basis{lots: lots, cost: lots * px * cpt}
		}
	}
	return out
}

// insertBasis writes basis rows (in key order, for a deterministic file).
func insertBasis(ctx context.Context, exec func(context.Context, string, ...any) (sql.Result, error), d dialect, book map[posKey]*basis) error {
	keys := make([]posKey, 0, len(book))
	for k := range book {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b posKey) int {
		if a.acct != b.acct {
			return cmp.Compare(a.acct, b.acct)
		}
		return cmp.Compare(a.sym, b.sym)
	})
	q := insertSQL(d, tBasis, 1)
	for _, k := range keys {
		b := book[k]
		if _, err := exec(ctx, q, int64(k.acct), int64(k.sym), b.lots, b.cost, b.realized); err != nil {
			return err
		}
	}
	return nil
}

// loadBasis reads the stored cost basis into the reporter's book. An empty
// one is built: a new database's from the configured holdings; one that has
// history but no basis was filled by schema version 1 (before realized
// P&L): its basis is rebuilt from its executions, in one transaction, and the
// statements written before keep a realized P&L of 0.
func (r *Reporter) loadBasis(ctx context.Context, pos Position) error {
	book := r.b.carry.book
	read := func() (int, error) {
		rs, err := r.db.sql.QueryContext(ctx, `SELECT account_id, symbol_id, lots, cost, realized_pnl FROM cost_basis`)
		if err != nil {
			return 0, fmt.Errorf("reporter database %s: cost_basis: %w", r.db.where, err)
		}
		defer rs.Close()
		n := 0
		for rs.Next() {
			var acct, sym int64
			b := &basis{}
			if err := rs.Scan(&acct, &sym, &b.lots, &b.cost, &b.realized); err != nil {
				return 0, err
			}
			book[posKey{matching.AccountID(acct), matching.SymbolID(sym)}] = b
			n++
		}
		return n, rs.Err()
	}
	n, err := read()
	if err != nil || n > 0 {
		return err
	}
	rebuilt := initialBasis(r.cfg.Venue)
	rs, err := r.db.sql.QueryContext(ctx, `SELECT account_id, symbol_id, side, last_px, last_qty FROM executions WHERE exec_type = 'F' ORDER BY seq, exec_id`)
	if err != nil {
		return fmt.Errorf("reporter database %s: rebuilding the cost basis: %w", r.db.where, err)
	}
	for rs.Next() {
		var acct, sym, px, qty int64
		var side string
		if err := rs.Scan(&acct, &sym, &side, &px, &qty); err != nil {
			rs.Close()
			return err
		}
		k := posKey{matching.AccountID(acct), matching.SymbolID(sym)}
		b := rebuilt[k]
		if b == nil {
			b = &basis{}
			rebuilt[k] = b
		}
		cpt := int64(1)
		if s, ok := r.cfg.Venue.Symbol(k.sym); ok {
			cpt = s.CashPerTickLot
		}
		sd := matching.Buy
		if side == "sell" {
			sd = matching.Sell
		}
		b.fill(sd, px, qty, cpt)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return err
	}
	tx, err := r.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := insertBasis(ctx, tx.ExecContext, r.db.d, rebuilt); err != nil {
		return fmt.Errorf("reporter database %s: cost_basis: %w", r.db.where, err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if pos.Seq > 0 {
		r.cfg.Log.Info().Int("positions", len(rebuilt)).Msg("reporter: cost basis rebuilt from the executions of a schema-1 database")
	}
	_, err = read()
	return err
}
