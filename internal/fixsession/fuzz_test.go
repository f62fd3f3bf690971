package fixsession

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// pipeListener hands the acceptor in-memory connections.
type pipeListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}
func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// FuzzSession feeds arbitrary bytes to a logged-on session: whatever comes,
// the acceptor must not panic, and it must still log the next client on.
func FuzzSession(f *testing.F) {
	h := Header{BeginString: "FIX.4.4", SenderCompID: "ALPHA", TargetCompID: "EXCH"}
	msg := func(mt string, seq uint64, body string) []byte {
		return AppendMessage(nil, &h, mt, seq, time.Now(), nil, []byte(body))
	}
	f.Add(msg("D", 2, "11=A\x01"))
	f.Add(append(msg("4", 2, "36=1\x01"), msg("2", 3, "7=0\x0116=99999999999\x01")...))
	f.Add(append(msg("4", 2, "123=Y\x0136=2\x01"), msg("A", 9, "108=1\x01")...))
	f.Add(append(msg("1", 2, ""), msg("5", 3, "58=bye\x01")...))
	f.Add(append(msg("D", 7, "11=gap\x01"), msg("0", 3, "112=x\x01")...))
	f.Add([]byte("8=FIX.4.4\x019=5\x0135=D\x0110=999\x01"))
	f.Add(msg("D", 2, "52=garbage\x01"))
	app := &echoApp{}
	a := NewAcceptor(app, zerolog.Nop())
	if _, err := a.AddSession(Settings{Header: Header{BeginString: "FIX.4.4", SenderCompID: "EXCH", TargetCompID: "ALPHA"}, MaxLatency: time.Minute}); err != nil {
		f.Fatal(err)
	}
	ln := newPipeListener()
	go a.Serve(ln)
	defer a.Stop("bye", time.Second)
	// session logs on, sends data, hangs up and waits until the acceptor
	// has seen the end; it reports whether the Logon was answered.
	session := func(data []byte) bool {
		cl, sv := net.Pipe()
		ln.conns <- sv
		loggedOn := make(chan struct{})
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			var buf []byte
			tmp := make([]byte, 4096)
			seen := false
			for {
				n, err := cl.Read(tmp)
				buf = append(buf, tmp[:n]...)
				for !seen {
					k, ferr := Frame(buf)
					if ferr != nil {
						break
					}
					if mt, _ := Get(Scan(buf[:k], nil), 35); string(mt) == "A" {
						seen = true
						close(loggedOn)
					}
					buf = buf[k:]
				}
				if err != nil {
					return
				}
			}
		}()
		_ = cl.SetWriteDeadline(time.Now().Add(2 * time.Second))
		ok := false
		if _, err := cl.Write(msg("A", 1, "98=0\x01108=30\x01554=pw\x01141=Y\x01")); err == nil {
			select {
			case <-loggedOn:
				ok = true
			case <-time.After(2 * time.Second):
			}
		}
		if ok && data != nil {
			_, _ = cl.Write(data)
		}
		_ = cl.Close()
		<-drained
		for i := 0; i < 2000 && a.Session(sidALPHA).LoggedOn(); i++ {
			time.Sleep(time.Millisecond)
		}
		return ok
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !session(data) {
			t.Fatal("logon not answered")
		}
		if !session(nil) {
			t.Fatal("a clean logon after the input was not answered")
		}
	})
}

var sidALPHA = (&Settings{Header: Header{BeginString: "FIX.4.4", SenderCompID: "EXCH", TargetCompID: "ALPHA"}}).ID()
