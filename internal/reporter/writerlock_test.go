package reporter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// A second reporter on the same database waits for the first to stop: it
// never writes beside it.
func TestOneWriterAtATime(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) OpenOptions) {
		dir := t.TempDir()
		cfg, err := writeJournal(dir, 200, 4, 1)
		if err != nil {
			t.Fatal(err)
		}
		o := open(t)
		first, err := Open(context.Background(), Config{Venue: cfg.Registry, DataDir: dir, DB: o, Log: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if second, err := Open(ctx, Config{Venue: cfg.Registry, DataDir: dir, DB: o, Log: zerolog.Nop()}); err == nil {
			second.Close()
			first.Close()
			t.Fatal("a second reporter opened the database while the first was writing it")
		} else if !strings.Contains(err.Error(), "another reporter is writing it") {
			t.Fatalf("second reporter: %v", err)
		}
		// Once the first stops, the next one gets the lock at its next try.
		waiting := make(chan error, 1)
		go func() {
			r, err := Open(context.Background(), Config{Venue: cfg.Registry, DataDir: dir, DB: o, Log: zerolog.Nop()})
			if err == nil {
				err = r.CatchUp(context.Background())
				r.Close()
			}
			waiting <- err
		}()
		if err := first.CatchUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		first.Close()
		select {
		case err := <-waiting:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the waiting reporter did not get the lock after the first closed")
		}
	})
}
