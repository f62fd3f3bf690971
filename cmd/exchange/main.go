// Command exchange is the one binary of the exchange: it serves the venue,
// runs a demo session, simulates brokers, replays journals and benchmarks the
// critical path. It holds flag parsing and wiring only.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/exchange-sim/exchange/internal/admin"
	"github.com/exchange-sim/exchange/internal/gateway"
	"strings"
)

const usage = `exchange: a stock exchange matching-engine simulation

Usage:
  exchange serve   [--config FILE] [--data DIR]     run the venue (FIX, HTTP, market data)
  exchange demo    [--duration 20s] [--keep]        start the venue and simulated brokers, print a summary
  exchange broker  [flags]                          send FIX orders like a broker and measure latency
  exchange replay  --data DIR [--until SEQ]         rebuild state from a journal and verify it
  exchange admin   [--addr A] [--token T] COMMAND   operator console: status, halt, kill switch, ...
  exchange bench   [--quick]                        run the benchmark scenarios and print one table
  exchange reporter --data DIR [--dsn DSN]          follow a journal into the history database (SQLite or PostgreSQL)
  exchange report  trades|orders|executions|statement|bars|actions [filters]   print history as a table, CSV or JSON
  exchange config                                   print the default configuration file
  exchange passwd  [--api-key]                      read a password on stdin, print its bcrypt hash (or make an API key)
  exchange cluster status|add|remove|transfer --http ADDR   show or change a cluster's membership

Run "exchange COMMAND -h" for the flags of one command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// errUsage marks an error already explained to the user by the flag package.
var errUsage = errors.New("usage")

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runWith(runHooks{}, args, stdin, stdout, stderr)
}

// runHooks let the tests reach into a command they run in a child process
// (crash_test.go's TestMain); the binary itself runs with none.
type runHooks struct {
	// gateway edits serve's gateway options (nil: none).
	gateway func(*gateway.Options)
}

func runWith(h runHooks, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(args[1:], stdout, stderr, h)
	case "demo":
		err = cmdDemo(args[1:], stdout, stderr)
	case "broker":
		err = cmdBroker(args[1:], stdout, stderr)
	case "replay":
		err = cmdReplay(args[1:], stdout, stderr)
	case "bench":
		err = cmdBench(args[1:], stdout, stderr)
	case "reporter":
		err = cmdReporter(args[1:], stdout, stderr)
	case "report":
		err = cmdReport(args[1:], stdout, stderr)
	case "config":
		err = cmdConfig(args[1:], stdout, stderr)
	case "passwd":
		err = cmdPasswd(args[1:], stdin, stdout, stderr)
	case "admin":
		return admin.Main(args[1:], os.Getenv, stdout, stderr)
	case "cluster":
		err = cmdCluster(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "exchange: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // -h, -help, --help: asked for, so not an error (Go's flag convention)
		}
		if errors.Is(err, errUsage) {
			return 2
		}
		var ex exitError
		if errors.As(err, &ex) {
			fmt.Fprintf(stderr, "exchange %s: %v\n", args[0], ex.err)
			return ex.code
		}
		fmt.Fprintf(stderr, "exchange %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

// commandHelp is each command's synopsis and what it does, shown by
// "exchange COMMAND -h" above its flags.
var commandHelp = map[string]string{
	"serve":  "[flags]\n\nRuns the venue: recovers the data folder, then serves FIX, HTTP and market data\nuntil SIGINT or SIGTERM, and shuts down cleanly (journal flushed, snapshot written).",
	"demo":   "[flags]\n\nStarts the venue in a temporary data folder with simulated brokers trading over FIX\non loopback, then prints a summary.",
	"broker": "[flags]\n\nSends FIX orders like a broker (a modelled order flow, an order file or a journal)\nand reports answers and acknowledgement latency.",
	"replay": "--data DIR [flags]\n\nRebuilds every book, wallet and order from a journal and verifies the regenerated\noutput against the checkpoints recorded live. Exit code 3 when none could be verified.",
	"bench":  "[flags]\n\nRuns the benchmark scenarios and prints one table.",
	"config": "\n\nPrints the embedded default configuration file on standard output: the starting\npoint for \"exchange serve --config FILE\".",
	"passwd": "[flags]\n\nReads a password on standard input and prints its bcrypt hash, for a session's\npassword_hash in the configuration. With --api-key, reads nothing: prints a new random\nkey for a machine session (its Password 554, shown once) and the password_hash line\nholding the key's SHA-256.",
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("exchange "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		help, ok := commandHelp[name]
		if !ok {
			help = "[flags]"
		}
		if !strings.HasPrefix(help, "\n") {
			help = " " + help
		}
		fmt.Fprintf(w, "Usage: exchange %s%s\n", name, help)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}
