package admin

import (
	"testing"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/pipeline"
)

// A cluster node replaces its venue when it loses the leadership: with
// Options.Current the console reads and acts on the venue the node has now,
// not the closed one it started with.
func TestCurrentVenue(t *testing.T) {
	cfg := config.Default()
	open := func() *pipeline.Exchange {
		x, _, err := pipeline.Open(pipeline.Options{Ref: cfg.Registry, Dir: t.TempDir(), Durability: "none", Log: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	first, now := open(), open()
	defer now.Close()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Ref: cfg.Registry, Tokens: cfg.AdminTokens, Exchange: first, Current: func() *pipeline.Exchange { return now }, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.restore(); err != nil {
		t.Fatalf("restore read the closed venue: %v", err)
	}
	if s.venue() != now {
		t.Fatal("the console acts on the venue it started with")
	}
	without, err := New(Options{Ref: cfg.Registry, Tokens: cfg.AdminTokens, Exchange: first, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := without.restore(); err == nil {
		t.Fatal("restore on a closed venue without Current succeeded: the test proves nothing")
	}
}
