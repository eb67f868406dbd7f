package httpin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"hookline/httpin"
)

// loadOpenAPI parses openapi.json with kin-openapi and fails unless it is
// a valid OpenAPI 3.1 document.
func loadOpenAPI(tb testing.TB) *openapi3.T {
	tb.Helper()
	b, err := os.ReadFile("openapi.json")
	require_NoError(tb, err)
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		tb.Fatalf("openapi.json does not parse: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		tb.Fatalf("openapi.json is OpenAPI %q; want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		tb.Fatalf("openapi.json is not valid: %v", err)
	}
	return doc
}

// opScope is an operation's x-hookline-scope: a scope, "admin" or "none".
func opScope(tb testing.TB, op *openapi3.Operation) string {
	tb.Helper()
	var s string
	extension(tb, op, "x-hookline-scope", &s)
	return s
}

// opErrorCodes is an operation's x-hookline-error-codes: the codes of
// each error status.
func opErrorCodes(tb testing.TB, op *openapi3.Operation) map[string][]string {
	tb.Helper()
	var m map[string][]string
	extension(tb, op, "x-hookline-error-codes", &m)
	return m
}

func extension(tb testing.TB, op *openapi3.Operation, name string, v any) {
	tb.Helper()
	x, ok := op.Extensions[name]
	if !ok {
		tb.Fatalf("%s has no %s", op.OperationID, name)
	}
	if err := json.Unmarshal(mustJSON(tb, x), v); err != nil {
		tb.Fatalf("%s: %s: %v", op.OperationID, name, err)
	}
}

// TestOpenAPIDocument: the document is valid OpenAPI 3.1, and each
// operation names its scope and lists the error codes of exactly its
// error statuses, each answered with the Error schema; a token's
// operations list 401 and 403 as every such route answers them (a portal
// session's token is checked before the route: any route may meet an
// expired or revoked one).
func TestOpenAPIDocument(t *testing.T) {
	doc := loadOpenAPI(t)
	ids := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s: operationId %q is empty or used twice", name, op.OperationID)
			}
			ids[op.OperationID] = true
			scope := opScope(t, op)
			codes := opErrorCodes(t, op)
			if scope == "any" {
				// Any live credential: 401 only.
				if !slices.Equal(codes["401"], []string{"missing_token", "invalid_token", "session_expired", "session_revoked"}) || codes["403"] != nil {
					t.Errorf("%s: a route open to any token answers 401 as the others do, and never 403; it lists %v", name, codes)
				}
			} else if scope != "none" {
				if !slices.Equal(codes["401"], []string{"missing_token", "invalid_token", "session_expired", "session_revoked"}) || !slices.Equal(codes["403"], []string{"forbidden"}) {
					t.Errorf("%s: a token's route answers 401 missing_token, invalid_token, session_expired, session_revoked and 403 forbidden; it lists %v", name, codes)
				}
				if op.Security != nil {
					t.Errorf("%s: an operation needing a token takes the document's bearer security", name)
				}
			} else if op.Security == nil || len(*op.Security) != 0 {
				t.Errorf("%s: an operation without a token needs \"security\": []", name)
			}
			for _, status := range op.Responses.Keys() {
				n, err := strconv.Atoi(status)
				if status == "default" || err == nil && n < 400 {
					continue
				}
				if len(codes[status]) == 0 {
					t.Errorf("%s: response %s lists no error codes", name, status)
				}
				mt := op.Responses.Value(status).Value.Content.Get("application/json")
				if mt == nil || mt.Schema.Ref != "#/components/schemas/Error" {
					t.Errorf("%s: response %s is not the Error schema", name, status)
				}
			}
			for status := range codes {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s: codes listed for %s, which is not a response", name, status)
				}
			}
			if op.Responses.Default() == nil {
				t.Errorf("%s: no default response (the transport's errors)", name)
			}
		}
	}
}

// TestOpenAPIErrorCodes: every error code the document lists is a string
// the server's code holds, so a misspelt code cannot hide in an operation
// that the tests never drive into that error.
func TestOpenAPIErrorCodes(t *testing.T) {
	doc := loadOpenAPI(t)
	var src strings.Builder
	for _, dir := range []string{".", "../engine", "../internal", "../httpout"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			src.Write(b)
			return err
		})
		require_NoError(t, err)
	}
	code := src.String()
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status, codes := range opErrorCodes(t, op) {
				for _, c := range codes {
					if !strings.Contains(code, `"`+c+`"`) {
						t.Errorf("%s %s: %s %s is in no string of the server's code", method, path, status, c)
					}
				}
			}
		}
	}
}

// TestOpenAPIRoutes holds the document to the route table both ways:
// every row with a method is documented with its scope, and every
// documented operation is a row. Rows for any method (health, metrics,
// profiles) are the operator's and stay out of the document.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" "+path] = opScope(t, op)
		}
	}
	routed := map[string]bool{}
	for _, r := range httpin.Routes() {
		if r.Method == "*" {
			if doc.Paths.Value(r.Pattern) != nil {
				t.Errorf("%s is served for any method and documented: the document leaves these to docs/metrics.md", r.Pattern)
			}
			continue
		}
		if r.Dashboard {
			// The dashboard's page and files: not API (README, Dashboard).
			if doc.Paths.Value(r.Pattern) != nil {
				t.Errorf("%s is the dashboard's and documented as API", r.Pattern)
			}
			continue
		}
		key := r.Method + " " + r.Pattern
		want := string(r.Scope)
		switch {
		case r.AnyToken:
			want = "any"
		case r.NoToken:
			want = "none"
		case want == "":
			want = "admin"
		}
		got, ok := documented[key]
		switch {
		case !ok:
			t.Errorf("%s is routed but not in openapi.json", key)
		case got != want:
			t.Errorf("%s: openapi.json says scope %q; the route table %q", key, got, want)
		}
		routed[key] = true
	}
	for key := range documented {
		if !routed[key] {
			t.Errorf("%s is in openapi.json but not routed", key)
		}
	}
}

// TestOpenAPIServed: GET /v1/openapi.json answers the document without a
// token; the metrics listener does not serve it.
func TestOpenAPIServed(t *testing.T) {
	want, err := os.ReadFile("openapi.json")
	require_NoError(t, err)
	s := newTestServerHTTP(t, func(o *httpin.Options) { o.MetricsListen = "127.0.0.1:0" })
	for _, token := range []string{"", testToken, "Bearer not-a-token"} {
		status, body, h := s.doRaw(t, "GET", "/v1/openapi.json", token, "", "")
		require_Equal(t, status, http.StatusOK)
		require_Equal(t, h.Get("Content-Type"), "application/json")
		require_True(t, body == string(want), "the served document differs from openapi.json")
	}
	s.reject(t, "POST", "/v1/openapi.json", "", "application/json", "{}", http.StatusMethodNotAllowed, "method_not_allowed")
	resp, err := http.Get("http://" + s.srv.MetricsAddr() + "/v1/openapi.json")
	require_NoError(t, err)
	_ = resp.Body.Close()
	require_Equal(t, resp.StatusCode, http.StatusNotFound)
}

// exchange is one request and its answer, as a client saw them.
type exchange struct {
	method, path string
	// The request's body and Content-Type, when the client can read it
	// again (http.Request.GetBody).
	reqContentType string
	reqBody        []byte
	status         int
	contentType    string
	body           []byte
}

// recorder is an http.RoundTripper keeping every exchange, so a test can
// drive the server with the usual helpers and check the answers after.
type recorder struct {
	base http.RoundTripper
	host string // the main listener's: the metrics listener is not the API
	mu   sync.Mutex
	got  []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		reqBody, err = io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			return nil, err
		}
	}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if req.URL.Host != r.host {
		return resp, nil
	}
	r.mu.Lock()
	r.got = append(r.got, exchange{req.Method, req.URL.Path, req.Header.Get("Content-Type"), reqBody, resp.StatusCode, resp.Header.Get("Content-Type"), b})
	r.mu.Unlock()
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach base.
func (r *recorder) CloseIdleConnections() {
	if c, ok := r.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (r *recorder) exchanges() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// openAPIDoc is openapi.json loaded once for checkAnswers.
var openAPIDoc = sync.OnceValues(func() (*openapi3.T, error) {
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	return openapi3.NewLoader().LoadFromData(b)
})

// checkAnswers validates every answer rec holds against openapi.json (see
// checkExchange). newTestServer calls it as a test ends, so every test of
// this package that talks to a server over HTTP checks the document too.
func checkAnswers(tb testing.TB, rec *recorder) {
	tb.Helper()
	doc, err := openAPIDoc()
	if err != nil {
		tb.Fatalf("openapi.json: %v", err)
	}
	for _, ex := range rec.exchanges() {
		if err := checkExchange(tb, doc, ex); err != nil {
			tb.Errorf("openapi.json: %s %s: %v", ex.method, ex.path, err)
		}
	}
}

// operationOf is the documented operation that served ex, nil for a path
// or method that no route serves (the document describes routes, not the
// 404 of an unknown path or a 405).
func operationOf(doc *openapi3.T, ex exchange) *openapi3.Operation {
	pattern := httpin.PatternOf(ex.path)
	if pattern == "" || ex.status == http.StatusMethodNotAllowed {
		return nil
	}
	item := doc.Paths.Value(pattern)
	if item == nil {
		return nil // TestOpenAPIRoutes reports a routed operation missing
	}
	return item.GetOperation(ex.method)
}

// transportCodes are the errors any request may meet before its route's
// handler runs, documented once as every operation's default response.
var transportCodes = map[string]int{
	"bad_request":               http.StatusBadRequest,
	"body_too_large":            http.StatusRequestEntityTooLarge,
	"request_headers_too_large": http.StatusRequestHeaderFieldsTooLarge,
	"server_busy":               http.StatusServiceUnavailable,
	"internal":                  http.StatusInternalServerError,
}

// checkExchange validates one answer against the document: its status is
// one the operation documents, its body passes the status's schema, and
// an error's code is one the operation lists for the status; a transport
// error (transportCodes) may be any operation's, as its default response.
// A JSON request that the server took (2xx) must pass the operation's
// requestBody schema, so the inputs documented are the ones accepted.
func checkExchange(tb testing.TB, doc *openapi3.T, ex exchange) error {
	tb.Helper()
	op := operationOf(doc, ex)
	if op == nil {
		return nil
	}
	if err := checkRequest(op, ex); err != nil {
		return err
	}
	status := strconv.Itoa(ex.status)
	rr := op.Responses.Value(status)
	if rr == nil {
		if code := errorCode(ex.body); transportCodes[code] == ex.status {
			rr = op.Responses.Default()
		} else {
			return fmt.Errorf("status %d is not documented (%s)", ex.status, short(string(ex.body)))
		}
	}
	content := rr.Value.Content
	if len(content) == 0 {
		if len(ex.body) > 0 {
			return fmt.Errorf("status %d documents no body; got %s", ex.status, short(string(ex.body)))
		}
		return nil
	}
	mediaType, _, _ := mime.ParseMediaType(ex.contentType)
	mt := content.Get(mediaType)
	if mt == nil {
		return fmt.Errorf("status %d: Content-Type %q is not documented", ex.status, ex.contentType)
	}
	if mediaType != "application/json" {
		return nil
	}
	var v any
	if err := json.Unmarshal(ex.body, &v); err != nil {
		return fmt.Errorf("status %d: the body is not JSON: %v", ex.status, err)
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		return fmt.Errorf("status %d: the body %s does not pass the schema: %s", ex.status, short(string(ex.body)), schemaReason(err))
	}
	if code := errorCode(ex.body); ex.status >= 400 && transportCodes[code] != ex.status && !slices.Contains(opErrorCodes(tb, op)[status], code) {
		return fmt.Errorf("error code %q is not listed for status %d", code, ex.status)
	}
	return nil
}

// checkRequest validates the JSON body of a request the server took
// against the operation's requestBody; other requests pass, and so does
// a body sent to an operation that reads none.
func checkRequest(op *openapi3.Operation, ex exchange) error {
	if ex.status/100 != 2 || len(bytes.TrimSpace(ex.reqBody)) == 0 || op.RequestBody == nil {
		return nil
	}
	mediaType, _, _ := mime.ParseMediaType(ex.reqContentType)
	if mediaType == "" {
		mediaType = "application/json" // what the API reads a body as
	}
	mt := op.RequestBody.Value.Content.Get(mediaType)
	if mt == nil {
		return fmt.Errorf("the server took a request of Content-Type %q, which the operation does not document", ex.reqContentType)
	}
	var v any
	if mediaType != "application/json" || json.Unmarshal(ex.reqBody, &v) != nil {
		return nil
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		return fmt.Errorf("the request %s, which the server took, does not pass the requestBody schema: %s", short(string(ex.reqBody)), schemaReason(err))
	}
	return nil
}

// errorCode is the code of an error body, "" for another body.
func errorCode(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Code
}

// schemaReason is the gist of a schema error: kin-openapi's message
// repeats the whole schema and value after it.
func schemaReason(err error) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return fmt.Sprintf("at %s: %s", strings.Join(se.JSONPointer(), "/"), se.Reason)
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
