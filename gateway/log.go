package gateway

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/quickfixgo/quickfix"
	"github.com/rs/zerolog"
)

// logFactory routes QuickFIX/Go's logs through zerolog. Messages in and out
// are written at trace level only (with Password 554 masked), so nothing is
// written per message at the default level; session events are written at
// info, except the per-message ones (rejects, failed sends) at debug.
//
// A configured session's log also opens the session's outbox gate when an
// application message reaches the writer (outbox.go).
type logFactory struct {
	log zerolog.Logger
	g   *Gateway
}

func (f logFactory) Create() (quickfix.Log, error) {
	return fixLog{log: f.log.With().Str("fix", "global").Logger()}, nil
}

func (f logFactory) CreateSessionLog(sid quickfix.SessionID) (quickfix.Log, error) {
	l := fixLog{log: f.log.With().Str("fix", sid.String()).Logger()}
	if f.g != nil {
		if st := f.g.bySID[sid]; st != nil {
			return gatedLog{fixLog: l, out: st.out}, nil
		}
	}
	return l, nil
}

type fixLog struct{ log zerolog.Logger }

type gatedLog struct {
	fixLog
	out *outbox
}

func (l gatedLog) OnOutgoing(b []byte) {
	l.fixLog.OnOutgoing(b)
	l.out.outgoing(b)
}

func (l fixLog) OnIncoming(b []byte) {
	if e := l.log.Trace(); e.Enabled() {
		e.Str("in", printable(maskPassword(b))).Msg("fix in")
	}
}

func (l fixLog) OnOutgoing(b []byte) {
	if e := l.log.Trace(); e.Enabled() {
		e.Str("out", printable(b)).Msg("fix out")
	}
}

func (l fixLog) OnEvent(s string) {
	l.event(s)
}

func (l fixLog) OnEventf(format string, args ...interface{}) {
	if l.log.GetLevel() > zerolog.InfoLevel {
		return
	}
	l.event(fmt.Sprintf(format, args...))
}

func (l fixLog) event(s string) {
	if strings.HasPrefix(s, "Message Rejected") || strings.HasPrefix(s, "Failed to send") ||
		strings.HasPrefix(s, "Invalid Message") {
		l.log.Debug().Msg(printable(maskPassword([]byte(s))))
		return
	}
	l.log.Info().Msg(printable(maskPassword([]byte(s))))
}

// maskPassword replaces the value of every Password (554) field in a raw FIX
// message with asterisks. It returns b itself when there is none.
func maskPassword(b []byte) []byte {
	i := bytes.Index(b, []byte("\x01554="))
	if i < 0 {
		return b
	}
	out := bytes.Clone(b)
	for i >= 0 {
		start := i + len("\x01554=")
		end := bytes.IndexByte(out[start:], 0x01)
		if end < 0 {
			end = len(out) - start
		}
		for j := start; j < start+end; j++ {
			out[j] = '*'
		}
		next := bytes.Index(out[start+end:], []byte("\x01554="))
		if next < 0 {
			break
		}
		i = start + end + next
	}
	return out
}

// printable shows SOH as '|' so a FIX message reads on one log line.
func printable(b []byte) string {
	return strings.ReplaceAll(string(b), "\x01", "|")
}
