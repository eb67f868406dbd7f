package httpin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hookline/engine"
)

// hookSink is a receiver on 127.0.0.1 handing each delivery to a channel.
type hookSink struct {
	srv *httptest.Server
	got chan hookDelivery
}

type hookDelivery struct {
	header http.Header
	body   []byte
}

func newHookSink(t *testing.T) *hookSink {
	t.Helper()
	k := &hookSink{got: make(chan hookDelivery, 64)}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		k.got <- hookDelivery{r.Header.Clone(), b}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(k.srv.Close)
	return k
}

// publishAndReceive publishes one event to acme and returns its delivery.
func (k *hookSink) publishAndReceive(t *testing.T, s *testServer) hookDelivery {
	t.Helper()
	status, m, _ := s.do(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"invoice.paid","payload":{"n":1}}`)
	require_Equal(t, status, http.StatusAccepted)
	id := str(t, m, "id")
	select {
	case d := <-k.got:
		require_Equal(t, d.header.Get("webhook-id"), id)
		return d
	case <-time.After(eventually):
		t.Fatalf("event %s not delivered within %s", id, eventually)
		return hookDelivery{}
	}
}

// verifiesWith reports whether d verifies with secret through the official
// Standard Webhooks library.
func verifiesWith(t *testing.T, secret string, d hookDelivery) bool {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require_NoError(t, err)
	return wh.Verify(d.body, d.header) == nil
}

func parseTime(t *testing.T, m map[string]any, key string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, str(t, m, key))
	require_NoError(t, err)
	return v
}

// TestEndpointRotateSecret: rotate-secret answers the new secret once with
// the overlap's end; GET and list show the times, never a secret; deliveries
// in the overlap verify with the old and the new secret; overlap 0 and a
// supplied secret work; without overlap the server's default applies.
func TestEndpointRotateSecret(t *testing.T) {
	sink := newHookSink(t)
	s := newTestServer(t, func(o *engine.Options) { o.SecretOverlap = 2 * time.Hour })
	s.mustCreateTenant(t, "acme")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"`+sink.srv.URL+`/hook"}`)
	old := str(t, ep, "secret")
	path := "/v1/tenants/acme/endpoints/" + str(t, ep, "id")

	status, m, h := s.do(t, "POST", path+"/rotate-secret", testToken, "application/json", `{"overlap":"1h"}`)
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, h.Get("Cache-Control"), "no-store")
	secret := str(t, m, "secret")
	require_True(t, strings.HasPrefix(secret, "whsec_") && secret != old, "rotation answered secret %q (old %q)", secret, old)
	rotated, expires := parseTime(t, m, "secret_rotated_at"), parseTime(t, m, "previous_secret_expires_at")
	require_Equal(t, expires.Sub(rotated), time.Hour)
	require_True(t, time.Since(rotated) < time.Minute, "secret_rotated_at %s is not now", rotated)
	_, has := m["previous_secrets"]
	require_True(t, !has, "the rotation answer shows previous secrets: %v", m)
	require_Equal(t, str(t, m, "id"), str(t, ep, "id"))

	status, got, _ := s.do(t, "GET", path, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, got["secret"] == nil && got["previous_secrets"] == nil, "GET shows a secret: %v", got)
	require_Equal(t, str(t, got, "previous_secret_expires_at"), str(t, m, "previous_secret_expires_at"))
	require_Equal(t, str(t, got, "secret_rotated_at"), str(t, m, "secret_rotated_at"))
	status, raw, _ := s.doRaw(t, "GET", "/v1/tenants/acme/endpoints", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, !strings.Contains(raw, "whsec_") && !strings.Contains(raw, `"secret"`) && !strings.Contains(raw, "previous_secrets"),
		"list shows a secret: %s", raw)

	d := sink.publishAndReceive(t, s)
	require_Equal(t, len(strings.Fields(d.header.Get("webhook-signature"))), 2)
	require_True(t, verifiesWith(t, old, d), "in the overlap the delivery does not verify with the old secret")
	require_True(t, verifiesWith(t, secret, d), "in the overlap the delivery does not verify with the new secret")

	// No body, or {}: the server's default overlap (2h here).
	for _, body := range []string{"", "{}", " \n"} {
		status, m, _ = s.do(t, "POST", path+"/rotate-secret", testToken, "application/json", body)
		require_Equal(t, status, http.StatusOK)
		require_Equal(t, parseTime(t, m, "previous_secret_expires_at").Sub(parseTime(t, m, "secret_rotated_at")), 2*time.Hour)
	}

	// A supplied secret with overlap 0: only it signs, at once.
	const own = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	status, m, _ = s.do(t, "POST", path+"/rotate-secret", testToken, "application/json", `{"secret":"`+own+`","overlap":"0s"}`)
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "secret"), own)
	_, has = m["previous_secret_expires_at"]
	require_True(t, !has, "overlap 0 answers previous_secret_expires_at: %v", m)
	d = sink.publishAndReceive(t, s)
	require_Equal(t, strings.Count(d.header.Get("webhook-signature"), "v1,"), 1)
	require_True(t, verifiesWith(t, own, d), "the delivery does not verify with the supplied secret")
	require_True(t, !verifiesWith(t, old, d) && !verifiesWith(t, secret, d), "after overlap 0 an old secret still verifies")
}

// TestEndpointRotateSecretRejects: every bad rotate-secret request gets its
// status and code and changes nothing: afterwards deliveries still carry the
// one original signature.
func TestEndpointRotateSecretRejects(t *testing.T) {
	sink := newHookSink(t)
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"`+sink.srv.URL+`/hook","secret":"`+secret+`"}`)
	id := str(t, ep, "id")
	path := "/v1/tenants/acme/endpoints/" + id + "/rotate-secret"

	f := func(method, path, body string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, method, path, testToken, "application/json", body, wantStatus, wantCode)
	}
	for _, o := range []string{`""`, `"soon"`, `"-1s"`, `"169h"`, `"1d"`, `"24"`, `"1h "`} {
		f("POST", path, `{"overlap":`+o+`}`, 400, "invalid_overlap")
	}
	f("POST", path, `{"overlap":3600}`, 400, "invalid_field")
	f("POST", path, `{"overlap":null,"secret":5}`, 400, "invalid_field")
	for _, sec := range []string{``, `whsec_`, `nope`, `whsec_c2hvcnQ=`, `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n`} {
		f("POST", path, `{"secret":"`+sec+`"}`, 400, "invalid_secret")
	}
	f("POST", path, `{"secret":"`+secret+`"}`, 400, "secret_unchanged")
	f("POST", path, `{"overlap":"1h","secrets":"x"}`, 400, "unknown_field")
	f("POST", path, `{"overlap":`, 400, "invalid_json")
	f("POST", path, `[]`, 400, "invalid_json")
	f("POST", path, `"1h"`, 400, "invalid_json")
	for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
		f(m, path, "", 405, "method_not_allowed")
	}
	f("POST", "/v1/tenants/acme/endpoints/ep_01JDZZZZZZZZZZZZZZZZZZZZZZ/rotate-secret", `{}`, 404, "endpoint_not_found")
	f("POST", "/v1/tenants/acme/endpoints/nope/rotate-secret", ``, 404, "endpoint_not_found")
	f("POST", "/v1/tenants/other/endpoints/"+id+"/rotate-secret", `{}`, 404, "endpoint_not_found")
	f("POST", "/v1/tenants/nope/endpoints/"+id+"/rotate-secret", `{}`, 404, "tenant_not_found")
	f("POST", path+"/now", `{}`, 404, "not_found")
	s.reject(t, "POST", path, "", "application/json", `{}`, 401, "missing_token")
	s.reject(t, "POST", path, "wrong", "application/json", `{}`, 401, "invalid_token")

	status, got, _ := s.do(t, "GET", "/v1/tenants/acme/endpoints/"+id, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, got["secret_rotated_at"] == nil && got["previous_secret_expires_at"] == nil, "a rejected rotation left its mark: %v", got)
	d := sink.publishAndReceive(t, s)
	require_Equal(t, strings.Count(d.header.Get("webhook-signature"), "v1,"), 1)
	require_True(t, verifiesWith(t, secret, d), "the original secret no longer verifies")
}
