package broker

import (
	"fmt"
	"sync"
	"time"
)

// logons follows the logon state of a run's sessions, for either engine:
// Run waits on it before it sends anything.
type logons struct {
	creds []Session

	mu       sync.Mutex
	loggedOn []bool
	refused  []string // Text of a Logout received before logon
	changed  chan struct{}
}

func newLogons(sessions []Session) *logons {
	return &logons{creds: sessions, loggedOn: make([]bool, len(sessions)), refused: make([]string, len(sessions)),
		changed: make(chan struct{}, 1)}
}

// setLoggedOn records that session i logged on or off; i < 0 is ignored.
func (l *logons) setLoggedOn(i int, on bool) { l.set(i, func() { l.loggedOn[i] = on }) }

// logonRefused records the Text of a Logout that session i received; i < 0
// is ignored.
func (l *logons) logonRefused(i int, text string) { l.set(i, func() { l.refused[i] = text }) }

// set applies change to session i's state under the lock and wakes
// waitLogon.
func (l *logons) set(i int, change func()) {
	if i < 0 {
		return
	}
	l.mu.Lock()
	change()
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// waitLogon blocks until every session is logged on, a Logout with a reason
// arrives, or the timeout passes.
func (l *logons) waitLogon(timeout time.Duration, stop <-chan struct{}) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		all := true
		for i, ok := range l.loggedOn {
			if l.refused[i] != "" && !ok {
				err := fmt.Errorf("broker: logon of %s refused: %s", l.creds[i].SenderCompID, l.refused[i])
				l.mu.Unlock()
				return err
			}
			all = all && ok
		}
		l.mu.Unlock()
		if all {
			return nil
		}
		select {
		case <-l.changed:
		case <-stop:
			return fmt.Errorf("broker: cancelled while logging on")
		case <-deadline.C:
			l.mu.Lock()
			defer l.mu.Unlock()
			for i, ok := range l.loggedOn {
				if !ok {
					return fmt.Errorf("broker: session %s->%s not logged on after %s",
						l.creds[i].SenderCompID, l.creds[i].TargetCompID, timeout)
				}
			}
			return nil
		}
	}
}
