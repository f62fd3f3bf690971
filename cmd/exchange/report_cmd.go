package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/exchange-sim/exchange/internal/reporter"
)

const reportUsage = `exchange report trades|orders|executions|statement|bars|actions [flags]

Reads the reporter's history database (DATA/reports.db, or PostgreSQL with
--dsn) and prints one report, streamed row by row.
`

// cmdReport prints a report from the history database.
func cmdReport(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, reportUsage)
		return errUsage
	}
	kind := args[0]
	fs := newFlagSet("report "+kind, stderr)
	dataDir := fs.String("data", "", "data folder holding reports.db (default: the configuration's data_dir)")
	configPath := fs.String("config", "", "configuration (for data_dir and reporter.dsn; default: the embedded default)")
	dsn := fs.String("dsn", "", "PostgreSQL DSN (default: the configuration's reporter.dsn)")
	dbPath := fs.String("db", "", "SQLite file (default: DATA/reports.db)")
	var f reporter.Filter
	fs.StringVar(&f.Firm, "firm", "", "only this firm's accounts")
	fs.StringVar(&f.Account, "account", "", "only this account")
	fs.StringVar(&f.Symbol, "symbol", "", "only this symbol")
	fs.StringVar(&f.Day, "date", "", "only this UTC date (YYYY-MM-DD)")
	from := fs.String("from", "", "from this time on (RFC 3339)")
	to := fs.String("to", "", "before this time (RFC 3339)")
	fs.IntVar(&f.Limit, "limit", 0, "at most this many rows (0: all)")
	format := fs.String("format", "table", "table, csv or json")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	for _, p := range []struct {
		s  string
		ns *int64
		n  string
	}{{*from, &f.FromNs, "--from"}, {*to, &f.ToNs, "--to"}} {
		if p.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, p.s)
		if err != nil {
			return fmt.Errorf("%s: %q is not an RFC 3339 time", p.n, p.s)
		}
		*p.ns = t.UnixNano()
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	o := reporter.OpenOptions{DSN: cfg.ReporterDSN, Path: *dbPath, ReadOnly: true}
	if *dsn != "" {
		o.DSN = *dsn
	}
	if o.DSN == "" && o.Path == "" {
		dir := *dataDir
		if dir == "" {
			dir = cfg.DataDir
		}
		o.Path = reporter.DefaultPath(dir)
		if _, err := os.Stat(o.Path); err != nil {
			return fmt.Errorf("no history database at %s (run `exchange reporter --data %s` or serve with the reporter on): %w", o.Path, filepath.Clean(dir), err)
		}
	}
	var out rowWriter
	switch *format {
	case "table":
		out = &tableWriter{w: bufio.NewWriter(stdout)}
	case "csv":
		out = &csvWriter{w: csv.NewWriter(stdout)}
	case "json":
		out = &jsonWriter{w: bufio.NewWriter(stdout)}
	default:
		return fmt.Errorf("--format: %q is not one of table, csv, json", *format)
	}
	ctx := context.Background()
	db, err := reporter.OpenDB(ctx, o)
	if err != nil {
		return err
	}
	defer db.Close()
	prog := newRowProgress(stderr)
	err = db.Query(ctx, kind, f, func(row []string) error {
		prog.add()
		return out.row(row)
	})
	prog.done()
	if ferr := out.flush(); err == nil {
		err = ferr
	}
	return err
}

// rowWriter writes a header row and then data rows.
type rowWriter interface {
	row([]string) error
	flush() error
}

type csvWriter struct {
	w *csv.Writer
}

func (c *csvWriter) row(r []string) error { return c.w.Write(r) }
func (c *csvWriter) flush() error         { c.w.Flush(); return c.w.Error() }

// jsonWriter writes an array of objects, one per line, as rows come.
type jsonWriter struct {
	w      *bufio.Writer
	header []string
	n      int
}

func (j *jsonWriter) row(r []string) error {
	if j.header == nil {
		j.header = append([]string(nil), r...)
		_, err := j.w.WriteString("[")
		return err
	}
	obj := make(map[string]string, len(r))
	for i, h := range j.header {
		obj[h] = r[i]
	}
	// Keys in the header's order, not the map's.
	var b []byte
	b = append(b, '{')
	for i, h := range j.header {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(h)
		v, _ := json.Marshal(obj[h])
		b = append(append(append(b, k...), ':'), v...)
	}
	b = append(b, '}')
	sep := "\n"
	if j.n > 0 {
		sep = ",\n"
	}
	j.n++
	j.w.WriteString(sep)
	_, err := j.w.Write(b)
	return err
}

func (j *jsonWriter) flush() error {
	if j.header == nil {
		j.w.WriteString("[")
	}
	j.w.WriteString("\n]\n")
	return j.w.Flush()
}

// tableWriter aligns columns. It keeps the first tableSample rows to size
// the columns, then streams the rest with those widths (a longer value
// widens its line only).
type tableWriter struct {
	w      *bufio.Writer
	rows   [][]string
	widths []int
	sized  bool
}

const tableSample = 500

func (t *tableWriter) row(r []string) error {
	if t.sized {
		return t.line(r)
	}
	t.rows = append(t.rows, append([]string(nil), r...))
	if len(t.rows) > tableSample {
		return t.size()
	}
	return nil
}

func (t *tableWriter) size() error {
	t.sized = true
	for _, r := range t.rows {
		for i, v := range r {
			if i >= len(t.widths) {
				t.widths = append(t.widths, 0)
			}
			t.widths[i] = max(t.widths[i], utf8.RuneCountInString(v))
		}
	}
	for _, r := range t.rows {
		if err := t.line(r); err != nil {
			return err
		}
	}
	t.rows = nil
	return nil
}

func (t *tableWriter) line(r []string) error {
	for i, v := range r {
		if i > 0 {
			t.w.WriteString("  ")
		}
		t.w.WriteString(v)
		if i < len(r)-1 && i < len(t.widths) {
			t.w.WriteString(strings.Repeat(" ", max(0, t.widths[i]-utf8.RuneCountInString(v))))
		}
	}
	_, err := t.w.WriteString("\n")
	return err
}

func (t *tableWriter) flush() error {
	if !t.sized {
		if err := t.size(); err != nil {
			return err
		}
	}
	return t.w.Flush()
}

// rowProgress draws "report: N rows (R rows/s)" on stderr while a long
// export runs, only when stderr is a terminal.
type rowProgress struct {
	w     io.Writer
	on    bool
	n     int
	start time.Time
	last  time.Time
	drawn bool
}

func newRowProgress(w io.Writer) *rowProgress {
	p := &rowProgress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.on = true
	}
	return p
}

func (p *rowProgress) add() {
	p.n++
	if !p.on || p.n&1023 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	fmt.Fprintf(p.w, "\rreport: %d rows (%.0f rows/s) ", p.n-1, float64(p.n-1)/now.Sub(p.start).Seconds())
	p.drawn = true
}

func (p *rowProgress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
