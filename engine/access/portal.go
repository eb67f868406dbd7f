package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/bytedance/sonic"

	"hookline/engine"
)

// PortalSession is a short-lived bearer credential of one tenant, handed
// to a customer-facing page: it may use its tenant's routes whose scope
// its Scopes hold, until ExpiresAt or until it is revoked. Like an API
// key it is shown once and stored as the token's SHA-256, so a request
// costs a map lookup and no store read; revoking it rewrites the record,
// so a revoked token keeps answering "revoked" (not merely "invalid")
// until the record is swept.
type PortalSession struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Scopes    Scopes    `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// CreatedBy is the actor's id: "admin" or the API key's.
	CreatedBy string     `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// Token is set only in CreatePortalSession's answer.
	Token string `json:"token,omitempty"`
}

const (
	portalSessionPrefix = "ps_"
	// PortalTokenPrefix starts every portal session token, so a server
	// tells one from an API key without a lookup.
	PortalTokenPrefix = "hlp_"
	// MinPortalTTL and MaxPortalTTL bound a session's expires_in;
	// DefaultPortalTTL is taken without one.
	MinPortalTTL     = time.Second
	MaxPortalTTL     = 24 * time.Hour
	DefaultPortalTTL = time.Hour
	// defaultMaxPortalSessions bounds a tenant's unexpired, unrevoked
	// sessions (Options.MaxPortalSessions).
	defaultMaxPortalSessions = 1000
	// deadSessionKept is how long an expired or revoked session's record
	// stays, so its token answers session_expired or session_revoked
	// rather than invalid_token; then it is swept (at start and whenever
	// the tenant creates a session). A tenant keeps at most as many dead
	// records as it may have live sessions: past that they are swept at
	// once.
	deadSessionKept = 24 * time.Hour
)

// DefaultPortalScopes are a session's scopes when it is created without
// any: what a customer's page needs to manage endpoints and replay
// failures, narrowed to the scopes the creating key holds.
var DefaultPortalScopes = Scopes{EndpointsRead, EndpointsWrite, DeliveriesRead, DeliveriesReplay, EventTypesRead}

// SessionState is what a presented portal token is.
type SessionState int

// Session states.
const (
	SessionUnknown SessionState = iota // not a session token this server knows
	SessionLive
	SessionExpired
	SessionRevoked
)

type portalEntry struct {
	s    PortalSession
	hash [32]byte
}

func (en *portalEntry) live(now time.Time) bool {
	return en.s.RevokedAt == nil && now.Before(en.s.ExpiresAt)
}

// ParseExpiresIn parses a session's expires_in, a Go duration such as
// "90s", "15m" or "1h": "" gives DefaultPortalTTL; else from MinPortalTTL
// to MaxPortalTTL, in whole seconds.
func ParseExpiresIn(in string) (time.Duration, error) {
	if in == "" {
		return DefaultPortalTTL, nil
	}
	d, err := time.ParseDuration(in)
	if err != nil || d < MinPortalTTL || d > MaxPortalTTL || d%time.Second != 0 {
		return 0, engine.Invalid("invalid_expires_in", "expires_in %q is not a duration in whole seconds from %s to %s, like \"15m\" or \"1h\"", in, MinPortalTTL, MaxPortalTTL)
	}
	return d, nil
}

// PortalSessionInput is what CreatePortalSession takes.
type PortalSessionInput struct {
	Scopes    []string // nil: DefaultPortalScopes within Holder
	ExpiresIn string   // see ParseExpiresIn
	// Holder is the scopes of the key creating the session, which the
	// session may not exceed; nil for the admin token, which holds all.
	Holder Scopes
}

// CreatePortalSession makes a session of tenant and returns it with its
// token (shown here only).
func (a *Access) CreatePortalSession(ctx context.Context, tenant string, in PortalSessionInput) (PortalSession, error) {
	ttl, err := ParseExpiresIn(in.ExpiresIn)
	if err != nil {
		return PortalSession{}, err
	}
	ss, err := portalScopes(in.Scopes, in.Holder)
	if err != nil {
		return PortalSession{}, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return PortalSession{}, err
	}
	token := PortalTokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	now := time.Now().UTC()
	s := PortalSession{
		ID:        portalSessionPrefix + a.log.NewConfigID().String(),
		Tenant:    tenant,
		Scopes:    ss,
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
		CreatedBy: actorOf(ctx).ID,
	}
	hash := sha256.Sum256([]byte(token))
	rec, err := sonic.Marshal(s)
	if err != nil {
		return PortalSession{}, err
	}
	err = a.e.WithTenant(tenant, func() error {
		a.mu.Lock()
		defer a.mu.Unlock()
		live, stale, recent := 0, [][32]byte(nil), [][32]byte(nil)
		for h, en := range a.sessions {
			switch {
			case en.s.Tenant != tenant:
			case en.live(now):
				live++
			case sessionEnd(en.s).Add(deadSessionKept).Before(now):
				stale = append(stale, h)
			default:
				recent = append(recent, h)
			}
		}
		if live >= a.maxSessions {
			return engine.Conflict("too_many_portal_sessions", "tenant %q has %d live portal sessions, the most allowed; revoke some or let them expire", tenant, a.maxSessions)
		}
		// Sessions of 1s made in a loop would keep a day of dead records
		// each: past as many dead as live ones allowed, they all go now.
		if len(recent) >= a.maxSessions {
			stale = append(stale, recent...)
		}
		for _, h := range stale {
			if err := a.log.DeletePortalSession(h); err != nil {
				return err
			}
			delete(a.sessions, h)
		}
		if err := a.log.PutPortalSession(hash, rec); err != nil {
			return err
		}
		a.sessions[hash] = &portalEntry{s: s, hash: hash}
		return nil
	})
	if err != nil {
		return PortalSession{}, err
	}
	a.e.Audit(ctx, engine.Change{Action: "portal_session.create", Tenant: tenant, Resource: s.ID, After: s})
	s.Token = token
	return s, nil
}

// portalScopes checks a session's requested scopes: never portal:create
// (a session cannot mint sessions), and only scopes holder holds (nil:
// all). Without a request, DefaultPortalScopes within holder.
func portalScopes(in []string, holder Scopes) (Scopes, error) {
	if in == nil {
		var out Scopes
		for _, s := range DefaultPortalScopes {
			if holder == nil || holder.Has(s) {
				out = append(out, s)
			}
		}
		if len(out) == 0 {
			return nil, engine.Invalid("scope_not_held", "this key holds none of the default portal scopes (%s); name the scopes the session should have", joinScopes(DefaultPortalScopes))
		}
		return out, nil
	}
	ss, err := ParseScopes(in)
	if err != nil {
		return nil, err
	}
	if ss.Has(PortalCreate) {
		return nil, engine.Invalid("invalid_scopes", "a portal session cannot hold %s", PortalCreate)
	}
	for _, s := range ss {
		if holder != nil && !holder.Has(s) {
			return nil, engine.Invalid("scope_not_held", "scope %q is not held by this key; a session may have only scopes its creator holds", s)
		}
	}
	return ss, nil
}

// sessionEnd is when s stopped being usable, or will.
func sessionEnd(s PortalSession) time.Time {
	if s.RevokedAt != nil && s.RevokedAt.Before(s.ExpiresAt) {
		return *s.RevokedAt
	}
	return s.ExpiresAt
}

// ListPortalSessions returns tenant's live sessions, oldest first, without
// their tokens.
func (a *Access) ListPortalSessions(tenant string) ([]PortalSession, error) {
	now := time.Now()
	return listTenant(a, tenant, a.sessions, func(en *portalEntry) (PortalSession, bool) {
		return en.s, en.s.Tenant == tenant && en.live(now)
	}, func(s PortalSession) string { return s.ID })
}

// RevokePortalSession ends a live session at once; the revocation is
// stored before it returns, so it holds across a restart.
func (a *Access) RevokePortalSession(ctx context.Context, tenant, id string) error {
	var before PortalSession
	err := a.e.WithTenant(tenant, func() error {
		a.mu.Lock()
		defer a.mu.Unlock()
		now := time.Now().UTC()
		for h, en := range a.sessions {
			if en.s.Tenant != tenant || en.s.ID != id || !en.live(now) {
				continue
			}
			s := en.s
			s.RevokedAt = &now
			rec, err := sonic.Marshal(s)
			if err != nil {
				return err
			}
			if err := a.log.PutPortalSession(h, rec); err != nil {
				return err
			}
			before = en.s
			a.sessions[h] = &portalEntry{s: s, hash: h}
			return nil
		}
		return engine.NotFound("portal_session_not_found", "portal session %q does not exist in tenant %q, or has expired or been revoked", id, tenant)
	})
	if err == nil {
		a.e.Audit(ctx, engine.Change{Action: "portal_session.revoke", Tenant: tenant, Resource: id, Before: before})
	}
	return err
}

// AuthenticateSession returns the session that token is and its state.
// Only a live session may act.
func (a *Access) AuthenticateSession(token []byte) (PortalSession, SessionState) {
	hash := sha256.Sum256(token)
	a.mu.RLock()
	en := a.sessions[hash]
	a.mu.RUnlock()
	switch {
	case en == nil:
		return PortalSession{}, SessionUnknown
	case en.s.RevokedAt != nil:
		return en.s, SessionRevoked
	case !time.Now().Before(en.s.ExpiresAt):
		return en.s, SessionExpired
	}
	return en.s, SessionLive
}

// deleteTenantSessionsLocked removes the sessions of a tenant being
// deleted; a.mu is held.
func (a *Access) deleteTenantSessionsLocked(tenant string) error {
	return deleteTenantLocked(a.sessions, tenant, func(en *portalEntry) string { return en.s.Tenant }, a.log.DeletePortalSession)
}

// loadPortalSessions reads the stored sessions at start; a session of a
// tenant that no longer exists is left out, and one dead for longer than
// deadSessionKept is deleted.
func (a *Access) loadPortalSessions() error {
	now := time.Now()
	var dead [][32]byte
	err := a.log.ScanPortalSessions(func(hash [32]byte, val []byte) {
		var s PortalSession
		if err := sonic.Unmarshal(val, &s); err != nil {
			a.logger.Error("skipping corrupt portal session record", "err", err)
			return
		}
		if !a.e.TenantExists(s.Tenant) || sessionEnd(s).Add(deadSessionKept).Before(now) {
			dead = append(dead, hash)
			return
		}
		a.sessions[hash] = &portalEntry{s: s, hash: hash}
	})
	for _, h := range dead {
		if err == nil {
			err = a.log.DeletePortalSession(h)
		}
	}
	return err
}
