// Package keys issues, parses and verifies SpendOps API keys
// (aso_k_{id}.{secret}) and holds the per-key policy.
package keys

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// Prefix starts every SpendOps API key.
const Prefix = "aso_k_"

// ErrFormat is returned for a string that is not an aso_k_{id}.{secret} key.
var ErrFormat = errors.New("invalid key format")

const (
	idAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ" // Crockford base32, ULID-like
	idLen      = 16                                 // 80 random bits
	secretLen  = 32                                 // 256 random bits
	maxIDLen   = 64
	minSecret  = 16
	maxSecret  = 256
	maxKeyLen  = len(Prefix) + maxIDLen + 1 + maxSecret
)

// Generate returns a new key id and the full key string. The secret has 256
// random bits, base64url without padding.
func Generate() (id, key string, err error) {
	b := make([]byte, idLen+secretLen)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	idb := make([]byte, idLen)
	for i := range idb {
		idb[i] = idAlphabet[b[i]&31]
	}
	id = string(idb)
	return id, Prefix + id + "." + base64.RawURLEncoding.EncodeToString(b[idLen:]), nil
}

// Parse splits a key into its id. It checks the shape only: prefix, an id of
// [0-9A-Za-z] (1-64), a dot, and a secret of 16-256 base64 characters
// (standard or URL alphabet, optional padding).
func Parse(key string) (id string, err error) {
	if len(key) > maxKeyLen || !strings.HasPrefix(key, Prefix) {
		return "", ErrFormat
	}
	rest := key[len(Prefix):]
	dot := strings.IndexByte(rest, '.')
	if dot < 1 || dot > maxIDLen {
		return "", ErrFormat
	}
	id, secret := rest[:dot], rest[dot+1:]
	for i := 0; i < len(id); i++ {
		if !isAlnum(id[i]) {
			return "", ErrFormat
		}
	}
	if len(secret) < minSecret || len(secret) > maxSecret {
		return "", ErrFormat
	}
	for i := 0; i < len(secret); i++ {
		c := secret[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '+' && c != '/' && c != '=' {
			return "", ErrFormat
		}
	}
	return id, nil
}

// Hash is HMAC-SHA-256 of the full key under the server secret: the only form
// of a key that is stored.
func Hash(serverSecret []byte, key string) []byte {
	m := hmac.New(sha256.New, serverSecret)
	m.Write([]byte(key))
	return m.Sum(nil)
}

// Equal compares two hashes in constant time.
func Equal(a, b []byte) bool { return hmac.Equal(a, b) }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
