package broker

import (
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// relay stands between one session's initiator and the exchange, on a
// loopback port of its own, and counts the bytes the initiator's writer
// writes, so that the session's gate knows when the writer is free again
// (gate.go). Inbound bytes are copied through untouched.
type relay struct {
	ln     net.Listener
	target string
	g      *gate

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// relayLink counts one connection's outbound bytes: handed by QuickFIX/Go
// to the writer (OnOutgoing) and read by the relay.
type relayLink struct {
	handed  atomic.Int64
	written atomic.Int64
}

// startRelay listens on a free loopback port for g's session; host:port is
// the exchange.
func startRelay(host string, port int, g *gate) (*relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &relay{ln: ln, target: net.JoinHostPort(host, strconv.Itoa(port)), g: g, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.serve()
	return r, nil
}

func (r *relay) port() int { return r.ln.Addr().(*net.TCPAddr).Port }

func (r *relay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.proxy(c)
		}()
	}
}

func (r *relay) track(c net.Conn, on bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if on {
		if r.conns == nil {
			return false // closed
		}
		r.conns[c] = struct{}{}
	} else if r.conns != nil {
		delete(r.conns, c)
	}
	return true
}

func (r *relay) proxy(c net.Conn) {
	defer c.Close()
	if !r.track(c, true) {
		return
	}
	defer r.track(c, false)
	up, err := net.DialTimeout("tcp", r.target, 5*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	if !r.track(up, true) {
		return
	}
	defer r.track(up, false)
	l := &relayLink{}
	r.g.attach(l)
	defer r.g.detach(l)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 32<<10)
		for {
			n, err := up.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		_ = c.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			l.written.Add(int64(n))
			r.g.poke()
			if _, werr := up.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = up.Close()
	<-done
}

// close stops listening, closes every connection and waits for the relay's
// goroutines.
func (r *relay) close() {
	_ = r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		_ = c.Close()
	}
	r.conns = nil
	r.mu.Unlock()
	r.wg.Wait()
}
