package bench

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/pipeline"
)

// WriteJournal runs the exchange-core mix (n commands after its warmup) from
// accounts accounts through a real pipeline into data folder dir, so that
// the journal holds what a venue journals (order-manager meta included),
// and returns the venue's configuration (BenchConfig(accounts)). Sequencer
// stamps are the wall clock: two journals of the same mix differ.
func WriteJournal(dir string, n, accounts int, seed int64) (*config.Config, error) {
	cfg, err := BenchConfig(accounts)
	if err != nil {
		return nil, err
	}
	warm, cmds := GenerateMix(seed, n, accounts)
	reqs, err := MixRequests(cfg.Registry, append(warm, cmds...))
	warm, cmds = nil, nil
	if err != nil {
		return nil, err
	}
	x, _, err := pipeline.Open(pipeline.Options{Ref: cfg.Registry, Dir: dir, Durability: "none", Log: zerolog.Nop(),
		Reports: func([]ordermanager.Report) {}, SnapshotEvery: 1 << 62})
	if err != nil {
		return nil, err
	}
	for i := range reqs {
		for !x.Submit(&reqs[i]) {
			runtime.Gosched()
		}
		// Keep what is in flight (queued for the order manager, or between
		// it and the engine's answer) bounded, as RunPipeline's window does:
		// the mix chains moves of one order, and too long a chain is refused
		// (ordermanager.AmendsInFlightMax), which would make the journal
		// drift from the mix.
		for st := x.Stats(); uint64(i+1)-st.Requests+st.Commands-st.Processed > 4096; st = x.Stats() {
			runtime.Gosched()
		}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for st := x.Stats(); st.Requests < uint64(len(reqs)) || st.Processed < st.Commands; st = x.Stats() {
		if time.Now().After(deadline) {
			x.Close()
			return nil, errors.New("bench: the pipeline did not drain the journal's requests")
		}
		time.Sleep(time.Millisecond)
	}
	if st := x.Stats(); st.Commands < uint64(len(reqs))*9/10 {
		x.Close()
		return nil, fmt.Errorf("bench: only %d of %d requests became commands", st.Commands, len(reqs))
	}
	return cfg, x.Close()
}
