// Package admin serves the admin API under /api/v1/ (keys, audit, and the
// handlers other components mount: events, denials, pricing) behind the
// admin bearer token.
package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TokenFile holds the SHA-256 of the generated admin token.
const TokenFile = "admin.token.sha256"

// Token verifies admin bearer tokens against a SHA-256 digest; the token
// itself is never stored.
type Token struct{ sum [32]byte }

// Verify compares in constant time.
func (t *Token) Verify(token string) bool {
	s := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(s[:], t.sum[:]) == 1
}

// LoadToken returns the verifier for the configured token when given;
// otherwise the stored digest; otherwise it generates a token, stores its
// digest with mode 0600 and returns the token so the caller prints it once.
func LoadToken(dataDir, configured string) (t *Token, generated string, err error) {
	if configured != "" {
		return &Token{sum: sha256.Sum256([]byte(configured))}, "", nil
	}
	path := filepath.Join(dataDir, TokenFile)
	b, err := os.ReadFile(path)
	if err == nil {
		raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(raw) != 32 {
			return nil, "", fmt.Errorf("%s: not a hex SHA-256 digest", path)
		}
		t = &Token{}
		copy(t.sum[:], raw)
		return t, "", nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, "", err
	}
	rb := make([]byte, 32)
	if _, err := rand.Read(rb); err != nil {
		return nil, "", err
	}
	tok := "aso_admin_" + base64.RawURLEncoding.EncodeToString(rb)
	t = &Token{sum: sha256.Sum256([]byte(tok))}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(t.sum[:])+"\n"), 0o600); err != nil {
		return nil, "", err
	}
	return t, tok, nil
}
