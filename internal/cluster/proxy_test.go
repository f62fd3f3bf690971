package cluster

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// proxy is a TCP proxy for one direction of one link between two nodes
// (connections node A opens to node B). Cut closes its connections and
// refuses new ones until Heal.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		p.conns = map[net.Conn]bool{}
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.setCut(true)
	p.wg.Wait()
}

// network routes every node's raft connections to every other through its
// own proxy, so any link can be cut in both directions.
type network struct {
	// links[a][b] carries the connections a opens to b.
	links [][]*proxy
	addrs []string
}

// withNetwork sets c up so that its nodes dial through proxies; call before
// the nodes start (the proxies point at the nodes' raft listeners).
func (n *network) dialer(c *testCluster) func(from int) func(string, time.Duration) (net.Conn, error) {
	return func(from int) func(string, time.Duration) (net.Conn, error) {
		return func(addr string, timeout time.Duration) (net.Conn, error) {
			for to, a := range n.addrs {
				if a == addr {
					return net.DialTimeout("tcp", n.links[from][to].ln.Addr().String(), timeout)
				}
			}
			return net.DialTimeout("tcp", addr, timeout)
		}
	}
}

// isolate cuts (or heals) every link between node i and the others.
func (n *network) isolate(i int, cut bool) {
	for j := range n.links {
		if j != i {
			n.links[i][j].setCut(cut)
			n.links[j][i].setCut(cut)
		}
	}
}
