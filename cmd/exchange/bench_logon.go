package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/exchange-sim/exchange/internal/bench"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/sequencer"
)

// benchLogon is a logon storm: n sessions (1,000; 200 with --quick), each
// with its own firm, log on to a fresh venue all at once, every session
// giving up after 300 s; then they all drop and log on again at once, as
// after a network blip. It runs twice: with passwords hashed at bcrypt's
// default cost (10), where the first storm pays one bcrypt per session, run a
// core's worth at a time, and the second finds every password already
// verified; and with API keys (password_hash "sha256:..."), where every logon
// costs one SHA-256.
func benchLogon(tmp string, quick bool, stderr io.Writer) ([]benchRow, error) {
	n := 1000
	if quick {
		n = 200
	}
	const password = "storm-password"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	// A fixed key is enough for a benchmark: what it measures is the check.
	const key = "c3Rvcm0ta2V5LXRoaXJ0eS10d28tcmFuZG9tLWJ5dGVz"
	var rows []benchRow
	for _, cred := range []struct{ kind, hash, password string }{
		{"bcrypt 10", string(hash), password},
		{"API key", refdata.APIKeyHashOf(key), key},
	} {
		got, err := benchLogonOne(tmp, n, cred.kind, cred.hash, cred.password, stderr)
		if err != nil {
			return nil, err
		}
		rows = append(rows, got...)
	}
	return rows, nil
}

func benchLogonOne(tmp string, n int, kind, hash, password string, stderr io.Writer) ([]benchRow, error) {
	cfg, err := bench.LogonConfig(n, hash)
	if err != nil {
		return nil, err
	}
	cfg.DataDir = filepath.Join(tmp, "logon-venue-"+strings.ReplaceAll(kind, " ", "-"))
	cfg.Durability = sequencer.DurabilityNone
	cfg.ListenFIX = freeAddr("127.0.0.1:0")
	cfg.ListenHTTP = "127.0.0.1:0"
	v, err := startVenue(cfg, venueOptions{}, zerolog.Nop())
	if err != nil {
		return nil, err
	}
	defer v.stop()
	var rows []benchRow
	for _, round := range []string{"first logon", "reconnect"} {
		name := fmt.Sprintf("logon storm %d %s, %s", n, kind, round)
		fmt.Fprintf(stderr, "running %s...\n", name)
		c0 := bench.ProcessCPU()
		r := bench.RunLogonStorm(cfg.ListenFIX, cfg.TargetCompID, n, password, 300*time.Second)
		cpu := bench.ProcessCPU() - c0
		note := fmt.Sprintf("all %d logged on %s after the storm began; %s, %d sessions; process CPU %s (venue and clients)", r.LoggedOn, durStr(int64(r.Elapsed)), kind, n, durStr(int64(cpu)))
		if r.LoggedOn < n {
			note = fmt.Sprintf("%d of %d logged on within 300 s: %s", r.LoggedOn, n, strings.Join(r.Errors, "; "))
		}
		rows = append(rows, benchRow{name: name, ops: strconv.Itoa(r.LoggedOn), rate: rateStr(float64(r.LoggedOn)/r.Elapsed.Seconds(), "logons/s"),
			lat: r.Latency, note: note})
		r.Close()
		// Every session seen gone before the next storm.
		for i := range cfg.Sessions {
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if _, live := v.gw.LiveSession(cfg.Sessions[i].ID); !live {
					break
				}
			}
		}
	}
	return rows, nil
}
