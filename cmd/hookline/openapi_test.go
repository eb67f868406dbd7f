package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"testing"
)

// TestServeOpenAPI: the binary serves httpin/openapi.json at
// GET /v1/openapi.json to anyone, while the API it describes wants a token.
// (httpin's tests validate the document and every answer against it.)
func TestServeOpenAPI(t *testing.T) {
	want, err := os.ReadFile("../../httpin/openapi.json")
	require_NoError(t, err)
	srv := startServer(t, t.TempDir(), "--admin-token", testAdminToken)
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get("http://" + srv.addr + path)
		require_NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require_NoError(t, err)
		return resp, b
	}
	resp, body := get("/v1/openapi.json")
	require_Equal(t, resp.StatusCode, http.StatusOK)
	require_Equal(t, resp.Header.Get("Content-Type"), "application/json")
	require_True(t, bytes.Equal(body, want), "the served document differs from httpin/openapi.json")
	resp, _ = get("/v1/tenants")
	require_Equal(t, resp.StatusCode, http.StatusUnauthorized)
}
