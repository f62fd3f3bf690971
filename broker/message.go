package broker

import (
	"strconv"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"
)

const transactTimeLayout = "20060102-15:04:05.000000"

// buildMessage turns one request into its FIX message. o is the order it
// belongs to (for a Cancel or Replace, the target with the fields the intent
// left empty), orig the ClOrdID a Cancel or Replace refers to.
func buildMessage(in *Intent, o *order, clOrdID, orig string, now time.Time) *quickfix.Message {
	m := quickfix.NewMessage()
	var msgType string
	switch in.Kind {
	case KindCancel:
		msgType = "F"
	case KindReplace:
		msgType = "G"
	default:
		msgType = "D"
	}
	m.Header.SetString(tag.BeginString, beginString)
	m.Header.SetString(tag.MsgType, msgType)
	b := &m.Body
	b.SetString(tag.ClOrdID, clOrdID)
	if orig != "" {
		b.SetString(tag.OrigClOrdID, orig)
	}
	if o.account != "" {
		b.SetString(tag.Account, o.account)
	}
	b.SetString(tag.Symbol, o.symbol)
	b.SetString(tag.Side, strconv.Itoa(int(o.side)))
	b.SetString(tag.TransactTime, now.UTC().Format(transactTimeLayout))
	if in.Kind == KindCancel {
		if !in.Qty.IsZero() {
			b.SetString(tag.OrderQty, in.Qty.String())
		}
		return m
	}
	b.SetString(tag.OrderQty, in.Qty.String())
	b.SetString(tag.OrdType, strconv.Itoa(int(o.typ)))
	if o.typ == Limit {
		b.SetString(tag.Price, in.Price.String())
	}
	b.SetString(tag.TimeInForce, strconv.Itoa(int(o.tif)))
	if in.PostOnly && in.Kind == KindNew {
		b.SetString(tag.ExecInst, "6")
	}
	return m
}
