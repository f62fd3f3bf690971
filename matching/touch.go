package matching

// Touch reads the slot of the engine's order index that Apply(c) will look
// c.OrderID up in first. At millions of resting orders that is a cache
// (and TLB) miss; a replay that touches the next few commands' slots in a
// row, before it applies them, has those misses in flight together instead
// of one after another. It changes nothing and returns a value of the slot
// read, so that the read is not optimised away. Cost: a multiplication and
// a load.
func (e *Engine) Touch(c *Command) uint64 {
	return e.index.touch(uint64(c.OrderID))
}

// touch reads k's home slot (see Engine.Touch).
func (t *table[V]) touch(k uint64) uint64 {
	return t.slots[(k*fibMul)>>t.shift].key
}
