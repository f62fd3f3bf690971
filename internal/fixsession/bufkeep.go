package fixsession

// bufKeepMax is the largest write buffer a connection keeps for its next
// batch (its socket buffer and its store's, each double-buffered). A burst
// (a counterparty that reads slowly, a process starved of CPU) grows them to
// the burst's size; kept, they would hold the worst burst's memory for the
// connection's life, so the soak's live heap crept up with every new worst
// stall. A larger one is dropped after its write, and the next batch starts
// small; the cost is an allocation after a burst only.
const bufKeepMax = 256 << 10

// keepBuf returns b for reuse, or nil when it is larger than bufKeepMax.
func keepBuf(b []byte) []byte {
	if cap(b) > bufKeepMax {
		return nil
	}
	return b
}
