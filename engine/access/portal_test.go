package access_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"hookline/engine"
	"hookline/engine/access"
)

// TestPortalSessionsSurviveRestart: a live session authenticates after a
// restart, a revoked one stays revoked, and what is stored is not the
// token.
func TestPortalSessionsSurviveRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.tenant("acme")
	live, err := h.acc.CreatePortalSession(bg, "acme", access.PortalSessionInput{})
	require_NoError(t, err)
	gone, err := h.acc.CreatePortalSession(bg, "acme", access.PortalSessionInput{Scopes: []string{"deliveries:read"}, ExpiresIn: "24h"})
	require_NoError(t, err)
	require_NoError(t, h.acc.RevokePortalSession(bg, "acme", gone.ID))
	h.stop()
	h.start()
	got, state := h.acc.AuthenticateSession([]byte(live.Token))
	require_Equal(t, state, access.SessionLive)
	require_Equal(t, got.ID, live.ID)
	require_Equal(t, got.Token, "")
	require_Equal(t, got.ExpiresAt.Sub(got.CreatedAt), access.DefaultPortalTTL)
	_, state = h.acc.AuthenticateSession([]byte(gone.Token))
	require_Equal(t, state, access.SessionRevoked)
	_, state = h.acc.AuthenticateSession([]byte(live.Token + "x"))
	require_Equal(t, state, access.SessionUnknown)
	ss, err := h.acc.ListPortalSessions("acme")
	require_NoError(t, err)
	require_True(t, len(ss) == 1 && ss[0].ID == live.ID, "live sessions %+v", ss)
	require_NoError(t, h.log.ScanPortalSessions(func(_ [32]byte, val []byte) {
		for _, tok := range []string{live.Token, gone.Token} {
			require_True(t, !bytes.Contains(val, []byte(tok[len(access.PortalTokenPrefix):])), "the stored record holds the token: %s", val)
		}
	}))
	err = h.acc.RevokePortalSession(bg, "acme", gone.ID)
	require_ErrorCode(t, err, engine.KindNotFound, "portal_session_not_found")
}

// TestPortalSessionExpires: a session answers SessionExpired once its
// time has passed, and is no longer listed.
func TestPortalSessionExpires(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.tenant("acme")
	s, err := h.acc.CreatePortalSession(bg, "acme", access.PortalSessionInput{ExpiresIn: "1s"})
	require_NoError(t, err)
	deadline := time.Now().Add(time.Minute)
	for {
		_, state := h.acc.AuthenticateSession([]byte(s.Token))
		if state == access.SessionExpired {
			break
		}
		require_Equal(t, state, access.SessionLive)
		require_True(t, time.Now().Before(deadline), "the session did not expire within a minute")
		time.Sleep(10 * time.Millisecond)
	}
	require_True(t, !time.Now().Before(s.ExpiresAt), "expired before its time %s", s.ExpiresAt)
	ss, err := h.acc.ListPortalSessions("acme")
	require_NoError(t, err)
	require_Equal(t, len(ss), 0)
	h.stop()
	h.start()
	_, state := h.acc.AuthenticateSession([]byte(s.Token))
	require_Equal(t, state, access.SessionExpired)
}

// TestPortalSessionsDeletedWithTenant: deleting a tenant ends its
// sessions, also across a restart and a tenant of the same name.
func TestPortalSessionsDeletedWithTenant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.tenant("acme")
	h.tenant("other")
	s, err := h.acc.CreatePortalSession(bg, "acme", access.PortalSessionInput{})
	require_NoError(t, err)
	keep, err := h.acc.CreatePortalSession(bg, "other", access.PortalSessionInput{})
	require_NoError(t, err)
	require_NoError(t, h.e.DeleteTenant(bg, "acme"))
	_, state := h.acc.AuthenticateSession([]byte(s.Token))
	require_Equal(t, state, access.SessionUnknown)
	h.tenant("acme")
	h.stop()
	h.start()
	_, state = h.acc.AuthenticateSession([]byte(s.Token))
	require_Equal(t, state, access.SessionUnknown)
	got, state := h.acc.AuthenticateSession([]byte(keep.Token))
	require_True(t, state == access.SessionLive && got.Tenant == "other", "another tenant's session ended: %v", state)
}

// TestPortalSessionBadInput: each bad request is refused with its code,
// and makes no session.
func TestPortalSessionBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.tenant("acme")
	f := func(tenant string, in access.PortalSessionInput, kind engine.Kind, code string) {
		t.Helper()
		_, err := h.acc.CreatePortalSession(bg, tenant, in)
		require_ErrorCode(t, err, kind, code)
	}
	holder := access.Scopes{access.EndpointsRead, access.PortalCreate}
	f("acme", access.PortalSessionInput{ExpiresIn: "0s"}, engine.KindInvalid, "invalid_expires_in")
	f("acme", access.PortalSessionInput{Scopes: []string{}}, engine.KindInvalid, "invalid_scopes")
	f("acme", access.PortalSessionInput{Scopes: []string{"portal:create"}}, engine.KindInvalid, "invalid_scopes")
	f("acme", access.PortalSessionInput{Scopes: []string{"endpoints:write"}, Holder: holder}, engine.KindInvalid, "scope_not_held")
	f("acme", access.PortalSessionInput{Holder: access.Scopes{access.PortalCreate}}, engine.KindInvalid, "scope_not_held")
	f("nope", access.PortalSessionInput{}, engine.KindNotFound, "tenant_not_found")
	ss, err := h.acc.ListPortalSessions("acme")
	require_NoError(t, err)
	require_Equal(t, len(ss), 0)
	s, err := h.acc.CreatePortalSession(bg, "acme", access.PortalSessionInput{Holder: holder})
	require_NoError(t, err)
	require_Equal(t, len(s.Scopes), 1)
	require_Equal(t, s.Scopes[0], access.EndpointsRead)
}

func TestParseExpiresIn(t *testing.T) {
	f := func(in string, want time.Duration) {
		t.Helper()
		got, err := access.ParseExpiresIn(in)
		if want == 0 {
			require_ErrorCode(t, err, engine.KindInvalid, "invalid_expires_in")
			return
		}
		require_NoError(t, err)
		require_Equal(t, got, want)
	}
	f("", time.Hour)
	f("1s", time.Second)
	f("90m", 90*time.Minute)
	f("24h", 24*time.Hour)
	f("1h30m15s", time.Hour+30*time.Minute+15*time.Second)
	for _, bad := range []string{"0s", "0", "999ms", "1.5s", "24h0m1s", "25h", "-1h", "1d", "garbage", " 1h", "1h ", "9999999999999h"} {
		f(bad, 0)
	}
}

func TestCheckReason(t *testing.T) {
	f := func(in string, ok bool) {
		t.Helper()
		err := access.CheckReason(in)
		if ok {
			require_NoError(t, err)
			return
		}
		require_ErrorCode(t, err, engine.KindInvalid, "invalid_reason")
	}
	f("", true)
	f("customer asked, ticket #42 ✓", true)
	f(strings.Repeat("é", access.MaxReasonBytes/2), true)
	f(strings.Repeat("r", access.MaxReasonBytes+1), false)
	f("a\nb", false)
	f("a\tb", false)
	f("\x7f", false)
	f("\u0085", false) // C1 control
	f("\xff", false)
}

// TestPortalSessionLimits: a tenant has at most MaxPortalSessions live
// sessions (409 too_many_portal_sessions; other tenants unaffected), and
// keeps at most as many dead records: short sessions made in a loop do
// not pile up.
func TestPortalSessionLimits(t *testing.T) {
	t.Parallel()
	h := newHarnessSessions(t, 3)
	h.tenant("acme")
	h.tenant("other")
	var live []access.PortalSession
	for range 3 {
		s, err := h.acc.CreatePortalSession(bg, "acme", access.PortalSessionInput{})
		require_NoError(t, err)
		live = append(live, s)
	}
	_, err := h.acc.CreatePortalSession(bg, "acme", access.PortalSessionInput{})
	require_ErrorCode(t, err, engine.KindConflict, "too_many_portal_sessions")
	_, err = h.acc.CreatePortalSession(bg, "other", access.PortalSessionInput{})
	require_NoError(t, err)
	require_NoError(t, h.acc.RevokePortalSession(bg, "acme", live[0].ID))
	_, err = h.acc.CreatePortalSession(bg, "acme", access.PortalSessionInput{})
	require_NoError(t, err)

	// Revoke and create again and again: the dead records stay bounded.
	for i := 1; i < 3; i++ {
		require_NoError(t, h.acc.RevokePortalSession(bg, "acme", live[i].ID))
	}
	for range 10 {
		s, err := h.acc.CreatePortalSession(bg, "acme", access.PortalSessionInput{})
		require_NoError(t, err)
		require_NoError(t, h.acc.RevokePortalSession(bg, "acme", s.ID))
	}
	n := 0
	require_NoError(t, h.log.ScanPortalSessions(func([32]byte, []byte) { n++ }))
	require_True(t, n <= 3+3+1, "%d session records kept", n) // acme: live + dead, other: 1
	_, state := h.acc.AuthenticateSession([]byte(live[0].Token))
	require_Equal(t, state, access.SessionUnknown) // swept
}
