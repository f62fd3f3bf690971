package pipeline

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
	"github.com/exchange-sim/exchange/matching"
	"github.com/exchange-sim/exchange/sequencer"
)

// State is everything the journal rebuilds: the engine's books, the order
// manager's orders and wallets, and the running hash of the engine's output.
// It is owned by one goroutine at a time.
type State struct {
	Engine  *matching.Engine
	Manager *ordermanager.Manager
	Hasher  matching.Hasher
	// Seq is the last command applied.
	Seq uint64
}

// NewState returns the state of an empty venue of reference data ref. Its
// order manager runs with the defaults (the zero ordermanager.Config, here
// and in RestoreState): a venue, its standbys and every replay of its
// journal must agree on them, since the ClOrdID retention decides which
// reused ClOrdIDs are refused.
func NewState(ref *refdata.Registry) *State {
	return &State{
		Engine:  matching.New(matching.Config{Symbols: len(ref.Symbols), OrdersHint: 1 << 16, Bands: bandsOf(ref)}),
		Manager: ordermanager.New(ref, ordermanager.Config{}),
		Hasher:  matching.NewHasher(),
	}
}

// bandsOf lists the symbols' volatility bands for the engine.
func bandsOf(ref *refdata.Registry) []matching.Bands {
	b := make([]matching.Bands, len(ref.Symbols))
	for i, s := range ref.Symbols {
		b[i] = matching.Bands{StaticBps: s.StaticBandBps, DynamicBps: s.DynamicBandBps}
	}
	return b
}

// snapshotVersion is the layout of the body the pipeline gives the sequencer's
// snapshot files: version, seq, event hash, then the engine's and the order
// manager's own (versioned) snapshots, each prefixed with its length.
const snapshotVersion uint32 = 1

// AppendSnapshot appends the state's snapshot body to b.
func (s *State) AppendSnapshot(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, snapshotVersion)
	b = binary.LittleEndian.AppendUint64(b, s.Seq)
	b = binary.LittleEndian.AppendUint64(b, s.Hasher.Sum())
	b = appendSection(b, s.Engine.AppendSnapshot)
	b = appendSection(b, s.Manager.AppendSnapshot)
	b = appendSection(b, s.Manager.AppendOperatorState)
	b = appendSection(b, s.Manager.AppendListings)
	return b
}

func appendSection(b []byte, fn func([]byte) []byte) []byte {
	at := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b = fn(b)
	binary.LittleEndian.PutUint64(b[at:], uint64(len(b)-at-8))
	return b
}

// RestoreState rebuilds a State from a snapshot body.
func RestoreState(ref *refdata.Registry, body []byte) (*State, error) {
	if len(body) < 20 {
		return nil, errors.New("snapshot body too short")
	}
	if v := binary.LittleEndian.Uint32(body); v != snapshotVersion {
		return nil, fmt.Errorf("snapshot body version %d, this build reads version %d", v, snapshotVersion)
	}
	s := &State{Seq: binary.LittleEndian.Uint64(body[4:])}
	s.Hasher.SetSum(binary.LittleEndian.Uint64(body[12:]))
	rest := body[20:]
	eng, rest, err := section(rest, "engine")
	if err != nil {
		return nil, err
	}
	om, rest, err := section(rest, "order manager")
	if err != nil {
		return nil, err
	}
	// The operator section (halt reasons, blocked firms, changed limits,
	// recent operator actions) is absent from older snapshots, and so is
	// the section of symbols listed at run time, which must be listed again
	// before the order manager's section is read.
	var opr, listings []byte
	if len(rest) > 0 {
		if opr, rest, err = section(rest, "operator"); err != nil {
			return nil, err
		}
	}
	if len(rest) > 0 {
		if listings, _, err = section(rest, "listed symbols"); err != nil {
			return nil, err
		}
	}
	defer holdGC()()
	// The engine and the order manager restore from disjoint sections into
	// state of their own, so they run on two goroutines: the wall time is
	// the longer of the two instead of their sum.
	engDone := make(chan error, 1)
	go func() {
		var err error
		s.Engine, err = matching.Restore(eng)
		engDone <- err
	}()
	var omErr error
	s.Manager, omErr = ordermanager.RestoreListed(ref, ordermanager.Config{}, om, listings)
	if err := <-engDone; err != nil {
		return nil, fmt.Errorf("engine snapshot: %w", err)
	}
	if omErr != nil {
		return nil, fmt.Errorf("order manager snapshot: %w", omErr)
	}
	if n := len(ref.Symbols) + len(s.Manager.Listed()); s.Engine.Symbols() != n {
		return nil, fmt.Errorf("snapshot has %d symbols, the configuration and the listings %d: the configuration changed since the journal was written", s.Engine.Symbols(), n)
	}
	// The order manager's copy of the phases is the engine's.
	s.Manager.SetPhases(s.Engine.PhaseUnderHalt)
	if opr != nil {
		if err := s.Manager.RestoreOperatorState(opr); err != nil {
			return nil, fmt.Errorf("operator snapshot: %w", err)
		}
	}
	return s, nil
}

func section(b []byte, name string) (sec, rest []byte, err error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("snapshot body: %s section missing", name)
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("snapshot body: %s section of %d bytes overruns the body", name, n)
	}
	return b[8 : 8+n], b[8+n:], nil
}

// Apply runs one journaled command through the order manager and the engine,
// folding the engine's events into the hash and the order manager. Events are
// appended to evs and returned so callers (replay, market data) can see them.
func (s *State) Apply(it *sequencer.Item, evs []matching.Event, reps []ordermanager.Report) ([]matching.Event, []ordermanager.Report, error) {
	if err := s.Manager.ApplySequenced(&it.Cmd, it.MetaBytes()); err != nil {
		return evs, reps, omError(it, err)
	}
	start := len(evs)
	evs = s.Engine.Apply(&it.Cmd, evs)
	for i := start; i < len(evs); i++ {
		s.Hasher.Add(&evs[i])
		reps = s.Manager.OnEvent(&evs[i], reps)
	}
	s.Seq = it.Cmd.Seq
	return evs, reps, nil
}

// omError is the error of the order manager refusing a journaled command.
func omError(it *sequencer.Item, err error) error {
	return fmt.Errorf("seq %d: order manager: %w", it.Cmd.Seq, err)
}
