package ordermanager

import "github.com/exchange-sim/exchange/matching"

// Amend chains. The cancels and replaces in flight for one order form a
// FIFO chain: links are appended in command order (Submit or
// ApplySequenced) and removed from the head in event order, since the
// engine answers the commands of one order in the order it receives them.
// The chain's links live in a slab (Manager.links) so that a chain costs one
// table entry however long it is, and a link's slab index never appears in
// the replayed state (snapshots write each chain in link order).

// chainOf returns the amend chain of order id, or nil. The pointer is valid
// until the next change to m.ops.
func (m *Manager) chainOf(id matching.OrderID) *opChain {
	c, ok := m.ops.get(orderKey(id))
	if !ok {
		return nil
	}
	return c
}

// link returns the link at slab index i.
func (m *Manager) link(i int32) *opRec { return &m.links[i] }

// headOp returns the oldest link in flight for order id, or nil. The
// pointer is valid until the next pushOp.
func (m *Manager) headOp(id matching.OrderID) *opRec {
	c := m.chainOf(id)
	if c == nil {
		return nil
	}
	return m.link(c.head)
}

// tailOp returns the newest link in flight for order id and the chain's
// length (nil, 0 for none).
func (m *Manager) tailOp(id matching.OrderID) (*opRec, int) {
	c := m.chainOf(id)
	if c == nil {
		return nil, 0
	}
	return m.link(c.tail), int(c.n)
}

// pushOp appends op to the chain of order id and returns the new link (valid
// until the next pushOp). It does not bound the
// chain: Submit refuses an amend past AmendsInFlightMax by what this node's
// engine has answered so far, and a standby whose engine lags applies the
// same commands with longer chains in flight (ApplySequenced must take every
// command the leader sequenced). The slab grows (allocates) only past its
// high-water mark.
func (m *Manager) pushOp(id matching.OrderID, op opRec) *opRec {
	c := m.chainOf(id)
	var i int32
	if n := len(m.lfree); n > 0 {
		i = m.lfree[n-1]
		m.lfree = m.lfree[:n-1]
	} else {
		m.links = append(m.links, opRec{})
		i = int32(len(m.links) - 1)
	}
	op.next = 0
	m.links[i] = op
	if c == nil {
		m.ops.put(orderKey(id), opChain{head: i, tail: i, n: 1})
		return &m.links[i]
	}
	m.links[c.tail].next = i
	c.tail = i
	c.n++
	return &m.links[i]
}

// popOp removes the oldest link of order id's chain and returns it with the
// link after it (nil when it was the last, and the chain is then gone).
// The returned pointer is valid until the next pushOp.
func (m *Manager) popOp(id matching.OrderID) (opRec, *opRec, bool) {
	c := m.chainOf(id)
	if c == nil {
		return opRec{}, nil, false
	}
	i := c.head
	op := m.links[i]
	m.links[i] = opRec{}
	m.lfree = append(m.lfree, i)
	if c.n == 1 {
		m.ops.del(orderKey(id))
		return op, nil, true
	}
	c.head = op.next
	c.n--
	return op, m.link(c.head), true
}

// eachOp calls fn for every link in flight, chain by chain in table order
// (so nothing that shapes state may depend on the order of calls).
func (m *Manager) eachOp(fn func(id matching.OrderID, op *opRec)) {
	m.ops.each(func(k orderKey, c *opChain) {
		for i := c.head; i != 0; i = m.links[i].next {
			fn(matching.OrderID(k), &m.links[i])
		}
	})
}

// amendsInFlight returns the number of cancels and replaces accepted and not
// yet answered by the engine. O(orders with amends in flight).
func (m *Manager) amendsInFlight() int {
	n := 0
	m.ops.each(func(_ orderKey, c *opChain) { n += int(c.n) })
	return n
}
