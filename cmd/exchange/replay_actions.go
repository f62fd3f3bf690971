package main

import (
	"fmt"
	"io"
	"time"

	"github.com/exchange-sim/exchange/internal/admin"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/sequencer"
)

// replayActionsMax bounds the operator actions replay lists one by one.
const replayActionsMax = 1000

// replayActions collects the operator actions a replay meets.
type replayActions struct {
	cfg   *config.Config
	list  []ordermanager.OperatorNote // described at print time, once every listing is known
	total int
}

func (r *replayActions) add(it *sequencer.Item) {
	n, ok := ordermanager.DecodeOperatorNote(&it.Cmd, it.MetaBytes())
	if !ok {
		return
	}
	r.total++
	if len(r.list) < replayActionsMax {
		r.list = append(r.list, n)
	}
}

func (r *replayActions) print(w io.Writer) {
	fmt.Fprintf(w, "  operator actions        %d\n", r.total)
	for i := range r.list {
		a := new(admin.Action)
		*a = admin.NoteAction(r.cfg.Registry, &r.list[i])
		fmt.Fprintf(w, "    seq %-10d %s  %-12s %-20s by %s: %s\n", a.Seq, a.Time.Format(time.RFC3339), a.Action, admin.ActionTarget(a), a.Who, a.Why)
	}
	if r.total > len(r.list) {
		fmt.Fprintf(w, "    (%d more not listed)\n", r.total-len(r.list))
	}
}
