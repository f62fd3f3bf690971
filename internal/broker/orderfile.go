package broker

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// An order file is a recorded order flow, one request per row, as CSV with
// a header row or as JSON lines (one object per line, same names as keys).
// Fields (CSV columns in any order; only symbol, side and qty are required
// for a new order, ref for a cancel or replace):
//
//	at         offset from the start of the flow: seconds ("1.25") or a Go
//	           duration ("1250ms"); or
//	time       an RFC 3339 timestamp; offsets count from the first row's
//	session    SenderCompID; empty: the first session
//	action     new (default), cancel, replace
//	ref        the order's name; new: optional (defaults to "line<N>"),
//	           cancel/replace: the ref of the order they target
//	symbol     cancel/replace: optional, the target's
//	side       buy|sell or 1|2; cancel/replace: optional, the target's
//	type       limit|market or 2|1; default limit
//	tif        day|gtc|ioc|fok or 0|1|3|4; default day
//	price      decimal; required for limit orders and replaces
//	qty        decimal; required for new orders and replaces
//	post_only  true|false|Y|N|1|0
//
// Rows must not go back in time. Blank lines and lines starting with # are
// skipped.
var orderFileFields = []string{"at", "time", "session", "action", "ref", "symbol", "side", "type", "tif", "price", "qty", "post_only"}

// ParseError locates a bad row of an order file.
type ParseError struct {
	File  string
	Line  int
	Field string // empty when the row as a whole is bad
	Err   error
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: field %s: %v", e.File, e.Line, e.Field, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// orderFile is an OrderSource reading an order file row by row; it holds
// one row in memory at a time.
type orderFile struct {
	name   string
	closer io.Closer
	sc     *bufio.Scanner
	csv    bool
	header []string
	line   int
	origin time.Time // timestamp of the first row with a time field
	last   time.Duration
}

// OpenOrderFile opens path as CSV (".csv") or JSON lines (any other name,
// conventionally ".jsonl"). Close it when done.
func OpenOrderFile(path string) (*orderFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	of := newOrderFile(path, f, strings.EqualFold(filepath.Ext(path), ".csv"))
	of.closer = f
	return of, nil
}

// newOrderFile reads an order file from r; name is used in errors.
func newOrderFile(name string, r io.Reader, isCSV bool) *orderFile {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	return &orderFile{name: name, sc: sc, csv: isCSV}
}

// Close closes the underlying file, if OpenOrderFile opened it.
func (f *orderFile) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// Next returns the next row as an Intent, io.EOF at the end, or a
// *ParseError naming the file, line and field.
func (f *orderFile) Next() (Intent, error) {
	for f.sc.Scan() {
		f.line++
		text := strings.TrimSpace(f.sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		var row map[string]string
		var err error
		if f.csv {
			if f.header == nil {
				if err := f.readHeader(text); err != nil {
					return Intent{}, err
				}
				continue
			}
			row, err = f.csvRow(text)
		} else {
			row, err = f.jsonRow(text)
		}
		if err != nil {
			return Intent{}, err
		}
		return f.intent(row)
	}
	if err := f.sc.Err(); err != nil {
		return Intent{}, &ParseError{File: f.name, Line: f.line + 1, Err: err}
	}
	if f.csv && f.header == nil {
		return Intent{}, &ParseError{File: f.name, Line: f.line, Err: errors.New("no header row")}
	}
	return Intent{}, io.EOF
}

func (f *orderFile) readHeader(text string) error {
	cols, err := csv.NewReader(strings.NewReader(text)).Read()
	if err != nil {
		return &ParseError{File: f.name, Line: f.line, Err: fmt.Errorf("header: %w", err)}
	}
	seen := map[string]bool{}
	for i, c := range cols {
		c = strings.ToLower(strings.TrimSpace(c))
		if !slices.Contains(orderFileFields, c) {
			return &ParseError{File: f.name, Line: f.line, Field: c, Err: fmt.Errorf("unknown column (want %s)", strings.Join(orderFileFields, ", "))}
		}
		if seen[c] {
			return &ParseError{File: f.name, Line: f.line, Field: c, Err: errors.New("column repeated")}
		}
		seen[c] = true
		cols[i] = c
	}
	f.header = cols
	return nil
}

func (f *orderFile) csvRow(text string) (map[string]string, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = len(f.header)
	vals, err := r.Read()
	if err != nil {
		return nil, &ParseError{File: f.name, Line: f.line, Err: fmt.Errorf("%w (header has %d columns)", err, len(f.header))}
	}
	row := make(map[string]string, len(vals))
	for i, v := range vals {
		row[f.header[i]] = strings.TrimSpace(v)
	}
	return row, nil
}

func (f *orderFile) jsonRow(text string) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, &ParseError{File: f.name, Line: f.line, Err: fmt.Errorf("not a JSON object: %w", err)}
	}
	row := make(map[string]string, len(raw))
	for k, v := range raw {
		if !slices.Contains(orderFileFields, k) {
			return nil, &ParseError{File: f.name, Line: f.line, Field: k, Err: errors.New("unknown field")}
		}
		v = bytes.TrimSpace(v)
		if len(v) > 0 && v[0] == '"' {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, &ParseError{File: f.name, Line: f.line, Field: k, Err: err}
			}
			row[k] = strings.TrimSpace(s)
		} else if string(v) != "null" {
			row[k] = string(v)
		}
	}
	return row, nil
}

// intent converts one row; every error names the field.
func (f *orderFile) intent(row map[string]string) (Intent, error) {
	bad := func(field string, err error) (Intent, error) {
		return Intent{}, &ParseError{File: f.name, Line: f.line, Field: field, Err: err}
	}
	in := Intent{Session: row["session"], Ref: row["ref"], Symbol: row["symbol"], Type: FIXLimit}

	switch {
	case row["at"] != "" && row["time"] != "":
		return bad("time", errors.New("give at or time, not both"))
	case row["at"] != "":
		d, err := parseOffset(row["at"])
		if err != nil {
			return bad("at", err)
		}
		in.At = d
	case row["time"] != "":
		ts, err := time.Parse(time.RFC3339Nano, row["time"])
		if err != nil {
			return bad("time", err)
		}
		if f.origin.IsZero() {
			f.origin = ts
		}
		in.At = ts.Sub(f.origin)
	default:
		in.At = f.last
	}
	if in.At < f.last {
		return bad(pick(row["at"] != "", "at", "time"), fmt.Errorf("goes back in time (%s after %s)", in.At, f.last))
	}
	f.last = in.At

	switch strings.ToLower(row["action"]) {
	case "", "new", "d":
		in.Kind = KindNew
	case "cancel", "f":
		in.Kind = KindCancel
	case "replace", "g":
		in.Kind = KindReplace
	default:
		return bad("action", fmt.Errorf("%q: want new, cancel or replace", row["action"]))
	}
	if in.Kind != KindNew && in.Ref == "" {
		return bad("ref", fmt.Errorf("a %s needs the ref of its order", in.Kind))
	}
	if in.Kind == KindNew && in.Ref == "" {
		in.Ref = "line" + strconv.Itoa(f.line)
	}
	if in.Kind == KindNew && in.Symbol == "" {
		return bad("symbol", errors.New("missing"))
	}

	switch strings.ToLower(row["side"]) {
	case "buy", "b", "1":
		in.Side = FIXBuy
	case "sell", "s", "2":
		in.Side = FIXSell
	case "":
		if in.Kind == KindNew {
			return bad("side", errors.New("missing"))
		}
	default:
		return bad("side", fmt.Errorf("%q: want buy or sell", row["side"]))
	}
	switch strings.ToLower(row["type"]) {
	case "", "limit", "2":
	case "market", "1":
		in.Type = FIXMarket
	default:
		return bad("type", fmt.Errorf("%q: want limit or market", row["type"]))
	}
	switch strings.ToLower(row["tif"]) {
	case "", "day", "0":
	case "gtc", "1":
		in.TIF = FIXGTC
	case "ioc", "3":
		in.TIF = FIXIOC
	case "fok", "4":
		in.TIF = FIXFOK
	default:
		return bad("tif", fmt.Errorf("%q: want day, gtc, ioc or fok", row["tif"]))
	}
	if v := row["price"]; v != "" {
		p, err := decimal.NewFromString(v)
		if err != nil {
			return bad("price", fmt.Errorf("%q is not a decimal", v))
		}
		if !p.IsPositive() {
			return bad("price", fmt.Errorf("%s is not positive", v))
		}
		in.Price = p
	} else if in.Kind == KindReplace || (in.Kind == KindNew && in.Type == FIXLimit) {
		return bad("price", fmt.Errorf("a limit %s needs a price", in.Kind))
	}
	if v := row["qty"]; v != "" {
		q, err := decimal.NewFromString(v)
		if err != nil {
			return bad("qty", fmt.Errorf("%q is not a decimal", v))
		}
		if !q.IsPositive() {
			return bad("qty", fmt.Errorf("%s is not positive", v))
		}
		in.Qty = q
	} else if in.Kind != KindCancel {
		return bad("qty", errors.New("missing"))
	}
	switch strings.ToLower(row["post_only"]) {
	case "", "false", "n", "0":
	case "true", "y", "1":
		in.PostOnly = true
	default:
		return bad("post_only", fmt.Errorf("%q: want true or false", row["post_only"]))
	}
	return in, nil
}

func pick(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

// parseOffset reads seconds ("1.5") or a Go duration ("1500ms").
func parseOffset(s string) (time.Duration, error) {
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if !(secs >= 0 && secs <= 1e9) {
			return 0, fmt.Errorf("%q out of range", s)
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want seconds or a duration like 250ms", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}
