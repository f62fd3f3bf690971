package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/exchange-sim/exchange/internal/broker"
)

// parseFIXAddrs parses --fix: one host:port, or a comma-separated list (the
// nodes of a cluster).
func parseFIXAddrs(s string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return nil, fmt.Errorf("--fix %q: %w", a, err)
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 || host == "" {
			return nil, fmt.Errorf("--fix %q: bad address", a)
		}
		out = append(out, a)
	}
	return out, nil
}

// runFollowingLeader runs the broker against the first address; when a
// cluster standby refuses the logon naming the leader, it runs against the
// leader instead, and when an address does not answer (or no leader is
// elected yet) it tries the next in the list, for up to FailoverTimeout.
// With several addresses a session that drops during the run follows the
// leader too (broker.Options.Failover).
func runFollowingLeader(ctx context.Context, o broker.Options, addrs []string) (*broker.Result, error) {
	if len(addrs) > 1 {
		o.Failover = addrs
	}
	var lastErr error
	next := 0
	target := addrs[0]
	// Try for as long as a session's reconnection may take: an election
	// on a busy machine can take a few rounds.
	wait := o.FailoverTimeout
	if wait <= 0 {
		wait = 15 * time.Second
	}
	deadline := time.Now().Add(wait)
	for attempt := 0; attempt < 2*len(addrs)+2 || time.Now().Before(deadline); attempt++ {
		if attempt > 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A dead node refuses the connection at once, where a logon
		// attempt would wait for LogonTimeout.
		if len(addrs) > 1 {
			nc, err := net.DialTimeout("tcp", target, 2*time.Second)
			if err != nil {
				lastErr = err
				next = (next + 1) % len(addrs)
				target = addrs[next]
				time.Sleep(50 * time.Millisecond)
				continue
			}
			nc.Close()
		}
		host, port, _ := net.SplitHostPort(target)
		o.Host = host
		o.Port, _ = strconv.Atoi(port)
		res, err := broker.Run(ctx, o)
		if err == nil || res != nil && res.Sent > 0 || ctx.Err() != nil {
			return res, err
		}
		lastErr = err
		if a, ok := broker.LeaderFromLogout(err.Error()); ok && a != target {
			target = a
			continue
		}
		next = (next + 1) % len(addrs)
		target = addrs[next]
		// Refused with no leader named (an election under way, or not
		// answering): pause before the next node.
		time.Sleep(200 * time.Millisecond)
	}
	if len(addrs) > 1 {
		return nil, errors.Join(errors.New("no node of the cluster took the logon"), lastErr)
	}
	return nil, lastErr
}
