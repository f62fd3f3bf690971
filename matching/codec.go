package matching

import (
	"encoding/binary"
	"errors"
)

// CommandSize is the length in bytes of a Command's binary form.
const CommandSize = 6 + 8 + 8 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 8 + 8 + 1

// EventSize is the length in bytes of an Event's binary form.
const EventSize = 5 + 8 + 8 + 8 + 4 + 4 + 8 + 8 + 8 + 8 + 8 + 4 + 8 + 8 + 2 + 8 + 8

// ErrShortBuffer is returned when a binary form is shorter than its fixed size.
var ErrShortBuffer = errors.New("matching: buffer shorter than the fixed record size")

// errUnusedEventWords refuses an event whose binary form has a trade's
// maker leaves or match ID on another kind, or a stop price or display on a
// trade: the engine makes no such event, and Event has no room for it.
var errUnusedEventWords = errors.New("matching: event with fields its kind does not use")

// AppendBinary appends the fixed-size little-endian form of c to b. It does not
// allocate when b has CommandSize bytes of spare capacity.
func (c *Command) AppendBinary(b []byte) []byte {
	b = append(b, byte(c.Kind), byte(c.Side), byte(c.Type), byte(c.TIF), byte(c.STP), boolByte(c.PostOnly))
	b = binary.LittleEndian.AppendUint64(b, c.Seq)
	b = binary.LittleEndian.AppendUint64(b, uint64(c.TimeNs))
	b = binary.LittleEndian.AppendUint32(b, uint32(c.Symbol))
	b = binary.LittleEndian.AppendUint32(b, uint32(c.Account))
	b = binary.LittleEndian.AppendUint32(b, c.STPGroup)
	b = binary.LittleEndian.AppendUint64(b, uint64(c.OrderID))
	b = binary.LittleEndian.AppendUint64(b, uint64(c.Price))
	b = binary.LittleEndian.AppendUint64(b, uint64(c.Qty))
	b = binary.LittleEndian.AppendUint64(b, uint64(c.StopPrice))
	b = binary.LittleEndian.AppendUint64(b, uint64(c.Display))
	b = binary.LittleEndian.AppendUint64(b, uint64(c.ExpireNs))
	b = append(b, byte(c.Phase))
	return b
}

// UnmarshalBinary decodes the first CommandSize bytes of b into c. It checks
// only the length: the engine itself rejects commands whose values are wrong.
func (c *Command) UnmarshalBinary(b []byte) error {
	if len(b) < CommandSize {
		return ErrShortBuffer
	}
	c.Kind = CommandKind(b[0])
	c.Side = Side(b[1])
	c.Type = OrderType(b[2])
	c.TIF = TimeInForce(b[3])
	c.STP = STPMode(b[4])
	c.PostOnly = b[5] != 0
	b = b[6:]
	c.Seq = binary.LittleEndian.Uint64(b[0:])
	c.TimeNs = int64(binary.LittleEndian.Uint64(b[8:]))
	c.Symbol = SymbolID(binary.LittleEndian.Uint32(b[16:]))
	c.Account = AccountID(binary.LittleEndian.Uint32(b[20:]))
	c.STPGroup = binary.LittleEndian.Uint32(b[24:])
	c.OrderID = OrderID(binary.LittleEndian.Uint64(b[28:]))
	c.Price = int64(binary.LittleEndian.Uint64(b[36:]))
	c.Qty = int64(binary.LittleEndian.Uint64(b[44:]))
	c.StopPrice = int64(binary.LittleEndian.Uint64(b[52:]))
	c.Display = int64(binary.LittleEndian.Uint64(b[60:]))
	c.ExpireNs = int64(binary.LittleEndian.Uint64(b[68:]))
	c.Phase = Phase(b[76])
	return nil
}

// AppendBinary appends the fixed-size little-endian form of e to b.
func (e *Event) AppendBinary(b []byte) []byte {
	b = append(b, byte(e.Kind), byte(e.Cmd), byte(e.Side), byte(e.Reason), boolByte(e.PriorityKept))
	b = binary.LittleEndian.AppendUint64(b, e.OutSeq)
	b = binary.LittleEndian.AppendUint64(b, e.InSeq)
	b = binary.LittleEndian.AppendUint64(b, uint64(e.TimeNs))
	b = binary.LittleEndian.AppendUint32(b, uint32(e.Symbol))
	b = binary.LittleEndian.AppendUint32(b, uint32(e.Account))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.OrderID))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Price))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Qty))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Leaves))
	makerLeaves, matchID, stopPx, display := e.unshared()
	b = binary.LittleEndian.AppendUint64(b, uint64(e.MakerOrderID))
	b = binary.LittleEndian.AppendUint32(b, uint32(e.MakerAccount))
	b = binary.LittleEndian.AppendUint64(b, uint64(makerLeaves))
	b = binary.LittleEndian.AppendUint64(b, matchID)
	b = append(b, e.Flags, byte(e.Phase))
	b = binary.LittleEndian.AppendUint64(b, uint64(stopPx))
	b = binary.LittleEndian.AppendUint64(b, uint64(display))
	return b
}

// unshared returns the four values that share two words of an Event as
// they were when each had its own field: the trade's on an EvTrade, the stop
// price and display on any other kind.
func (e *Event) unshared() (makerLeaves int64, matchID uint64, stopPx, display int64) {
	if e.Kind == EvTrade {
		return e.MakerLeaves, e.MatchID, 0, 0
	}
	return 0, 0, e.MakerLeaves, int64(e.MatchID)
}

// UnmarshalBinary decodes the first EventSize bytes of b into e. The binary
// form keeps a word each for MakerLeaves, MatchID, StopPrice and Display;
// the pair that e's kind does not use must be zero.
func (e *Event) UnmarshalBinary(b []byte) error {
	if len(b) < EventSize {
		return ErrShortBuffer
	}
	e.Kind = EventKind(b[0])
	e.Cmd = CommandKind(b[1])
	e.Side = Side(b[2])
	e.Reason = Reason(b[3])
	e.PriorityKept = b[4] != 0
	b = b[5:]
	e.OutSeq = binary.LittleEndian.Uint64(b[0:])
	e.InSeq = binary.LittleEndian.Uint64(b[8:])
	e.TimeNs = int64(binary.LittleEndian.Uint64(b[16:]))
	e.Symbol = SymbolID(binary.LittleEndian.Uint32(b[24:]))
	e.Account = AccountID(binary.LittleEndian.Uint32(b[28:]))
	e.OrderID = OrderID(binary.LittleEndian.Uint64(b[32:]))
	e.Price = int64(binary.LittleEndian.Uint64(b[40:]))
	e.Qty = int64(binary.LittleEndian.Uint64(b[48:]))
	e.Leaves = int64(binary.LittleEndian.Uint64(b[56:]))
	e.MakerOrderID = OrderID(binary.LittleEndian.Uint64(b[64:]))
	e.MakerAccount = AccountID(binary.LittleEndian.Uint32(b[72:]))
	makerLeaves := binary.LittleEndian.Uint64(b[76:])
	matchID := binary.LittleEndian.Uint64(b[84:])
	e.Flags = b[92]
	e.Phase = Phase(b[93])
	stopPx := binary.LittleEndian.Uint64(b[94:])
	display := binary.LittleEndian.Uint64(b[102:])
	if e.Kind != EvTrade {
		makerLeaves, stopPx = stopPx, makerLeaves
		matchID, display = display, matchID
	}
	if stopPx|display != 0 {
		return errUnusedEventWords
	}
	e.MakerLeaves = int64(makerLeaves)
	e.MatchID = matchID
	return nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// Hasher is a running hash over events. Two runs that produced the same
// events, in the same order, have the same Sum. It folds each event's fields as
// 64-bit words (FNV-1a's structure on words, with a final avalanche per event),
// which costs a few nanoseconds per event and does not allocate.
type Hasher struct {
	sum uint64
}

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// NewHasher returns a Hasher at its initial state.
func NewHasher() Hasher { return Hasher{sum: fnvOffset64} }

// Reset returns h to its initial state.
func (h *Hasher) Reset() { h.sum = fnvOffset64 }

func mixWord(s, w uint64) uint64 {
	s ^= w
	s *= fnvPrime64
	s ^= s >> 32
	return s
}

// Add folds e into the hash. Every field of e takes part.
func (h *Hasher) Add(e *Event) {
	s := h.sum
	s = mixWord(s, uint64(e.Kind)|uint64(e.Cmd)<<8|uint64(e.Side)<<16|uint64(e.Reason)<<24|uint64(boolByte(e.PriorityKept))<<32)
	s = mixWord(s, e.OutSeq)
	s = mixWord(s, e.InSeq)
	s = mixWord(s, uint64(e.TimeNs))
	s = mixWord(s, uint64(e.Symbol)|uint64(e.Account)<<32)
	s = mixWord(s, uint64(e.OrderID))
	s = mixWord(s, uint64(e.Price))
	s = mixWord(s, uint64(e.Qty))
	s = mixWord(s, uint64(e.Leaves))
	makerLeaves, matchID, stopPx, display := e.unshared()
	s = mixWord(s, uint64(e.MakerOrderID))
	s = mixWord(s, uint64(e.MakerAccount))
	s = mixWord(s, uint64(makerLeaves))
	s = mixWord(s, matchID)
	if e.Flags|byte(e.Phase) != 0 || stopPx|display != 0 {
		// Only the trading day's events carry these, so the hash of a
		// stream without them is what it always was.
		s = mixWord(s, uint64(e.Flags)|uint64(e.Phase)<<8)
		s = mixWord(s, uint64(stopPx))
		s = mixWord(s, uint64(display))
	}
	// Avalanche so that nearby events do not cancel out.
	s ^= s >> 33
	s *= 0xff51afd7ed558ccd
	s ^= s >> 33
	h.sum = s
}

// Sum returns the hash of every event added since the last Reset.
func (h *Hasher) Sum() uint64 { return h.sum }

// SetSum restores a hash saved with Sum, so that a replay that starts from a
// snapshot can continue the running hash.
func (h *Hasher) SetSum(s uint64) { h.sum = s }
