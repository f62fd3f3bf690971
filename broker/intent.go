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

// Side is FIX Side (54).
type Side uint8

const (
	Buy  Side = 1
	Sell Side = 2
)

func (s Side) String() string {
	if s == Sell {
		return "sell"
	}
	return "buy"
}

// OrdType is FIX OrdType (40).
type OrdType uint8

const (
	Market OrdType = 1
	Limit  OrdType = 2
)

func (t OrdType) String() string {
	if t == Market {
		return "market"
	}
	return "limit"
}

// TIF is FIX TimeInForce (59); the zero value is DAY.
type TIF uint8

const (
	Day TIF = 0
	GTC TIF = 1
	IOC TIF = 3
	FOK TIF = 4
)

func (t TIF) String() string {
	switch t {
	case GTC:
		return "gtc"
	case IOC:
		return "ioc"
	case FOK:
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
	Ref     string // New: the name of this order; Cancel/Replace: the order they target
	Symbol  string // Cancel/Replace: may be empty, then the target's
	Side    Side   // Cancel/Replace: may be 0, then the target's
	Type    OrdType
	TIF     TIF
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
// after the last one. The flow model (Flow), the order-file reader
// (OrderFile) and the journal replay (JournalSource) implement it.
type OrderSource interface {
	Next() (Intent, error)
}
