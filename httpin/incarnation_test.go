package httpin_test

import (
	"net/http"
	"testing"
	"time"
)

// TestRecreatedTenantHTTP is issue 12's repro over HTTP: after DELETE
// /v1/tenants/acme and a new acme, the new tenant's key cannot read the
// old tenant's event, and a backfill to the new tenant's endpoint finds
// none of the old events.
func TestRecreatedTenantHTTP(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	status, m, _ := s.do(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.paid","payload":{"secret":"old"}}`)
	require_Equal(t, status, http.StatusAccepted)
	oldID := str(t, m, "id")
	status, _, _ = s.do(t, "DELETE", "/v1/tenants/acme", testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)
	// The old events are purged in the background: the rejections below
	// check nothing in the store changes, which the purge would.
	waitFor(t, 30*time.Second, "the deleted tenant's events purged", func() bool {
		c, err := s.log.Count()
		return err == nil && c.Events == 0
	})
	s.mustCreateTenant(t, "acme")

	status, m, _ = s.do(t, "POST", "/v1/tenants/acme/api-keys", testToken, "application/json", `{"name":"reader"}`)
	require_Equal(t, status, http.StatusCreated)
	key := str(t, m, "key")
	s.reject(t, "GET", "/v1/tenants/acme/events/"+oldID, key, "", "", 404, "event_not_found")
	s.reject(t, "GET", "/v1/tenants/acme/events/"+oldID, testToken, "", "", 404, "event_not_found")
	status, m, _ = s.do(t, "GET", eventsPath+"?wait=0s", key, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, len(m["data"].([]any)), 0)

	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/","paused":true}`)
	epPath := "/v1/tenants/acme/endpoints/" + str(t, ep, "id")
	status, m, _ = s.do(t, "POST", epPath+"/backfill", testToken, "application/json", `{"since":"`+since+`","rate_per_second":1000}`)
	require_Equal(t, status, http.StatusAccepted)
	id := str(t, m, "id")
	waitFor(t, 5*time.Second, "the backfill", func() bool {
		status, m, _ = s.do(t, "GET", "/v1/tenants/acme/jobs/"+id, testToken, "", "")
		return status == http.StatusOK && m["state"] == "completed"
	})
	require_Equal(t, m["progress"].(map[string]any)["done"], any(0.0))
	status, m, _ = s.do(t, "GET", epPath+"/deliveries", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, len(m["data"].([]any)), 0)
}
