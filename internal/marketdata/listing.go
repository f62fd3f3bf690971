package marketdata

import (
	"fmt"
	"maps"

	"github.com/exchange-sim/exchange/matching"
)

// symTable is the publisher's symbols. It never changes once published: a
// symbol listed at run time gives a new table (AddSymbol), so the HTTP,
// WebSocket and FIX readers look symbols up without a lock.
type symTable struct {
	byName map[string]*symState
	byID   []*symState // index: SymbolID
	syms   []*symState // by listing order: the configuration's, then the listed
}

// add checks si and appends its state; booksOf shares OrdersHint.
func (t *symTable) add(cfg *Config, si SymbolInfo, booksOf int) error {
	switch {
	case si.ID == 0 || si.ID > 1<<20:
		return fmt.Errorf("%w: symbol %q: id %d out of range 1..%d", ErrConfig, si.Name, si.ID, 1<<20)
	case si.Name == "":
		return fmt.Errorf("%w: symbol %d has no name", ErrConfig, si.ID)
	case si.TickSize.Sign() <= 0 || si.LotSize.Sign() <= 0:
		return fmt.Errorf("%w: symbol %q: tick and lot size must be positive", ErrConfig, si.Name)
	case t.byName[si.Name] != nil:
		return fmt.Errorf("%w: symbol %q listed twice", ErrConfig, si.Name)
	case int(si.ID) < len(t.byID) && t.byID[si.ID] != nil:
		return fmt.Errorf("%w: symbol id %d listed twice", ErrConfig, si.ID)
	}
	s := &symState{
		info: si,
		px:   newScale(si.TickSize),
		qty:  newScale(si.LotSize),
		book: newBook(cfg.OrdersHint / booksOf),
		tape: newTape(cfg.TradesMax),
	}
	for iv := range intervalCount {
		s.candles[iv] = newSeries(iv.Duration(), cfg.CandlesMax)
	}
	t.byName[si.Name] = s
	t.syms = append(t.syms, s)
	for int(si.ID) >= len(t.byID) {
		t.byID = append(t.byID, nil)
	}
	t.byID[si.ID] = s
	return nil
}

func (p *Publisher) symList() []*symState { return p.tab.Load().syms }

func (p *Publisher) symNamed(name string) *symState { return p.tab.Load().byName[name] }

// AddSymbol lists a symbol at run time (a venue restarted after a listing
// calls it for the listed symbols before Reset). A symbol already listed
// with the same ID and name is no error. O(symbols): the table is copied.
func (p *Publisher) AddSymbol(si SymbolInfo) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addSymbol(si)
}

// addSymbol is AddSymbol with p.mu held (writers of the table hold it).
func (p *Publisher) addSymbol(si SymbolInfo) error {
	old := p.tab.Load()
	if s := p.sym(si.ID); s != nil && s.info.Name == si.Name {
		return nil
	}
	t := &symTable{byName: maps.Clone(old.byName), byID: append([]*symState(nil), old.byID...), syms: append([]*symState(nil), old.syms...)}
	if err := t.add(&p.cfg, si, max(1, len(old.syms))); err != nil {
		return err
	}
	p.tab.Store(t)
	return nil
}

// listed applies EvSymbolAdded: Config.Listed describes the symbol. p.mu is
// held.
func (p *Publisher) listed(id matching.SymbolID) {
	if p.cfg.Listed == nil {
		return
	}
	si, ok := p.cfg.Listed(id)
	if !ok {
		p.cfg.Log.Error().Uint32("symbol", uint32(id)).Msg("symbol listed by the engine is unknown to the configuration")
		return
	}
	if err := p.addSymbol(si); err != nil {
		p.cfg.Log.Error().Err(err).Msg("listing a symbol")
	}
}
