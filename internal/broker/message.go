package broker

import (
	"bytes"
	"strconv"
	"time"

	"github.com/exchange-sim/exchange/internal/fixsession"
	"github.com/exchange-sim/exchange/internal/units"
	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"
	"github.com/shopspring/decimal"
)

// msgTypeOf is the FIX MsgType (35) of a request kind.
func msgTypeOf(k Kind) string {
	switch k {
	case KindCancel:
		return "F"
	case KindReplace:
		return "G"
	}
	return "D"
}

// appendBody appends the body fields (tag=value␁, no header) of one
// request to dst: the one definition of what the simulator sends, for both
// engines. o is the order it belongs to (for a Cancel or Replace, the
// target with the fields the intent left empty), orig the ClOrdID a Cancel
// or Replace refers to. It allocates nothing once dst has grown, unless a
// price or quantity has more than 18 digits.
func appendBody(dst []byte, in *Intent, o *order, clOrdID, orig string, now time.Time) []byte {
	dst = fixsession.AppendString(dst, int(tag.ClOrdID), clOrdID)
	if orig != "" {
		dst = fixsession.AppendString(dst, int(tag.OrigClOrdID), orig)
	}
	if o.account != "" {
		dst = fixsession.AppendString(dst, int(tag.Account), o.account)
	}
	dst = fixsession.AppendString(dst, int(tag.Symbol), o.symbol)
	dst = fixsession.AppendInt(dst, int(tag.Side), int64(o.side))
	dst = append(dst, "60="...)
	dst = fixsession.AppendTimestamp(dst, now)
	dst = append(dst, 0x01)
	if in.Kind == KindCancel {
		if !in.Qty.IsZero() {
			dst = appendDecimalField(dst, int(tag.OrderQty), in.Qty)
		}
		return dst
	}
	dst = appendDecimalField(dst, int(tag.OrderQty), in.Qty)
	dst = fixsession.AppendInt(dst, int(tag.OrdType), int64(o.typ))
	if o.typ == FIXLimit {
		dst = appendDecimalField(dst, int(tag.Price), in.Price)
	}
	dst = fixsession.AppendInt(dst, int(tag.TimeInForce), int64(o.tif))
	if in.PostOnly && in.Kind == KindNew {
		dst = fixsession.AppendString(dst, int(tag.ExecInst), "6")
	}
	return dst
}

// appendDecimalField appends tag=d␁ with d as decimal.Decimal.String
// writes it (no exponent, trailing fractional zeros trimmed).
func appendDecimalField(dst []byte, t int, d decimal.Decimal) []byte {
	dst = strconv.AppendInt(dst, int64(t), 10)
	dst = append(dst, '=')
	dst = units.AppendDecimal(dst, d)
	return append(dst, 0x01)
}

// messageOf turns a request built by appendBody into QuickFIX/Go's message
// type, for the QuickFIX/Go engine.
func messageOf(msgType string, body []byte) *quickfix.Message {
	m := quickfix.NewMessage()
	m.Header.SetString(tag.BeginString, beginString)
	m.Header.SetString(tag.MsgType, msgType)
	for _, f := range fixsession.Scan(body, nil) {
		m.Body.SetBytes(quickfix.Tag(f.Tag), bytes.Clone(f.Val))
	}
	return m
}
