package main

import (
	"testing"

	"github.com/exchange-sim/exchange/internal/config"
)

// TestE2ESessionRejects: through `exchange serve`, what the FIX data
// dictionary refuses is a session-level Reject naming the reason and the
// tag, and the session goes on: an undefined MsgType (373=11), a value
// outside a field's enumeration (373=5), a wrong data format (373=6).
func TestE2ESessionRejects(t *testing.T) {
	v := startTestVenue(t, config.Default(), t.TempDir(), "", "none")
	a := logon(t, v.cfg.ListenFIX, defaultOpts("ALPHA"))

	a.send(t, "ZZ", "58=what is this")
	check(t, "undefined MsgType", a.expect(t, "3", "372=ZZ"), "373=11", "371=35", "58=Invalid MsgType")
	a.limit(t, "E1", "AAPL", "1", "10", "189.00", "60=20261203-10:00:00", "21=9")
	check(t, "HandlInst 9", a.expect(t, "3", "371=21"), "373=5", "372=D")
	a.limit(t, "E2", "AAPL", "1", "+10", "189.00")
	check(t, "OrderQty +10", a.expect(t, "3", "371=38"), "373=6", "372=D", "58=Incorrect data format for value")
	a.limit(t, "E3", "AAPL", "1", "10", "189.00")
	a.expectExec(t, "E3", "0")
}
