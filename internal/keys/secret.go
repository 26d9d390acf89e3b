package keys

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SecretFile is the server-secret file name in the data dir.
const SecretFile = "server.secret"

// LoadOrCreateSecret returns the server secret used to HMAC keys: the
// configured value when given (hex or raw, at least 32 bytes), else the one
// in dataDir, else a new random one written there with mode 0600.
func LoadOrCreateSecret(dataDir, configured string) ([]byte, error) {
	if configured != "" {
		if b, err := hex.DecodeString(configured); err == nil && len(b) >= 32 {
			return b, nil
		}
		if len(configured) < 32 {
			return nil, errors.New("server_secret: must be at least 32 bytes (or 64 hex characters)")
		}
		return []byte(configured), nil
	}
	path := filepath.Join(dataDir, SecretFile)
	b, err := os.ReadFile(path)
	if err == nil {
		s, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(s) < 32 {
			return nil, fmt.Errorf("%s: not a hex secret of at least 32 bytes", path)
		}
		return s, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateSecret(dataDir, "") // another process won the race
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(hex.EncodeToString(s) + "\n"); err != nil {
		_ = f.Close()
		return nil, err
	}
	return s, f.Close()
}
