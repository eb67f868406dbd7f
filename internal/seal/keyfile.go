package seal

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// A key file holds one key as base64 (standard, padded) on one line, mode
// 0600. `head -c 32 /dev/urandom | base64` makes one.

// ReadKeyFile reads the key in path. A file readable by others than its
// owner is refused: the key would be no safer than the store.
func ReadKeyFile(path string) (*Key, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read secret key file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %q has mode %v; it must be readable by its owner only (chmod 600)", path, info.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read secret key file: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != KeySize {
		return nil, fmt.Errorf("secret key file %q does not hold a key: it must hold %d random bytes in base64 on one line", path, KeySize)
	}
	return NewKey(raw)
}

// WriteKeyFile writes a new random key to path with mode 0600 and syncs it;
// a file already at path is an error, never overwritten.
func WriteKeyFile(path string) (*Key, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("cannot generate a secret key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot create secret key file: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("cannot write secret key file %q: %w", path, err)
	}
	return NewKey(raw)
}

// LoadOrCreateKeyFile reads the key in path; when create is set and no
// file is there, it generates one (first start) and reports it.
func LoadOrCreateKeyFile(path string, create bool) (k *Key, created bool, err error) {
	k, err = ReadKeyFile(path)
	if err == nil || !create || !errors.Is(err, os.ErrNotExist) {
		return k, false, err
	}
	k, err = WriteKeyFile(path)
	return k, err == nil, err
}
