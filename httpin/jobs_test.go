package httpin_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestJobsAPI: a backfill over HTTP, its progress and listing, the tenant
// key's view, and every bad request.
func TestJobsAPI(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	var ids []string
	for range 3 {
		status, m, _ := s.do(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.paid","payload":{}}`)
		require_Equal(t, status, http.StatusAccepted)
		ids = append(ids, str(t, m, "id"))
	}
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/","paused":true}`)
	epPath := "/v1/tenants/acme/endpoints/" + str(t, ep, "id")

	status, m, _ := s.do(t, "POST", epPath+"/backfill", testToken, "application/json", `{"since":"`+since+`","rate_per_second":1000}`)
	require_Equal(t, status, http.StatusAccepted)
	id := str(t, m, "id")
	require_True(t, strings.HasPrefix(id, "job_"), "job id %q", id)
	require_Equal(t, m["kind"], any("backfill"))
	require_Equal(t, m["state"], any("running"))
	waitFor(t, 5*time.Second, "the backfill", func() bool {
		status, m, _ = s.do(t, "GET", "/v1/tenants/acme/jobs/"+id, testToken, "", "")
		return status == http.StatusOK && m["state"] == "completed"
	})
	progress := m["progress"].(map[string]any)
	require_Equal(t, progress["done"], any(3.0))
	// The backfilled deliveries wait in the paused endpoint's log.
	status, m, _ = s.do(t, "GET", epPath+"/deliveries", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, len(m["data"].([]any)), 3)
	require_Equal(t, m["data"].([]any)[0].(map[string]any)["event_id"], any(ids[2]))

	status, m, _ = s.do(t, "POST", epPath+"/replay", testToken, "", "")
	require_Equal(t, status, http.StatusAccepted)
	require_Equal(t, m["status"], any("dead"))
	replay := str(t, m, "id")
	status, m, _ = s.do(t, "GET", "/v1/tenants/acme/jobs", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	data := m["data"].([]any)
	require_Equal(t, len(data), 2)
	require_Equal(t, data[0].(map[string]any)["id"], any(replay))
	status, m, _ = s.do(t, "POST", "/v1/tenants/acme/jobs/"+replay+"/stop", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, m["state"] == "stopped" || m["state"] == "completed", "state after stop: %v", m["state"])

	status, m, _ = s.do(t, "GET", "/v1/tenants/acme/audit", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	actions := map[string]bool{}
	for _, a := range m["data"].([]any) {
		actions[a.(map[string]any)["action"].(string)] = true
	}
	require_True(t, actions["job.backfill"] && actions["job.replay"] && actions["job.stop"], "audit actions %v", actions)

	// A tenant key reads its tenant's jobs but starts and stops none.
	status, m, _ = s.do(t, "POST", "/v1/tenants/acme/api-keys", testToken, "application/json", `{"name":"ro"}`)
	require_Equal(t, status, http.StatusCreated)
	key := str(t, m, "key")
	status, _, _ = s.do(t, "GET", "/v1/tenants/acme/jobs/"+id, key, "", "")
	require_Equal(t, status, http.StatusOK)
	s.reject(t, "POST", epPath+"/replay", key, "", "", 403, "forbidden")
	s.reject(t, "POST", "/v1/tenants/acme/jobs/"+id+"/stop", key, "", "", 403, "forbidden")
	s.reject(t, "GET", "/v1/tenants/other/jobs", key, "", "", 403, "forbidden")

	f := func(method, p, body string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, method, p, testToken, "application/json", body, wantStatus, wantCode)
	}
	f("POST", epPath+"/backfill", "", 400, "missing_since")
	f("POST", epPath+"/backfill", `{"since":"yesterday"}`, 400, "invalid_time")
	f("POST", epPath+"/replay", `{"until":"2026-13-01T00:00:00Z"}`, 400, "invalid_time")
	f("POST", epPath+"/replay", `{"status":"pending"}`, 400, "invalid_status")
	f("POST", epPath+"/replay", `{"type":"a b"}`, 400, "invalid_type")
	f("POST", epPath+"/replay", `{"rate_per_second":0.5}`, 400, "invalid_field")
	f("POST", epPath+"/replay", `{"rate_per_second":1000000}`, 400, "invalid_rate")
	f("POST", epPath+"/replay", `{"force":true}`, 400, "unknown_field")
	f("POST", epPath+"/replay", `[1]`, 400, "invalid_json")
	f("POST", epPath+"/cancel", `{"status":"retrying"}`, 400, "invalid_status")
	f("POST", epPath+"/cancel", `{"since":"2026-01-02T00:00:00Z","until":"2026-01-01T00:00:00Z"}`, 400, "invalid_range")
	f("GET", epPath+"/replay", "", 405, "method_not_allowed")
	f("POST", "/v1/tenants/acme/endpoints/ep_nope/replay", "", 404, "endpoint_not_found")
	f("POST", "/v1/tenants/nope/endpoints/ep_nope/cancel", "", 404, "tenant_not_found")
	f("GET", "/v1/tenants/acme/jobs/job_nope", "", 404, "job_not_found")
	f("GET", "/v1/tenants/other/jobs/"+id, "", 404, "job_not_found")
	f("POST", "/v1/tenants/acme/jobs/"+id, "", 405, "method_not_allowed")
	f("GET", "/v1/tenants/acme/jobs/"+id+"/stop", "", 405, "method_not_allowed")
	f("POST", "/v1/tenants/acme/jobs/"+id+"/pause", "", 404, "not_found")
	f("POST", "/v1/tenants/acme/jobs", "", 405, "method_not_allowed")
	f("GET", "/v1/tenants/nope/jobs", "", 404, "tenant_not_found")
}
