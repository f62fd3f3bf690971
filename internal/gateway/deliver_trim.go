package gateway

// deliverKeepBytes and deliverKeepMsgs bound the scratch Deliver keeps for
// its next call. A burst of reports (the order manager catching up after a
// stall) grows the batch's FIX bodies and message list to the burst's size;
// kept, they would hold the worst burst's memory for the process's life
// (the 10-minute soak's live heap crept up with every new worst stall). A
// larger one is dropped once the call is over, and the next batch starts
// small; the cost is an allocation after a burst only.
const (
	deliverKeepBytes = 256 << 10
	deliverKeepMsgs  = 4096
)

// trim drops scratch larger than the bounds above. Nothing refers to it
// after Deliver: the session layer copies every body it is given.
func (d *deliverScratch) trim() {
	if cap(d.body.b) > deliverKeepBytes {
		d.body.b = nil
	}
	if cap(d.msgs) > deliverKeepMsgs {
		d.msgs = nil
	}
	if cap(d.idx) > deliverKeepMsgs {
		d.idx = nil
	}
}
