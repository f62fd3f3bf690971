package gateway

import "encoding/binary"

// MarksState returns the delivery marks this gateway keeps, as marks records
// which, handed to ApplyMarks in order on a gateway that has none, give
// every session its newest pair (cluster.Config.MarksSnapshot: the marks
// travel in the node's raft snapshot, so a node that installs one, or
// restarts from its own, knows the marks committed before it).
//
// Only the newest pair of each session: after a snapshot is installed the
// node's floor is at the snapshot's point (VenueOpened), so an older pair
// maps a client to a key below every report the node holds, which
// surelyHas refuses whether the pair is known or not; and the newest pairs
// keep the record small (21 bytes a session) whatever pairsKept is.
func (g *Gateway) MarksState() [][]byte {
	if g == nil || g.co == nil {
		return nil
	}
	var (
		recs [][]byte
		b    []byte
		n    int
	)
	done := func() {
		if n > 0 {
			binary.LittleEndian.PutUint16(b[1:], uint16(n))
			recs = append(recs, b)
		}
		b, n = nil, 0
	}
	for i := range g.co.sess {
		cs := &g.co.sess[i]
		cs.mu.Lock()
		if k := len(cs.pairs); k > 0 {
			if b == nil {
				b = []byte{marksVersion, 0, 0}
			}
			b = appendMarksEntry(b, uint32(i+1), cs.ver, cs.pairs[k-1])
			n++
		}
		cs.mu.Unlock()
		if n == 1<<16-1 {
			done()
		}
	}
	done()
	return recs
}
