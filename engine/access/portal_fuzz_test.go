package access_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"hookline/engine"
	"hookline/engine/access"
)

// FuzzParseExpiresIn: any input gives a duration in bounds or an
// invalid_expires_in error, never a panic.
func FuzzParseExpiresIn(f *testing.F) {
	for _, s := range []string{"", "1s", "1h", "24h", "25h", "0s", "1.5s", "-1h", "1h1m1s1ms", "garbage", "9223372036s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := access.ParseExpiresIn(in)
		if err != nil {
			require_ErrorCode(t, err, engine.KindInvalid, "invalid_expires_in")
			return
		}
		require_True(t, d >= access.MinPortalTTL && d <= access.MaxPortalTTL && d%time.Second == 0, "%q gives %s", in, d)
	})
}

// FuzzCheckReason: a reason accepted is short, valid UTF-8 without
// control characters; nothing panics.
func FuzzCheckReason(f *testing.F) {
	for _, s := range []string{"", "ok", "a\tb", "\xff", strings.Repeat("x", 501)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if err := access.CheckReason(in); err != nil {
			require_ErrorCode(t, err, engine.KindInvalid, "invalid_reason")
			return
		}
		require_True(t, len(in) <= access.MaxReasonBytes && utf8.ValidString(in) && !strings.ContainsFunc(in, func(r rune) bool { return r < 0x20 || r == 0x7f }),
			"accepted %q", in)
	})
}

// FuzzAuthenticateSession: any presented token is unknown unless it is a
// session's own; nothing panics.
func FuzzAuthenticateSession(f *testing.F) {
	h := newHarness(f)
	h.tenant("acme")
	s, err := h.acc.CreatePortalSession(bg, "acme", access.PortalSessionInput{})
	require_NoError(f, err)
	for _, tok := range []string{"", "hlp_", s.Token[:len(s.Token)-1], s.Token + "x", "hlk_abc"} {
		f.Add([]byte(tok))
	}
	f.Fuzz(func(t *testing.T, tok []byte) {
		_, state := h.acc.AuthenticateSession(tok)
		require_True(t, (state == access.SessionLive) == (string(tok) == s.Token), "token %q: state %d", tok, state)
	})
}
