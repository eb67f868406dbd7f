package engine

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/bytedance/sonic"
)

// APIKey is a key scoped to one tenant: it may publish and read that
// tenant's data and nothing else. The key is shown once, at creation; only
// its SHA-256 is stored (a key is 32 random bytes, so a fast hash is safe).
type APIKey struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"` // the key's first characters, to tell keys apart
	CreatedAt time.Time `json:"created_at"`
	// Key is set only in CreateAPIKey's answer.
	Key string `json:"key,omitempty"`
}

const (
	apiKeyPrefix   = "key_"
	apiKeySecretPf = "hlk_"
	maxKeysPerTen  = 100
)

type apiKeyEntry struct {
	k    APIKey
	hash [32]byte
}

// CreateAPIKey makes a new key for tenant.
func (e *Engine) CreateAPIKey(tenant, name string) (APIKey, error) {
	if len(name) > maxNameLen {
		return APIKey{}, invalid("invalid_name", "name is %d bytes; at most %d allowed", len(name), maxNameLen)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return APIKey{}, err
	}
	secret := apiKeySecretPf + base64.RawURLEncoding.EncodeToString(raw[:])
	k := APIKey{
		ID:        apiKeyPrefix + e.log.NewConfigID().String(),
		Tenant:    tenant,
		Name:      name,
		Prefix:    secret[:len(apiKeySecretPf)+6],
		CreatedAt: time.Now().UTC(),
	}
	hash := sha256.Sum256([]byte(secret))
	rec, err := sonic.Marshal(k)
	if err != nil {
		return APIKey{}, err
	}
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	if e.tenants[tenant] == nil {
		return APIKey{}, notFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	n := 0
	for _, en := range e.apiKeys {
		if en.k.Tenant == tenant {
			n++
		}
	}
	if n >= maxKeysPerTen {
		return APIKey{}, conflict("too_many_api_keys", "tenant %q has %d API keys, the most allowed", tenant, maxKeysPerTen)
	}
	if err := e.log.PutAPIKey(hash, rec); err != nil {
		return APIKey{}, err
	}
	e.apiKeys[hash] = &apiKeyEntry{k: k, hash: hash}
	k.Key = secret
	return k, nil
}

// ListAPIKeys returns tenant's keys, oldest first, without the keys.
func (e *Engine) ListAPIKeys(tenant string) ([]APIKey, error) {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	if e.tenants[tenant] == nil {
		return nil, notFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	out := []APIKey{}
	for _, en := range e.apiKeys {
		if en.k.Tenant == tenant {
			out = append(out, en.k)
		}
	}
	slices.SortFunc(out, func(a, b APIKey) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteAPIKey revokes a key at once.
func (e *Engine) DeleteAPIKey(tenant, id string) error {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	if e.tenants[tenant] == nil {
		return notFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	for h, en := range e.apiKeys {
		if en.k.Tenant == tenant && en.k.ID == id {
			if err := e.log.DeleteAPIKey(h); err != nil {
				return err
			}
			delete(e.apiKeys, h)
			return nil
		}
	}
	return notFound("api_key_not_found", "API key %q does not exist in tenant %q", id, tenant)
}

// AuthenticateKey returns the key that token is, if any.
func (e *Engine) AuthenticateKey(token []byte) (APIKey, bool) {
	hash := sha256.Sum256(token)
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	if en := e.apiKeys[hash]; en != nil {
		return en.k, true
	}
	return APIKey{}, false
}

// deleteTenantKeysLocked revokes the keys of a deleted tenant; the caller
// holds cfgMu for writing.
func (e *Engine) deleteTenantKeysLocked(tenant string) error {
	var errs []error
	for h, en := range e.apiKeys {
		if en.k.Tenant == tenant {
			if err := e.log.DeleteAPIKey(h); err != nil {
				errs = append(errs, err)
				continue
			}
			delete(e.apiKeys, h)
		}
	}
	return errors.Join(errs...)
}

func (e *Engine) loadAPIKeys() error {
	return e.log.ScanAPIKeys(func(hash [32]byte, val []byte) {
		var k APIKey
		if err := sonic.Unmarshal(val, &k); err != nil {
			e.logger.Error("skipping corrupt API key record", "err", err)
			return
		}
		if e.tenants[k.Tenant] == nil {
			return
		}
		e.apiKeys[hash] = &apiKeyEntry{k: k, hash: hash}
	})
}
