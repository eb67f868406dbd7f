package inbound

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/bytedance/sonic"

	"hookline/internal/rotation"
	"hookline/internal/seal"
	"hookline/wal"
)

// Source secrets at rest, as the engine keeps endpoint secrets (see
// engine/secret_seal.go): the stored record holds Secret and every
// PreviousSecrets[i].Secret sealed under Options.Secrets, bound to the
// source's id, and ResealSources seals plaintext or older-key records
// again when New starts.

func sourceSecrets(s *Source) []*string {
	ps := []*string{&s.Secret}
	for i := range s.PreviousSecrets {
		ps = append(ps, &s.PreviousSecrets[i].Secret)
	}
	return ps
}

// encodeSource is s's stored record: its secrets sealed under kr.
func encodeSource(kr *seal.Keyring, s *Source) ([]byte, error) {
	rec := *s
	rec.PreviousSecrets = append([]rotation.Previous(nil), s.PreviousSecrets...)
	if err := kr.SealAll(rec.ID, sourceSecrets(&rec)...); err != nil {
		return nil, fmt.Errorf("cannot seal the secrets of source %s: %w", s.ID, err)
	}
	b, err := sonic.Marshal(&rec)
	if err != nil {
		return nil, fmt.Errorf("cannot encode source %s: %w", s.ID, err)
	}
	return b, nil
}

// decodeSource reads a stored source record and opens its secrets; stale
// says it is to be sealed again.
func decodeSource(kr *seal.Keyring, val []byte) (s Source, stale bool, err error) {
	if err := sonic.Unmarshal(val, &s); err != nil {
		return Source{}, false, err
	}
	stale, err = kr.OpenAll(s.ID, sourceSecrets(&s)...)
	return s, stale, err
}

func sourceKeyError(id string, kr *seal.Keyring, err error) error {
	cur := "none"
	if kr != nil {
		cur = kr.CurrentID()
	}
	return fmt.Errorf("the secrets of source %s are %w (the key file holds key %s): start with the key file this data directory was sealed with", id, err, cur)
}

// ResealSources seals again, under kr's current key, the secrets of every
// stored source that holds them in plaintext or under an older key of kr,
// and returns how many it rewrote; see engine.ResealEndpoints.
func ResealSources(log *wal.Log, kr *seal.Keyring, logger *slog.Logger) (int, error) {
	if kr == nil {
		return 0, nil
	}
	type rec struct {
		id wal.ID
		s  Source
	}
	var (
		stale []rec
		ferr  error
	)
	err := log.Sources(func(id wal.ID, val []byte) {
		s, st, err := decodeSource(kr, val)
		var uk *seal.UnknownKeyError
		switch {
		case ferr != nil:
		case errors.As(err, &uk):
			ferr = sourceKeyError(s.ID, kr, err)
		case err == nil && st:
			stale = append(stale, rec{id, s})
		}
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		return 0, err
	}
	for _, r := range stale {
		b, err := encodeSource(kr, &r.s)
		if err != nil {
			return 0, err
		}
		if err := log.PutSource(r.id, b); err != nil {
			return 0, err
		}
	}
	if len(stale) > 0 && logger != nil {
		logger.Info("sealed source secrets under the current key", "sources", len(stale), "key", kr.CurrentID())
	}
	return len(stale), nil
}
