package broker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sampleCSV = `# a recorded flow
at,session,action,ref,symbol,side,type,tif,price,qty,post_only
0,ALPHA,new,a1,AAPL,buy,limit,day,189.50,10,
0.010,BRAVO,new,b1,MSFT,sell,limit,gtc,421.00,5,true
0.020,ALPHA,new,a2,TSLA,buy,market,ioc,,3,
0.050,ALPHA,replace,a1,,,,,189.60,12,
0.100,BRAVO,cancel,b1,,,,,,,
0.150,ALPHA,new,a3,SPY,sell,limit,fok,549.99,1,
`

const sampleJSONL = `{"at": 0, "session": "ALPHA", "ref": "a1", "symbol": "AAPL", "side": "buy", "price": "189.50", "qty": 10}
{"at": "10ms", "session": "BRAVO", "ref": "b1", "symbol": "MSFT", "side": "sell", "tif": "gtc", "price": 421.00, "qty": "5", "post_only": true}
{"at": 0.02, "session": "ALPHA", "ref": "a2", "symbol": "TSLA", "side": "buy", "type": "market", "tif": "ioc", "qty": 3}
{"at": 0.05, "session": "ALPHA", "action": "replace", "ref": "a1", "price": "189.60", "qty": 12}
{"at": 0.1, "session": "BRAVO", "action": "cancel", "ref": "b1"}
{"at": 0.15, "session": "ALPHA", "ref": "a3", "symbol": "SPY", "side": "sell", "tif": "fok", "price": "549.99", "qty": 1}
`

func writeTemp(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOrderFileCSVAndJSONLinesAgree(t *testing.T) {
	c := newOrderFile("x.csv", strings.NewReader(sampleCSV), true)
	j := newOrderFile("x.jsonl", strings.NewReader(sampleJSONL), false)
	a, b := drain(t, c), drain(t, j)
	if len(a) != 6 || len(b) != 6 {
		t.Fatalf("read %d and %d rows, want 6", len(a), len(b))
	}
	for i := range a {
		if a[i].String() != b[i].String() {
			t.Errorf("row %d: csv %s, jsonl %s", i, a[i], b[i])
		}
	}
	want := []string{
		"0s ALPHA new ref=a1 AAPL buy limit day 10@189.5",
		"10ms BRAVO new ref=b1 MSFT sell limit gtc 5@421 post-only",
		"20ms ALPHA new ref=a2 TSLA buy market ioc 3@0",
		"50ms ALPHA replace ref=a1  buy limit day 12@189.6",
		"100ms BRAVO cancel ref=b1  buy limit day 0@0",
		"150ms ALPHA new ref=a3 SPY sell limit fok 1@549.99",
	}
	for i, w := range want {
		// Cancel/replace rows leave side unset (0), which prints as buy.
		if a[i].String() != w {
			t.Errorf("row %d = %q, want %q", i, a[i].String(), w)
		}
	}
}

func TestOrderFileErrorsNameFileLineField(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"bad.csv", "at,symbol,side,price,qty\n0,AAPL,buy,1.00,1\n0.1,AAPL,hold,1.00,1\n", "bad.csv:3: field side:"},
		{"bad.csv", "at,symbol,side,price,qty\n0,AAPL,buy,abc,1\n", "bad.csv:2: field price:"},
		{"bad.csv", "at,symbol,side,price,qty\n1,AAPL,buy,1,1\n0.5,AAPL,buy,1,1\n", "bad.csv:3: field at:"},
		{"bad.csv", "at,symbol,colour\n", "bad.csv:1: field colour:"},
		{"bad.csv", "at,symbol,side,price,qty\n0,AAPL,buy,1\n", "bad.csv:2:"},
		{"bad.jsonl", `{"symbol":"AAPL","side":"buy","price":"1","qty":"1"}` + "\n" + `{"action":"cancel"}`, "bad.jsonl:2: field ref:"},
		{"bad.jsonl", `{"symbol":"AAPL","side":"buy","price":"1","qty":"-3"}`, "bad.jsonl:1: field qty:"},
		{"bad.jsonl", `{"symbol":"AAPL","side":"buy","price":"1","qty":"1","colour":1}`, "bad.jsonl:1: field colour:"},
		{"bad.jsonl", "\n\n{not json", "bad.jsonl:3:"},
		{"bad.jsonl", `{"at":"soon","symbol":"AAPL","side":"buy","price":"1","qty":"1"}`, "bad.jsonl:1: field at:"},
	}
	for _, c := range cases {
		path := writeTemp(t, c.name, c.body)
		f, err := OpenOrderFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for err == nil {
			_, err = f.Next()
		}
		f.Close()
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), path) {
			t.Errorf("%q: err = %v, want it to contain %q and start with the path", c.body, err, c.want)
		}
	}
}

// Replay against the fake exchange: every row reaches the exchange in
// order, at the recorded pace or as fast as possible.
func TestReplayOrderFile(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		for _, pace := range []string{"recorded", "max", "2x"} {
			for _, name := range []string{"flow.csv", "flow.jsonl"} {
				body := sampleCSV
				if strings.HasSuffix(name, "jsonl") {
					body = sampleJSONL
				}
				f := startFake(t, []string{"ALPHA", "BRAVO"}, nil)
				o := testOptions(f, "ALPHA", "BRAVO")
				o.Engine = engine
				src, err := OpenOrderFile(writeTemp(t, name, body))
				if err != nil {
					t.Fatal(err)
				}
				o.Source = src
				if o.Pace, err = ParsePace(pace); err != nil {
					t.Fatal(err)
				}
				res, err := Run(context.Background(), o)
				src.Close()
				f.stop()
				if err != nil {
					t.Fatal(err)
				}
				if res.Sent != 6 || res.Unanswered != 0 || res.Skipped != 0 {
					t.Fatalf("%s %s: sent %d unanswered %d skipped %d", name, pace, res.Sent, res.Unanswered, res.Skipped)
				}
				// Each session's requests arrive in file order; across sessions
				// only the recorded pace keeps the order.
				var alpha, bravo []string
				for _, r := range f.requests() {
					if strings.HasPrefix(r, "ALPHA ") {
						alpha = append(alpha, r)
					} else {
						bravo = append(bravo, r)
					}
				}
				got := strings.Join(alpha, "|") + " / " + strings.Join(bravo, "|")
				want := "ALPHA D AAPL 1 10 189.5|ALPHA D TSLA 1 3 |ALPHA G AAPL 1 12 189.6|ALPHA D SPY 2 1 549.99" +
					" / BRAVO D MSFT 2 5 421|BRAVO F MSFT 2  "
				if got != want {
					t.Fatalf("%s %s: exchange saw\n%s\nwant\n%s", name, pace, got, want)
				}
				if pace == "recorded" && res.Elapsed < 150*time.Millisecond {
					t.Errorf("%s: recorded pace took %s, the flow spans 150ms", name, res.Elapsed)
				}
			}
		}
	})
}

func FuzzOrderFile(f *testing.F) {
	f.Add(sampleCSV, true)
	f.Add(sampleJSONL, false)
	f.Add("at,price\n1e400,NaN\n", true)
	f.Fuzz(func(t *testing.T, body string, isCSV bool) {
		of := newOrderFile("fuzz", strings.NewReader(body), isCSV)
		for i := 0; i < 1000; i++ {
			in, err := of.Next()
			if err != nil {
				var pe *ParseError
				if err.Error() != "EOF" && !errors.As(err, &pe) {
					t.Fatalf("error %v is not a ParseError", err)
				}
				return
			}
			if in.At < 0 || (in.Kind != KindCancel && !in.Qty.IsPositive()) {
				t.Fatalf("accepted a bad row: %s", in)
			}
		}
	})
}
