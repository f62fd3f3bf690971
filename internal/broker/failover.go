package broker

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quickfixgo/tag"

	"github.com/exchange-sim/exchange/internal/fixsession"
)

// Following a cluster's leader (Options.Failover, native engine).
//
// When a session's connection ends during the run, its failover goroutine
//
//  1. notes the session's requests in flight (sent, not answered): the
//     commands the old leader had not acknowledged, committed or not;
//  2. stops the session's initiator and logs on again with the session's
//     own sequence numbers and NextExpectedMsgSeqNum (789), so the new
//     leader carries the session on and sends the reports it may have
//     missed flagged PossResend (the venue's FIX session continuity; a
//     report the session had already is dropped by its ExecID, resend.go),
//     first to the address a standby's refusal names ("not the leader:
//     connect to HOST:PORT"), else to the listed addresses in turn, until a
//     node takes the logon or FailoverTimeout passes; a leader that cannot
//     continue the numbers refuses naming ResetSeqNumFlag, and the session
//     then logs on with a reset, as before continuity was built;
//  3. asks the new leader for the firm's open orders (OrderMassStatusRequest,
//     585=7) and, once its last report is in (or after resyncWait), for the
//     status of each request in flight still unanswered (OrderStatusRequest).
//
// Each status answer (ExecutionReport 150=I) answers the request it names,
// through the tracker, which answers a request at most once: a request
// answered before the drop, or by both the mass status and its own status
// request, counts once (tracker.statusReport). A request the new leader does
// not know was never committed; it counts as rejected (LostAtFailover).
// Requests built while the session is down are not sent (NotSent), as with
// any dropped session.

// attemptWait bounds one logon attempt at one address; resyncWait bounds the
// wait for the mass status's last report.
const (
	attemptWait = 2 * time.Second
	resyncWait  = 2 * time.Second
	retryPause  = 100 * time.Millisecond
)

// leaderAddrRe finds the leader's FIX address in a standby's Logout Text.
var leaderAddrRe = regexp.MustCompile(`not the leader: connect to (\S+)`)

// LeaderFromLogout returns the FIX address a cluster standby names in the
// Text of the Logout refusing a logon, if it names one.
func LeaderFromLogout(text string) (string, bool) {
	m := leaderAddrRe.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	a := strings.TrimRight(m[1], ").,;")
	if _, _, err := net.SplitHostPort(a); err != nil {
		return "", false
	}
	return a, true
}

type failover struct {
	n       *nativeTransport
	addrs   []string
	timeout time.Duration
	prefix  string
	quit    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
	// mu guards current, the address each session is connected to.
	mu      sync.Mutex
	current []string
	reqs    int // mass status requests sent (their IDs)
	// reset[i]: session i's next logon resets its sequence numbers (the
	// leader refused to continue them).
	reset []bool
}

func startFailover(n *nativeTransport, o *Options, addr string) *failover {
	f := &failover{n: n, addrs: o.Failover, timeout: o.FailoverTimeout, prefix: n.tr.prefix, quit: make(chan struct{}),
		current: make([]string, len(n.inis)), reset: make([]bool, len(n.inis))}
	for i := range n.inis {
		f.current[i] = addr
		f.wg.Add(1)
		go f.follow(i)
	}
	return f
}

func (f *failover) stop() {
	f.once.Do(func() { close(f.quit) })
	f.wg.Wait()
}

func (f *failover) stopped() bool {
	select {
	case <-f.quit:
		return true
	default:
		return false
	}
}

// follow waits for session i to drop and takes it to the leader, until the
// run ends.
func (f *failover) follow(i int) {
	defer f.wg.Done()
	app := f.n.apps[i]
	for {
		select {
		case <-f.quit:
			return
		case <-app.dropped:
		}
		inflight := f.n.tr.inflight(i)
		old := f.n.ini(i)
		old.Stop()
		drainCh(app.dropped) // the old connection's, if it ended twice
		if !f.reconnect(i) {
			if !f.stopped() {
				f.n.log.Error().Str("session", old.Session.ID().String()).Dur("timeout", f.timeout).Msg("no cluster node took the logon: the session stays down")
			}
			return
		}
		f.n.tr.failedOver(len(inflight))
		f.resync(i, inflight)
	}
}

// reconnect logs session i on to the leader: the address a refusal named,
// else the next listed one, until one takes it or the timeout passes.
func (f *failover) reconnect(i int) bool {
	app := f.n.apps[i]
	deadline := time.Now().Add(f.timeout)
	f.mu.Lock()
	from := f.current[i]
	f.mu.Unlock()
	next := 0
	for k, a := range f.addrs {
		if a == from {
			next = k + 1
		}
	}
	target := f.addrs[next%len(f.addrs)]
	for time.Now().Before(deadline) && !f.stopped() {
		// A dead node refuses the connection at once; the initiator would
		// only retry it quietly, so find out first.
		if nc, err := net.DialTimeout("tcp", target, attemptWait); err != nil {
			next++
			target = f.addrs[next%len(f.addrs)]
			pause(retryPause/4, f.quit)
			continue
		} else {
			nc.Close()
		}
		drainCh(app.loggedOn)
		drainCh(app.refused)
		ini, err := f.continued(i, target)
		if err != nil {
			f.n.log.Error().Err(err).Msg("failover: new session")
			return false
		}
		ini.Reconnect = attemptWait // one dial per attempt
		ini.Start()
		t := time.NewTimer(attemptWait)
		var refusal string
		on := false
		select {
		case <-app.loggedOn:
			on = true
		case refusal = <-app.refused:
		case <-t.C:
		case <-f.quit:
		}
		t.Stop()
		if on {
			f.n.inis[i].Store(ini)
			f.mu.Lock()
			f.current[i] = target
			f.mu.Unlock()
			f.n.log.Info().Str("session", ini.Session.ID().String()).Str("leader", target).Msg("failover: logged on to the leader")
			return true
		}
		ini.Stop()
		if strings.Contains(refusal, "ResetSeqNumFlag") {
			// The leader cannot place the session's numbers (it is
			// further behind than the leader keeps): reset, as before.
			f.mu.Lock()
			f.reset[i] = true
			f.mu.Unlock()
			continue
		}
		if a, ok := LeaderFromLogout(refusal); ok && a != target {
			target = a
			continue
		}
		if refusal != "" {
			// A standby that knows no leader yet (an election): wait a
			// little before asking again.
			pause(retryPause, f.quit)
		}
		next++
		target = f.addrs[next%len(f.addrs)]
	}
	return false
}

// resync asks the new leader for the fate of session i's requests that were
// in flight when it dropped.
func (f *failover) resync(i int, inflight []*request) {
	s := f.n.ini(i).Session
	app := f.n.apps[i]
	f.mu.Lock()
	f.reqs++
	id := f.prefix + "-ms" + strconv.Itoa(f.reqs)
	f.mu.Unlock()
	drainCh(app.massLast)
	body := fixsession.AppendString(nil, fieldMassStatusReqID, id)
	body = fixsession.AppendString(body, 585, "7")
	if err := s.SendBody("AF", body); err == nil {
		t := time.NewTimer(resyncWait)
	wait:
		for {
			select {
			case got := <-app.massLast:
				if got == id {
					break wait
				}
			case <-t.C:
				break wait
			case <-f.quit:
				t.Stop()
				return
			}
		}
		t.Stop()
	}
	rest := f.n.tr.unanswered(inflight)
	if len(rest) == 0 {
		f.n.tr.ask(i, nil)
		return
	}
	var bodies [][]byte
	for _, r := range rest {
		b := fixsession.AppendString(nil, int(tag.ClOrdID), r.clOrdID)
		b = fixsession.AppendString(b, int(tag.Symbol), r.order.symbol)
		b = fixsession.AppendInt(b, int(tag.Side), int64(r.order.side))
		bodies = append(bodies, b)
	}
	f.n.tr.ask(i, rest)
	if _, err := s.SendBodies(len(bodies), func(k int) (string, []byte) { return "H", bodies[k] }); err != nil {
		f.n.tr.ask(i, nil)
		f.n.log.Warn().Err(err).Int("requests", len(rest)).Msg("failover: status requests not sent")
	}
	f.n.log.Info().Int("in_flight", len(inflight)).Int("asked", len(rest)).Msg("failover: resynchronising")
}

func drainCh[T any](ch chan T) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

func pause(d time.Duration, quit chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-quit:
	}
}

// continued returns a new initiator of session i to target that carries on
// the session's sequence numbers (no ResetSeqNumFlag; 789 in the Logon),
// unless the leader asked for a reset. Not started.
func (f *failover) continued(i int, target string) (*fixsession.Initiator, error) {
	st := f.n.settings[i]
	f.mu.Lock()
	reset := f.reset[i]
	f.reset[i] = false
	f.mu.Unlock()
	if reset {
		st.ResetSeqNumFlag, st.ResetOnLogon = true, true
		return fixsession.NewInitiator(target, st, f.n.apps[i], f.n.slog)
	}
	out, in := f.n.ini(i).Session.NextSeqNums()
	st.ResetSeqNumFlag, st.ResetOnLogon = false, false
	st.LogonFields = fixsession.AppendInt(append([]byte(nil), st.LogonFields...), 789, int64(in))
	ini, err := fixsession.NewInitiator(target, st, f.n.apps[i], f.n.slog)
	if err != nil {
		return nil, err
	}
	if err := ini.Session.Adopt(out, in); err != nil {
		ini.Session.Close()
		return nil, err
	}
	f.n.log.Debug().Str("session", ini.Session.ID().String()).Uint64("next_out", out).Uint64("next_in", in).Str("addr", target).
		Msg("failover: logging on with the session's own sequence numbers")
	return ini, nil
}
