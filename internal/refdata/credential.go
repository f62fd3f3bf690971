package refdata

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
)

// APIKeyPrefix starts a Session.PasswordHash that holds the SHA-256 of a
// generated API key ("sha256:" and 64 hex digits) rather than a bcrypt hash.
// It is meant for machine sessions whose password is a random key of 32
// bytes from `exchange passwd --api-key`: guessing such a key is hopeless
// even at SHA-256's speed, so it needs no slow hash, and a thousand first
// logons cost microseconds each instead of bcrypt's tens of milliseconds. A
// password a person chose must stay a bcrypt hash.
const APIKeyPrefix = "sha256:"

// APIKeyHash is the SHA-256 of an API key as configured.
type APIKeyHash [sha256.Size]byte

// ParseAPIKeyHash reads a password hash of the form "sha256:<64 hex digits>".
// isKey says whether hash has the prefix at all (false: it is not an API
// key, err is nil); err says what is wrong with one that has it.
func ParseAPIKeyHash(hash string) (sum APIKeyHash, isKey bool, err error) {
	h, ok := strings.CutPrefix(hash, APIKeyPrefix)
	if !ok {
		return sum, false, nil
	}
	if len(h) != 2*sha256.Size {
		return sum, true, errors.New(`an API key hash is "sha256:" and 64 hex digits (make one with ` + "`exchange passwd --api-key`)")
	}
	if _, err := hex.Decode(sum[:], []byte(h)); err != nil {
		return sum, true, errors.New(`an API key hash is "sha256:" and 64 hex digits: ` + err.Error())
	}
	return sum, true, nil
}

// APIKeyHashOf returns the configuration form of key's hash:
// "sha256:<hex of SHA-256(key)>".
func APIKeyHashOf(key string) string {
	s := sha256.Sum256([]byte(key))
	return APIKeyPrefix + hex.EncodeToString(s[:])
}

// Matches reports, in constant time, whether key hashes to h.
func (h *APIKeyHash) Matches(key []byte) bool {
	s := sha256.Sum256(key)
	return subtle.ConstantTimeCompare(s[:], h[:]) == 1
}
