package matching

// selfTrade applies the taker's self-trade prevention mode when taker t meets
// maker m of the same owner. Cancelled quantities are reported with
// EvCancelled (ReasonSelfTrade); an order reduced in place keeps its queue
// position. A maker reduced to zero leaves the book (its level is recycled by
// match); a taker reduced to zero ends matching (t.leaves == 0).
func (e *Engine) selfTrade(t, m *order, out []Event) []Event {
	switch t.stp {
	case STPCancelNewest:
		out = e.orderEvent(out, EvCancelled, t, ReasonSelfTrade, t.leaves, 0)
		t.qty -= t.leaves
		t.leaves = 0
	case STPCancelOldest:
		out = e.orderEvent(out, EvCancelled, m, ReasonSelfTrade, m.leaves, 0)
		e.unlinkMaker(m)
	case STPCancelBoth:
		out = e.orderEvent(out, EvCancelled, m, ReasonSelfTrade, m.leaves, 0)
		e.unlinkMaker(m)
		out = e.orderEvent(out, EvCancelled, t, ReasonSelfTrade, t.leaves, 0)
		t.qty -= t.leaves
		t.leaves = 0
	case STPDecrementCancel:
		d := min(t.leaves, m.leaves)
		m.lvl.set(m, m.leaves-d, min(m.shown(), m.leaves-d))
		m.qty -= d
		out = e.orderEvent(out, EvCancelled, m, ReasonSelfTrade, d, m.leaves)
		if m.leaves == 0 {
			e.unlinkMaker(m)
		}
		t.leaves -= d
		t.qty -= d
		out = e.orderEvent(out, EvCancelled, t, ReasonSelfTrade, d, t.leaves)
	}
	return out
}
