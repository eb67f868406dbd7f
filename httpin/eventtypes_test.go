package httpin_test

import (
	"net/http"
	"strings"
	"testing"
)

const invoiceSchema = `{"type":"object","required":["amount"],"properties":{"amount":{"type":"integer","minimum":0},"items":{"type":"array","items":{"type":"string"}}}}`

// TestEventTypeCatalogue: register, list, get, replace and delete types;
// publishing a type with a schema validates its payload, naming the failing
// path, and writes nothing when it fails.
func TestEventTypeCatalogue(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	status, m, _ := s.do(t, "POST", "/v1/tenants/acme/event-types", testToken, "application/json",
		`{"type":"invoice.paid","description":"An invoice was paid","schema":`+invoiceSchema+`}`)
	require_Equal(t, status, http.StatusCreated)
	require_Equal(t, str(t, m, "type"), "invoice.paid")
	status, _, _ = s.do(t, "POST", "/v1/tenants/acme/event-types", testToken, "application/json", `{"type":"lead.won","description":"no schema"}`)
	require_Equal(t, status, http.StatusCreated)

	status, m, _ = s.do(t, "GET", "/v1/tenants/acme/event-types", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	data := m["data"].([]any)
	require_Equal(t, len(data), 2)
	require_Equal(t, data[0].(map[string]any)["type"], any("invoice.paid"))
	status, m, _ = s.do(t, "GET", "/v1/tenants/acme/event-types/invoice.paid", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "description"), "An invoice was paid")

	// Valid payloads pass; a schema-less type takes anything.
	for _, body := range []string{
		`{"type":"invoice.paid","payload":{"amount":42,"items":["a"]}}`,
		`{"type":"lead.won","payload":"anything"}`,
		`{"type":"other","payload":[1]}`,
	} {
		status, _, _ = s.do(t, "POST", eventsPath, testToken, "application/json", body)
		require_Equal(t, status, http.StatusAccepted)
	}
	// Invalid ones: 400 schema_violation with the path; nothing written.
	msg := s.reject(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.paid","payload":{"amount":-1}}`, 400, "schema_violation")
	require_True(t, strings.Contains(msg, "/amount"), "message does not name the path: %s", msg)
	msg = s.reject(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.paid","payload":{"items":[1]}}`, 400, "schema_violation")
	require_True(t, strings.Contains(msg, "payload at /"), "message: %s", msg)
	msg = s.reject(t, "POST", batchPath, testToken, "application/json", `[{"type":"lead.won","payload":1},{"type":"invoice.paid","payload":{"amount":1,"items":[true]}}]`, 400, "schema_violation")
	require_True(t, strings.Contains(msg, "event 1") && strings.Contains(msg, "/items/0"), "message: %s", msg)

	// Replace drops the schema; delete removes the type.
	status, _, _ = s.do(t, "PUT", "/v1/tenants/acme/event-types/invoice.paid", testToken, "application/json", `{"description":"relaxed"}`)
	require_Equal(t, status, http.StatusOK)
	status, _, _ = s.do(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.paid","payload":{"amount":-1}}`)
	require_Equal(t, status, http.StatusAccepted)
	status, _, _ = s.do(t, "DELETE", "/v1/tenants/acme/event-types/lead.won", testToken, "", "")
	require_Equal(t, status, http.StatusNoContent)

	f := func(method, path, body string, wantStatus int, wantCode string) {
		t.Helper()
		s.reject(t, method, path, testToken, "application/json", body, wantStatus, wantCode)
	}
	const base = "/v1/tenants/acme/event-types"
	f("POST", base, `{"type":"bad type"}`, 400, "invalid_type")
	f("POST", base, `{"description":"no type"}`, 400, "invalid_type")
	f("POST", base, `{"type":"a.b","schema":{"type":"nonsense"}}`, 400, "invalid_schema")
	f("POST", base, `{"type":"a.b","schema":{"$ref":"http://169.254.169.254/latest"}}`, 400, "invalid_schema")
	f("POST", base, `{"type":"a.b","schema":{"$ref":"file:///etc/passwd"}}`, 400, "invalid_schema")
	f("POST", base, `{"type":"a.b","schema":`, 400, "invalid_json")
	f("POST", base, `{"type":"a.b","color":"red"}`, 400, "unknown_field")
	f("POST", base, `{"type":"a.b","description":"`+strings.Repeat("x", 1001)+`"}`, 400, "invalid_description")
	f("PUT", base+"/a.b", `{"type":"c.d"}`, 400, "type_mismatch")
	f("GET", base+"/nope", "", 404, "event_type_not_found")
	f("DELETE", base+"/nope", "", 404, "event_type_not_found")
	f("PATCH", base+"/a.b", `{}`, 405, "method_not_allowed")
	f("DELETE", base, "", 405, "method_not_allowed")
	f("GET", base+"/a/b", "", 404, "not_found")
	f("GET", "/v1/tenants/nope/event-types", "", 404, "tenant_not_found")
}

// TestEventTypeCreateExisting: POST of a type already in the catalogue is
// 409 event_type_exists and leaves the entry, schema included, as it was;
// PUT is how an entry is replaced.
func TestEventTypeCreateExisting(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	const base = "/v1/tenants/acme/event-types"
	status, _, _ := s.do(t, "POST", base, testToken, "application/json",
		`{"type":"invoice.paid","description":"An invoice was paid","schema":`+invoiceSchema+`}`)
	require_Equal(t, status, http.StatusCreated)

	for _, body := range []string{
		`{"type":"invoice.paid"}`,
		`{"type":"invoice.paid","description":"again","schema":{"type":"string"}}`,
	} {
		msg := s.reject(t, "POST", base, testToken, "application/json", body, 409, "event_type_exists")
		require_True(t, strings.Contains(msg, "invoice.paid") && strings.Contains(msg, "PUT"), "message does not name the type and PUT: %s", msg)
	}
	// The entry is as it was: its schema still refuses a bad payload.
	status, m, _ := s.do(t, "GET", base+"/invoice.paid", testToken, "", "")
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "description"), "An invoice was paid")
	require_True(t, m["schema"] != nil, "the schema is gone: %v", m)
	s.reject(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.paid","payload":{"amount":-1}}`, 400, "schema_violation")

	// PUT replaces (200) an existing entry and creates (201) a new one.
	status, m, _ = s.do(t, "PUT", base+"/invoice.paid", testToken, "application/json", `{"description":"relaxed"}`)
	require_Equal(t, status, http.StatusOK)
	require_Equal(t, str(t, m, "description"), "relaxed")
	status, _, _ = s.do(t, "POST", eventsPath, testToken, "application/json", `{"type":"invoice.paid","payload":{"amount":-1}}`)
	require_Equal(t, status, http.StatusAccepted)
	status, _, _ = s.do(t, "PUT", base+"/lead.won", testToken, "application/json", `{}`)
	require_Equal(t, status, http.StatusCreated)
	s.reject(t, "POST", base, testToken, "application/json", `{"type":"lead.won"}`, 409, "event_type_exists")
}

// TestEventTypeReserved: the catalogue takes no type under "hookline.",
// by POST or by PUT.
func TestEventTypeReserved(t *testing.T) {
	s := newTestServer(t)
	s.mustCreateTenant(t, "acme")
	const base = "/v1/tenants/acme/event-types"
	for _, typ := range []string{"hookline.test", "hookline.endpoint.disabled", "Hookline.custom"} {
		s.reject(t, "POST", base, testToken, "application/json", `{"type":"`+typ+`"}`, 400, "reserved_event_type")
		s.reject(t, "PUT", base+"/"+typ, testToken, "application/json", `{"description":"mine"}`, 400, "reserved_event_type")
	}
	status, _, _ := s.do(t, "POST", base, testToken, "application/json", `{"type":"hookline"}`)
	require_Equal(t, status, http.StatusCreated)
}
