package broker

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// JournalSource re-sends the inbound orders of an exchange journal: every
// new order, cancel and replace the exchange accepted, in sequence order, at
// the offsets its sequencer stamped. Orders are named by their exchange
// OrderID, so cancels and replaces follow the orders they targeted. Each
// command goes out on the first session of the firm owning its account
// (ref must be the reference data the journal was written with). Mass
// cancels, halts and operator commands are not order flow and are skipped.
type JournalSource struct {
	r       *sequencer.Reader
	ref     *refdata.Registry
	firstNs int64
	Skipped int
}

// OpenJournal opens the journal in the data folder dir.
func OpenJournal(dir string, ref *refdata.Registry) (*JournalSource, error) {
	r, err := sequencer.NewReader(dir, 1)
	if err != nil {
		return nil, err
	}
	return &JournalSource{r: r, ref: ref}, nil
}

// Close closes the journal.
func (j *JournalSource) Close() error { return j.r.Close() }

// Next returns the next order intent, or io.EOF after the last.
func (j *JournalSource) Next() (Intent, error) {
	for {
		rec, err := j.r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Intent{}, io.EOF
			}
			return Intent{}, err
		}
		if rec.Kind != sequencer.RecordCommand {
			continue
		}
		c := &rec.Item.Cmd
		in, ok, err := j.intent(c)
		if err != nil {
			return Intent{}, fmt.Errorf("journal seq %d: %w", c.Seq, err)
		}
		if !ok {
			j.Skipped++
			continue
		}
		return in, nil
	}
}

func (j *JournalSource) intent(c *matching.Command) (Intent, bool, error) {
	var in Intent
	switch c.Kind {
	case matching.CmdNew:
		in.Kind = KindNew
	case matching.CmdCancel:
		in.Kind = KindCancel
	case matching.CmdReplace:
		in.Kind = KindReplace
	default:
		return in, false, nil
	}
	if j.firstNs == 0 {
		j.firstNs = c.TimeNs
	}
	in.At = time.Duration(c.TimeNs - j.firstNs)
	acc, ok := j.ref.Account(c.Account)
	if !ok {
		return in, false, fmt.Errorf("account %d is not in the configuration", c.Account)
	}
	firm, _ := j.ref.Firm(acc.Firm)
	sess, _ := j.ref.Session(firm.Sessions[0])
	in.Session = sess.SenderCompID
	in.Ref = "o" + strconv.FormatUint(uint64(c.OrderID), 10)
	if in.Kind == KindCancel {
		return in, true, nil
	}
	sym, ok := j.ref.Symbol(c.Symbol)
	if !ok {
		return in, false, fmt.Errorf("symbol %d is not in the configuration", c.Symbol)
	}
	in.Symbol = sym.Name
	in.Side = FIXSide(c.Side)
	in.Qty = sym.LotsToQty(c.Qty)
	in.PostOnly = c.PostOnly
	if c.Type == matching.Market {
		in.Type, in.TIF = FIXMarket, FIXIOC
		return in, true, nil
	}
	in.Type = FIXLimit
	in.Price = sym.TicksToPrice(c.Price)
	switch c.TIF {
	case matching.GTC:
		in.TIF = FIXGTC
	case matching.IOC:
		in.TIF = FIXIOC
	case matching.FOK:
		in.TIF = FIXFOK
	default:
		in.TIF = FIXDay
	}
	return in, true, nil
}
