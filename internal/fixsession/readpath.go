package fixsession

// kickAfterRead wakes the connection's writer after a read that left it
// something to send: answers (Rejects, resends, a Logout), a close, or
// stored messages. The inbound sequence number the read advanced does not
// wake it on its own: it goes to the store with the writer's next batch
// (normally the reports the messages cause, at worst the next heartbeat or
// the connection's end). For a counterparty that writes one message per
// system call this saves a writer wake-up and a store write per message.
// A process killed in between comes back expecting a lower MsgSeqNum than
// the counterparty's next: it asks for a resend, and the duplicates are
// recognised as such (PossDupFlag, and the order manager's ClOrdIDs).
func (c *conn) kickAfterRead() {
	s := c.sess
	if s == nil {
		return // an acceptor's connection before its Logon: nothing runs yet
	}
	s.mu.Lock()
	need := len(c.out) > 0 || c.closing || len(s.store.pending) > 0
	s.mu.Unlock()
	if need {
		c.kick()
	}
}
