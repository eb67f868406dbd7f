package httpin_test

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTenantCreate(t *testing.T) {
	s := newTestServer(t)
	status, m, _ := s.do(t, "POST", "/v1/tenants", testToken, "application/json", `{"id":"acme","name":"Acme Inc"}`)
	require_Equal(t, status, http.StatusCreated)
	require_Equal(t, str(t, m, "id"), "acme")
	require_Equal(t, str(t, m, "name"), "Acme Inc")
	created, err := time.Parse(time.RFC3339Nano, str(t, m, "created_at"))
	require_NoError(t, err)
	require_True(t, time.Since(created) < time.Minute && time.Since(created) > -time.Minute, "created_at %v is not now", created)

	status, got, _ := s.do(t, "GET", "/v1/tenants/acme", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, reflect.DeepEqual(got, m), "GET returned %v; POST returned %v", got, m)

	// Valid ids at the edges.
	for _, id := range []string{"a", "0", strings.Repeat("z", 64), "a-b_c", "x-", "1_"} {
		s.mustCreateTenant(t, id)
	}
	// A name is optional.
	status, _, _ = s.do(t, "POST", "/v1/tenants", testToken, "application/json", `{"id":"noname"}`)
	require_Equal(t, status, http.StatusCreated)
}

func TestTenantCreateRejects(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	f := func(body string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, "POST", "/v1/tenants", testToken, "application/json", body, wantStatus, wantCode)
	}
	f(`{"id":"acme","name":"again"}`, 409, "tenant_exists")
	f(`{"id":""}`, 400, "invalid_tenant_id")
	f(`{"id":"UPPER"}`, 400, "invalid_tenant_id")
	f(`{"id":"has space"}`, 400, "invalid_tenant_id")
	f(`{"id":"-lead"}`, 400, "invalid_tenant_id")
	f(`{"id":"_lead"}`, 400, "invalid_tenant_id")
	f(`{"id":"`+strings.Repeat("a", 65)+`"}`, 400, "invalid_tenant_id")
	f(`{"id":"ünï"}`, 400, "invalid_tenant_id")
	f(`{"id":"a/b"}`, 400, "invalid_tenant_id")
	f(`{"name":"no id"}`, 400, "invalid_tenant_id")
	f(`{}`, 400, "invalid_tenant_id")
	f(`{"id":"ok","name":"`+strings.Repeat("n", 201)+`"}`, 400, "invalid_name")
	f(`{"id":"a"`, 400, "invalid_json")
	f(`{"id":"a",}`, 400, "invalid_json")
	f(`not json`, 400, "invalid_json")
	f(`{"id":"a"} trailing`, 400, "invalid_json")
	f(``, 400, "invalid_json")
	f("  \n", 400, "invalid_json")
	f(`{"id":"a","nmae":"x"}`, 400, "unknown_field")
	f(`{"id":5}`, 400, "invalid_field")
	f(`{"id":"a","name":["x"]}`, 400, "invalid_field")
}

func TestTenantGetUpdateDelete(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")

	s.reject(t, "GET", "/v1/tenants/nope", testToken, "", "", 404, "tenant_not_found")
	s.reject(t, "PATCH", "/v1/tenants/nope", testToken, "application/json", `{"name":"x"}`, 404, "tenant_not_found")
	s.reject(t, "DELETE", "/v1/tenants/nope", testToken, "", "", 404, "tenant_not_found")

	status, m, _ := s.do(t, "PATCH", "/v1/tenants/acme", testToken, "application/json", `{"name":"Acme 2"}`)
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "name"), "Acme 2")
	status, m, _ = s.do(t, "GET", "/v1/tenants/acme", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "name"), "Acme 2")

	f := func(body string, wantCode string) {
		t.Helper()
		s.reject(t, "PATCH", "/v1/tenants/acme", testToken, "application/json", body, 400, wantCode)
	}
	f(`{"id":"other"}`, "immutable_field")
	f(`{"nmae":"x"}`, "unknown_field")
	f(`{"name":5}`, "invalid_field")
	f(`{"name":`, "invalid_json")
	f(``, "invalid_json")
	f(`{"name":"`+strings.Repeat("n", 201)+`"}`, "invalid_name")

	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/"}`)
	status, raw, _ := s.doRaw(t, "DELETE", "/v1/tenants/acme", testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)
	require_Equal(t, raw, "")
	s.reject(t, "GET", "/v1/tenants/acme", testToken, "", "", 404, "tenant_not_found")
	s.reject(t, "DELETE", "/v1/tenants/acme", testToken, "", "", 404, "tenant_not_found")
	s.reject(t, "GET", "/v1/tenants/acme/endpoints/"+str(t, ep, "id"), testToken, "", "", 404, "tenant_not_found")
	s.reject(t, "POST", "/v1/tenants/acme/events", testToken, "application/json", `{"type":"a","payload":1}`, 404, "tenant_not_found")
	// The other tenant is untouched.
	status, _, _ = s.do(t, "GET", "/v1/tenants/other", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	// The id can be used again.
	s.mustCreateTenant(t, "acme")
}

// listIDs fetches every page of a list with the given limit and returns the
// ids page by page.
func (s *testServer) listIDs(t *testing.T, path string, limit string) [][]string {
	t.Helper()
	var pages [][]string
	cursor := ""
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatalf("more than 100 pages listing %s", path)
		}
		q := url.Values{}
		if limit != "" {
			q.Set("limit", limit)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		status, m, _ := s.do(t, "GET", path+"?"+q.Encode(), testToken, "", "")
		require_Equal(t, status, http.StatusOK)
		data, ok := m["data"].([]any)
		require_True(t, ok, "list has no data array: %v", m)
		var ids []string
		for _, d := range data {
			ids = append(ids, str(t, d.(map[string]any), "id"))
		}
		pages = append(pages, ids)
		next, present := m["next_cursor"]
		if !present {
			return pages
		}
		cursor, ok = next.(string)
		require_True(t, ok && cursor != "", "next_cursor is %v; want a non-empty string or absent", next)
	}
}

func TestTenantList(t *testing.T) {
	s := newTestServer(t)
	// An empty list is an empty array, not null.
	status, raw, _ := s.doRaw(t, "GET", "/v1/tenants", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, raw, `{"data":[]}`)

	for _, id := range []string{"e", "c", "a", "d", "b"} {
		s.mustCreateTenant(t, id)
	}
	pages := s.listIDs(t, "/v1/tenants", "2")
	want := [][]string{{"a", "b"}, {"c", "d"}, {"e"}}
	require_True(t, reflect.DeepEqual(pages, want), "pages %v; want %v", pages, want)
	pages = s.listIDs(t, "/v1/tenants", "")
	want = [][]string{{"a", "b", "c", "d", "e"}}
	require_True(t, reflect.DeepEqual(pages, want), "pages %v; want %v", pages, want)

	f := func(query, wantCode string) {
		t.Helper()
		s.reject(t, "GET", "/v1/tenants?"+query, testToken, "", "", 400, wantCode)
	}
	f("limit=0", "invalid_limit")
	f("limit=-1", "invalid_limit")
	f("limit=abc", "invalid_limit")
	f("limit=5000", "invalid_limit")
	f("limit=1.5", "invalid_limit")
	f("cursor=!!!", "invalid_cursor")
	f("cursor=%00%01", "invalid_cursor")
	f("limit=2&cursor=!!!", "invalid_cursor")
}

func TestEndpointCreate(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/hook","description":"d"}`)
	id := str(t, ep, "id")
	require_True(t, strings.HasPrefix(id, "ep_") && len(id) > 3, "id %q lacks the ep_ prefix", id)
	require_True(t, strings.HasPrefix(str(t, ep, "secret"), "whsec_"), "secret %q lacks the whsec_ prefix", ep["secret"])
	require_Equal(t, str(t, ep, "url"), "http://127.0.0.1:9/hook")
	require_Equal(t, str(t, ep, "tenant"), "acme")
	require_Equal(t, strings.Join(strs(t, ep, "event_types"), ","), "*")
	require_Equal(t, ep["max_in_flight"], any(float64(16)))
	require_Equal(t, ep["disabled"], any(false))

	// GET and list never show the secret.
	status, got, _ := s.do(t, "GET", "/v1/tenants/acme/endpoints/"+id, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	_, has := got["secret"]
	require_True(t, !has, "GET shows the secret: %v", got)
	delete(ep, "secret")
	require_True(t, reflect.DeepEqual(got, ep), "GET %v; POST without secret %v", got, ep)
	status, raw, _ := s.doRaw(t, "GET", "/v1/tenants/acme/endpoints", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_True(t, !strings.Contains(raw, "whsec_") && !strings.Contains(raw, "secret"), "list shows a secret: %s", raw)

	// A supplied secret is kept, and shown once.
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ep2 := s.mustCreateEndpoint(t, "acme", `{"url":"https://example.com/h","event_types":["invoice.*","lead.won"],"max_in_flight":3,"secret":"`+secret+`"}`)
	require_Equal(t, str(t, ep2, "secret"), secret)
	require_Equal(t, strings.Join(strs(t, ep2, "event_types"), ","), "invoice.*,lead.won")
	require_Equal(t, ep2["max_in_flight"], any(float64(3)))
	require_True(t, str(t, ep2, "id") != id, "two endpoints share id %s", id)

	// Pagination over endpoints: every endpoint once, in id order. (Endpoint
	// ids are only ordered to the millisecond, so id order is not always
	// creation order.)
	ep3 := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/3"}`)
	pages := s.listIDs(t, "/v1/tenants/acme/endpoints", "2")
	require_True(t, len(pages) == 2 && len(pages[0]) == 2 && len(pages[1]) == 1, "pages %v", pages)
	all := slices.Concat(pages...)
	want := []string{id, str(t, ep2, "id"), str(t, ep3, "id")}
	slices.Sort(want)
	require_True(t, slices.Equal(all, want), "listed %v; want %v", all, want)
}

func TestEndpointCreateRejects(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/"}`)
	f := func(name, tenant, body string, wantStatus int, wantCode string) {
		t.Helper()
		msg := s.reject(t, "POST", "/v1/tenants/"+tenant+"/endpoints", testToken, "application/json", body, wantStatus, wantCode)
		_ = name
		_ = msg
	}
	f("missing url", "acme", `{}`, 400, "missing_url")
	f("missing url, other fields", "acme", `{"event_types":["*"]}`, 400, "missing_url")
	f("empty url", "acme", `{"url":""}`, 400, "invalid_url")
	f("ftp", "acme", `{"url":"ftp://x"}`, 400, "invalid_url")
	f("no host", "acme", `{"url":"http://"}`, 400, "invalid_url")
	f("not a url", "acme", `{"url":"not a url"}`, 400, "invalid_url")
	f("empty host", "acme", `{"url":"http:///x"}`, 400, "invalid_url")
	f("userinfo", "acme", `{"url":"http://user:pw@h/"}`, 400, "invalid_url")
	f("javascript", "acme", `{"url":"javascript:alert(1)"}`, 400, "invalid_url")
	f("too long", "acme", `{"url":"http://h/`+strings.Repeat("a", 2100)+`"}`, 400, "invalid_url")
	f("private", "acme", `{"url":"http://10.0.0.1/"}`, 400, "url_not_allowed")
	f("metadata", "acme", `{"url":"http://169.254.169.254/"}`, 400, "url_not_allowed")
	f("metadata v6", "acme", `{"url":"http://[fd00:ec2::254]/"}`, 400, "url_not_allowed")
	f("unspecified", "acme", `{"url":"http://0.0.0.0/"}`, 400, "url_not_allowed")
	f("empty event_types", "acme", `{"url":"http://127.0.0.1:9/","event_types":[]}`, 400, "invalid_event_types")
	f("space in type", "acme", `{"url":"http://127.0.0.1:9/","event_types":["a b"]}`, 400, "invalid_event_types")
	f("inner star", "acme", `{"url":"http://127.0.0.1:9/","event_types":["a*b"]}`, 400, "invalid_event_types")
	f("max_in_flight 0", "acme", `{"url":"http://127.0.0.1:9/","max_in_flight":0}`, 400, "invalid_max_in_flight")
	f("max_in_flight 5000", "acme", `{"url":"http://127.0.0.1:9/","max_in_flight":5000}`, 400, "invalid_max_in_flight")
	f("max_in_flight -1", "acme", `{"url":"http://127.0.0.1:9/","max_in_flight":-1}`, 400, "invalid_max_in_flight")
	f("max_in_flight string", "acme", `{"url":"http://127.0.0.1:9/","max_in_flight":"3"}`, 400, "invalid_field")
	f("bad secret", "acme", `{"url":"http://127.0.0.1:9/","secret":"nope"}`, 400, "invalid_secret")
	f("bad retry schedule", "acme", `{"url":"http://127.0.0.1:9/","retry_schedule":["soon"]}`, 400, "invalid_retry_schedule")
	f("unknown field", "acme", `{"url":"http://127.0.0.1:9/","urll":"x"}`, 400, "unknown_field")
	f("wrong type", "acme", `{"url":5}`, 400, "invalid_field")
	f("malformed", "acme", `{"url":`, 400, "invalid_json")
	f("empty body", "acme", ``, 400, "invalid_json")
	f("unknown tenant", "nope", `{"url":"http://127.0.0.1:9/"}`, 404, "tenant_not_found")
}

func TestEndpointGetUpdateDelete(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	s.mustCreateTenant(t, "other")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/"}`)
	id := str(t, ep, "id")
	path := "/v1/tenants/acme/endpoints/" + id

	f := func(method, path, body string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, method, path, testToken, "application/json", body, wantStatus, wantCode)
	}
	for _, method := range []string{"GET", "PATCH", "DELETE"} {
		f(method, "/v1/tenants/acme/endpoints/ep_01JDZZZZZZZZZZZZZZZZZZZZZZ", `{"max_in_flight":2}`, 404, "endpoint_not_found")
		f(method, "/v1/tenants/acme/endpoints/nope", `{"max_in_flight":2}`, 404, "endpoint_not_found")
		f(method, "/v1/tenants/acme/endpoints/"+strings.TrimPrefix(id, "ep_"), `{"max_in_flight":2}`, 404, "endpoint_not_found")
		f(method, "/v1/tenants/other/endpoints/"+id, `{"max_in_flight":2}`, 404, "endpoint_not_found")
		f(method, "/v1/tenants/nope/endpoints/"+id, `{"max_in_flight":2}`, 404, "tenant_not_found")
	}
	f("GET", "/v1/tenants/nope/endpoints", "", 404, "tenant_not_found")

	status, m, _ := s.do(t, "PATCH", path, testToken, "application/json", `{"event_types":["invoice.*"],"max_in_flight":4}`)
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, strings.Join(strs(t, m, "event_types"), ","), "invoice.*")
	require_Equal(t, m["max_in_flight"], any(float64(4)))
	_, has := m["secret"]
	require_True(t, !has, "PATCH shows the secret: %v", m)
	status, m, _ = s.do(t, "GET", path, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, strings.Join(strs(t, m, "event_types"), ","), "invoice.*")
	require_Equal(t, m["max_in_flight"], any(float64(4)))
	require_Equal(t, str(t, m, "url"), "http://127.0.0.1:9/")

	f("PATCH", path, `{"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`, 400, "immutable_field")
	f("PATCH", path, `{"secret":"nope"}`, 400, "immutable_field")
	f("PATCH", path, `{"event_types":[]}`, 400, "invalid_event_types")
	f("PATCH", path, `{"max_in_flight":0}`, 400, "invalid_max_in_flight")
	f("PATCH", path, `{"url":"http://169.254.169.254/"}`, 400, "url_not_allowed")
	f("PATCH", path, `{"url":"ftp://x"}`, 400, "invalid_url")
	f("PATCH", path, `{"max_in_flight":2,"url":"ftp://x"}`, 400, "invalid_url")
	f("PATCH", path, `{"nope":1}`, 400, "unknown_field")
	f("PATCH", path, `{"max_in_flight":`, 400, "invalid_json")
	f("PATCH", path, ``, 400, "invalid_json")

	status, raw, _ := s.doRaw(t, "DELETE", path, testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)
	require_Equal(t, raw, "")
	// Kept for its history (endpoint_lifecycle_test.go), but not listed.
	status, _, _ = s.doRaw(t, "GET", path, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	f("DELETE", path, "", 409, "endpoint_deleted")
	status, raw, _ = s.doRaw(t, "GET", "/v1/tenants/acme/endpoints", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, raw, `{"data":[]}`)
}

// TestManagementRejectsInvalidJSONStrings: a raw control character inside a
// string and invalid UTF-8 are not JSON (RFC 8259 sections 7 and 8.1).
// Accepted, they are stored and echoed back: a name with invalid UTF-8 makes
// every later GET /v1/tenants a body that strict JSON clients cannot decode.
func TestManagementRejectsInvalidJSONStrings(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/"}`)
	epPath := "/v1/tenants/acme/endpoints/" + str(t, ep, "id")
	f := func(name, method, path, body string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			s.reject(t, method, path, testToken, "application/json", body, 400, "invalid_json")
		})
	}
	f("tenant name with a raw control char", "POST", "/v1/tenants", "{\"id\":\"ctl\",\"name\":\"a\x01b\"}")
	f("tenant name with invalid UTF-8", "POST", "/v1/tenants", "{\"id\":\"utf\",\"name\":\"\xff\xfe\"}")
	f("tenant patch with invalid UTF-8", "PATCH", "/v1/tenants/acme", "{\"name\":\"\xff\"}")
	f("endpoint description with invalid UTF-8", "POST", "/v1/tenants/acme/endpoints", "{\"url\":\"http://127.0.0.1:9/\",\"description\":\"\xff\"}")
	f("endpoint patch with a raw control char", "PATCH", epPath, "{\"description\":\"\x7f\x1b[2J\"}")
	f("endpoint patch with invalid UTF-8", "PATCH", epPath, "{\"description\":\"\xc3\"}")
}

// TestPatchNullBody: JSON null is not the object a PATCH needs. Accepted, it
// rewrites the record (a new updated_at) although nothing was asked to change.
func TestPatchNullBody(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/"}`)
	for _, path := range []string{"/v1/tenants/acme", "/v1/tenants/acme/endpoints/" + str(t, ep, "id")} {
		t.Run(path, func(t *testing.T) {
			s.reject(t, "PATCH", path, testToken, "application/json", `null`, 400, "invalid_json")
		})
	}
}

// TestEndpointFaultSettings: rate_limit, ordering and pause/resume over the
// API, with their bad inputs.
func TestEndpointFaultSettings(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	ep := s.mustCreateEndpoint(t, "acme", `{"url":"http://127.0.0.1:9/","rate_limit":50,"ordering":"fifo"}`)
	require_Equal(t, ep["rate_limit"], any(float64(50)))
	require_Equal(t, str(t, ep, "ordering"), "fifo")
	circuit, ok := ep["circuit"].(map[string]any)
	require_True(t, ok && circuit["state"] == "closed", "circuit on create: %v", ep["circuit"])
	id := str(t, ep, "id")
	path := "/v1/tenants/acme/endpoints/" + id

	f := func(method, path, body string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, method, path, testToken, "application/json", body, wantStatus, wantCode)
	}
	f("PATCH", path, `{"rate_limit":-1}`, 400, "invalid_rate_limit")
	f("PATCH", path, `{"rate_limit":100001}`, 400, "invalid_rate_limit")
	f("PATCH", path, `{"rate_limit":"5"}`, 400, "invalid_field")
	f("PATCH", path, `{"ordering":"lifo"}`, 400, "invalid_ordering")
	f("PATCH", path, `{"circuit":{"state":"open"}}`, 400, "unknown_field")
	f("GET", path+"/pause", "", 405, "method_not_allowed")
	f("POST", path+"/pause", `{"paused":false}`, 400, "unexpected_body")
	f("POST", path+"/stop", "", 404, "not_found")
	f("POST", "/v1/tenants/acme/endpoints/ep_01JDZZZZZZZZZZZZZZZZZZZZZZ/pause", "", 404, "endpoint_not_found")
	f("POST", "/v1/tenants/nope/endpoints/"+id+"/resume", "", 404, "tenant_not_found")

	status, m, _ := s.do(t, "PATCH", path, testToken, "application/json", `{"ordering":"none","rate_limit":0}`)
	require_Equal(t, status, http.StatusOK)
	_, has := m["ordering"]
	require_True(t, !has && m["rate_limit"] == any(float64(0)), "after PATCH: %v", m)

	status, m, _ = s.do(t, "POST", path+"/pause", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, m["paused"], any(true))
	status, m, _ = s.do(t, "GET", path, testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, m["paused"], any(true))
	status, m, _ = s.do(t, "POST", path+"/resume", testToken, "application/json", "{}")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, m["paused"], any(false))
}
