package broker

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Kind is what a request does.
type Kind uint8

const (
	KindNew     Kind = iota // NewOrderSingle (D)
	KindCancel              // OrderCancelRequest (F)
	KindReplace             // OrderCancelReplaceRequest (G)
)

func (k Kind) String() string {
	switch k {
	case KindCancel:
		return "cancel"
	case KindReplace:
		return "replace"
	}
	return "new"
}

// FIXSide is FIX Side (54), numbered as FIX numbers it; it is not
// matching.Side, whose numbers differ: the broker speaks FIX only.
type FIXSide uint8

const (
	FIXBuy  FIXSide = 1
	FIXSell FIXSide = 2
)

func (s FIXSide) String() string {
	if s == FIXSell {
		return "sell"
	}
	return "buy"
}

// FIXOrdType is FIX OrdType (40), numbered as FIX numbers it (not
// matching.OrderType).
type FIXOrdType uint8

const (
	FIXMarket FIXOrdType = 1
	FIXLimit  FIXOrdType = 2
)

func (t FIXOrdType) String() string {
	if t == FIXMarket {
		return "market"
	}
	return "limit"
}

// FIXTimeInForce is FIX TimeInForce (59), numbered as FIX numbers it (not
// matching.TIF); the zero value is DAY.
type FIXTimeInForce uint8

const (
	FIXDay FIXTimeInForce = 0
	FIXGTC FIXTimeInForce = 1
	FIXIOC FIXTimeInForce = 3
	FIXFOK FIXTimeInForce = 4
)

func (t FIXTimeInForce) String() string {
	switch t {
	case FIXGTC:
		return "gtc"
	case FIXIOC:
		return "ioc"
	case FIXFOK:
		return "fok"
	}
	return "day"
}

// Intent is one request the simulator means to send, before it has a
// ClOrdID: the simulator names orders by Ref and maps each Ref to the
// ClOrdID currently in force (a replace gives the order a new one).
type Intent struct {
	At      time.Duration // offset from the start of the flow (replay); the flow model leaves it 0
	Session string        // SenderCompID of the sending session; "" = the first session
	Kind    Kind
	Ref     string  // New: the name of this order; Cancel/Replace: the order they target
	Symbol  string  // Cancel/Replace: may be empty, then the target's
	Side    FIXSide // Cancel/Replace: may be 0, then the target's
	Type    FIXOrdType
	TIF     FIXTimeInForce
	Price   decimal.Decimal // limit price; zero for market orders
	Qty     decimal.Decimal // order quantity (Replace: the new total quantity)

	PostOnly bool // ExecInst (18) = 6
}

// String is a compact one-line form, for logs and test failures.
func (in Intent) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", in.At, in.Session, in.Kind)
	fmt.Fprintf(&b, " ref=%s %s %s %s %s", in.Ref, in.Symbol, in.Side, in.Type, in.TIF)
	fmt.Fprintf(&b, " %s@%s", in.Qty, in.Price)
	if in.PostOnly {
		b.WriteString(" post-only")
	}
	return b.String()
}

// OrderSource yields the requests of one run in order. Next returns io.EOF
// after the last one. The flow model (flowModel), the order-file reader
// (orderFile) and the journal replay (JournalSource) implement it.
type OrderSource interface {
	Next() (Intent, error)
}
