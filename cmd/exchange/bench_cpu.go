package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/exchange-sim/exchange/internal/broker"
	"github.com/exchange-sim/exchange/internal/config"
)

// benchFIXCPU measures what serving a FIX client costs the exchange in CPU
// per order, for a client that batches its writes (exchange broker's
// default) and for one that writes every message with its own system call
// (--write-each, as QuickFIX and most engines do). The venue runs as a
// child process (`exchange serve`, journal durability none) so that its CPU
// time is its own: utime+stime from /proc/<pid>/stat across the broker's
// closed-loop run, 256 in flight, 3 sessions. The venue runs without its
// reporter (the history database beside serve, on by default): its CPU
// follows the journal whatever the FIX client does, and on two cores it
// would halve the throughput measured here (BENCHMARKS.md).
func benchFIXCPU(tmp string, quick bool, stderr io.Writer) ([]benchRow, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dur := 15 * time.Second
	if quick {
		dur = 5 * time.Second
	}
	cfgFile := filepath.Join(tmp, "fixcpu.yaml")
	def := string(config.DefaultYAML())
	noReporter := strings.Replace(def, "reporter:\n  enabled: true", "reporter:\n  enabled: false", 1)
	if noReporter == def {
		return nil, fmt.Errorf("fixcpu: the default configuration has no reporter.enabled to turn off")
	}
	if err := os.WriteFile(cfgFile, []byte(noReporter), 0o644); err != nil {
		return nil, err
	}
	var rows []benchRow
	var base float64
	for _, each := range []bool{false, true} {
		name := "FIX none, closed loop, batched writes"
		if each {
			name = "FIX none, closed loop, one write per message"
		}
		fmt.Fprintf(stderr, "running %s (venue as a child process)...\n", name)
		addr := freeAddr("127.0.0.1:0")
		dir := filepath.Join(tmp, "fixcpu-"+strconv.FormatBool(each))
		cmd := exec.Command(self, "serve", "--config", cfgFile, "--data", dir, "--fix", addr, "--http", "127.0.0.1:0", "--durability", "none", "--log-level", "warn")
		cmd.Stdout, cmd.Stderr = io.Discard, stderr
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		stop := func() {
			_ = cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}
		if err := waitDial(addr, 20*time.Second); err != nil {
			stop()
			return nil, err
		}
		cfg := config.Default()
		_, portStr, _ := net.SplitHostPort(addr)
		o := broker.DefaultOptions()
		o.Port, _ = strconv.Atoi(portStr)
		o.Symbols, o.Seed, o.Duration = brokerSymbols(cfg), 1, dur
		o.Mode, o.Window, o.WriteEach = broker.ModeClosed, 256, each
		cpu0, cpuErr := procCPU(cmd.Process.Pid)
		r, err := broker.Run(context.Background(), o)
		cpu1, cpuErr1 := procCPU(cmd.Process.Pid)
		stop()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		note := "CPU of the venue per order: not measured (" + fmt.Sprint(cpuErr, cpuErr1) + ")"
		if cpuErr == nil && cpuErr1 == nil && r.Sent > 0 {
			perOrder := (cpu1 - cpu0).Seconds() / float64(r.Sent) * 1e6
			note = fmt.Sprintf("CPU of the venue (child process) %.1f µs per order", perOrder)
			if !each {
				base = perOrder
			} else if base > 0 {
				note += fmt.Sprintf(", %.2f× the batched client's", perOrder/base)
			}
		}
		note += fmt.Sprintf("; %d rejected, %d unanswered", r.Rejected, r.Unanswered)
		rows = append(rows, benchRow{name: name, ops: strconv.FormatInt(r.Sent, 10), rate: rateStr(r.Throughput, "orders/s"), lat: r.Ack, note: note})
	}
	return rows, nil
}

// waitDial waits until addr accepts connections.
func waitDial(addr string, max time.Duration) error {
	deadline := time.Now().Add(max)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("venue at %s not listening after %s: %w", addr, max, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// procCPU is a process's user plus system CPU time from /proc (Linux).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticksPerSecond, nil
}
