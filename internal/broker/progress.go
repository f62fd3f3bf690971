package broker

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress prints one line a second: elapsed, request rate over the last
// second, requests sent, answered, and the ack p99 so far. On a terminal it
// redraws the line in place; otherwise it appends lines.
type progress struct {
	w        io.Writer
	tr       *tracker
	start    time.Time
	terminal bool
	done     chan struct{}
	wg       sync.WaitGroup
	lastSent int64
	last     time.Time
}

func newProgress(w io.Writer, tr *tracker, start time.Time) *progress {
	p := &progress{w: w, tr: tr, start: start, done: make(chan struct{}), last: start}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.terminal = true
	}
	return p
}

func (p *progress) startLoop() {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				return
			case now := <-tick.C:
				p.print(now, false)
			}
		}
	}()
}

func (p *progress) print(now time.Time, final bool) {
	t := p.tr
	t.mu.Lock()
	sent, answered := t.sent, t.acked+t.rejected
	p99 := "-"
	if t.ack.TotalCount() > 0 {
		p99 = formatNs(t.ack.ValueAtPercentile(99))
	}
	t.mu.Unlock()
	rate := float64(sent-p.lastSent) / now.Sub(p.last).Seconds()
	if final {
		rate = float64(sent) / now.Sub(p.start).Seconds()
	}
	p.lastSent, p.last = sent, now
	line := fmt.Sprintf("%5.0fs  %8.0f req/s  sent %d  answered %d  p99 %s",
		now.Sub(p.start).Seconds(), rate, sent, answered, p99)
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// stop ends the loop and prints a last line covering the whole run.
func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
	p.print(time.Now(), true)
	if p.terminal {
		fmt.Fprintln(p.w)
	}
}
