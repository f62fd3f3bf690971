package matching

import (
	"slices"
	"testing"
)

const (
	B = Buy
	S = Sell
)

// TestRules runs each rule as setup commands (which must all be accepted),
// one command under test, the exact events it must produce, and the book of
// symbol 1 afterwards.
func TestRules(t *testing.T) {
	tests := []struct {
		name       string
		setup      []Command
		cmd        Command
		want       []Event
		bids, asks string
	}{
		{
			name: "limit rests",
			cmd:  nw(1, 1, B, 100, 10),
			want: []Event{acc(1, B, 1, 100, 10), add(1, B, 1, 100, 10, 10)},
			bids: "1@100:10", asks: "-",
		},
		{
			name:  "full fill prints at maker price",
			setup: []Command{nw(1, 1, S, 100, 10)},
			cmd:   nw(2, 2, B, 101, 10),
			want:  []Event{acc(2, B, 2, 101, 10), trd(2, B, 2, 100, 10, 0, 1, 1, 0)},
			bids:  "-", asks: "-",
		},
		{
			name:  "partial fill then rest",
			setup: []Command{nw(1, 1, S, 100, 10)},
			cmd:   nw(2, 2, B, 101, 15),
			want:  []Event{acc(2, B, 2, 101, 15), trd(2, B, 2, 100, 10, 5, 1, 1, 0), add(2, B, 2, 101, 15, 5)},
			bids:  "2@101:5", asks: "-",
		},
		{
			name:  "price then time priority",
			setup: []Command{nw(1, 1, S, 100, 5), nw(2, 2, S, 100, 5), nw(3, 3, S, 99, 5)},
			cmd:   nw(4, 4, B, 100, 12),
			want: []Event{acc(4, B, 4, 100, 12), trd(4, B, 4, 99, 5, 7, 3, 3, 0),
				trd(4, B, 4, 100, 5, 2, 1, 1, 0), trd(4, B, 4, 100, 2, 0, 2, 2, 3)},
			bids: "-", asks: "2@100:3",
		},
		{
			name:  "sell takes bids best first",
			setup: []Command{nw(1, 1, B, 100, 5), nw(2, 2, B, 101, 5), nw(3, 3, B, 99, 5)},
			cmd:   nw(4, 4, S, 100, 12),
			want: []Event{acc(4, S, 4, 100, 12), trd(4, S, 4, 101, 5, 7, 2, 2, 0),
				trd(4, S, 4, 100, 5, 2, 1, 1, 0), add(4, S, 4, 100, 12, 2)},
			bids: "3@99:5", asks: "4@100:2",
		},
		{
			name:  "IOC remainder cancelled",
			setup: []Command{nw(1, 1, S, 100, 5)},
			cmd:   nw(2, 2, B, 110, 8, withTIF(IOC)),
			want:  []Event{acc(2, B, 2, 110, 8), trd(2, B, 2, 100, 5, 3, 1, 1, 0), can(2, B, 2, 110, 3, 0, ReasonIOCRemainder)},
			bids:  "-", asks: "-",
		},
		{
			name:  "IOC without a cross",
			setup: []Command{nw(1, 1, S, 100, 5)},
			cmd:   nw(2, 2, B, 99, 8, withTIF(IOC)),
			want:  []Event{acc(2, B, 2, 99, 8), can(2, B, 2, 99, 8, 0, ReasonIOCRemainder)},
			bids:  "-", asks: "1@100:5",
		},
		{
			name:  "FOK fills across levels",
			setup: []Command{nw(1, 1, S, 100, 5), nw(2, 2, S, 101, 5)},
			cmd:   nw(3, 3, B, 101, 10, withTIF(FOK)),
			want:  []Event{acc(3, B, 3, 101, 10), trd(3, B, 3, 100, 5, 5, 1, 1, 0), trd(3, B, 3, 101, 5, 0, 2, 2, 0)},
			bids:  "-", asks: "-",
		},
		{
			name:  "FOK that cannot fill leaves no trace",
			setup: []Command{nw(1, 1, S, 100, 5), nw(2, 2, S, 101, 5)},
			cmd:   nw(3, 3, B, 100, 10, withTIF(FOK)),
			want:  []Event{acc(3, B, 3, 100, 10), can(3, B, 3, 100, 10, 0, ReasonFOKUnfilled)},
			bids:  "-", asks: "1@100:5 2@101:5",
		},
		{
			name:  "FOK stopped by cancel-newest self order",
			setup: []Command{nw(1, 1, S, 100, 5), nw(2, 2, S, 100, 10)},
			cmd:   nw(3, 1, B, 100, 10, withTIF(FOK), withSTP(STPCancelNewest)),
			want:  []Event{acc(3, B, 1, 100, 10), can(3, B, 1, 100, 10, 0, ReasonFOKUnfilled)},
			bids:  "-", asks: "1@100:5 2@100:10",
		},
		{
			name:  "FOK skips cancel-oldest self order",
			setup: []Command{nw(1, 1, S, 100, 5), nw(2, 2, S, 100, 10)},
			cmd:   nw(3, 1, B, 100, 10, withTIF(FOK), withSTP(STPCancelOldest)),
			want: []Event{acc(3, B, 1, 100, 10), can(1, S, 1, 100, 5, 0, ReasonSelfTrade),
				trd(3, B, 1, 100, 10, 0, 2, 2, 0)},
			bids: "-", asks: "-",
		},
		{
			name:  "market sweeps levels",
			setup: []Command{nw(1, 1, S, 100, 5), nw(2, 2, S, 105, 5)},
			cmd:   nw(3, 3, B, 0, 8, market),
			want:  []Event{acc(3, B, 3, 0, 8), trd(3, B, 3, 100, 5, 3, 1, 1, 0), trd(3, B, 3, 105, 3, 0, 2, 2, 2)},
			bids:  "-", asks: "2@105:2",
		},
		{
			name: "market without liquidity",
			cmd:  nw(1, 1, S, 0, 5, market),
			want: []Event{acc(1, S, 1, 0, 5), can(1, S, 1, 0, 5, 0, ReasonMarketNoLiquidity)},
			bids: "-", asks: "-",
		},
		{
			name:  "market stops at protection price",
			setup: []Command{nw(1, 1, S, 100, 5), nw(2, 2, S, 105, 5)},
			cmd:   nw(3, 3, B, 102, 8, market),
			want:  []Event{acc(3, B, 3, 102, 8), trd(3, B, 3, 100, 5, 3, 1, 1, 0), can(3, B, 3, 102, 3, 0, ReasonMarketNoLiquidity)},
			bids:  "-", asks: "2@105:5",
		},
		{
			name:  "market sell protection",
			setup: []Command{nw(1, 1, B, 100, 5), nw(2, 2, B, 95, 5)},
			cmd:   nw(3, 3, S, 98, 8, market),
			want:  []Event{acc(3, S, 3, 98, 8), trd(3, S, 3, 100, 5, 3, 1, 1, 0), can(3, S, 3, 98, 3, 0, ReasonMarketNoLiquidity)},
			bids:  "2@95:5", asks: "-",
		},
		{
			name:  "market FOK unfilled",
			setup: []Command{nw(1, 1, S, 100, 5)},
			cmd:   nw(3, 3, B, 0, 8, market, withTIF(FOK)),
			want:  []Event{acc(3, B, 3, 0, 8), can(3, B, 3, 0, 8, 0, ReasonFOKUnfilled)},
			bids:  "-", asks: "1@100:5",
		},
		{
			name:  "market GTC never rests",
			setup: []Command{nw(1, 1, S, 100, 5)},
			cmd:   nw(3, 3, B, 0, 8, market, withTIF(GTC)),
			want:  []Event{acc(3, B, 3, 0, 8), trd(3, B, 3, 100, 5, 3, 1, 1, 0), can(3, B, 3, 0, 3, 0, ReasonMarketNoLiquidity)},
			bids:  "-", asks: "-",
		},
		{
			name:  "post-only that would trade is rejected",
			setup: []Command{nw(1, 1, S, 100, 5)},
			cmd:   nw(2, 2, B, 100, 5, postOnly),
			want:  []Event{rej(ReasonPostOnlyWouldTrade)},
			bids:  "-", asks: "1@100:5",
		},
		{
			name:  "post-only rests",
			setup: []Command{nw(1, 1, S, 100, 5)},
			cmd:   nw(2, 2, B, 99, 5, postOnly),
			want:  []Event{acc(2, B, 2, 99, 5), add(2, B, 2, 99, 5, 5)},
			bids:  "2@99:5", asks: "1@100:5",
		},
		{
			name:  "day order rests and trades like GTC",
			setup: []Command{nw(1, 1, S, 100, 5, withTIF(Day))},
			cmd:   nw(2, 2, B, 100, 8, withTIF(Day)),
			want:  []Event{acc(2, B, 2, 100, 8), trd(2, B, 2, 100, 5, 3, 1, 1, 0), add(2, B, 2, 100, 8, 3)},
			bids:  "2@100:3", asks: "-",
		},
		{
			name: "expire cancels day orders of one symbol",
			setup: []Command{nw(1, 1, B, 99, 5, withTIF(Day)), nw(2, 2, B, 100, 5), nw(3, 1, B, 100, 5, withTIF(Day)),
				nw(4, 2, S, 101, 5, withTIF(Day)), nw(5, 2, S, 101, 5, withTIF(Day), withSym(2))},
			cmd: Command{Kind: CmdExpire, Symbol: 1},
			want: []Event{can(3, B, 1, 100, 5, 0, ReasonExpired), can(1, B, 1, 99, 5, 0, ReasonExpired),
				can(4, S, 2, 101, 5, 0, ReasonExpired), {Kind: EvMassCancelled, Symbol: 1, Qty: 3}},
			bids: "2@100:5", asks: "-",
		},
		{
			name:  "expire every symbol",
			setup: []Command{nw(1, 1, B, 99, 5, withTIF(Day), withSym(2)), nw(2, 2, B, 100, 5, withTIF(Day))},
			cmd:   Command{Kind: CmdExpire},
			want: []Event{can(2, B, 2, 100, 5, 0, ReasonExpired), onSym(can(1, B, 1, 99, 5, 0, ReasonExpired), 2),
				{Kind: EvMassCancelled, Qty: 2}},
			bids: "-", asks: "-",
		},
		{
			name:  "cancel",
			setup: []Command{nw(1, 1, B, 100, 5), nw(2, 2, B, 100, 6)},
			cmd:   cxl(1, 1),
			want:  []Event{can(1, B, 1, 100, 5, 0, ReasonUser)},
			bids:  "2@100:6", asks: "-",
		},
		{
			name:  "cancel without account",
			setup: []Command{nw(1, 1, B, 100, 5)},
			cmd:   cxl(1, 0),
			want:  []Event{can(1, B, 1, 100, 5, 0, ReasonUser)},
			bids:  "-", asks: "-",
		},
		{
			name:  "cancel partly filled order",
			setup: []Command{nw(1, 1, B, 100, 5), nw(2, 2, S, 100, 2)},
			cmd:   cxl(1, 1),
			want:  []Event{can(1, B, 1, 100, 3, 0, ReasonUser)},
			bids:  "-", asks: "-",
		},
		{name: "cancel unknown order", setup: []Command{nw(1, 1, B, 100, 5)}, cmd: cxl(2, 1), want: []Event{rej(ReasonUnknownOrder)}, bids: "1@100:5", asks: "-"},
		{name: "cancel wrong account", setup: []Command{nw(1, 1, B, 100, 5)}, cmd: cxl(1, 2), want: []Event{rej(ReasonWrongAccount)}, bids: "1@100:5", asks: "-"},
		{name: "cancel wrong side", setup: []Command{nw(1, 1, B, 100, 5)}, cmd: cxl(1, 1, withSide(S)), want: []Event{rej(ReasonInvalidSide)}, bids: "1@100:5", asks: "-"},
		{name: "cancel wrong symbol", setup: []Command{nw(1, 1, B, 100, 5)}, cmd: cxl(1, 1, withSym(2)), want: []Event{rej(ReasonUnknownOrder)}, bids: "1@100:5", asks: "-"},
		{name: "cancel unknown symbol", setup: []Command{nw(1, 1, B, 100, 5)}, cmd: cxl(1, 1, withSym(9)), want: []Event{rej(ReasonUnknownSymbol)}, bids: "1@100:5", asks: "-"},
		{name: "cancel filled order", setup: []Command{nw(1, 1, B, 100, 5), nw(2, 2, S, 100, 5)}, cmd: cxl(1, 1), want: []Event{rej(ReasonUnknownOrder)}, bids: "-", asks: "-"},
		{
			name:  "replace down keeps priority",
			setup: []Command{nw(1, 1, B, 100, 10), nw(2, 2, B, 100, 10)},
			cmd:   rpl(1, 1, 100, 6),
			want:  []Event{rep(1, B, 1, 100, 6, 6, true)},
			bids:  "1@100:6 2@100:10", asks: "-",
		},
		{
			name:  "replace to same quantity keeps priority",
			setup: []Command{nw(1, 1, B, 100, 10), nw(2, 2, B, 100, 10)},
			cmd:   rpl(1, 0, 100, 10, withSide(B)),
			want:  []Event{rep(1, B, 1, 100, 10, 10, true)},
			bids:  "1@100:10 2@100:10", asks: "-",
		},
		{
			name:  "replace up loses priority",
			setup: []Command{nw(1, 1, B, 100, 10), nw(2, 2, B, 100, 10)},
			cmd:   rpl(1, 1, 100, 12),
			want:  []Event{rep(1, B, 1, 100, 12, 12, false), add(1, B, 1, 100, 12, 12)},
			bids:  "2@100:10 1@100:12", asks: "-",
		},
		{
			name:  "replace price loses priority",
			setup: []Command{nw(1, 1, B, 100, 10), nw(2, 2, B, 99, 10), nw(3, 3, B, 99, 10)},
			cmd:   rpl(1, 1, 99, 5),
			want:  []Event{rep(1, B, 1, 99, 5, 5, false), add(1, B, 1, 99, 5, 5)},
			bids:  "2@99:10 3@99:10 1@99:5", asks: "-",
		},
		{
			name:  "replace across the spread trades",
			setup: []Command{nw(1, 1, B, 100, 10), nw(3, 3, S, 102, 5)},
			cmd:   rpl(1, 1, 102, 10),
			want:  []Event{rep(1, B, 1, 102, 10, 10, false), trd(1, B, 1, 102, 5, 5, 3, 3, 0), add(1, B, 1, 102, 10, 5)},
			bids:  "1@102:5", asks: "-",
		},
		{
			name:  "replace that fills completely",
			setup: []Command{nw(1, 1, S, 105, 4), nw(3, 3, B, 102, 5)},
			cmd:   rpl(1, 1, 101, 4),
			want:  []Event{rep(1, S, 1, 101, 4, 4, false), trd(1, S, 1, 102, 4, 0, 3, 3, 1)},
			bids:  "3@102:1", asks: "-",
		},
		{
			name:  "replace after a partial fill counts filled quantity",
			setup: []Command{nw(1, 1, B, 100, 10), nw(2, 2, S, 100, 4)},
			cmd:   rpl(1, 1, 100, 8),
			want:  []Event{rep(1, B, 1, 100, 8, 4, true)},
			bids:  "1@100:4", asks: "-",
		},
		{
			name:  "replace to the filled quantity cancels the rest",
			setup: []Command{nw(1, 1, B, 100, 10), nw(2, 2, S, 100, 4)},
			cmd:   rpl(1, 1, 100, 4),
			want:  []Event{can(1, B, 1, 100, 6, 0, ReasonReplacedToFilled)},
			bids:  "-", asks: "-",
		},
		{
			name:  "replace below the filled quantity cancels the rest",
			setup: []Command{nw(1, 1, B, 100, 10), nw(2, 2, S, 100, 4)},
			cmd:   rpl(1, 1, 101, 3),
			want:  []Event{can(1, B, 1, 100, 6, 0, ReasonReplacedToFilled)},
			bids:  "-", asks: "-",
		},
		{
			name:  "replace of post-only order across the spread is rejected",
			setup: []Command{nw(1, 1, B, 100, 10, postOnly), nw(2, 2, S, 102, 4)},
			cmd:   rpl(1, 1, 102, 10),
			want:  []Event{rej(ReasonPostOnlyWouldTrade)},
			bids:  "1@100:10", asks: "2@102:4",
		},
		{name: "replace unknown order", setup: []Command{nw(1, 1, B, 100, 10)}, cmd: rpl(5, 1, 100, 5), want: []Event{rej(ReasonUnknownOrder)}, bids: "1@100:10", asks: "-"},
		{name: "replace wrong account", setup: []Command{nw(1, 1, B, 100, 10)}, cmd: rpl(1, 2, 100, 5), want: []Event{rej(ReasonWrongAccount)}, bids: "1@100:10", asks: "-"},
		{name: "replace wrong side", setup: []Command{nw(1, 1, B, 100, 10)}, cmd: rpl(1, 1, 100, 5, withSide(S)), want: []Event{rej(ReasonInvalidSide)}, bids: "1@100:10", asks: "-"},
		{name: "replace zero qty", setup: []Command{nw(1, 1, B, 100, 10)}, cmd: rpl(1, 1, 100, 0), want: []Event{rej(ReasonInvalidQty)}, bids: "1@100:10", asks: "-"},
		{name: "replace huge qty", setup: []Command{nw(1, 1, B, 100, 10)}, cmd: rpl(1, 1, 100, QtyMax+1), want: []Event{rej(ReasonInvalidQty)}, bids: "1@100:10", asks: "-"},
		{name: "replace zero price", setup: []Command{nw(1, 1, B, 100, 10)}, cmd: rpl(1, 1, 0, 5), want: []Event{rej(ReasonInvalidPrice)}, bids: "1@100:10", asks: "-"},
		{name: "replace huge price", setup: []Command{nw(1, 1, B, 100, 10)}, cmd: rpl(1, 1, PriceMax+1, 5), want: []Event{rej(ReasonInvalidPrice)}, bids: "1@100:10", asks: "-"},
		{
			name:  "self trade allowed without STP",
			setup: []Command{nw(1, 1, S, 100, 5)},
			cmd:   nw(2, 1, B, 100, 5),
			want:  []Event{acc(2, B, 1, 100, 5), trd(2, B, 1, 100, 5, 0, 1, 1, 0)},
			bids:  "-", asks: "-",
		},
		{
			name:  "STP cancel newest",
			setup: []Command{nw(1, 2, S, 100, 5), nw(2, 1, S, 100, 5), nw(3, 3, S, 100, 5)},
			cmd:   nw(4, 1, B, 100, 12, withSTP(STPCancelNewest)),
			want:  []Event{acc(4, B, 1, 100, 12), trd(4, B, 1, 100, 5, 7, 1, 2, 0), can(4, B, 1, 100, 7, 0, ReasonSelfTrade)},
			bids:  "-", asks: "2@100:5 3@100:5",
		},
		{
			name:  "STP cancel oldest",
			setup: []Command{nw(1, 2, S, 100, 5), nw(2, 1, S, 100, 5), nw(3, 3, S, 100, 5)},
			cmd:   nw(4, 1, B, 100, 12, withSTP(STPCancelOldest)),
			want: []Event{acc(4, B, 1, 100, 12), trd(4, B, 1, 100, 5, 7, 1, 2, 0), can(2, S, 1, 100, 5, 0, ReasonSelfTrade),
				trd(4, B, 1, 100, 5, 2, 3, 3, 0), add(4, B, 1, 100, 12, 2)},
			bids: "4@100:2", asks: "-",
		},
		{
			name:  "STP cancel both",
			setup: []Command{nw(1, 2, S, 100, 5), nw(2, 1, S, 100, 5), nw(3, 3, S, 100, 5)},
			cmd:   nw(4, 1, B, 100, 12, withSTP(STPCancelBoth)),
			want: []Event{acc(4, B, 1, 100, 12), trd(4, B, 1, 100, 5, 7, 1, 2, 0), can(2, S, 1, 100, 5, 0, ReasonSelfTrade),
				can(4, B, 1, 100, 7, 0, ReasonSelfTrade)},
			bids: "-", asks: "3@100:5",
		},
		{
			name:  "STP decrement and cancel",
			setup: []Command{nw(1, 2, S, 100, 5), nw(2, 1, S, 100, 3), nw(3, 3, S, 100, 5)},
			cmd:   nw(4, 1, B, 100, 12, withSTP(STPDecrementCancel)),
			want: []Event{acc(4, B, 1, 100, 12), trd(4, B, 1, 100, 5, 7, 1, 2, 0), can(2, S, 1, 100, 3, 0, ReasonSelfTrade),
				can(4, B, 1, 100, 3, 4, ReasonSelfTrade), trd(4, B, 1, 100, 4, 0, 3, 3, 1)},
			bids: "-", asks: "3@100:1",
		},
		{
			name:  "STP decrement reduces the maker in place",
			setup: []Command{nw(1, 1, S, 100, 10), nw(2, 2, S, 100, 10)},
			cmd:   nw(3, 1, B, 100, 4, withSTP(STPDecrementCancel)),
			want:  []Event{acc(3, B, 1, 100, 4), can(1, S, 1, 100, 4, 6, ReasonSelfTrade), can(3, B, 1, 100, 4, 0, ReasonSelfTrade)},
			bids:  "-", asks: "1@100:6 2@100:10",
		},
		{
			name:  "STP group makes accounts self",
			setup: []Command{nw(1, 1, S, 100, 5, withGroup(7))},
			cmd:   nw(2, 2, B, 100, 5, withGroup(7), withSTP(STPCancelNewest)),
			want:  []Event{acc(2, B, 2, 100, 5), can(2, B, 2, 100, 5, 0, ReasonSelfTrade)},
			bids:  "-", asks: "1@100:5",
		},
		{
			name:  "STP on replace",
			setup: []Command{nw(1, 1, S, 101, 5), nw(2, 1, B, 100, 5, withSTP(STPCancelOldest))},
			cmd:   rpl(2, 1, 101, 5),
			want:  []Event{rep(2, B, 1, 101, 5, 5, false), can(1, S, 1, 101, 5, 0, ReasonSelfTrade), add(2, B, 1, 101, 5, 5)},
			bids:  "2@101:5", asks: "-",
		},
		{
			name: "mass cancel every symbol in book, side, priority order",
			setup: []Command{nw(1, 1, B, 99, 5), nw(2, 2, B, 100, 5), nw(3, 1, B, 100, 5), nw(4, 1, S, 105, 5),
				nw(5, 1, S, 101, 5, withSym(2)), nw(6, 1, B, 100, 6), nw(7, 2, S, 101, 5)},
			cmd: Command{Kind: CmdMassCancel, Account: 1},
			want: []Event{can(3, B, 1, 100, 5, 0, ReasonMassCancel), can(6, B, 1, 100, 6, 0, ReasonMassCancel),
				can(1, B, 1, 99, 5, 0, ReasonMassCancel), can(4, S, 1, 105, 5, 0, ReasonMassCancel),
				onSym(can(5, S, 1, 101, 5, 0, ReasonMassCancel), 2), {Kind: EvMassCancelled, Account: 1, Qty: 5}},
			bids: "2@100:5", asks: "7@101:5",
		},
		{
			name:  "mass cancel one symbol",
			setup: []Command{nw(1, 1, B, 99, 5), nw(5, 1, S, 101, 5, withSym(2))},
			cmd:   Command{Kind: CmdMassCancel, Account: 1, Symbol: 2},
			want:  []Event{onSym(can(5, S, 1, 101, 5, 0, ReasonMassCancel), 2), {Kind: EvMassCancelled, Symbol: 2, Account: 1, Qty: 1}},
			bids:  "1@99:5", asks: "-",
		},
		{
			name: "mass cancel with nothing open",
			cmd:  Command{Kind: CmdMassCancel, Account: 3},
			want: []Event{{Kind: EvMassCancelled, Account: 3}},
			bids: "-", asks: "-",
		},
		{name: "mass cancel unknown symbol", cmd: Command{Kind: CmdMassCancel, Account: 1, Symbol: 3}, want: []Event{rej(ReasonUnknownSymbol)}, bids: "-", asks: "-"},
		{name: "mass cancel without account", cmd: Command{Kind: CmdMassCancel}, want: []Event{rej(ReasonWrongAccount)}, bids: "-", asks: "-"},
		{name: "halt", cmd: Command{Kind: CmdHalt, Symbol: 1}, want: []Event{{Kind: EvHalted, Symbol: 1}}, bids: "-", asks: "-"},
		{name: "halt unknown symbol", cmd: Command{Kind: CmdHalt, Symbol: 3}, want: []Event{rej(ReasonUnknownSymbol)}, bids: "-", asks: "-"},
		{name: "halt symbol 0", cmd: Command{Kind: CmdHalt}, want: []Event{rej(ReasonUnknownSymbol)}, bids: "-", asks: "-"},
		{name: "halted rejects new", setup: []Command{{Kind: CmdHalt, Symbol: 1}}, cmd: nw(1, 1, B, 100, 5), want: []Event{rej(ReasonHalted)}, bids: "-", asks: "-"},
		{name: "halted rejects replace", setup: []Command{nw(1, 1, B, 100, 5), {Kind: CmdHalt, Symbol: 1}}, cmd: rpl(1, 1, 100, 4), want: []Event{rej(ReasonHalted)}, bids: "1@100:5", asks: "-"},
		{name: "halted allows cancel", setup: []Command{nw(1, 1, B, 100, 5), {Kind: CmdHalt, Symbol: 1}}, cmd: cxl(1, 1), want: []Event{can(1, B, 1, 100, 5, 0, ReasonUser)}, bids: "-", asks: "-"},
		{name: "halt leaves other symbols trading", setup: []Command{{Kind: CmdHalt, Symbol: 2}}, cmd: nw(1, 1, B, 100, 5), want: []Event{acc(1, B, 1, 100, 5), add(1, B, 1, 100, 5, 5)}, bids: "1@100:5", asks: "-"},
		{name: "resume", setup: []Command{{Kind: CmdHalt, Symbol: 1}, {Kind: CmdResume, Symbol: 1}}, cmd: nw(1, 1, B, 100, 5), want: []Event{acc(1, B, 1, 100, 5), add(1, B, 1, 100, 5, 5)}, bids: "1@100:5", asks: "-"},
		{name: "resume event", setup: []Command{{Kind: CmdHalt, Symbol: 2}}, cmd: Command{Kind: CmdResume, Symbol: 2}, want: []Event{{Kind: EvResumed, Symbol: 2}}, bids: "-", asks: "-"},
		{name: "admin does nothing", setup: []Command{nw(1, 1, B, 100, 5)}, cmd: Command{Kind: CmdAdmin, Account: 1, Symbol: 1}, want: nil, bids: "1@100:5", asks: "-"},
		{name: "unknown command 0", cmd: Command{}, want: []Event{rej(ReasonInvalidCommand)}, bids: "-", asks: "-"},
		{name: "unknown command 99", cmd: Command{Kind: 99}, want: []Event{rej(ReasonInvalidCommand)}, bids: "-", asks: "-"},
		{name: "unknown symbol 0", cmd: nw(1, 1, B, 100, 5, withSym(0)), want: []Event{rej(ReasonUnknownSymbol)}, bids: "-", asks: "-"},
		{name: "unknown symbol 3", cmd: nw(1, 1, B, 100, 5, withSym(3)), want: []Event{rej(ReasonUnknownSymbol)}, bids: "-", asks: "-"},
		{name: "order id 0", cmd: nw(0, 1, B, 100, 5), want: []Event{rej(ReasonInvalidCommand)}, bids: "-", asks: "-"},
		{name: "zero qty", cmd: nw(1, 1, B, 100, 0), want: []Event{rej(ReasonInvalidQty)}, bids: "-", asks: "-"},
		{name: "negative qty", cmd: nw(1, 1, B, 100, -5), want: []Event{rej(ReasonInvalidQty)}, bids: "-", asks: "-"},
		{name: "huge qty", cmd: nw(1, 1, B, 100, QtyMax+1), want: []Event{rej(ReasonInvalidQty)}, bids: "-", asks: "-"},
		{name: "largest qty", cmd: nw(1, 1, B, 100, QtyMax), want: []Event{acc(1, B, 1, 100, QtyMax), add(1, B, 1, 100, QtyMax, QtyMax)}, bids: "1@100:1099511627776", asks: "-"},
		{name: "zero limit price", cmd: nw(1, 1, B, 0, 5), want: []Event{rej(ReasonInvalidPrice)}, bids: "-", asks: "-"},
		{name: "negative limit price", cmd: nw(1, 1, B, -1, 5), want: []Event{rej(ReasonInvalidPrice)}, bids: "-", asks: "-"},
		{name: "huge limit price", cmd: nw(1, 1, B, PriceMax+1, 5), want: []Event{rej(ReasonInvalidPrice)}, bids: "-", asks: "-"},
		{name: "negative market protection", cmd: nw(1, 1, B, -1, 5, market), want: []Event{rej(ReasonInvalidPrice)}, bids: "-", asks: "-"},
		{name: "side 0", cmd: nw(1, 1, 0, 100, 5), want: []Event{rej(ReasonInvalidSide)}, bids: "-", asks: "-"},
		{name: "side 3", cmd: nw(1, 1, 3, 100, 5), want: []Event{rej(ReasonInvalidSide)}, bids: "-", asks: "-"},
		{name: "type 0", cmd: nw(1, 1, B, 100, 5, withType(0)), want: []Event{rej(ReasonInvalidType)}, bids: "-", asks: "-"},
		{name: "type 5", cmd: nw(1, 1, B, 100, 5, withType(5)), want: []Event{rej(ReasonInvalidType)}, bids: "-", asks: "-"},
		{name: "tif 0", cmd: nw(1, 1, B, 100, 5, withTIF(0)), want: []Event{rej(ReasonInvalidTIF)}, bids: "-", asks: "-"},
		{name: "tif 8", cmd: nw(1, 1, B, 100, 5, withTIF(8)), want: []Event{rej(ReasonInvalidTIF)}, bids: "-", asks: "-"},
		{name: "stp 5", cmd: nw(1, 1, B, 100, 5, withSTP(5)), want: []Event{rej(ReasonInvalidSTP)}, bids: "-", asks: "-"},
		{name: "post-only market", cmd: nw(1, 1, B, 0, 5, market, postOnly), want: []Event{rej(ReasonInvalidType)}, bids: "-", asks: "-"},
		{name: "post-only IOC", cmd: nw(1, 1, B, 100, 5, withTIF(IOC), postOnly), want: []Event{rej(ReasonInvalidTIF)}, bids: "-", asks: "-"},
		{name: "duplicate order id", setup: []Command{nw(1, 1, B, 100, 5)}, cmd: nw(1, 2, S, 101, 5), want: []Event{rej(ReasonDuplicateOrderID)}, bids: "1@100:5", asks: "-"},
		{name: "duplicate of an order on another symbol", setup: []Command{nw(1, 1, B, 100, 5, withSym(2))}, cmd: nw(1, 2, S, 101, 5), want: []Event{rej(ReasonDuplicateOrderID)}, bids: "-", asks: "-"},
		{name: "id of a filled order is free again", setup: []Command{nw(1, 1, B, 100, 5), nw(2, 2, S, 100, 5)}, cmd: nw(1, 2, S, 101, 5), want: []Event{acc(1, S, 2, 101, 5), add(1, S, 2, 101, 5, 5)}, bids: "-", asks: "1@101:5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Config{Symbols: 2, OrdersHint: 16})
			applyAll(t, e, tt.setup)
			before := booksString(e)
			c := tt.cmd
			got := e.Apply(&c, nil)
			checkInvariants(t, e)
			gotU := make([]Event, len(got))
			for i := range got {
				gotU[i] = unstamped(got[i])
			}
			if !slices.Equal(gotU, tt.want) {
				t.Fatalf("events:%s\nwant:%s", fmtEvents(gotU), fmtEvents(tt.want))
			}
			if b := sideString(e, 1, Buy); b != tt.bids {
				t.Errorf("bids %q, want %q", b, tt.bids)
			}
			if a := sideString(e, 1, Sell); a != tt.asks {
				t.Errorf("asks %q, want %q", a, tt.asks)
			}
			if len(got) == 1 && got[0].Kind == EvRejected {
				if after := booksString(e); after != before {
					t.Errorf("rejection changed the books:\n%s\n%s", before, after)
				}
				w := Event{Kind: EvRejected, Cmd: c.Kind, Side: c.Side, Reason: got[0].Reason, OutSeq: got[0].OutSeq,
					Symbol: c.Symbol, Account: c.Account, OrderID: c.OrderID, Price: c.Price, Qty: c.Qty}
				if got[0] != w {
					t.Errorf("rejection %+v does not echo the command %+v", got[0], c)
				}
			}
		})
	}
}

// TestStamps checks the fields the rule table leaves out: OutSeq is gap-free
// from 1 across commands (rejections included), InSeq, TimeNs and Cmd come
// from the causing command, and MatchID counts trades from 1.
func TestStamps(t *testing.T) {
	e := New(Config{Symbols: 1})
	cmds := []Command{nw(1, 1, S, 100, 5), nw(2, 2, S, 101, 5), nw(0, 1, B, 1, 1), nw(3, 3, B, 101, 7), rpl(3, 3, 101, 20), {Kind: CmdAdmin}, cxl(3, 3)}
	var out []Event
	for i := range cmds {
		cmds[i].Seq = uint64(100 + i)
		cmds[i].TimeNs = int64(1000 * i)
		n := len(out)
		out = e.Apply(&cmds[i], out)
		for _, ev := range out[n:] {
			if ev.InSeq != cmds[i].Seq || ev.TimeNs != cmds[i].TimeNs || ev.Cmd != cmds[i].Kind {
				t.Errorf("event %+v not stamped from command %+v", ev, cmds[i])
			}
		}
	}
	var matchID uint64
	for i, ev := range out {
		if ev.OutSeq != uint64(i+1) {
			t.Errorf("event %d has OutSeq %d", i, ev.OutSeq)
		}
		if ev.Kind == EvTrade {
			matchID++
			if ev.MatchID != matchID {
				t.Errorf("trade %+v: MatchID want %d", ev, matchID)
			}
		} else if ev.Display() != 0 { // MatchID's word; these orders are no icebergs
			t.Errorf("non-trade with a match ID or display: %+v", ev)
		}
	}
	if matchID != 2 || e.OutSeq() != uint64(len(out)) {
		t.Errorf("%d trades, OutSeq %d for %d events", matchID, e.OutSeq(), len(out))
	}
	if info, ok := e.Order(3); ok {
		t.Errorf("order 3 still open: %+v", info)
	}
}

// TestOrderAndLevels checks the read-only views.
func TestOrderAndLevels(t *testing.T) {
	e := New(Config{Symbols: 1})
	applyAll(t, e, []Command{nw(1, 1, B, 100, 5, withGroup(9), withSTP(STPCancelBoth), withTIF(Day)), nw(2, 2, B, 100, 7),
		nw(3, 3, B, 98, 1), nw(4, 4, S, 100, 2), nw(5, 5, S, 103, 4, postOnly)})
	info, ok := e.Order(1)
	want := OrderInfo{ID: 1, Account: 1, STPGroup: 9, Symbol: 1, Side: B, TIF: Day, STP: STPCancelBoth, Price: 100, Qty: 5, Filled: 2, Leaves: 3, Type: Limit, Shown: 3}
	if !ok || info != want {
		t.Errorf("Order(1) = %+v, %v; want %+v", info, ok, want)
	}
	if info, _ := e.Order(5); !info.PostOnly {
		t.Errorf("Order(5) lost post-only: %+v", info)
	}
	type lv struct {
		price, qty int64
		n          int
	}
	var got []lv
	e.Levels(1, Buy, func(p, q int64, n int) bool { got = append(got, lv{p, q, n}); return true })
	if !slices.Equal(got, []lv{{100, 10, 2}, {98, 1, 1}}) {
		t.Errorf("bid levels %v", got)
	}
	got = got[:0]
	e.Levels(1, Buy, func(p, q int64, n int) bool { got = append(got, lv{p, q, n}); return false })
	if len(got) != 1 {
		t.Errorf("Levels did not stop: %v", got)
	}
	e.Levels(7, Buy, func(int64, int64, int) bool { t.Error("unknown symbol visited"); return true })
	e.Orders(1, 0, func(OrderInfo) bool { t.Error("side 0 visited"); return true })
	if e.OpenOrders() != 4 || e.Symbols() != 1 {
		t.Errorf("OpenOrders %d Symbols %d", e.OpenOrders(), e.Symbols())
	}
}
