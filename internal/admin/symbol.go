package admin

import (
	"errors"
	"net/http"

	"github.com/exchange-sim/exchange/internal/ordermanager"
	"github.com/exchange-sim/exchange/internal/refdata"
)

// SymbolRequest is POST /admin/v1/symbols: list a new symbol from the
// action's sequence number on. The fields are those of the configuration's
// symbols section; sizes and prices are decimal strings.
type SymbolRequest struct {
	Name           string `json:"name"`
	TickSize       string `json:"tick_size"`
	LotSize        string `json:"lot_size"`
	ReferencePrice string `json:"reference_price,omitempty"`
	StaticBandBps  int64  `json:"static_band_bps,omitempty"`
	DynamicBandBps int64  `json:"dynamic_band_bps,omitempty"`
	Reason         string `json:"reason"`
}

// listSymbol lists a symbol: the note, then the engine's CmdAddSymbol with
// the symbol in its meta, journaled like every action. The order manager,
// the engine, market data and the gateway's lookups know it once the
// action returns, and a restart or a replay lists it again from the
// journal (or the snapshot).
func (s *Server) listSymbol(r *http.Request, body []byte, who refdata.AdminToken) (any, *apiError) {
	var req SymbolRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if err := needReason(req.Reason); err != nil {
		return nil, err
	}
	for _, f := range [][2]string{{"name", req.Name}, {"tick_size", req.TickSize}, {"lot_size", req.LotSize}} {
		if f[1] == "" {
			return nil, errf(400, f[0], "required")
		}
	}
	sym, err := s.ref.BuildSymbol(&refdata.SymbolListing{Name: req.Name, TickSize: req.TickSize, LotSize: req.LotSize,
		ReferencePrice: req.ReferencePrice, StaticBandBps: req.StaticBandBps, DynamicBandBps: req.DynamicBandBps}, 0)
	var le *refdata.ListingError
	if errors.As(err, &le) {
		return nil, errf(400, le.Field, "%s", le.Msg)
	} else if err != nil {
		return nil, errf(400, "", "%v", err)
	}
	if s.ref.SymbolByName(req.Name) != 0 {
		return nil, errf(409, "name", "symbol %q is already listed", req.Name)
	}
	return s.operate(r, &ordermanager.Operation{Action: ordermanager.ActListSymbol, Listing: sym, Who: who.Name, Why: req.Reason})
}
