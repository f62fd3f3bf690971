package reporter

import (
	"fmt"
	"slices"
	"strings"

	"github.com/exchange-sim/exchange/internal/admin"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// batcher turns replayed commands into the rows of one transaction. Rows of
// keyed tables (orders, bars, statements, positions) are merged in memory
// first, so a batch writes each key once; the database merges them with
// what earlier batches stored.
type batcher struct {
	ref     *refdata.Registry
	d       dialect
	carry   *carried
	dayNum  int64 // UTC days since 1970 of the batch's commands
	day     string
	lastNs  int64
	firstNs int64 // the batch's first command's time

	execs, trades, actions, listed rows
	orders                         map[matching.OrderID]*orderRow
	orderList                      []*orderRow // in first-seen order, for a deterministic write
	bars                           map[matching.SymbolID]*barRow
	stmts                          map[matching.AccountID]*stmtRow
	stmtList                       []*stmtRow
	pos                            map[posKey]*posRow
	posList                        []*posRow
	out                            [9]*rows
	orderRows                      rows
	barRows                        rows
	stmtRows                       rows
	posRows                        rows
	basisRows                      rows
}

// carried is the replay-derived state a batch hands to the next: the cost
// basis of every account and symbol (stored in cost_basis with each batch)
// and an operator's change of limits or listing whose note is read but whose
// next command is not yet (replayed state: Open finds it again after a
// restart).
type carried struct {
	book       map[posKey]*basis
	limitsNote *ordermanager.OperatorNote
}

type orderRow struct {
	r           ordermanager.Report // the last report
	fees        int64
	transitions int64
	createdNs   int64
}

type barRow struct {
	sym                                       matching.SymbolID
	open, high, low, close, vol, notional, nt int64
	firstNs, lastNs                           int64
}

type stmtRow struct {
	acct                      matching.AccountID
	cash, res                 int64
	fees, fills, bought, sold int64
	updatedNs                 int64
	realized                  int64
}

type posKey struct {
	acct matching.AccountID
	sym  matching.SymbolID
}

type posRow struct {
	posKey
	lots, res, bought, sold int64
	realized, cost          int64 // P&L realized in the batch; the basis's cost at its end
	basisLots, realizedAll  int64 // the basis at the batch's end
	filled                  bool  // the basis changed in the batch
}

func newBatcher(ref *refdata.Registry, d dialect, carry *carried) *batcher {
	b := &batcher{ref: ref, d: d, carry: carry,
		execs: rows{t: tExecutions}, trades: rows{t: tTrades}, actions: rows{t: tActions}, listed: rows{t: tSymbols},
		orderRows: rows{t: tOrders}, barRows: rows{t: tBars}, stmtRows: rows{t: tStatements}, posRows: rows{t: tPositions}, basisRows: rows{t: tBasis},
	}
	b.reset()
	return b
}

func (b *batcher) setDay(day int64) {
	if day != b.dayNum || b.day == "" {
		b.dayNum, b.day = day, dayOf(day*nsPerDay)
	}
}

func (b *batcher) reset() {
	b.firstNs, b.lastNs = 0, 0
	b.execs.args, b.trades.args, b.actions.args, b.basisRows.args = b.execs.args[:0], b.trades.args[:0], b.actions.args[:0], b.basisRows.args[:0]
	b.listed.args = b.listed.args[:0]
	b.orderRows.args, b.barRows.args, b.stmtRows.args, b.posRows.args = b.orderRows.args[:0], b.barRows.args[:0], b.stmtRows.args[:0], b.posRows.args[:0]
	b.orders = map[matching.OrderID]*orderRow{}
	b.orderList = b.orderList[:0]
	b.bars = map[matching.SymbolID]*barRow{}
	b.stmts = map[matching.AccountID]*stmtRow{}
	b.stmtList = b.stmtList[:0]
	b.pos = map[posKey]*posRow{}
	b.posList = b.posList[:0]
}

// tifText is each time in force as the tables store it: upper case
// ("GTC", "DAY", "AT_OPEN", ...), built once from matching's names.
var tifText = func() (t [256]string) {
	for i := range t {
		t[i] = strings.ToUpper(matching.TimeInForce(i).String())
	}
	return t
}()

// one-byte FIX codes as strings, without allocating per row.
var byteText [256]string

func init() {
	for i := range byteText {
		byteText[i] = string(rune(i))
	}
}

// add records one command's events and reports; st is the state after it.
func (b *batcher) add(st *pipeline.State, cmd *matching.Command, evs []matching.Event, reps []ordermanager.Report) {
	if b.firstNs == 0 {
		b.firstNs = cmd.TimeNs
	}
	b.lastNs = cmd.TimeNs
	seq := int64(cmd.Seq)
	if cmd.Kind == matching.CmdAdmin || b.carry.limitsNote != nil {
		b.operator(st, cmd)
	}
	for i := range evs {
		e := &evs[i]
		if e.Kind == matching.EvSymbolAdded {
			// A symbol listed at run time: the replay registered it in
			// the configuration; its units go into the symbols table.
			if sym, ok := b.ref.Symbol(e.Symbol); ok {
				b.listed.args = append(b.listed.args, int64(sym.ID), sym.Name, sym.TickSize.String(), sym.LotSize.String())
			}
			continue
		}
		if e.Kind != matching.EvTrade {
			continue
		}
		buyO, buyA, sellO, sellA := e.OrderID, e.Account, e.MakerOrderID, e.MakerAccount
		if e.Side == matching.Sell {
			buyO, buyA, sellO, sellA = sellO, sellA, buyO, buyA
		}
		// An auction trade has no aggressor (the engine names the buyer as
		// its OrderID by convention).
		auction := e.Flags&matching.FlagAuction != 0
		aggressor := e.Side.String()
		if auction {
			aggressor = "none"
		}
		b.trades.args = append(b.trades.args, int64(e.MatchID), seq, int64(e.OutSeq), e.TimeNs, int64(e.Symbol), e.Price, e.Qty, aggressor,
			int64(buyO), int64(buyA), int64(sellO), int64(sellA), auction)
		bar := b.bars[e.Symbol]
		if bar == nil {
			bar = &barRow{sym: e.Symbol, open: e.Price, high: e.Price, low: e.Price, firstNs: e.TimeNs}
			b.bars[e.Symbol] = bar
		}
		bar.high, bar.low, bar.close = max(bar.high, e.Price), min(bar.low, e.Price), e.Price
		bar.vol += e.Qty
		bar.notional += e.Qty * e.Price
		bar.nt++
		bar.lastNs = e.TimeNs
	}
	for i := range reps {
		p := &reps[i]
		if p.Kind != ordermanager.RepExec {
			continue
		}
		reject := ""
		if p.Reject != 0 {
			reject = p.Reject.String()
		}
		b.execs.args = append(b.execs.args, seq, int64(p.ExecID), p.TransactNs, byteText[p.ExecType], byteText[p.OrdStatus], int64(p.OrderID),
			p.ClOrdID.String(), p.OrigClOrdID.String(), int64(p.Account), int64(p.Symbol), p.Side.String(), p.Type.String(), tifText[p.TIF],
			p.Price, p.OrderQty, p.LastPx, p.LastQty, p.CumQty, p.Leaves, p.Fee, reject, p.Auction)
		if p.OrderID != 0 {
			o := b.orders[p.OrderID]
			if o == nil {
				o = &orderRow{createdNs: p.TransactNs}
				b.orders[p.OrderID] = o
				b.orderList = append(b.orderList, o)
			}
			o.r = *p
			o.fees += p.Fee
			o.transitions++
		}
		if p.Account == 0 {
			continue
		}
		s := b.stmts[p.Account]
		if s == nil {
			s = &stmtRow{acct: p.Account}
			b.stmts[p.Account] = s
			b.stmtList = append(b.stmtList, s)
		}
		s.cash, s.res = st.Manager.Balance(p.Account)
		s.updatedNs = p.TransactNs
		s.fees += p.Fee
		k := posKey{p.Account, p.Symbol}
		ps := b.pos[k]
		bs := b.carry.book[k]
		if bs == nil {
			bs = &basis{}
			b.carry.book[k] = bs
		}
		if ps == nil {
			ps = &posRow{posKey: k, cost: bs.cost, basisLots: bs.lots, realizedAll: bs.realized}
			b.pos[k] = ps
			b.posList = append(b.posList, ps)
		}
		ps.lots, ps.res = st.Manager.Holding(p.Account, p.Symbol)
		if p.ExecType == ordermanager.ExecTrade {
			s.fills++
			cpt := int64(1)
			if sym, ok := b.ref.Symbol(p.Symbol); ok {
				cpt = sym.CashPerTickLot
			}
			cash := p.LastPx * p.LastQty * cpt
			pnl := bs.fill(p.Side, p.LastPx, p.LastQty, cpt)
			s.realized += pnl
			ps.realized += pnl
			ps.cost, ps.basisLots, ps.realizedAll, ps.filled = bs.cost, bs.lots, bs.realized, true
			if p.Side == matching.Buy {
				s.bought += cash
				ps.bought += p.LastQty
			} else {
				s.sold += cash
				ps.sold += p.LastQty
			}
		}
	}
}

// flush returns the batch's rows, table by table.
func (b *batcher) flush() []*rows {
	for _, o := range b.orderList {
		p := &o.r
		b.orderRows.args = append(b.orderRows.args, int64(p.OrderID), p.ClOrdID.String(), int64(p.Account), int64(p.Symbol), p.Side.String(),
			p.Type.String(), tifText[p.TIF], p.Price, p.OrderQty, byteText[p.OrdStatus], p.CumQty, p.Leaves, p.CumTicksLots, o.fees, o.transitions,
			o.createdNs, p.TransactNs)
	}
	ids := make([]matching.SymbolID, 0, len(b.bars)) // symbols listed at run time included
	for id := range b.bars {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		br := b.bars[id]
		b.barRows.args = append(b.barRows.args, int64(id), b.day, br.open, br.high, br.low, br.close, br.vol, br.notional, br.nt, br.firstNs, br.lastNs)
	}
	for _, s := range b.stmtList {
		b.stmtRows.args = append(b.stmtRows.args, b.day, int64(s.acct), s.cash, s.res, s.fees, s.fills, s.bought, s.sold, s.updatedNs, s.realized)
	}
	for _, p := range b.posList {
		b.posRows.args = append(b.posRows.args, b.day, int64(p.acct), int64(p.sym), p.lots, p.res, p.bought, p.sold, p.realized, p.cost)
		if p.filled {
			b.basisRows.args = append(b.basisRows.args, int64(p.acct), int64(p.sym), p.basisLots, p.cost, p.realizedAll)
		}
	}
	b.out = [9]*rows{&b.listed, &b.execs, &b.trades, &b.orderRows, &b.barRows, &b.stmtRows, &b.posRows, &b.actions, &b.basisRows}
	return b.out[:]
}

// operator records the operator action a command's note journals (the
// manager's replayed list of notes holds it once the note is applied). A
// change of limits and a listing are recorded at the command after their
// note, which carries the new limits or lists the symbol (so that its name
// is known).
func (b *batcher) operator(st *pipeline.State, cmd *matching.Command) {
	if n := b.carry.limitsNote; n != nil {
		b.carry.limitsNote = nil
		detail := ""
		switch {
		case n.Action == ordermanager.ActSetLimits && cmd.Kind == matching.CmdAdmin && cmd.Seq == n.Seq+1 && cmd.Account == n.Account:
			if v, ok := st.Manager.Account(n.Account); ok {
				detail = limitsText(&v.Limits)
			}
		case n.Action == ordermanager.ActListSymbol && cmd.Kind == matching.CmdAddSymbol && cmd.Seq == n.Seq+1 && cmd.Symbol == n.Symbol:
			if sym, ok := b.ref.Symbol(n.Symbol); ok {
				detail = fmt.Sprintf("tick_size=%s lot_size=%s reference_ticks=%d static_band_bps=%d dynamic_band_bps=%d",
					sym.TickSize, sym.LotSize, sym.RefTicks, sym.StaticBandBps, sym.DynamicBandBps)
			}
		}
		b.action(n, detail)
	}
	if cmd.Kind != matching.CmdAdmin {
		return
	}
	notes := st.Manager.OperatorNotes(1)
	if len(notes) != 1 || notes[0].Seq != cmd.Seq {
		return
	}
	n := notes[0]
	if deferredNote(n.Action) {
		b.carry.limitsNote = &n
		return
	}
	b.action(&n, "")
}

// deferredNote says whether an action is recorded at the command after its
// note.
func deferredNote(a ordermanager.OperatorAction) bool {
	return a == ordermanager.ActSetLimits || a == ordermanager.ActListSymbol
}

func (b *batcher) action(n *ordermanager.OperatorNote, detail string) {
	a := admin.NoteAction(b.ref, n)
	b.actions.args = append(b.actions.args, int64(n.Seq), n.TimeNs, n.Who, a.Action, admin.ActionTarget(&a), n.Why, detail)
}

// limitsText is a change of limits as the detail of its action (notional in
// minor units, as the schema keeps money).
func limitsText(l *refdata.Limits) string {
	return fmt.Sprintf("max_order_lots=%d max_order_notional=%d price_band_bps=%d max_open_orders=%d allow_short=%t short_limit_lots=%d require_market_protection=%t",
		l.MaxOrderLots, l.MaxOrderNotional, l.PriceBandBps, l.MaxOpenOrders, l.AllowShort, l.ShortLimitLots, l.RequireMarketProtection)
}
