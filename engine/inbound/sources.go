package inbound

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"hookline/engine"
	"hookline/internal/rotation"
	"hookline/internal/transform"
	"hookline/internal/verify"
	"hookline/wal"
)

// Inbound sources: external tools (Stripe, GitHub, ...) post to a source's
// unguessable URL; the source's verifier checks the request, its mapping
// turns it into an event, and the event flows out like a published one.

const (
	sourcePrefix = "src_"
	// Path is where sources receive: Path + source id.
	Path = "/in/"
)

// Source is an inbound webhook source as stored; API views leave out the
// secrets except on creation and rotation.
type Source struct {
	ID       string `json:"id"`
	Tenant   string `json:"tenant"`
	Name     string `json:"name"`
	Provider string `json:"provider"`
	// URL is the path the provider posts to: Path + ID.
	URL string `json:"url"`
	// Tolerance overrides the provider's timestamp tolerance ("5m").
	Tolerance string                `json:"tolerance,omitempty"`
	HMAC      *verify.HMACConfig    `json:"hmac,omitempty"`
	APIKey    *verify.APIKeyConfig  `json:"api_key,omitempty"`
	GitHub    *verify.GitHubOptions `json:"github,omitempty"`
	// Mapping is the mapping as given (absent: the provider's default).
	Mapping json.RawMessage `json:"mapping,omitempty"`

	Secret string `json:"secret,omitempty"`
	// VerifyToken answers the subscription handshake of a provider with
	// one (verify.Preset.Handshake: meta, whatsapp). Sealed and shown
	// like the secret: on creation, and in the answer to the patch that
	// sets it.
	VerifyToken     string              `json:"verify_token,omitempty"`
	PreviousSecrets []rotation.Previous `json:"previous_secrets,omitempty"`
	SecretRotatedAt *time.Time          `json:"secret_rotated_at,omitempty"`
	// PreviousSecretExpiresAt is shown, derived from PreviousSecrets.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
}

// SourceInput carries the fields of a source create or patch request.
type SourceInput struct {
	Name      *string               `json:"name"`
	Provider  *string               `json:"provider"`
	Secret    *string               `json:"secret"`
	Tolerance *string               `json:"tolerance"`
	HMAC      *verify.HMACConfig    `json:"hmac"`
	APIKey    *verify.APIKeyConfig  `json:"api_key"`
	GitHub    *verify.GitHubOptions `json:"github"`
	// VerifyToken is the handshake's token; absent on creation, one is
	// generated.
	VerifyToken *string `json:"verify_token"`
	// Mapping is absent (nil: keep), null (reset to the provider's
	// default) or a mapping. It is not a pointer: a decoder sets a nil
	// pointer for null, which could not be told from absent.
	Mapping json.RawMessage `json:"mapping"`
}

// sourceState is a source with what its requests need, built once per
// change: requests read it without locks beyond the map lookup.
type sourceState struct {
	src      Source
	id       wal.ID
	verifier verify.Verifier
	mapping  *transform.Mapping
	// rebuildAt is when the oldest previous secret expires: the verifier,
	// built with it, must be rebuilt without it then.
	rebuildAt time.Time
	// hashDedupe: the provider sends no delivery id (calendly, hubspot,
	// sendgrid, meta; whatsapp's status updates) and the source uses its
	// default mapping, so a retried delivery is known by its body: the
	// same bytes are the same delivery (their bodies carry event ids and
	// times, so two events never share one).
	hashDedupe bool
	// replayDedupe: the provider signs neither its delivery id nor a time
	// (verify.Preset.UnsignedID), so a request is also deduped on what
	// its signature covered (verify.Result.ReplayID): the same signed
	// request under a new delivery id is the first one's duplicate.
	replayDedupe bool
}

// replayKey is the second idempotency key of a request to a source with
// replayDedupe: its ReplayID, in a key space of its own (0x02, where
// dedupeID's keys have 0x01), so no delivery id a sender picks can name
// it.
func (st *sourceState) replayKey(vr *verify.Result) string {
	if !st.replayDedupe || vr == nil || vr.ReplayID == ([32]byte{}) {
		return ""
	}
	return "\x02" + st.src.ID + "\x00" + hex.EncodeToString(vr.ReplayID[:])
}

// dedupeID is the id a request is deduped on: the mapping's, else, for
// a provider without one (or whose id the request lacks, with
// verify.Preset.HashWithoutID), a hash of the body.
func (st *sourceState) dedupeID(mapped string, body []byte) string {
	if mapped != "" || !st.hashDedupe {
		return mapped
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// view is the source as the API shows it: no secrets.
func (s *Source) view() Source {
	v := *s
	v.Secret, v.VerifyToken, v.PreviousSecrets = "", "", nil
	v.PreviousSecretExpiresAt = rotation.LastExpiry(rotation.Unexpired(s.PreviousSecrets, time.Now()))
	return v
}

// ParseSourceID parses the API form of a source ID.
func ParseSourceID(s string) (wal.ID, bool) { return engine.ParsePrefixedID(s, sourcePrefix) }

// CreateSource creates a source in tenant. Its ID is random (not the
// ordered config IDs): it is the secret part of the URL.
func (rc *Receiver) CreateSource(ctx context.Context, tenant string, in SourceInput) (Source, error) {
	if in.Provider == nil {
		return Source{}, engine.Invalid("missing_provider", "provider is required: one of %s", strings.Join(verify.Names(), ", "))
	}
	id := wal.NewID()
	now := time.Now().UTC()
	s := Source{ID: sourcePrefix + id.String(), Tenant: tenant, CreatedAt: now, UpdatedAt: now}
	s.URL = Path + s.ID
	if p, ok := verify.Lookup(deref(in.Provider)); ok && p.Handshake && in.VerifyToken == nil {
		tok := newVerifyToken()
		in.VerifyToken = &tok
	}
	st, err := rc.buildSource(&s, in, id)
	if err != nil {
		return Source{}, err
	}
	err = rc.e.WithTenant(tenant, func() error {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := rc.putSource(st); err != nil {
			return err
		}
		rc.sources[s.ID] = st
		return nil
	})
	if err != nil {
		return Source{}, err
	}
	v := s.view()
	rc.e.Audit(ctx, engine.Change{Action: "source.create", Tenant: tenant, Resource: s.ID, After: v})
	v.Secret, v.VerifyToken = s.Secret, s.VerifyToken
	return v, nil
}

// buildSource applies in to s and compiles the verifier and the mapping:
// a bad field is refused here, never at a request.
func (rc *Receiver) buildSource(s *Source, in SourceInput, id wal.ID) (*sourceState, error) {
	if in.Name != nil {
		if len(*in.Name) > engine.MaxNameLen {
			return nil, engine.Invalid("invalid_name", "name is %d bytes; at most %d allowed", len(*in.Name), engine.MaxNameLen)
		}
		s.Name = *in.Name
	}
	if in.Provider != nil {
		if _, ok := verify.Lookup(*in.Provider); !ok {
			return nil, engine.Invalid("invalid_provider", "provider %q is not one of %s", *in.Provider, strings.Join(verify.Names(), ", "))
		}
		s.Provider = *in.Provider
	}
	if in.Secret != nil {
		s.Secret = *in.Secret
	}
	if in.Tolerance != nil {
		s.Tolerance = *in.Tolerance
	}
	if in.HMAC != nil {
		s.HMAC = in.HMAC
	}
	if in.APIKey != nil {
		s.APIKey = in.APIKey
	}
	if in.GitHub != nil {
		s.GitHub = in.GitHub
	}
	if in.VerifyToken != nil {
		if err := checkVerifyToken(s.Provider, *in.VerifyToken); err != nil {
			return nil, err
		}
		s.VerifyToken = *in.VerifyToken
	}
	if s.Secret == "" && s.Provider != "none" {
		return nil, engine.Invalid("missing_secret", "secret is required for provider %s (the signing secret the provider shows, or user:password for basic, the public key for sendgrid)", s.Provider)
	}
	if len(s.Secret) > 4096 {
		return nil, engine.Invalid("invalid_secret", "secret is %d bytes; at most 4096 allowed", len(s.Secret))
	}
	v, err := rc.sourceVerifier(s, time.Now())
	if err != nil {
		return nil, err
	}
	m, err := setMapping(s, in.Mapping)
	if err != nil {
		return nil, err
	}
	// Only a secret given now (creation, rotation): one stored before the
	// minimum existed still loads, with a warning (loadSources).
	if in.Secret != nil {
		if err := verify.CheckNewSecret(s.Provider, *in.Secret); err != nil {
			return nil, engine.Invalid(err.Code, "%s", err.Message)
		}
	}
	st := &sourceState{src: *s, id: id, verifier: v, mapping: m, hashDedupe: hashDedupe(s)}
	if p, ok := verify.Lookup(s.Provider); ok {
		st.replayDedupe = p.UnsignedID
	}
	for _, p := range rotation.Unexpired(s.PreviousSecrets, time.Now()) {
		if st.rebuildAt.IsZero() || p.ExpiresAt.Before(st.rebuildAt) {
			st.rebuildAt = p.ExpiresAt
		}
	}
	return st, nil
}

// setMapping applies a mapping as a create, patch or dry run gives it
// (nil: keep s's; null: the provider's default) to s and compiles s's
// mapping. One given now is refused if its types are reserved; a stored
// one (from before the prefix was reserved) still loads, and its requests
// are refused one by one.
func setMapping(s *Source, in json.RawMessage) (*transform.Mapping, error) {
	if in != nil {
		if string(bytes.TrimSpace(in)) == "null" {
			s.Mapping = nil
		} else {
			s.Mapping = in
		}
	}
	spec, m, err := compileSourceMapping(s)
	if err != nil {
		return nil, err
	}
	if in != nil {
		if err := checkReservedTemplates(&spec); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// hashDedupe says whether s's requests are deduped on their body
// (sourceState.hashDedupe).
func hashDedupe(s *Source) bool {
	p, ok := verify.Lookup(s.Provider)
	return ok && len(s.Mapping) == 0 && (p.DefaultID == "" || p.HashWithoutID)
}

// compileSourceMapping compiles s's mapping, or its provider's default
// when it has none, and returns the spec with it.
func compileSourceMapping(s *Source) (transform.Spec, *transform.Mapping, error) {
	var (
		spec transform.Spec
		m    *transform.Mapping
		err  error
	)
	if len(s.Mapping) > 0 {
		spec, m, err = transform.ParseSpec(s.Mapping)
	} else {
		p, _ := verify.Lookup(s.Provider)
		if p == nil || p.DefaultType == "" {
			return transform.Spec{}, nil, engine.Invalid("missing_mapping", "provider %s has no default mapping: give mapping.type (e.g. \"billing.{$.event}\")", s.Provider)
		}
		spec = transform.Spec{Type: p.DefaultType, ID: p.DefaultID}
		m, err = transform.Compile(spec)
	}
	if err != nil {
		var te *transform.Error
		if errors.As(err, &te) {
			if te.Rule != "" {
				return transform.Spec{}, nil, engine.Invalid(te.Code, "mapping.%s: %s", te.Rule, te.Message)
			}
			return transform.Spec{}, nil, engine.Invalid(te.Code, "mapping: %s", te.Message)
		}
		return transform.Spec{}, nil, engine.Invalid("invalid_mapping", "mapping: %s", err)
	}
	return spec, m, nil
}

// checkReservedTemplates refuses a mapping whose type templates start with
// hookline's reserved prefix as literal text. A template that can make a
// reserved type only from the request's values is refused per request
// (reservedMappedType).
func checkReservedTemplates(spec *transform.Spec) error {
	check := func(rule, tmpl string) error {
		// Literal text runs up to the first {part}; '{' is never literal.
		lit, _, _ := strings.Cut(tmpl, "{")
		if engine.ReservedEventType(lit) {
			return engine.ReservedType("mapping.%s: template %q makes reserved types", rule, tmpl)
		}
		return nil
	}
	if err := check("type", spec.Type); err != nil {
		return err
	}
	for i := range spec.Routes {
		if err := check(fmt.Sprintf("routes[%d].type", i), spec.Routes[i].Type); err != nil {
			return err
		}
	}
	return nil
}

// sourceVerifier builds s's verifier with its current and unexpired
// previous secrets.
func (rc *Receiver) sourceVerifier(s *Source, now time.Time) (verify.Verifier, error) {
	cfg := verify.Config{Provider: s.Provider, HMAC: s.HMAC, APIKey: s.APIKey, GitHub: s.GitHub, VerifyToken: s.VerifyToken}
	if s.Secret != "" {
		cfg.Secrets = append(cfg.Secrets, s.Secret)
	}
	for _, p := range rotation.Unexpired(s.PreviousSecrets, now) {
		cfg.Secrets = append(cfg.Secrets, p.Secret)
	}
	if s.Tolerance != "" {
		d, err := time.ParseDuration(s.Tolerance)
		if err != nil || d <= 0 || d > 24*time.Hour {
			return nil, engine.Invalid("invalid_tolerance", "tolerance %q must be a duration from 1s to 24h, like \"5m\"", s.Tolerance)
		}
		cfg.Tolerance = d
	}
	v, err := verify.New(cfg)
	if err != nil {
		var ve *verify.Error
		if errors.As(err, &ve) {
			return nil, engine.Invalid(ve.Code, "%s", ve.Message)
		}
		return nil, engine.Invalid("invalid_verification", "%s", err)
	}
	return v, nil
}

func (rc *Receiver) putSource(st *sourceState) error {
	b, err := sourceRecords.Encode(rc.secrets, &st.src)
	if err != nil {
		return err
	}
	return rc.log.PutSource(st.id, b)
}

// loadSources reads the stored sources at start, first sealing any
// secrets stored in plaintext or under an older key; one that no longer
// compiles (a config this version refuses) is logged and skipped, one
// sealed under a key the keyring lacks is an error.
func (rc *Receiver) loadSources() error {
	rc.sources = make(map[string]*sourceState)
	return sourceRecords.Load(rc.log, rc.secrets, rc.logger, func(id wal.ID, s *Source) error {
		if s.ID != sourcePrefix+id.String() {
			rc.logger.Error("skipping corrupt source record", "source", id.String(), "id", s.ID)
			return nil
		}
		if !rc.e.TenantExists(s.Tenant) {
			rc.logger.Error("skipping source of unknown tenant", "source", s.ID, "tenant", s.Tenant)
			return nil
		}
		st, err := rc.buildSource(s, SourceInput{}, id)
		if err != nil {
			rc.logger.Error("skipping source with invalid config", "source", s.ID, "err", err)
			return nil
		}
		if err := verify.CheckNewSecret(s.Provider, s.Secret); err != nil {
			rc.logger.Warn("source has a secret a new source could not have; rotate it", "source", s.ID, "tenant", s.Tenant, "err", err)
		}
		rc.sources[s.ID] = st
		return nil
	})
}

// tenantExists answers tenant_not_found for a tenant that does not exist.
func (rc *Receiver) tenantExists(tenant string) error {
	if !rc.e.TenantExists(tenant) {
		return engine.NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	return nil
}

func (rc *Receiver) sourceOf(tenant, id string) (*sourceState, error) {
	if err := rc.tenantExists(tenant); err != nil {
		return nil, err
	}
	rc.mu.RLock()
	defer rc.mu.RUnlock()
	return rc.sourceLocked(tenant, id)
}

// sourceLocked finds tenant's source id; the caller holds mu.
func (rc *Receiver) sourceLocked(tenant, id string) (*sourceState, error) {
	st := rc.sources[id]
	if st == nil || st.src.Tenant != tenant {
		return nil, engine.NotFound("source_not_found", "source %q does not exist in tenant %q", id, tenant)
	}
	return st, nil
}

// changeSource runs fn on tenant's source id with the tenant held (see
// Engine.WithTenant) and mu locked.
func (rc *Receiver) changeSource(tenant, id string, fn func(st *sourceState) error) error {
	return rc.e.WithTenant(tenant, func() error {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		st, err := rc.sourceLocked(tenant, id)
		if err != nil {
			return err
		}
		return fn(st)
	})
}

// GetSource returns one source (no secrets).
func (rc *Receiver) GetSource(tenant, id string) (Source, error) {
	st, err := rc.sourceOf(tenant, id)
	if err != nil {
		return Source{}, err
	}
	return st.src.view(), nil
}

// ListSources returns tenant's sources in creation order.
func (rc *Receiver) ListSources(tenant string) ([]Source, error) {
	if err := rc.tenantExists(tenant); err != nil {
		return nil, err
	}
	out := []Source{}
	rc.mu.RLock()
	for _, st := range rc.sources {
		if st.src.Tenant == tenant {
			out = append(out, st.src.view())
		}
	}
	rc.mu.RUnlock()
	slices.SortFunc(out, func(a, b Source) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// UpdateSource patches a source; the secret changes only by rotation.
func (rc *Receiver) UpdateSource(ctx context.Context, tenant, id string, in SourceInput) (Source, error) {
	if in.Secret != nil {
		return Source{}, engine.Invalid("secret_not_patchable", "the secret changes by rotation (POST …/sources/{id}/rotate-secret), which keeps the old one valid for an overlap")
	}
	if in.Provider != nil {
		return Source{}, engine.Invalid("provider_not_patchable", "a source's provider cannot change; create another source")
	}
	var before, after Source
	err := rc.changeSource(tenant, id, func(st *sourceState) error {
		s := st.src
		s.UpdatedAt = time.Now().UTC()
		if _, err := rc.replaceSourceLocked(&s, in, st.id); err != nil {
			return err
		}
		before, after = st.src.view(), s.view()
		return nil
	})
	if err != nil {
		return Source{}, err
	}
	rc.e.Audit(ctx, engine.Change{Action: "source.update", Tenant: tenant, Resource: id, Before: before, After: after})
	if in.VerifyToken != nil {
		after.VerifyToken = *in.VerifyToken
	}
	return after, nil
}

// replaceSourceLocked builds s (with in applied), stores it and makes it
// the live source. The caller holds mu.
func (rc *Receiver) replaceSourceLocked(s *Source, in SourceInput, id wal.ID) (*sourceState, error) {
	next, err := rc.buildSource(s, in, id)
	if err != nil {
		return nil, err
	}
	if err := rc.putSource(next); err != nil {
		return nil, err
	}
	rc.sources[s.ID] = next
	return next, nil
}

// DeleteSource deletes a source and its request log; its URL answers 404
// from then on.
func (rc *Receiver) DeleteSource(ctx context.Context, tenant, id string) error {
	var before Source
	err := rc.changeSource(tenant, id, func(st *sourceState) error {
		if err := rc.log.DeleteSource(st.id); err != nil {
			return err
		}
		delete(rc.sources, id)
		rc.forgetRejects(st.id)
		before = st.src.view()
		return nil
	})
	if err == nil {
		rc.e.Audit(ctx, engine.Change{Action: "source.delete", Tenant: tenant, Resource: id, Before: before})
	}
	return err
}

// RotateSourceSecret replaces a source's secret; the old one is still
// accepted for the overlap (default: the engine's SecretOverlap), as
// providers roll their secret over on their own schedule.
func (rc *Receiver) RotateSourceSecret(ctx context.Context, tenant, id string, in engine.SecretRotation) (Source, error) {
	overlap := rc.e.SecretOverlap()
	if in.Overlap != nil {
		d, err := rotation.ParseOverlap(*in.Overlap, engine.MaxSecretOverlap)
		if err != nil {
			return Source{}, engine.Invalid("invalid_overlap", "%s", err)
		}
		overlap = d
	}
	if in.Secret == nil || *in.Secret == "" {
		return Source{}, engine.Invalid("missing_secret", "secret is required: the new secret the provider shows")
	}
	var s Source
	err := rc.changeSource(tenant, id, func(st *sourceState) error {
		s = st.src
		if *in.Secret == s.Secret {
			return engine.Invalid("secret_unchanged", "the new secret is the source's current secret")
		}
		now := time.Now().UTC()
		s.PreviousSecrets = rotation.Rotated(s.Secret, s.PreviousSecrets, *in.Secret, now.Add(overlap), now)
		s.SecretRotatedAt, s.UpdatedAt = &now, now
		// The new secret goes in as given, so it is checked as one.
		_, err := rc.replaceSourceLocked(&s, SourceInput{Secret: in.Secret}, st.id)
		return err
	})
	if err != nil {
		return Source{}, err
	}
	v := s.view()
	rc.e.Audit(ctx, engine.Change{Action: "source.rotate_secret", Tenant: tenant, Resource: id, After: v})
	v.Secret = s.Secret
	return v, nil
}

// deleteTenantSources deletes the sources of a tenant being deleted; it
// runs as the engine's OnTenantDelete hook, under the engine's cfgMu.
func (rc *Receiver) deleteTenantSources(tenant string) error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for id, st := range rc.sources {
		if st.src.Tenant != tenant {
			continue
		}
		if err := rc.log.DeleteSource(st.id); err != nil {
			return err
		}
		delete(rc.sources, id)
		rc.forgetRejects(st.id)
	}
	return nil
}
