package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// The guard stands between brokers and the QuickFIX/Go acceptor. QuickFIX/Go
// v0.9.7 panics on some malformed input in goroutines that do not recover
// (its stream framer on a huge BodyLength, its message parser on a large
// XmlDataLen or an empty integer field: quickfixgo/quickfix#678), and one
// panic would end the whole exchange, before any logon. So the gateway owns
// the public listener: every inbound byte is framed strictly here, and only
// whole, well-formed messages are forwarded to the acceptor, which listens on
// a private loopback port. The first malformed message closes the connection.
// Outbound bytes are copied through untouched.
//
// Cost: one extra loopback hop each way and one scan of each inbound message.

// msgBytesMax bounds one inbound FIX message (header, body and trailer).
const msgBytesMax = 64 << 10

var errIncomplete = errors.New("incomplete message")

// frameMessage checks that b starts with one whole, well-formed FIX message
// and returns its length. It returns errIncomplete when more bytes are needed,
// and another error when the bytes can never become a valid message:
//
//	8=<BeginString>␁9=<BodyLength>␁<BodyLength bytes of tag=value␁ fields>10=<3 digits>␁
//
// Every field is tag=value␁ with a tag of 1 to 9 digits and a non-empty value
// without SOH; XmlData (212/213) is refused, as QuickFIX/Go cannot parse it
// safely.
func frameMessage(b []byte) (int, error) {
	// BeginString.
	if len(b) < 2 {
		return 0, errIncomplete
	}
	if b[0] != '8' || b[1] != '=' {
		return 0, errors.New("message does not start with 8=")
	}
	i := bytes.IndexByte(b, 0x01)
	if i < 0 {
		if len(b) > 32 {
			return 0, errors.New("BeginString too long")
		}
		return 0, errIncomplete
	}
	if i == 2 || i > 32 {
		return 0, errors.New("bad BeginString")
	}
	// BodyLength.
	rest := b[i+1:]
	if len(rest) < 2 {
		return 0, errIncomplete
	}
	if rest[0] != '9' || rest[1] != '=' {
		return 0, errors.New("BodyLength (9) must be the second field")
	}
	bodyLen, j := 0, 2
	for ; j < len(rest) && rest[j] != 0x01; j++ {
		c := rest[j]
		if c < '0' || c > '9' || j > 7 {
			return 0, errors.New("bad BodyLength")
		}
		bodyLen = bodyLen*10 + int(c-'0')
	}
	if j == len(rest) {
		return 0, errIncomplete
	}
	if j == 2 || bodyLen == 0 || bodyLen > msgBytesMax {
		return 0, fmt.Errorf("BodyLength %d outside 1..%d", bodyLen, msgBytesMax)
	}
	start := i + 1 + j + 1 // first body byte
	total := start + bodyLen + len("10=000\x01")
	if len(b) < total {
		return 0, errIncomplete
	}
	body := b[start : start+bodyLen]
	if err := checkFields(body); err != nil {
		return 0, err
	}
	tr := b[start+bodyLen : total]
	if tr[0] != '1' || tr[1] != '0' || tr[2] != '=' || tr[6] != 0x01 ||
		tr[3] < '0' || tr[3] > '9' || tr[4] < '0' || tr[4] > '9' || tr[5] < '0' || tr[5] > '9' {
		return 0, errors.New("CheckSum (10) does not follow the body")
	}
	return total, nil
}

// checkFields checks that body is a sequence of tag=value␁ fields.
func checkFields(body []byte) error {
	if body[len(body)-1] != 0x01 {
		return errors.New("body does not end with SOH")
	}
	for len(body) > 0 {
		eq := bytes.IndexByte(body, '=')
		soh := bytes.IndexByte(body, 0x01)
		if eq <= 0 || eq > 9 || soh < eq {
			return errors.New("malformed field")
		}
		tag := 0
		for _, c := range body[:eq] {
			if c < '0' || c > '9' {
				return errors.New("non-numeric tag")
			}
			tag = tag*10 + int(c-'0')
		}
		if tag == 0 || body[0] == '0' {
			return errors.New("bad tag")
		}
		if soh == eq+1 {
			return fmt.Errorf("tag %d has no value", tag)
		}
		if tag == 212 || tag == 213 || tag == 9 || tag == 8 || tag == 10 {
			return fmt.Errorf("tag %d not allowed in the body", tag)
		}
		body = body[soh+1:]
	}
	return nil
}

// guard accepts broker connections on the public address and forwards
// checked bytes to the acceptor's private address.
type guard struct {
	g        *Gateway
	listener net.Listener
	inner    string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	remote map[string]string     // acceptor-side remote address -> broker address
	links  map[string]*guardLink // acceptor-side remote address -> byte count link
	wg     sync.WaitGroup
}

func (p *guard) serve() {
	for {
		c, err := p.listener.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.proxy(c)
		}()
	}
}

func (p *guard) track(c net.Conn, on bool) {
	p.mu.Lock()
	if on {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
	p.mu.Unlock()
}

// dialed reports whether a is the local address of one of the guard's own
// connections to the acceptor.
func (p *guard) dialed(a string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.remote[a]
	return ok
}

// link returns the outbound byte count link of the guard's connection whose
// local address is a.
func (p *guard) link(a string) *guardLink {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.links[a]
}

// brokerAddr returns the broker's address for the acceptor-side address a.
func (p *guard) brokerAddr(a string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.remote[a]; ok {
		return r
	}
	return a
}

func (p *guard) proxy(outer net.Conn) {
	defer outer.Close()
	inner, err := net.DialTimeout("tcp", p.inner, 5*time.Second)
	if err != nil {
		p.g.log.Error().Err(err).Msg("FIX guard: cannot reach the acceptor")
		return
	}
	defer inner.Close()
	key := inner.LocalAddr().String()
	link := &guardLink{}
	p.mu.Lock()
	p.remote[key] = outer.RemoteAddr().String()
	p.links[key] = link
	p.mu.Unlock()
	p.track(outer, true)
	defer func() {
		p.track(outer, false)
		p.mu.Lock()
		delete(p.remote, key)
		delete(p.links, key)
		p.mu.Unlock()
	}()

	done := make(chan struct{})
	go func() {
		p.outbound(outer, inner, link)
		_ = outer.Close()
		close(done)
	}()
	buf := make([]byte, 0, msgBytesMax+8192)
	for {
		n, err := outer.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		off := 0
		for off < len(buf) {
			m, ferr := frameMessage(buf[off:])
			if ferr == errIncomplete {
				break
			}
			if ferr != nil {
				p.g.m.guardClosed.Add(1)
				p.g.log.Warn().Str("remote", outer.RemoteAddr().String()).Str("reason", ferr.Error()).
					Msg("malformed FIX message: connection closed")
				_ = inner.Close()
				<-done
				return
			}
			off += m
		}
		if off > 0 {
			if _, werr := inner.Write(buf[:off]); werr != nil {
				break
			}
			buf = buf[:copy(buf, buf[off:])]
		}
		if err != nil {
			break
		}
	}
	_ = inner.Close()
	<-done
}

// outbound copies the acceptor's bytes to the broker, counting them for the
// session's outbox (outbox.go): once the guard has read a message, the
// acceptor's writer is done with it.
func (p *guard) outbound(outer, inner net.Conn, link *guardLink) {
	defer link.closed()
	buf := make([]byte, 32<<10)
	for {
		n, err := inner.Read(buf)
		if n > 0 {
			link.wrote(n)
			if _, werr := outer.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// close stops accepting and closes the broker connections still open.
func (p *guard) close() {
	_ = p.listener.Close()
	// The acceptor has stopped and closed its side: each proxy forwards what
	// the acceptor wrote last (its Logout) and ends on its own. Only the
	// connections still open after a grace period are cut.
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-time.After(2 * time.Second):
	}
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	<-done
}
