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
	"github.com/exchange-sim/exchange/sequencer"
)

// benchLogon is a logon storm: n sessions (1,000; 200 with --quick), each
// with its own firm, log on to a fresh venue all at once with passwords
// hashed at bcrypt's default cost (10), every session giving up after 300 s;
// then they all drop and log on again at once, as after a network blip. The
// first storm pays one bcrypt per session, run a core's worth at a time; the
// second finds every password already verified.
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
	cfg, err := bench.LogonConfig(n, string(hash))
	if err != nil {
		return nil, err
	}
	cfg.DataDir = filepath.Join(tmp, "logon-venue")
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
		name := fmt.Sprintf("logon storm %d, %s", n, round)
		fmt.Fprintf(stderr, "running %s...\n", name)
		r := bench.RunLogonStorm(cfg.ListenFIX, cfg.TargetCompID, n, password, 300*time.Second)
		note := fmt.Sprintf("all %d logged on %s after the storm began; bcrypt cost 10, %d sessions", r.LoggedOn, durStr(int64(r.Elapsed)), n)
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
