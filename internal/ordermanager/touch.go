package ordermanager

import (
	"encoding/binary"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
)

// Touch reads the first slot of each index that ApplySequenced(cmd,
// metaBytes) will probe: the order's ID and the request's ClOrdID. At
// millions of open orders each is a cache (and TLB) miss of its own; a
// replay that touches the next few commands' slots in a row, before it
// applies them, has those misses in flight together instead of one after
// another. It changes nothing, never fails (meta it cannot read touches
// less) and returns a value of the slots read, so that the reads are not
// optimised away. Cost: two hashes and two loads.
func (m *Manager) Touch(cmd *matching.Command, metaBytes []byte) uint64 {
	v := m.index.touch(orderKey(cmd.OrderID))
	if len(metaBytes) > metaFixed && metaBytes[0] == metaVersion {
		n := int(metaBytes[metaFixed])
		if n > 0 && n <= ClOrdIDMax && len(metaBytes) > metaFixed+n {
			k := clKey{session: refdata.SessionID(binary.LittleEndian.Uint32(metaBytes[2:]))}
			k.id.n = uint8(copy(k.id.b[:], metaBytes[metaFixed+1:metaFixed+1+n]))
			v ^= m.cl.touch(&k)
		}
	}
	return v
}

// touch reads k's home slot (see Manager.Touch).
func (t *table[K, V]) touch(k K) uint64 {
	return t.slots[(k.hash(t.seed)|1)&t.mask].h
}

// touch reads k's home slot in the index (see Manager.Touch).
func (b *clBook) touch(k *clKey) uint64 {
	return b.slots[uint64(b.hash32(k))&b.mask]
}
