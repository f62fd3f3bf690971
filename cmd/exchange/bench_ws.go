package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/bench"
	"github.com/exchange-sim/exchange/internal/broker"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/sequencer"
)

// benchWS measures what a crowd of WebSocket market-data clients costs the
// orders: a venue (journal durability none, so that fsync noise does not
// hide the subscribers' share) takes orders over FIX at 5,000/s open loop,
// first with no subscriber, then with clients WebSocket clients following
// the book and trades of every symbol. Rows: the orders' ack latency both
// ways, and the clients' delay from each trade's engine timestamp to its
// arrival. Clients, venue and broker share the machine's cores.
func benchWS(tmp string, quick bool, stderr io.Writer) ([]benchRow, error) {
	clients, dur, rate := 1000, 20*time.Second, 5000.0
	if quick {
		clients, dur = 200, 5*time.Second
	}
	cfg := config.Default()
	cfg.DataDir = filepath.Join(tmp, "ws-venue")
	cfg.Durability = sequencer.DurabilityNone
	cfg.ListenFIX = freeAddr("127.0.0.1:0")
	cfg.ListenHTTP = "127.0.0.1:0"
	v, err := startVenue(cfg, venueOptions{}, zerolog.Nop())
	if err != nil {
		return nil, err
	}
	defer v.stop()
	_, portStr, _ := net.SplitHostPort(cfg.ListenFIX)
	port, _ := strconv.Atoi(portStr)
	var cpu time.Duration // the process's CPU time over the last run
	run := func(name string) (*broker.Result, error) {
		fmt.Fprintf(stderr, "running %s...\n", name)
		o := broker.DefaultOptions()
		o.Port, o.Symbols, o.Seed, o.Duration = port, brokerSymbols(cfg), 1, dur
		o.Mode, o.Rate, o.Window = broker.ModeOpen, rate, 256
		c0 := bench.ProcessCPU()
		r, err := broker.Run(context.Background(), o)
		cpu = bench.ProcessCPU() - c0
		return r, err
	}
	var rows []benchRow
	base, err := run("WS fan-out: orders without subscribers")
	if err != nil {
		return nil, err
	}
	rows = append(rows, benchRow{name: "FIX ack @5k/s, no WS clients", ops: strconv.FormatInt(base.Sent, 10),
		rate: rateStr(base.Throughput, "orders/s"), lat: base.Ack,
		note: fmt.Sprintf("order sent -> first answer, journal none; process CPU %.2f cores; %d unanswered%s", cpu.Seconds()/dur.Seconds(), base.Unanswered, lateNote(base.SendLate))})

	var syms []string
	for _, s := range cfg.Symbols {
		syms = append(syms, s.Name)
	}
	fmt.Fprintf(stderr, "connecting %d WebSocket clients (in a child process, as remote clients would be)...\n", clients)
	ws, err := startWSChild(v.httpAddr, clients, syms)
	if err != nil {
		return nil, err
	}
	resyncs0 := v.md.Counters().SlowResyncs
	ws.measure()
	with, err := run(fmt.Sprintf("WS fan-out: orders with %d clients", clients))
	time.Sleep(200 * time.Millisecond) // the last trades reach the clients
	wr, childCPU, werr := ws.stop()
	if err != nil {
		return nil, err
	}
	if werr != nil {
		return nil, werr
	}
	resyncs := v.md.Counters().SlowResyncs - resyncs0
	rows = append(rows, benchRow{name: fmt.Sprintf("FIX ack @5k/s, %d WS clients", clients), ops: strconv.FormatInt(with.Sent, 10),
		rate: rateStr(with.Throughput, "orders/s"), lat: with.Ack,
		note: fmt.Sprintf("p99 %.2fx the no-subscriber run; process CPU %.2f cores (the venue's process; clients apart); %d unanswered%s", float64(with.Ack.ValueAtQuantile(99))/float64(max(base.Ack.ValueAtQuantile(99), 1)),
			cpu.Seconds()/dur.Seconds(), with.Unanswered, lateNote(with.SendLate))})
	rows = append(rows, benchRow{name: fmt.Sprintf("WS %d clients: trade delay", clients), ops: strconv.FormatInt(wr.Messages, 10),
		rate: rateStr(float64(wr.Messages)/dur.Seconds(), "msgs/s"), lat: wr.Delay,
		note: fmt.Sprintf("trade timestamp -> client; worst client's p99 %s; %d out-of-order seq, %d closed early, %d resyncs; %.0f trades/s and %.0f KB/s per client, in %.1f k frames/s of %.1f KB on average; clients' child process CPU %.2f cores",
			durStr(wr.ClientP99Max), wr.OutOfOrder, wr.Closed, resyncs,
			float64(wr.Delay.TotalCount())/float64(max(wr.Clients, 1))/dur.Seconds(), float64(wr.Bytes)/float64(max(wr.Clients, 1))/dur.Seconds()/1e3,
			float64(wr.Frames)/dur.Seconds()/1e3, float64(wr.Bytes)/float64(max(wr.Frames, 1))/1e3, childCPU.Seconds()/dur.Seconds())})
	return rows, nil
}

// The WebSocket clients run in a child process of the same binary, started
// with wsChildEnv set to "addr clients sym1,sym2,...": then they share the
// machine's cores with the venue as remote clients would, through the OS
// scheduler, rather than queueing in the venue's own Go run queue. The
// child prints "ready", starts measuring at "measure" on stdin and answers
// "stop" with the result as JSON.
const wsChildEnv = "EXCHANGE_BENCH_WS_CHILD"

func init() {
	if spec := os.Getenv(wsChildEnv); spec != "" {
		if err := runWSChild(spec, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "ws clients:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// wsChildResult is what the child reports.
type wsChildResult struct {
	Result bench.WSResult
	Delay  *hdrhistogram.Snapshot
	// CPU is the child's own CPU time (user+sys) from measure to stop: what
	// the clients' reading and checking cost, apart from the venue's.
	CPU time.Duration
}

// wsChildProfileEnv, when set in the bench's environment, names a file the
// clients' child writes its CPU profile into (measure to stop).
const wsChildProfileEnv = "EXCHANGE_BENCH_WS_CHILD_CPUPROFILE"

func runWSChild(spec string, in io.Reader, out io.Writer) error {
	f := strings.Fields(spec)
	if len(f) != 3 {
		return fmt.Errorf("%s=%q: want \"addr clients symbols\"", wsChildEnv, spec)
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return err
	}
	ws, err := bench.DialWSClients(f[0], n, strings.Split(f[2], ","))
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "ready")
	sc := bufio.NewScanner(in)
	var cpu0 time.Duration
	stopProfile := func() {}
	for sc.Scan() {
		switch sc.Text() {
		case "measure":
			if path := os.Getenv(wsChildProfileEnv); path != "" {
				if stopProfile, err = startCPUProfile(path); err != nil {
					return err
				}
			}
			cpu0 = bench.ProcessCPU()
			ws.Measure()
		case "stop":
			r := ws.Stop()
			cpu := bench.ProcessCPU() - cpu0
			stopProfile()
			return json.NewEncoder(out).Encode(wsChildResult{Result: r, Delay: r.Delay.Export(), CPU: cpu})
		}
	}
	ws.Stop()
	return errors.New("stdin closed before stop")
}

type wsChild struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startWSChild(addr string, n int, syms []string) (*wsChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %s", wsChildEnv, addr, n, strings.Join(syms, ",")))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &wsChild{cmd: cmd, in: in, out: bufio.NewReader(outPipe)}
	line, err := c.out.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("ws clients child: %q, %v", line, err)
	}
	return c, nil
}

func (c *wsChild) measure() { fmt.Fprintln(c.in, "measure") }

func (c *wsChild) stop() (bench.WSResult, time.Duration, error) {
	fmt.Fprintln(c.in, "stop")
	var res wsChildResult
	err := json.NewDecoder(c.out).Decode(&res)
	c.in.Close()
	if werr := c.cmd.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return bench.WSResult{}, 0, fmt.Errorf("ws clients child: %w", err)
	}
	res.Result.Delay = hdrhistogram.Import(res.Delay)
	return res.Result, res.CPU, nil
}
