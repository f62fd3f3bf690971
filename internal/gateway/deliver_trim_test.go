package gateway

import "testing"

// TestDeliverScratchTrim: Deliver's scratch is kept up to its bounds and
// dropped above them.
func TestDeliverScratchTrim(t *testing.T) {
	var d deliverScratch
	d.body.b = make([]byte, 0, deliverKeepBytes)
	d.msgs = make([]outMsg, 0, deliverKeepMsgs)
	d.idx = make([]int, 0, deliverKeepMsgs)
	d.trim()
	if d.body.b == nil || d.msgs == nil || d.idx == nil {
		t.Fatal("scratch within the bounds dropped")
	}
	d.body.b = make([]byte, 0, deliverKeepBytes+1)
	d.msgs = make([]outMsg, 0, deliverKeepMsgs+1)
	d.idx = make([]int, 0, deliverKeepMsgs+1)
	d.trim()
	if d.body.b != nil || d.msgs != nil || d.idx != nil {
		t.Fatalf("scratch above the bounds kept: %d B, %d msgs, %d idx", cap(d.body.b), cap(d.msgs), cap(d.idx))
	}
}
