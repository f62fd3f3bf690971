package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/bench"
	"github.com/exchange-sim/exchange/internal/broker"
	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/sequencer"
)

// benchRow is one line of the table.
type benchRow struct {
	name, ops, rate string
	lat             *hdrhistogram.Histogram
	note            string
}

func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	quick := fs.Bool("quick", false, "smaller runs (seconds instead of a minute or two)")
	only := fs.String("only", "wake,engine,journal,pipeline,fix,fixcpu", "comma-separated scenarios: "+benchScenarioNames())
	plots := fs.String("plots", "", "folder to write latency-by-percentile SVG plots and .hgrm files into")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (benchmark and venue) to this file")
	soakDuration := fs.Duration("soak-duration", 0, "how long the soak scenario sends (default 10m; 30s with --quick)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if benchScenarioByName(s) == nil {
			return fmt.Errorf("--only: unknown scenario %q (%s)", s, benchScenarioNames())
		}
		want[s] = true
	}
	if *plots != "" {
		if err := os.MkdirAll(*plots, 0o755); err != nil {
			return fmt.Errorf("--plots: %w", err)
		}
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	tmp, err := os.MkdirTemp("", "exchange-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b := &benchRun{quick: *quick, plots: *plots, tmp: tmp, stderr: stderr, soakDuration: *soakDuration}
	fmt.Fprintf(stdout, "exchange bench: %s, %d cores (GOMAXPROCS %d), seeds fixed\n\n", runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	var rows []benchRow
	for _, sc := range benchScenarios {
		if !want[sc.name] {
			continue
		}
		got, err := sc.run(b)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		rows = append(rows, got...)
	}
	printBenchRows(stdout, rows)
	return nil
}

// benchRun holds what every scenario of one `exchange bench` shares.
type benchRun struct {
	quick  bool
	plots  string // folder for plots, or ""
	tmp    string // scratch folder, removed at the end
	stderr io.Writer
	// soakDuration is --soak-duration (0: the scenario's default).
	soakDuration time.Duration
}

// scale is full, or small under --quick.
func (b *benchRun) scale(full, small int) int {
	if b.quick {
		return small
	}
	return full
}

func (b *benchRun) progress(name string) { fmt.Fprintf(b.stderr, "running %s...\n", name) }

// benchScenarios are the scenarios of `exchange bench`, in the order they run
// and print.
var benchScenarios = []struct {
	name string
	run  func(*benchRun) ([]benchRow, error)
}{
	{"wake", (*benchRun).wake},
	{"engine", (*benchRun).engine},
	{"journal", (*benchRun).journal},
	{"pipeline", (*benchRun).pipeline},
	{"fix", func(b *benchRun) ([]benchRow, error) { return benchFIX(b.tmp, b.quick, b.plots, b.stderr) }},
	{"fixcpu", func(b *benchRun) ([]benchRow, error) { return benchFIXCPU(b.tmp, b.quick, b.stderr) }},
	{"ws", func(b *benchRun) ([]benchRow, error) { return benchWS(b.tmp, b.quick, b.stderr) }},
	{"logon", func(b *benchRun) ([]benchRow, error) { return benchLogon(b.tmp, b.quick, b.stderr) }},
	{"memory", func(b *benchRun) ([]benchRow, error) { return benchMemory(b.tmp, b.quick, b.stderr) }},
	{"soak", benchSoak},
}

func benchScenarioByName(name string) func(*benchRun) ([]benchRow, error) {
	for _, sc := range benchScenarios {
		if sc.name == name {
			return sc.run
		}
	}
	return nil
}

func benchScenarioNames() string {
	names := make([]string, len(benchScenarios))
	for i, sc := range benchScenarios {
		names[i] = sc.name
	}
	return strings.Join(names, ", ")
}

func (b *benchRun) wake() ([]benchRow, error) {
	b.progress("thread wake-up")
	n := b.scale(5_000, 1_000)
	r := bench.RunWake(n)
	return []benchRow{{name: "thread wake-up, idle", ops: strconv.Itoa(n), rate: "-", lat: r.Latency,
		note: "channel send -> receiver on a sleeping OS thread running; the floor under every stage hand-off of an idle venue"}}, nil
}

func (b *benchRun) engine() (rows []benchRow, err error) {
	for _, k := range []struct {
		kind string
		n    int
	}{{"mix", b.scale(3_000_000, 500_000)}, {"deep", b.scale(1_000_000, 200_000)}, {"wide", b.scale(1_000_000, 200_000)}} {
		b.progress("engine " + k.kind)
		r, err := bench.RunEngine(k.kind, k.n, 1)
		if err != nil {
			return nil, err
		}
		rows = append(rows, benchRow{name: r.Name, ops: strconv.Itoa(r.Commands), rate: rateStr(r.CmdsPerSec, "cmds/s"),
			lat: r.Latency, note: fmt.Sprintf("%.2f allocs/cmd; latency per Apply incl. one clock read", r.AllocsPerOp)})
	}
	return rows, nil
}

func (b *benchRun) journal() (rows []benchRow, err error) {
	for _, d := range []string{"none", "batch"} {
		b.progress("journal " + d)
		r, err := bench.RunJournal(filepath.Join(b.tmp, "journal-"+d), d, b.scale(5_000_000, 1_000_000))
		if err != nil {
			return nil, err
		}
		rows = append(rows, benchRow{name: "journal append " + d, ops: strconv.Itoa(r.Records), rate: rateStr(r.RecsPerSec, "records/s"),
			note: fmt.Sprintf("%.0f MB/s, %d fsyncs", r.MBPerSec, r.Fsyncs)})
	}
	b.progress("replay")
	r, err := bench.RunReplay(filepath.Join(b.tmp, "replay"), b.scale(3_000_000, 500_000), 1)
	if err != nil {
		return nil, err
	}
	return append(rows, benchRow{name: "replay journal+engine", ops: strconv.Itoa(r.Records), rate: rateStr(r.RecsPerSec, "records/s"),
		note: "journal read (CRC32C, decode) + engine.Apply + event hash, exchange-core mix"}), nil
}

func (b *benchRun) pipeline() (rows []benchRow, err error) {
	n := b.scale(1_000_000, 200_000)
	for _, p := range []bench.PipelineOptions{
		{Durability: "none", Orders: n},
		{Durability: "batch", Orders: n},
		{Durability: "none", Orders: n, Rate: 100_000},
		{Durability: "batch", Orders: n, Rate: 100_000},
	} {
		name := "pipeline " + p.Durability.String()
		if p.Rate > 0 {
			name += fmt.Sprintf(" @%s/s offered", rateShort(p.Rate))
		}
		b.progress(name)
		p.Dir = filepath.Join(b.tmp, strings.ReplaceAll(name, " ", "_"))
		p.Seed = 1
		r, err := bench.RunPipeline(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strings.TrimPrefix(name, "pipeline "), err)
		}
		rows = append(rows, benchRow{name: name, ops: strconv.Itoa(r.Answered), rate: rateStr(r.Throughput, "orders/s"), lat: r.Latency,
			note: "request in -> first report out, journal on disk" + lateNote(r.SendLate)})
		writePlots(b.plots, name, r.Latency, b.stderr)
	}
	return rows, nil
}

// printBenchRows prints the table of results, then each row's note.
func printBenchRows(stdout io.Writer, rows []benchRow) {
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tops\tthroughput\tp50\tp99\tp99.9\tp99.99\tmax\t")
	for _, r := range rows {
		cells := []string{"-", "-", "-", "-", "-"}
		if r.lat != nil && r.lat.TotalCount() > 0 {
			cells = []string{durStr(r.lat.ValueAtQuantile(50)), durStr(r.lat.ValueAtQuantile(99)), durStr(r.lat.ValueAtQuantile(99.9)),
				durStr(r.lat.ValueAtQuantile(99.99)), durStr(r.lat.Max())}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", r.name, r.ops, r.rate, strings.Join(cells, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(stdout)
	for _, r := range rows {
		if r.note != "" {
			fmt.Fprintf(stdout, "  %-34s %s\n", r.name+":", r.note)
		}
	}
}

// benchFIX starts a venue in-process and drives it over FIX on loopback
// with the broker simulator: closed loop for sustained throughput, then open
// loop at 1,000 and 10,000 orders/s for latency. It runs with the journal on
// disk under batch durability (an order is acknowledged after its fsync, so
// the disk's fsync time is part of every latency) and again under none (the
// FIX path and the pipeline alone). Client and server share the machine's
// cores.
func benchFIX(tmp string, quick bool, plots string, stderr io.Writer) (rows []benchRow, err error) {
	for _, durability := range []sequencer.Durability{sequencer.DurabilityBatch, sequencer.DurabilityNone} {
		r, err := benchFIXOne(tmp, durability, quick, plots, stderr)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

func benchFIXOne(tmp string, durability sequencer.Durability, quick bool, plots string, stderr io.Writer) (rows []benchRow, err error) {
	cfg := config.Default()
	cfg.DataDir = filepath.Join(tmp, "fix-venue-"+string(durability))
	cfg.Durability = durability
	cfg.ListenFIX = freeAddr("127.0.0.1:0")
	cfg.ListenHTTP = "127.0.0.1:0"
	// The labels tell the venue's goroutines from the broker's in a --cpuprofile.
	var v *venue
	pprof.Do(context.Background(), pprof.Labels("side", "venue"), func(context.Context) {
		v, err = startVenue(cfg, venueOptions{}, zerolog.Nop())
	})
	if err != nil {
		return nil, err
	}
	defer v.stop()
	_, portStr, _ := net.SplitHostPort(cfg.ListenFIX)
	port, _ := strconv.Atoi(portStr)
	dur := 20 * time.Second
	if quick {
		dur = 5 * time.Second
	}
	for _, sc := range []struct {
		name string
		mode broker.Mode
		rate float64
	}{
		{"closed loop", broker.ModeClosed, 0},
		{"@1k/s offered", broker.ModeOpen, 1_000},
		{"@10k/s offered", broker.ModeOpen, 10_000},
	} {
		name := "FIX " + string(durability) + ", " + sc.name
		fmt.Fprintf(stderr, "running %s...\n", name)
		o := broker.DefaultOptions()
		o.Port, o.Symbols, o.Seed, o.Duration = port, brokerSymbols(cfg), 1, dur
		o.Mode, o.Rate, o.Window = sc.mode, sc.rate, 256
		var r *broker.Result
		pprof.Do(context.Background(), pprof.Labels("side", "broker"), func(ctx context.Context) {
			r, err = broker.Run(ctx, o)
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		note := fmt.Sprintf("order sent -> first answer over FIX 4.4, 3 sessions, journal %s; %d rejected, %d unanswered%s", durability, r.Rejected, r.Unanswered, lateNote(r.SendLate))
		rows = append(rows, benchRow{name: name, ops: strconv.FormatInt(r.Sent, 10), rate: rateStr(r.Throughput, "orders/s"), lat: r.Ack, note: note})
		writePlots(plots, name, r.Ack, stderr)
	}
	return rows, nil
}

func writePlots(dir, name string, h *hdrhistogram.Histogram, stderr io.Writer) {
	if dir == "" || h == nil {
		return
	}
	base := filepath.Join(dir, strings.NewReplacer(" ", "_", "/", "_", "@", "at_", ",", "").Replace(name))
	r := &broker.Result{Ack: h, Fill: hdrhistogram.New(1, 2, 1)}
	for ext, fn := range map[string]func(io.Writer) error{".hgrm": r.WriteHgrm, ".svg": r.WritePlotSVG} {
		f, err := os.Create(base + ext)
		if err == nil {
			err = fn(f)
			f.Close()
		}
		if err != nil {
			fmt.Fprintf(stderr, "plot %s: %v\n", base+ext, err)
		}
	}
}

func rateStr(v float64, unit string) string { return rateShort(v) + " " + unit }

func rateShort(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func durStr(ns int64) string {
	switch {
	case ns >= 1e9:
		return strconv.FormatFloat(float64(ns)/1e9, 'f', 2, 64) + "s"
	case ns >= 1e6:
		return strconv.FormatFloat(float64(ns)/1e6, 'f', 2, 64) + "ms"
	case ns >= 1e3:
		return strconv.FormatFloat(float64(ns)/1e3, 'f', 1, 64) + "µs"
	}
	return strconv.FormatInt(ns, 10) + "ns"
}

// startCPUProfile writes a CPU profile of the process to path until the
// returned function is called; path "" profiles nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile %s: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// lateNote tells how late an open-loop sender handed its requests over
// (their latencies count from the schedule, so this part is the load
// generator's own), or nothing for a closed loop.
func lateNote(late *hdrhistogram.Histogram) string {
	if late == nil || late.TotalCount() == 0 {
		return ""
	}
	return fmt.Sprintf("; sender's own lateness p50 %s, p99 %s", durStr(late.ValueAtQuantile(50)), durStr(late.ValueAtQuantile(99)))
}
