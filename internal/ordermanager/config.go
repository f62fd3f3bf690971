package ordermanager

// Config is what the order manager needs besides the venue's reference data
// (a refdata.Registry: symbols, accounts with their balances and limits,
// firms with their fees, sessions): the sizes of its tables. The zero Config
// takes the defaults.
type Config struct {
	// ClOrdIDsRetained is how many ClOrdIDs of finished business stay
	// remembered (0: the constant ClOrdIDsRetained). It decides which reused
	// ClOrdIDs are refused as duplicates, so a venue, its standbys and every
	// replay of its journal must use the same value.
	ClOrdIDsRetained int
}

// retain is ClOrdIDsRetained with its default.
func (c *Config) retain() int {
	if c.ClOrdIDsRetained <= 0 {
		return ClOrdIDsRetained
	}
	return c.ClOrdIDsRetained
}
