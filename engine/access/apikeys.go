package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"time"

	"hookline/engine"

	"github.com/bytedance/sonic"
)

// APIKey is a key scoped to one tenant: it may use that tenant's routes
// whose scope its Scopes hold, and nothing else. The key is shown once, at
// creation; only its SHA-256 is stored (a key is 32 random bytes, so a
// fast hash is safe).
type APIKey struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
	// Scopes are given at creation; a key created without them, or stored
	// before keys had them, has DefaultKeyScopes.
	Scopes    Scopes    `json:"scopes"`
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

// CreateAPIKey makes a new key for tenant with scopes (nil: the
// default ones).
func (a *Access) CreateAPIKey(ctx context.Context, tenant, name string, scopes []string) (APIKey, error) {
	k, err := a.createAPIKey(tenant, name, scopes)
	if err == nil {
		shown := k
		shown.Key = ""
		a.e.Audit(ctx, engine.Change{Action: "api_key.create", Tenant: tenant, Resource: k.ID, After: shown})
	}
	return k, err
}

func (a *Access) createAPIKey(tenant, name string, scopes []string) (APIKey, error) {
	if len(name) > engine.MaxNameLen {
		return APIKey{}, engine.Invalid("invalid_name", "name is %d bytes; at most %d allowed", len(name), engine.MaxNameLen)
	}
	ss, err := ParseScopes(scopes)
	if err != nil {
		return APIKey{}, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return APIKey{}, err
	}
	secret := apiKeySecretPf + base64.RawURLEncoding.EncodeToString(raw[:])
	k := APIKey{
		ID:        apiKeyPrefix + a.log.NewConfigID().String(),
		Tenant:    tenant,
		Name:      name,
		Scopes:    ss,
		Prefix:    secret[:len(apiKeySecretPf)+6],
		CreatedAt: time.Now().UTC(),
	}
	hash := sha256.Sum256([]byte(secret))
	rec, err := sonic.Marshal(k)
	if err != nil {
		return APIKey{}, err
	}
	err = a.e.WithTenant(tenant, func() error {
		a.mu.Lock()
		defer a.mu.Unlock()
		n := 0
		for _, en := range a.keys {
			if en.k.Tenant == tenant {
				n++
			}
		}
		if n >= maxKeysPerTen {
			return engine.Conflict("too_many_api_keys", "tenant %q has %d API keys, the most allowed", tenant, maxKeysPerTen)
		}
		if err := a.log.PutAPIKey(hash, rec); err != nil {
			return err
		}
		a.keys[hash] = &apiKeyEntry{k: k, hash: hash}
		return nil
	})
	if err != nil {
		return APIKey{}, err
	}
	k.Key = secret
	return k, nil
}

// ListAPIKeys returns tenant's keys, oldest first, without the keys.
func (a *Access) ListAPIKeys(tenant string) ([]APIKey, error) {
	return listTenant(a, tenant, a.keys, func(en *apiKeyEntry) (APIKey, bool) {
		return en.k, en.k.Tenant == tenant
	}, func(k APIKey) string { return k.ID })
}

// DeleteAPIKey revokes a key at once.
func (a *Access) DeleteAPIKey(ctx context.Context, tenant, id string) error {
	err := a.e.WithTenant(tenant, func() error {
		a.mu.Lock()
		defer a.mu.Unlock()
		for h, en := range a.keys {
			if en.k.Tenant == tenant && en.k.ID == id {
				if err := a.log.DeleteAPIKey(h); err != nil {
					return err
				}
				delete(a.keys, h)
				return nil
			}
		}
		return engine.NotFound("api_key_not_found", "API key %q does not exist in tenant %q", id, tenant)
	})
	if err == nil {
		a.e.Audit(ctx, engine.Change{Action: "api_key.delete", Tenant: tenant, Resource: id})
	}
	return err
}

// AuthenticateKey returns the key that token is, if any.
func (a *Access) AuthenticateKey(token []byte) (APIKey, bool) {
	hash := sha256.Sum256(token)
	a.mu.RLock()
	defer a.mu.RUnlock()
	if en := a.keys[hash]; en != nil {
		return en.k, true
	}
	return APIKey{}, false
}

// deleteTenantKeysLocked removes the keys of a tenant being deleted; a.mu
// is held.
func (a *Access) deleteTenantKeysLocked(tenant string) error {
	return deleteTenantLocked(a.keys, tenant, func(en *apiKeyEntry) string { return en.k.Tenant }, a.log.DeleteAPIKey)
}

// loadAPIKeys reads the stored keys at start; a key of a tenant that no
// longer exists is left out.
func (a *Access) loadAPIKeys() error {
	return a.log.ScanAPIKeys(func(hash [32]byte, val []byte) {
		var k APIKey
		if err := sonic.Unmarshal(val, &k); err != nil {
			a.logger.Error("skipping corrupt API key record", "err", err)
			return
		}
		if !a.e.TenantExists(k.Tenant) {
			return
		}
		if k.Scopes == nil {
			k.Scopes = slices.Clone(DefaultKeyScopes) // stored before keys had scopes
		}
		a.keys[hash] = &apiKeyEntry{k: k, hash: hash}
	})
}
