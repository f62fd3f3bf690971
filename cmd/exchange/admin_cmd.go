package main

import (
	"fmt"
	"io"

	"github.com/exchange-sim/exchange/internal/admin"
	"github.com/exchange-sim/exchange/internal/config"
)

// startAdmin starts the operator console on cfg.ListenAdmin.
func (v *venue) startAdmin() error {
	o := admin.Options{Ref: v.cfg.Registry, Tokens: v.cfg.AdminTokens, Durability: v.cfg.Durability,
		Addr: v.cfg.ListenAdmin, Exchange: v.x, Gateway: v.gw, MarketData: v.md, Log: v.log}
	if v.node != nil {
		// The node replaces its venue when it loses the leadership.
		o.Current = v.node.Exchange
	}
	s, err := admin.New(o)
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return err
	}
	v.adm = s
	return nil
}

func printAdminInfo(w io.Writer, cfg *config.Config, v *venue) {
	if v.adm != nil {
		fmt.Fprintf(w, "  admin     http://%s/admin/v1/   (exchange admin --addr %s status)\n", v.adm.Addr(), v.adm.Addr())
		if cfg.Source == "embedded default" {
			fmt.Fprintf(w, "            demo tokens: demo-operator-token (operator), demo-viewer-token (viewer)\n")
		}
	}
	fmt.Fprintln(w)
}
