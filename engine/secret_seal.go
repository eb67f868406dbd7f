package engine

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/bytedance/sonic"

	"hookline/internal/rotation"
	"hookline/internal/seal"
	"hookline/wal"
)

// Endpoint secrets at rest: the stored record holds Secret and every
// PreviousSecrets[i].Secret sealed (internal/seal) under Options.Secrets,
// bound to the endpoint's id; memory and the API hold them in plaintext.
// A record from before sealing (plaintext) or sealed under an older key
// is sealed again under the current key when New starts (ResealEndpoints),
// so a store is all sealed under one key once the server has started.

// endpointSecrets points at every secret of ep.
func endpointSecrets(ep *Endpoint) []*string {
	ps := []*string{&ep.Secret}
	for i := range ep.PreviousSecrets {
		ps = append(ps, &ep.PreviousSecrets[i].Secret)
	}
	return ps
}

// encodeEndpoint is ep's stored record: its secrets sealed under kr.
func encodeEndpoint(kr *seal.Keyring, ep *Endpoint) ([]byte, error) {
	rec := *ep
	rec.Circuit = nil
	rec.PreviousSecrets = append([]rotation.Previous(nil), ep.PreviousSecrets...)
	if err := kr.SealAll(rec.ID, endpointSecrets(&rec)...); err != nil {
		return nil, fmt.Errorf("cannot seal the secrets of endpoint %s: %w", ep.ID, err)
	}
	b, err := sonic.Marshal(&rec)
	if err != nil {
		return nil, fmt.Errorf("cannot encode endpoint %s: %w", ep.ID, err)
	}
	return b, nil
}

// decodeEndpoint reads a stored endpoint record and opens its secrets;
// stale says the record is to be sealed again (plaintext, or an older
// key).
func decodeEndpoint(kr *seal.Keyring, val []byte) (ep Endpoint, stale bool, err error) {
	if err := sonic.Unmarshal(val, &ep); err != nil {
		return Endpoint{}, false, err
	}
	stale, err = kr.OpenAll(ep.ID, endpointSecrets(&ep)...)
	return ep, stale, err
}

// secretKeyError is the start-up error for a record sealed under a key
// the keyring lacks: the wrong key file, or a lost one. Starting anyway
// would leave the endpoint unable to sign, or invite a new secret over
// data that a restored key could still open.
func secretKeyError(what, id string, kr *seal.Keyring, err error) error {
	cur := "none"
	if kr != nil {
		cur = kr.CurrentID()
	}
	return fmt.Errorf("the secrets of %s %s are %w (the key file holds key %s): start with the key file this data directory was sealed with", what, id, err, cur)
}

// ResealEndpoints seals again, under kr's current key, the secrets of
// every stored endpoint that holds them in plaintext or under an older
// key of kr, and returns how many it rewrote. A record under a key kr
// lacks is an error; a corrupt one is left for New to log and skip. New
// runs it at start; `hookline keys rotate-master` runs it with the new
// key current and the old one in the ring. It must not run while another
// process serves the log.
func ResealEndpoints(log *wal.Log, kr *seal.Keyring, logger *slog.Logger) (int, error) {
	if kr == nil {
		return 0, nil
	}
	type rec struct {
		id wal.ID
		ep Endpoint
	}
	var stale []rec
	err := log.Endpoints(func(id wal.ID, val []byte) error {
		ep, st, err := decodeEndpoint(kr, val)
		var uk *seal.UnknownKeyError
		switch {
		case errors.As(err, &uk):
			return secretKeyError("endpoint", ep.ID, kr, err)
		case err != nil:
			return nil // corrupt: load logs and skips it
		case st:
			stale = append(stale, rec{id, ep})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, r := range stale {
		b, err := encodeEndpoint(kr, &r.ep)
		if err != nil {
			return 0, err
		}
		if err := log.PutEndpoint(r.id, b); err != nil {
			return 0, err
		}
	}
	if len(stale) > 0 && logger != nil {
		logger.Info("sealed endpoint secrets under the current key", "endpoints", len(stale), "key", kr.CurrentID())
	}
	return len(stale), nil
}
