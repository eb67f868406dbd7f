package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/bytedance/sonic"

	"hookline/internal/rotation"
	"hookline/internal/seal"
	"hookline/wal"
)

// Secrets at rest: a stored record holds its secrets sealed
// (internal/seal) under Options.Secrets, each bound to the record's id;
// memory and the API hold them in plaintext. A record from before sealing
// (plaintext) or sealed under an older key is sealed again under the
// current key when the server starts (Reseal), so a store is all sealed
// under one key once it has started. SealedRecords is that logic once,
// for each kind of record that has secrets: endpoints here, sources in
// engine/inbound.

// SealedRecords says how one kind of stored record keeps its secrets.
type SealedRecords[T any] struct {
	Kind string // "endpoint", in errors and logs
	// ID is what a record's secrets are bound to.
	ID func(rec *T) string
	// Stored is the record as written: a copy of rec that shares no
	// secret with it (sealing rewrites the copy's secrets in place), with
	// memory-only state left out.
	Stored func(rec *T) T
	// Secrets points at every secret of rec.
	Secrets func(rec *T) []*string
	// Each calls fn with every stored record; Put replaces one.
	Each func(log *wal.Log, fn func(id wal.ID, val []byte) error) error
	Put  func(log *wal.Log, id wal.ID, val []byte) error
}

// Encode is rec's stored record: its secrets sealed under kr (left as
// they are when kr is nil).
func (r *SealedRecords[T]) Encode(kr *seal.Keyring, rec *T) ([]byte, error) {
	st := r.Stored(rec)
	if err := kr.SealAll(r.ID(&st), r.Secrets(&st)...); err != nil {
		return nil, fmt.Errorf("cannot seal the secrets of %s %s: %w", r.Kind, r.ID(rec), err)
	}
	b, err := sonic.Marshal(&st)
	if err != nil {
		return nil, fmt.Errorf("cannot encode %s %s: %w", r.Kind, r.ID(rec), err)
	}
	return b, nil
}

// Decode reads a stored record and opens its secrets; stale says it is
// to be sealed again (plaintext, or an older key).
func (r *SealedRecords[T]) Decode(kr *seal.Keyring, val []byte) (rec T, stale bool, err error) {
	if err := sonic.Unmarshal(val, &rec); err != nil {
		var zero T
		return zero, false, err
	}
	stale, err = kr.OpenAll(r.ID(&rec), r.Secrets(&rec)...)
	return rec, stale, err
}

// keyError is the start-up error for a record sealed under a key the
// keyring lacks: the wrong key file, or a lost one. Starting anyway would
// leave the record's secrets unusable, or invite a new secret over data
// that a restored key could still open.
func (r *SealedRecords[T]) keyError(id string, kr *seal.Keyring, err error) error {
	cur := "none"
	if kr != nil {
		cur = kr.CurrentID()
	}
	return fmt.Errorf("the secrets of %s %s are %w (the key file holds key %s): start with the key file this data directory was sealed with", r.Kind, id, err, cur)
}

// each decodes every stored record for fn; a record under a key kr lacks
// is an error, a corrupt one is passed to fn with its error.
func (r *SealedRecords[T]) each(log *wal.Log, kr *seal.Keyring, fn func(id wal.ID, rec *T, stale bool, err error) error) error {
	return r.Each(log, func(id wal.ID, val []byte) error {
		rec, stale, err := r.Decode(kr, val)
		if uk := (*seal.UnknownKeyError)(nil); errors.As(err, &uk) {
			return r.keyError(r.ID(&rec), kr, err)
		}
		return fn(id, &rec, stale, err)
	})
}

// Reseal seals again, under kr's current key, the secrets of every stored
// record that holds them in plaintext or under an older key of kr, and
// returns how many it rewrote. A record under a key kr lacks is an error;
// a corrupt one is left for Load to log and skip. Load runs it;
// `hookline keys rotate-master` runs it with the new key current and the
// old one in the ring. It must not run while another process serves the
// log.
func (r *SealedRecords[T]) Reseal(log *wal.Log, kr *seal.Keyring, logger *slog.Logger) (int, error) {
	if kr == nil {
		return 0, nil
	}
	type staleRec struct {
		id  wal.ID
		rec T
	}
	var stale []staleRec
	err := r.each(log, kr, func(id wal.ID, rec *T, st bool, err error) error {
		if err == nil && st {
			stale = append(stale, staleRec{id, *rec})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for i := range stale {
		b, err := r.Encode(kr, &stale[i].rec)
		if err != nil {
			return 0, err
		}
		if err := r.Put(log, stale[i].id, b); err != nil {
			return 0, err
		}
	}
	if len(stale) > 0 && logger != nil {
		logger.Info("sealed "+r.Kind+" secrets under the current key", "records", len(stale), "key", kr.CurrentID())
	}
	return len(stale), nil
}

// Load reads the stored records at start, first sealing again those
// Reseal would, and calls fn with each; a corrupt record is logged and
// skipped, one sealed under a key kr lacks is an error.
func (r *SealedRecords[T]) Load(log *wal.Log, kr *seal.Keyring, logger *slog.Logger, fn func(id wal.ID, rec *T) error) error {
	if _, err := r.Reseal(log, kr, logger); err != nil {
		return err
	}
	return r.each(log, kr, func(id wal.ID, rec *T, _ bool, err error) error {
		if err != nil {
			logger.Error("skipping corrupt "+r.Kind+" record", r.Kind, id.String(), "err", err)
			return nil
		}
		return fn(id, rec)
	})
}

// endpointRecords are the stored endpoints.
var endpointRecords = &SealedRecords[Endpoint]{
	Kind: "endpoint",
	ID:   func(ep *Endpoint) string { return ep.ID },
	Stored: func(ep *Endpoint) Endpoint {
		rec := *ep
		rec.Circuit = nil
		rec.PreviousSecrets = slices.Clone(ep.PreviousSecrets)
		if ep.Auth != nil {
			auth := *ep.Auth
			rec.Auth = &auth
		}
		return rec
	},
	Secrets: func(ep *Endpoint) []*string {
		if ep.DeletedAt != nil {
			return nil // erased (see tombstone): nothing to seal
		}
		ps := rotation.Pointers(&ep.Secret, ep.PreviousSecrets)
		if a := ep.Auth; a != nil {
			// Every credential field, set or not: sealing an empty one
			// costs a few bytes and keeps the list independent of the type.
			ps = append(ps, &a.Token, &a.Password, &a.Value)
		}
		return ps
	},
	Each: (*wal.Log).Endpoints,
	Put:  (*wal.Log).PutEndpoint,
}

// ResealEndpoints seals again the secrets of every stored endpoint that
// holds them in plaintext or under an older key of kr: see Reseal.
func ResealEndpoints(log *wal.Log, kr *seal.Keyring, logger *slog.Logger) (int, error) {
	return endpointRecords.Reseal(log, kr, logger)
}
