package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/term"

	"github.com/exchange-sim/exchange/internal/broker"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/marketdata"
	"github.com/exchange-sim/exchange/internal/pipeline"
	"github.com/exchange-sim/exchange/matching"
)

func cmdReplay(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	dataDir := fs.String("data", "", "data folder holding journal/ and snapshots/ (required)")
	configPath := fs.String("config", "", "configuration the journal was written with (default: the embedded default)")
	until := fs.Uint64("until", 0, "stop after this command sequence number (0: the whole journal)")
	useSnap := fs.Bool("from-snapshot", false, "start from the newest valid snapshot instead of the first record")
	execCSV := fs.String("executions", "", "write the regenerated executions (trades) to this CSV file")
	tradesCSV := fs.String("trades", "", "write the rebuilt trade tape (market data view) to this CSV file")
	candlesCSV := fs.String("candles", "", "write the rebuilt candles to this CSV file")
	interval := fs.String("interval", "1m", "candle interval for --candles: 1s, 1m, 5m or 1h")
	paceFlag := fs.String("pace", "max", "max (as fast as possible), recorded, or a factor like 10x")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dataDir == "" {
		fmt.Fprintln(stderr, "exchange replay: --data DIR is required")
		return errUsage
	}
	iv, ok := marketdata.ParseInterval(*interval)
	if !ok {
		return fmt.Errorf("--interval: %q is not one of 1s, 1m, 5m, 1h", *interval)
	}
	pace, err := broker.ParsePace(*paceFlag)
	if err != nil {
		return fmt.Errorf("--pace: %w", err)
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}

	var md *marketdata.Publisher
	if *tradesCSV != "" || *candlesCSV != "" {
		if md, err = marketdata.New(marketdata.Config{Symbols: mdSymbols(cfg), Listed: mdListed(cfg), TradesMax: 1 << 20, CandlesMax: 1 << 20}); err != nil {
			return err
		}
	}
	var execW *csvExec
	if *execCSV != "" {
		f, err := os.Create(*execCSV)
		if err != nil {
			return fmt.Errorf("--executions: %w", err)
		}
		defer f.Close()
		execW = newCSVExec(f, cfg)
	}

	sum := newReplaySummary(cfg)
	acts := &replayActions{cfg: cfg}
	prog := newProgress(stderr, *dataDir, *until)
	opts := pipeline.RebuildOptions{
		Dir:             *dataDir,
		UntilSeq:        *until,
		IgnoreSnapshots: !*useSnap,
		OnEvents: func(cmd *matching.Command, evs []matching.Event) {
			sum.add(cmd, evs)
			for i := range evs {
				if md != nil {
					md.Apply(&evs[i])
				}
				if execW != nil && evs[i].Kind == matching.EvTrade {
					execW.write(&evs[i])
				}
			}
		},
		OnItem:        acts.add,
		Progress:      prog.update,
		ProgressEvery: 50_000,
	}
	if !pace.Max {
		opts.Pace = pace.Speed
		if opts.Pace == 0 {
			opts.Pace = 1
		}
		opts.ProgressEvery = 1000
	}
	state, st, err := pipeline.Rebuild(cfg.Registry, opts)
	prog.done()
	if err != nil {
		return err
	}
	if execW != nil {
		if err := execW.flush(); err != nil {
			return fmt.Errorf("--executions %s: %w", *execCSV, err)
		}
	}
	if err := writeFileWith(*tradesCSV, func(w io.Writer) error { return md.WriteTradesCSV(w) }); err != nil {
		return fmt.Errorf("--trades %s: %w", *tradesCSV, err)
	}
	if err := writeFileWith(*candlesCSV, func(w io.Writer) error { return md.WriteCandlesCSV(w, iv) }); err != nil {
		return fmt.Errorf("--candles %s: %w", *candlesCSV, err)
	}
	sum.print(stdout, *dataDir, state, st)
	acts.print(stdout)
	if err := unverified(st); err != nil {
		return exitError{code: 3, err: err}
	}
	return nil
}

// unverified explains why a replay that covered something proved nothing
// (exit code 3, as README says), or returns nil. An empty journal has
// nothing to prove.
func unverified(st pipeline.RebuildStats) error {
	switch {
	case st.Commands == 0 && st.SnapshotSeq > 0:
		// A checkpoint at the snapshot's seq matches the snapshot's own
		// hash, but no command was regenerated: nothing is proven.
		return fmt.Errorf("started from the snapshot at seq %d, the journal's tip: no command was replayed, so nothing was verified (replay without --from-snapshot to verify)", st.SnapshotSeq)
	case st.Verified > 0:
		return nil
	case st.Checkpoints > 0:
		return errors.New("no checkpoint could be verified: the output was not proven identical")
	case st.Commands > 0:
		return errors.New("the journal holds no checkpoint after the replayed commands: the output was not proven identical")
	}
	return nil
}

// writeFileWith writes path with fn; an empty path writes nothing (market
// data, md above, exists whenever one of its CSV paths is set).
func writeFileWith(path string, fn func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// replaySummary counts what a replay saw.
type replaySummary struct {
	cfg      *config.Config
	commands map[matching.CommandKind]uint64
	rejects  uint64
	trades   []uint64 // by symbol ID
	volume   []int64  // lots, by symbol ID
	notional []int64  // tick-lots, by symbol ID
	firstNs  int64
	lastNs   int64
}

func newReplaySummary(cfg *config.Config) *replaySummary {
	n := len(cfg.Symbols) + 1
	return &replaySummary{cfg: cfg, commands: map[matching.CommandKind]uint64{}, trades: make([]uint64, n), volume: make([]int64, n), notional: make([]int64, n)}
}

func (s *replaySummary) add(cmd *matching.Command, evs []matching.Event) {
	s.commands[cmd.Kind]++
	if s.firstNs == 0 {
		s.firstNs = cmd.TimeNs
	}
	s.lastNs = cmd.TimeNs
	for i := range evs {
		e := &evs[i]
		switch e.Kind {
		case matching.EvTrade:
			for int(e.Symbol) >= len(s.trades) && int(e.Symbol) <= s.cfg.SymbolCount() { // listed at run time
				s.trades, s.volume, s.notional = append(s.trades, 0), append(s.volume, 0), append(s.notional, 0)
			}
			if int(e.Symbol) < len(s.trades) {
				s.trades[e.Symbol]++
				s.volume[e.Symbol] += e.Qty
				s.notional[e.Symbol] += e.Qty * e.Price
			}
		case matching.EvRejected:
			s.rejects++
		}
	}
}

func (s *replaySummary) print(w io.Writer, dir string, state *pipeline.State, st pipeline.RebuildStats) {
	var total uint64
	for _, n := range s.commands {
		total += n
	}
	fmt.Fprintf(w, "replay of %s\n", filepath.Clean(dir))
	if st.SnapshotFile != "" {
		fmt.Fprintf(w, "  started from snapshot   %s (seq %d)\n", st.SnapshotFile, st.SnapshotSeq)
	} else {
		fmt.Fprintf(w, "  started from            the first record\n")
	}
	fmt.Fprintf(w, "  records                 %d commands, %d checkpoints (last seq %d)\n", st.Commands, st.Checkpoints, st.LastSeq)
	fmt.Fprintf(w, "  commands by kind        new %d, cancel %d, replace %d, mass cancel %d, halt/resume %d, expire %d, admin %d\n",
		s.commands[matching.CmdNew], s.commands[matching.CmdCancel], s.commands[matching.CmdReplace], s.commands[matching.CmdMassCancel],
		s.commands[matching.CmdHalt]+s.commands[matching.CmdResume], s.commands[matching.CmdExpire], s.commands[matching.CmdAdmin])
	fmt.Fprintf(w, "  engine rejects          %d\n", s.rejects)
	if s.lastNs > s.firstNs {
		fmt.Fprintf(w, "  session time            %s .. %s (%s)\n", time.Unix(0, s.firstNs).UTC().Format(time.RFC3339Nano),
			time.Unix(0, s.lastNs).UTC().Format(time.RFC3339Nano), time.Duration(s.lastNs-s.firstNs).Round(time.Millisecond))
	}
	all := s.cfg.AllSymbols()
	fmt.Fprintf(w, "  symbols                 %d (%d listed at run time)\n", len(all), len(all)-len(s.cfg.Symbols))
	fmt.Fprintf(w, "    %-10s %10s %14s %14s %12s\n", "symbol", "trades", "volume", "VWAP", "open orders")
	eng := state.Engine
	var trades uint64
	for _, sym := range all {
		for int(sym.ID) >= len(s.trades) {
			s.trades, s.volume, s.notional = append(s.trades, 0), append(s.volume, 0), append(s.notional, 0)
		}
		open := 0
		for _, side := range []matching.Side{matching.Buy, matching.Sell} {
			eng.Levels(sym.ID, side, func(_, _ int64, orders int) bool { open += orders; return true })
		}
		vwap := "-"
		if v := s.volume[sym.ID]; v > 0 {
			vwap = sym.TicksToPrice(1).Mul(decimalFromRatio(s.notional[sym.ID], v)).StringFixed(int32(max(2, -sym.TickSize.Exponent())))
		}
		trades += s.trades[sym.ID]
		fmt.Fprintf(w, "    %-10s %10d %14s %14s %12d\n", sym.Name, s.trades[sym.ID], sym.LotsToQty(s.volume[sym.ID]).String(), vwap, open)
	}
	fmt.Fprintf(w, "  trades                  %d\n", trades)
	fmt.Fprintf(w, "  open orders (manager)   %d\n", state.Manager.OpenOrders())
	fmt.Fprintf(w, "  state hash              engine %016x  order manager %016x  events %016x (out seq %d)\n",
		eng.StateHash(), state.Manager.StateHash(), state.Hasher.Sum(), eng.OutSeq())
	switch {
	case st.Commands == 0 && st.SnapshotSeq > 0:
		fmt.Fprintf(w, "  output vs recorded      nothing replayed after the snapshot: nothing regenerated to compare\n")
	case st.Checkpoints == 0:
		fmt.Fprintf(w, "  output vs recorded      no checkpoints in the replayed range: nothing to compare\n")
	default:
		fmt.Fprintf(w, "  output vs recorded      MATCH: %d checkpoints reproduced exactly (%d outside the replayed range)\n", st.Verified, st.Unverifiable)
	}
	if st.Torn.Bytes > 0 {
		fmt.Fprintf(w, "  torn tail               %d bytes at %s offset %d were not replayed (a crash cut the last write)\n", st.Torn.Bytes, st.Torn.File, st.Torn.Offset)
	}
	rate := float64(st.Commands) / st.Elapsed.Seconds()
	fmt.Fprintf(w, "  took                    %s (%.0f commands/s)\n", st.Elapsed.Round(time.Millisecond), rate)
}

// csvExec writes regenerated executions.
type csvExec struct {
	w   *bufio.Writer
	cfg *config.Config
	b   []byte
}

func newCSVExec(w io.Writer, cfg *config.Config) *csvExec {
	c := &csvExec{w: bufio.NewWriterSize(w, 1<<16), cfg: cfg}
	c.w.WriteString("seq,out_seq,match_id,time,symbol,price,qty,taker_side,taker_order,taker_account,maker_order,maker_account\n")
	return c
}

func (c *csvExec) write(e *matching.Event) {
	sym, ok := c.cfg.Symbol(e.Symbol)
	if !ok {
		return
	}
	b := c.b[:0]
	b = strconv.AppendUint(b, e.InSeq, 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, e.OutSeq, 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, e.MatchID, 10)
	b = append(b, ',')
	b = time.Unix(0, e.TimeNs).UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, ',')
	b = append(b, sym.Name...)
	b = append(b, ',')
	b = append(b, sym.TicksToPrice(e.Price).String()...)
	b = append(b, ',')
	b = append(b, sym.LotsToQty(e.Qty).String()...)
	if e.Side == matching.Buy {
		b = append(b, ",buy,"...)
	} else {
		b = append(b, ",sell,"...)
	}
	b = strconv.AppendUint(b, uint64(e.OrderID), 10)
	b = append(b, ',')
	b = append(b, accountName(c.cfg, e.Account)...)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(e.MakerOrderID), 10)
	b = append(b, ',')
	b = append(b, accountName(c.cfg, e.MakerAccount)...)
	b = append(b, '\n')
	c.w.Write(b)
	c.b = b
}

func (c *csvExec) flush() error { return c.w.Flush() }

func accountName(cfg *config.Config, id matching.AccountID) string {
	if a, ok := cfg.Account(id); ok {
		return a.Name
	}
	return strconv.FormatUint(uint64(id), 10)
}

// progress draws a bar on a terminal and plain lines otherwise.
type progress struct {
	w       io.Writer
	tty     bool
	total   uint64 // estimated commands
	start   time.Time
	lastOut time.Time
	drawn   bool
}

func newProgress(w io.Writer, dir string, until uint64) *progress {
	p := &progress{w: w, start: time.Now(), total: until}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	if p.total == 0 {
		p.total = estimateRecords(dir)
	}
	return p
}

// estimateRecords guesses the number of commands in a journal from its last
// segment's name (the first seq it holds) and size.
func estimateRecords(dir string) uint64 {
	segs, _ := filepath.Glob(filepath.Join(dir, "journal", "*.seg"))
	if len(segs) == 0 {
		return 0
	}
	last := segs[len(segs)-1]
	first, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(last), ".seg"), 10, 64)
	if err != nil {
		return 0
	}
	fi, err := os.Stat(last)
	if err != nil {
		return first
	}
	const bytesPerRecordTypical = 110
	return first + uint64(fi.Size())/bytesPerRecordTypical
}

func (p *progress) update(seq uint64) {
	now := time.Now()
	every := time.Second // plain lines
	if p.tty {
		every = 200 * time.Millisecond // redraws of the bar
	}
	if now.Sub(p.lastOut) < every {
		return
	}
	p.lastOut = now
	rate := float64(seq) / now.Sub(p.start).Seconds()
	if !p.tty {
		fmt.Fprintf(p.w, "replay: seq %d (%.0f commands/s)\n", seq, rate)
		return
	}
	frac := 0.0
	if p.total > 0 {
		frac = min(float64(seq)/float64(p.total), 0.99)
	}
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(p.w, "\rreplay [%s%s] %3.0f%%  seq %d  %.0f/s ", strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, seq, rate)
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func decimalFromRatio(num, den int64) decimal.Decimal {
	return decimal.NewFromInt(num).DivRound(decimal.NewFromInt(den), 8)
}
