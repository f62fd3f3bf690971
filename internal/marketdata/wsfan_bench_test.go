//go:build unix

package marketdata

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// BenchmarkWSFanoutCPU is what a crowd of WebSocket clients costs the
// process in CPU time (user+sys, getrusage), not wall time, so that it can be
// compared on a shared machine: 500 clients follow the book and trades of
// four symbols while a recorded session is published at 20,000 events/s
// (about the 5,000 orders/s of the ws bench scenario). The clients only read
// and discard, so the figure is mostly the server's: fan-out, writes and the
// kernel's loopback. One op is one event.
func BenchmarkWSFanoutCPU(b *testing.B) {
	const eventsPerSec = 20_000
	clients := benchClients
	batches, _ := benchSession()
	p, _ := New(Config{Symbols: benchSymbols()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan struct{})
	go func() { p.Run(ctx); close(runDone) }()
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()

	var frames, bytesIn, closed atomic.Int64
	var wg sync.WaitGroup
	ready := make(chan struct{}, clients)
	sub := []byte(`{"op":"subscribe","channels":["book","trades"],"symbols":["AAPL","MSFT","BTC-USD","GOOG"]}`)
	for c := 0; c < clients; c++ {
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
		if err != nil {
			b.Fatal(err)
		}
		conn.SetReadLimit(1 << 24)
		if err := conn.Write(ctx, websocket.MessageText, sub); err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.CloseNow()
			buf := make([]byte, 64<<10)
			first := true
			for {
				_, r, err := conn.Reader(ctx)
				if err != nil {
					if ctx.Err() == nil {
						closed.Add(1)
					}
					return
				}
				n, _ := io.CopyBuffer(io.Discard, r, buf)
				frames.Add(1)
				bytesIn.Add(n)
				if first {
					first = false
					ready <- struct{}{}
				}
			}
		}()
	}
	for c := 0; c < clients; c++ {
		<-ready
	}
	time.Sleep(100 * time.Millisecond) // the rest of the snapshots
	frames0, bytes0, resyncs0 := frames.Load(), bytesIn.Load(), p.resyncs.Load()
	cpu0 := processCPU()
	b.ResetTimer()
	start := time.Now()
	n := publishPaced(b, p, batches, eventsPerSec)
	time.Sleep(100 * time.Millisecond) // the last frames
	b.StopTimer()
	cpu := processCPU() - cpu0
	elapsed := time.Since(start)
	cancel()
	srv.CloseClientConnections()
	wg.Wait()
	<-runDone
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/event")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cores")
	b.ReportMetric(float64(frames.Load()-frames0)/elapsed.Seconds(), "frames/s")
	b.ReportMetric(float64(bytesIn.Load()-bytes0)/elapsed.Seconds()/1e6, "MB/s")
	b.ReportMetric(float64(p.resyncs.Load()-resyncs0), "resyncs")
	if n := closed.Load(); n > 0 {
		b.Fatalf("%d clients' connections ended during the run", n)
	}
}

// processCPU is the process's user+sys CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var benchClients = 500
