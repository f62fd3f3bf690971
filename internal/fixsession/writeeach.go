package fixsession

import "net"

// writeEach writes the messages of b one system call each, as most FIX
// engines do (Settings.WriteEach): for a load generator that behaves like
// them. b holds whole messages this side formatted.
func writeEach(nc net.Conn, b []byte) error {
	for len(b) > 0 {
		n, err := Frame(b)
		if err != nil || n <= 0 {
			n = len(b)
		}
		if _, err := nc.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
