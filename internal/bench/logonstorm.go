package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/tag"

	"github.com/exchange-sim/exchange/internal/config"
)

// LogonConfig is a venue of one symbol and n firms of one session each
// (SenderCompID STORM<i>, username u<i>), every session with passwordHash.
func LogonConfig(n int, passwordHash string) (*config.Config, error) {
	var b strings.Builder
	b.WriteString("currency: {code: USD, minor_units: 2}\nsymbols:\n  - {name: BENCH, tick_size: \"0.01\", lot_size: \"1\", reference_price: \"100.00\"}\nfirms:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - name: F%d\n    sessions: [{sender_comp_id: STORM%d, username: u%d, password_hash: %q}]\n    accounts: [{name: A%d}]\n", i, i, i, passwordHash, i)
	}
	return config.Parse([]byte(b.String()), "logon storm configuration")
}

// LogonResult is what a storm measured.
type LogonResult struct {
	Sessions, LoggedOn int
	// Elapsed is the storm's start to its last logon answered.
	Elapsed time.Duration
	// Latency is each session's Logon sent -> Logon answer, in ns.
	Latency *hdrhistogram.Histogram
	// Conns are the logged-on connections, for the caller to close.
	Conns []net.Conn
	// Errors holds the first few failures.
	Errors []string
}

// Close closes the storm's connections.
func (r *LogonResult) Close() {
	for _, c := range r.Conns {
		c.Close()
	}
}

// RunLogonStorm logs sessions 1..n of LogonConfig on at addr all at once
// (target TargetCompID, ResetSeqNumFlag Y so that every storm starts at 1),
// each giving up after timeout, and keeps them connected.
func RunLogonStorm(addr, target string, n int, password string, timeout time.Duration) *LogonResult {
	r := &LogonResult{Sessions: n, Latency: hdrhistogram.New(1, int64(time.Minute), 3)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			c, err := rawLogon(addr, target, i, password, t0.Add(timeout))
			el := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if len(r.Errors) < 5 {
					r.Errors = append(r.Errors, err.Error())
				}
				return
			}
			r.LoggedOn++
			r.Conns = append(r.Conns, c)
			_ = r.Latency.RecordValue(max(int64(el), 1))
			r.Elapsed = max(r.Elapsed, time.Since(start))
		}()
	}
	wg.Wait()
	return r
}

func rawLogon(addr, target string, i int, password string, deadline time.Time) (net.Conn, error) {
	m := quickfix.NewMessage()
	m.Header.SetString(tag.BeginString, quickfix.BeginStringFIX44)
	m.Header.SetString(tag.MsgType, "A")
	m.Header.SetString(tag.SenderCompID, fmt.Sprintf("STORM%d", i))
	m.Header.SetString(tag.TargetCompID, target)
	m.Header.SetInt(tag.MsgSeqNum, 1)
	m.Header.SetField(tag.SendingTime, quickfix.FIXUTCTimestamp{Time: time.Now()})
	m.Body.SetString(tag.EncryptMethod, "0")
	m.Body.SetString(tag.HeartBtInt, "30")
	m.Body.SetString(tag.ResetSeqNumFlag, "Y")
	m.Body.SetString(tag.Username, fmt.Sprintf("u%d", i))
	m.Body.SetString(tag.Password, password)
	c, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(m.Bytes()); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetReadDeadline(deadline)
	br := bufio.NewReader(c)
	var got []byte
	for {
		b, err := br.ReadByte()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("STORM%d: %w", i, err)
		}
		got = append(got, b)
		if bytes.Contains(got, []byte("\x0135=A\x01")) {
			_ = c.SetReadDeadline(time.Time{})
			return c, nil
		}
		if bytes.Contains(got, []byte("\x0135=5\x01")) && bytes.HasSuffix(got, []byte("\x0110=")) {
			c.Close()
			return nil, fmt.Errorf("STORM%d refused: %q", i, got)
		}
	}
}
