package gateway

// chooseHomes picks, for every configured counterparty, the FIX session
// (one per BeginString) its reports are queued in while it is not logged
// on: the one whose store was written last, FIX.4.4 when none was. Once it
// logs on, the version it logged on with takes over (OnLogon). Reports
// queued in one version reach the counterparty when it logs on again with
// that version.
func (g *Gateway) chooseHomes() {
	for fs, st := range g.byFS {
		cur := st.home.Load()
		switch {
		case cur == nil:
			st.home.Store(fs)
		case fs.LastWritten().After(cur.LastWritten()):
			st.home.Store(fs)
		case fs.LastWritten().Equal(cur.LastWritten()) && fs.ID().BeginString == beginStrings[0]:
			st.home.Store(fs)
		}
	}

}
