package config

import (
	"errors"
	"strings"

	"github.com/exchange-sim/exchange/internal/refdata"
)

// checkPasswordHash accepts a session's password_hash in either form: a
// bcrypt hash (for passwords people choose) or "sha256:<64 hex digits>", the
// SHA-256 of a generated API key (refdata.APIKeyPrefix; for machine
// sessions only). The error never repeats the value.
func checkPasswordHash(h string) error {
	if _, isKey, err := refdata.ParseAPIKeyHash(h); isKey {
		return err
	}
	if !strings.HasPrefix(h, "$2a$") && !strings.HasPrefix(h, "$2b$") && !strings.HasPrefix(h, "$2y$") {
		return errors.New("must be a bcrypt hash ($2a$/$2b$/$2y$...; make one with `exchange passwd`) or an API key's \"sha256:<64 hex digits>\" (`exchange passwd --api-key`)")
	}
	return nil
}
