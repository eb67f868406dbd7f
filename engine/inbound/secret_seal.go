package inbound

import (
	"log/slog"
	"slices"

	"hookline/engine"
	"hookline/internal/rotation"
	"hookline/internal/seal"
	"hookline/wal"
)

// sourceRecords are the stored sources: their secrets are sealed at rest
// as the engine seals endpoints' (engine.SealedRecords).
var sourceRecords = &engine.SealedRecords[Source]{
	Kind: "source",
	ID:   func(s *Source) string { return s.ID },
	Stored: func(s *Source) Source {
		rec := *s
		rec.PreviousSecrets = slices.Clone(s.PreviousSecrets)
		return rec
	},
	Secrets: func(s *Source) []*string {
		return append(rotation.Pointers(&s.Secret, s.PreviousSecrets), &s.VerifyToken)
	},
	Each: (*wal.Log).Sources,
	Put:  (*wal.Log).PutSource,
}

// ResealSources seals again the secrets of every stored source that holds
// them in plaintext or under an older key of kr: see
// engine.SealedRecords.Reseal.
func ResealSources(log *wal.Log, kr *seal.Keyring, logger *slog.Logger) (int, error) {
	return sourceRecords.Reseal(log, kr, logger)
}
