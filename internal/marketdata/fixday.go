package marketdata

import (
	"github.com/quickfixgo/enum"
	"github.com/quickfixgo/field"
	"github.com/quickfixgo/fix44/marketdataincrementalrefresh"
	"github.com/quickfixgo/fix44/marketdatasnapshotfullrefresh"
	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"

	"github.com/exchange-sim/exchange/matching"
)

// The trading day over FIX market data, with FIX 4.4's own fields and
// values only (each checked against the QuickFIX FIX44 dictionary the
// session layer embeds; FIX 4.4 has no MDEntryType for an auction clearing
// price, which FIX 5.0 added as Q):
//
//   - MDEntryType 4 (opening price) with OpenCloseSettlFlag 0 (daily entry)
//     is the official open set by the opening auction; 5 (closing price)
//     with OpenCloseSettlFlag 0 the official close.
//   - During a call, the indicative uncross is MDEntryType 4 (pre-open call,
//     volatility auction) or 5 (closing call) with OpenCloseSettlFlag 5
//     (theoretical price): MDEntryPx the indicative price, MDEntrySize the
//     volume that would execute.
//   - MDEntryType A (imbalance): MDEntrySize the surplus, MDEntryPx the
//     indicative price (absent when there is none), TradeCondition P (more
//     buyers) or Q (more sellers); present while a call has a surplus.
//   - Trades printed by an auction carry TradingSessionSubID (625) with the
//     auction's name (opening_auction, closing_auction, volatility_auction,
//     the names TradingSessionStatus uses), and those of the opening and
//     volatility auctions TradeCondition E (opening/reopening trade detail);
//     FIX 4.4 has no TradeCondition for a closing auction print. A FIX 4.2
//     session gets no TradingSessionSubID (FIX 4.2 has none).
//   - The phase goes to every subscriber as SecurityStatus (35=f), after its
//     snapshot and on each change: SecurityTradingStatus (326, see
//     securityTradingStatus), TradingSessionSubID (625) and Text (58) the
//     phase's name, UnsolicitedIndicator Y.
//
// In incremental refreshes these entries are keyed by MDEntryType and
// OpenCloseSettlFlag: NEW when one appears, CHANGE when its values change,
// DELETE when it goes (the indicative and the imbalance when a call ends).

// statEntry is one of the trading day's market-data entries.
type statEntry struct {
	typ  enum.MDEntryType
	flag enum.OpenCloseSettlFlag // "" for the imbalance
	cond enum.TradeCondition     // imbalance side
	px   int64                   // 0: absent
	size int64                   // 0: absent
}

// statEntries appends the day's entries that types asks for, from st.
func statEntries(dst []statEntry, st *Stats, types fixEntryTypes) []statEntry {
	if types&fixOpening != 0 && st.OfficialOpen != 0 {
		dst = append(dst, statEntry{typ: enum.MDEntryType_OPENING_PRICE, flag: enum.OpenCloseSettlFlag_DAILY_OPEN, px: st.OfficialOpen})
	}
	if types&fixClosing != 0 && st.OfficialEnd != 0 {
		dst = append(dst, statEntry{typ: enum.MDEntryType_CLOSING_PRICE, flag: enum.OpenCloseSettlFlag_DAILY_OPEN, px: st.OfficialEnd})
	}
	if !st.Phase.IsCall() {
		return dst
	}
	if st.IndPrice != 0 {
		t, want := enum.MDEntryType_OPENING_PRICE, fixOpening
		if st.Phase == matching.PhaseClosingCall {
			t, want = enum.MDEntryType_CLOSING_PRICE, fixClosing
		}
		if types&want != 0 {
			dst = append(dst, statEntry{typ: t, flag: enum.OpenCloseSettlFlag_THEORETICAL_PRICE_VALUE, px: st.IndPrice, size: st.IndQty})
		}
	}
	if types&fixImbalance != 0 && st.ImbQty > 0 && st.ImbSide != 0 {
		c := enum.TradeCondition_IMBALANCE_MORE_BUYERS
		if st.ImbSide == matching.Sell {
			c = enum.TradeCondition_IMBALANCE_MORE_SELLERS
		}
		dst = append(dst, statEntry{typ: enum.MDEntryType_IMBALANCE, cond: c, px: st.IndPrice, size: st.ImbQty})
	}
	return dst
}

// addStatsW adds sn's day entries to a snapshot's group.
func addStatsW(g marketdatasnapshotfullrefresh.NoMDEntriesRepeatingGroup, s *symState, es []statEntry) {
	for _, se := range es {
		en := g.Add()
		en.SetMDEntryType(se.typ)
		if se.px != 0 {
			en.SetMDEntryPx(px(s, se.px))
		}
		if se.size != 0 {
			en.SetMDEntrySize(qty(s, se.size))
		}
		if se.cond != "" {
			en.SetTradeCondition(se.cond)
		}
		if se.flag != "" {
			en.SetOpenCloseSettlFlag(se.flag)
		}
	}
}

// buildStatsX turns the difference between the day entries last sent and
// those of st into an incremental refresh, and records them in last. It
// returns nil when nothing changed.
func buildStatsX(e subscription, last *fixSent, st *Stats) *marketdataincrementalrefresh.MarketDataIncrementalRefresh {
	s := e.s
	now := statEntries(nil, st, e.types)
	g := marketdataincrementalrefresh.NewNoMDEntriesRepeatingGroup()
	n := 0
	add := func(a enum.MDUpdateAction, se statEntry) {
		en := g.Add()
		en.SetMDUpdateAction(a)
		en.SetMDEntryType(se.typ)
		en.SetSymbol(s.info.Name)
		if a != enum.MDUpdateAction_DELETE {
			if se.px != 0 {
				en.SetMDEntryPx(px(s, se.px))
			}
			if se.size != 0 {
				en.SetMDEntrySize(qty(s, se.size))
			}
			if se.cond != "" {
				en.SetTradeCondition(se.cond)
			}
		}
		if se.flag != "" {
			en.SetOpenCloseSettlFlag(se.flag)
		}
		n++
	}
	find := func(es []statEntry, k statEntry) (statEntry, bool) {
		for _, x := range es {
			if x.typ == k.typ && x.flag == k.flag {
				return x, true
			}
		}
		return statEntry{}, false
	}
	for _, old := range last.stats {
		if _, ok := find(now, old); !ok {
			add(enum.MDUpdateAction_DELETE, old)
		}
	}
	for _, se := range now {
		old, ok := find(last.stats, se)
		switch {
		case !ok:
			add(enum.MDUpdateAction_NEW, se)
		case old != se:
			add(enum.MDUpdateAction_CHANGE, se)
		}
	}
	last.stats = now
	if n == 0 {
		return nil
	}
	x := marketdataincrementalrefresh.New()
	x.SetMDReqID(e.reqID)
	x.SetNoMDEntries(g)
	return &x
}

// auctionTags are the fields that flag a trade printed by auction ap.
func auctionTags(ap matching.Phase) (cond enum.TradeCondition, sub string) {
	if ap == matching.PhaseClosingAuction {
		return "", ap.String()
	}
	return enum.TradeCondition_OPENING_REOPENING_TRADE_DETAIL, ap.String()
}

// statusPhase is the phase a subscriber is told: halted over any phase.
func statusPhase(st *Stats) matching.Phase {
	if st.Halted {
		return matching.PhaseHalted
	}
	return st.Phase
}

// securityTradingStatus is FIX SecurityTradingStatus (326) for a phase, the
// closest of FIX 4.4's values: 21 pre-open, 22 opening rotation, 17 ready to
// trade, 5 price indication (closing call and auction: only indicative
// prices are made), 6 trading range indication (a volatility interruption),
// 2 trading halt, 18 not available for trading (post-close, closed).
func securityTradingStatus(p matching.Phase) int {
	switch p {
	case matching.PhasePreOpen:
		return 21
	case matching.PhaseOpeningAuction:
		return 22
	case matching.PhaseContinuous:
		return 17
	case matching.PhaseClosingCall, matching.PhaseClosingAuction:
		return 5
	case matching.PhaseVolatilityAuction:
		return 6
	case matching.PhaseHalted:
		return 2
	}
	return 18
}

// buildSecurityStatus is the SecurityStatus (35=f) that tells a subscriber
// s's phase p (in FIX 4.2, which has neither TradingSessionSubID nor Text
// there, by SecurityTradingStatus alone).
func buildSecurityStatus(s *symState, p matching.Phase, fix42 bool) *quickfix.Message {
	m := quickfix.NewMessage()
	m.Header.SetField(tag.MsgType, field.NewMsgType(enum.MsgType_SECURITY_STATUS))
	m.Body.SetField(tag.Symbol, field.NewSymbol(s.info.Name))
	m.Body.SetField(tag.UnsolicitedIndicator, field.NewUnsolicitedIndicator(true))
	m.Body.SetInt(tag.SecurityTradingStatus, securityTradingStatus(p))
	if fix42 {
		return m
	}
	m.Body.SetString(tag.TradingSessionSubID, p.String())
	m.Body.SetString(tag.Text, p.String())
	return m
}
