package ordermanager

import "github.com/exchange-sim/exchange/matching"

// Balance returns account acct's cash and the part of it reserved by open
// buys, in minor units (0, 0 for an unknown account). O(1), no allocation:
// the reporter reads it after every command that touched the account.
func (m *Manager) Balance(acct matching.AccountID) (cash, reserved int64) {
	a := m.acct(acct)
	if a == nil {
		return 0, 0
	}
	return a.cash, a.cashRes
}
