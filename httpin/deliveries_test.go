package httpin_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDeliveriesAPI: the delivery log over HTTP, and its bad inputs.
func TestDeliveriesAPI(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/","paused":true}`)
	path := "/v1/tenants/acme/endpoints/" + str(t, ep, "id") + "/deliveries"
	var ids []string
	for range 3 {
		status, m, _ := s.do(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.paid","payload":{}}`)
		require_Equal(t, status, http.StatusAccepted)
		ids = append(ids, str(t, m, "id"))
	}

	status, m, _ := s.do(t, "GET", path+"?limit=2", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	data := m["data"].([]any)
	require_Equal(t, len(data), 2)
	first := data[0].(map[string]any)
	require_Equal(t, first["event_id"], any(ids[2]))
	require_Equal(t, first["status"], any("pending"))
	require_Equal(t, first["event_type"], any("invoice.paid"))
	cursor := str(t, m, "next_cursor")
	status, m, _ = s.do(t, "GET", path+"?limit=2&cursor="+cursor, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	data = m["data"].([]any)
	require_Equal(t, len(data), 1)
	require_Equal(t, data[0].(map[string]any)["event_id"], any(ids[0]))
	_, has := m["next_cursor"]
	require_True(t, !has || m["next_cursor"] == "", "last page has a cursor: %v", m)

	status, m, _ = s.do(t, "GET", path+"?status=dead&since="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, len(m["data"].([]any)), 0)

	status, m, _ = s.do(t, "GET", path+"/"+ids[1], testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, m["event_id"], any(ids[1]))
	require_Equal(t, m["status"], any("pending"))

	f := func(method, p string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, method, p, testToken, "", "", wantStatus, wantCode)
	}
	f("GET", path+"?status=lost", 400, "invalid_status")
	f("GET", path+"?type=a%20b", 400, "invalid_type")
	f("GET", path+"?since=yesterday", 400, "invalid_time")
	f("GET", path+"?until=2026-13-01T00:00:00Z", 400, "invalid_time")
	f("GET", path+"?limit=0", 400, "invalid_limit")
	f("GET", path+"?cursor=%%%", 400, "invalid_cursor")
	f("GET", path+"?cursor=bm9wZQ", 400, "invalid_cursor") // "nope"
	f("POST", path, 405, "method_not_allowed")
	f("GET", path+"/evt_nope", 404, "delivery_not_found")
	f("GET", path+"/"+ids[0]+"/x", 404, "not_found")
	f("GET", "/v1/tenants/acme/endpoints/ep_nope/deliveries", 404, "endpoint_not_found")
	f("POST", path+"/"+ids[0]+"/replay", 409, "delivery_pending")
	f("GET", path+"/"+ids[0]+"/replay", 405, "method_not_allowed")
	f("POST", path+"/evt_01JDZZZZZZZZZZZZZZZZZZZZZZ/replay", 404, "delivery_not_found")
	s.reject(t, "POST", path+"/"+ids[0]+"/replay", testToken, "application/json", `{"force":true}`, 400, "unknown_field")
	s.reject(t, "POST", path+"/"+ids[0]+"/cancel", testToken, "application/json", `{"reason":"x"}`, 400, "unexpected_body")
	f("POST", path+"/"+ids[0]+"/cancel", 409, "delivery_not_retrying")
	f("PUT", path+"/"+ids[0]+"/cancel", 405, "method_not_allowed")
	f("POST", path+"/"+ids[0]+"/undo", 404, "not_found")
	f("GET", "/v1/tenants/nope/endpoints/"+str(t, ep, "id")+"/deliveries", 404, "tenant_not_found")
}

// TestGetEventAPI: an event with its payload and its deliveries; other
// tenants cannot see it.
func TestGetEventAPI(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	a := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/a","paused":true}`)
	s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/b","event_types":["lead.*"]}`)
	status, m, _ := s.do(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.paid","payload":{"amount":42,"items":[1,2]}}`)
	require_Equal(t, status, http.StatusAccepted)
	id := str(t, m, "id")

	status, raw, _ := s.doRaw(t, "GET", "/v1/tenants/acme/events/"+id, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, strings.Contains(raw, `"payload":{"amount":42,"items":[1,2]}`), "payload not byte-exact: %s", raw)
	_, m, _ = s.do(t, "GET", "/v1/tenants/acme/events/"+id, testToken, "", "")
	require_Equal(t, str(t, m, "type"), "invoice.paid")
	ds := m["deliveries"].([]any)
	require_Equal(t, len(ds), 1) // the lead.* endpoint never had it
	d := ds[0].(map[string]any)
	require_Equal(t, d["endpoint_id"], any(str(t, a, "id")))
	require_Equal(t, d["status"], any("pending"))

	f := func(method, p string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, method, p, testToken, "", "", wantStatus, wantCode)
	}
	f("GET", "/v1/tenants/other/events/"+id, 404, "event_not_found")
	f("GET", "/v1/tenants/nope/events/"+id, 404, "tenant_not_found")
	f("GET", "/v1/tenants/acme/events/evt_01JDZZZZZZZZZZZZZZZZZZZZZZ", 404, "event_not_found")
	f("GET", "/v1/tenants/acme/events/nope", 404, "event_not_found")
	f("DELETE", "/v1/tenants/acme/events/"+id, 405, "method_not_allowed")
	f("GET", "/v1/tenants/acme/events/"+id+"/x", 404, "not_found")
}
