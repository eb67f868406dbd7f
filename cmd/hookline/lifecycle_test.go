package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/internal/seal"
	"hookline/wal"
)

// TestEndpointLifecycleRestart, on the real binary with a sealed store: a
// deleted endpoint keeps its delivery history and loses its secrets (its
// stored record holds no sealed value at all, while a live one's does),
// and the deletion, the file's limits.endpoints_per_tenant and
// delivery.require_https, and a tenant's overrides all survive a restart.
func TestEndpointLifecycleRestart(t *testing.T) {
	const token = testAdminToken
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "hookline.yaml")
	require_NoError(t, os.WriteFile(cfg, []byte("limits:\n  endpoints_per_tenant: 2\ndelivery:\n  require_https: true\n"), 0o600))
	srv := startServer(t, data, "--admin-token", token, "--config", cfg)
	a := newAPI(srv.addr, token)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "acme", "max_endpoints": 3}, 201, nil)
	a.mustDo(t, "POST", "/v1/tenants", map[string]any{"id": "other"}, 201, nil)

	recv := newReceiver(t)
	const authToken = "crm-token-Rk5Vb8Nq2Xs7Lm4P"
	var gone endpointCreated
	a.mustDo(t, "POST", "/v1/tenants/acme/endpoints", map[string]any{
		"url": recv.srv.URL + "/hook", "auth": map[string]any{"type": "bearer", "token": authToken},
	}, 201, &gone)
	recv.setSecret(gone.Secret)
	live := a.createEndpoint(t, "acme", recv.srv.URL+"/live", []string{"none.*"})
	a.mustDo(t, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": "http://8.8.8.8/hook"}, 400, nil)

	var ev struct {
		ID string `json:"id"`
	}
	a.mustDo(t, "POST", "/v1/tenants/acme/events", map[string]any{"type": "a.b", "payload": map[string]any{}}, 202, &ev)
	dpath := "/v1/tenants/acme/endpoints/" + gone.ID + "/deliveries/" + ev.ID
	waitFor(t, 30*time.Second, "the delivery's attempt", func() bool {
		var d struct {
			Status string `json:"status"`
		}
		status, err := a.do("GET", dpath, "", nil, &d)
		return err == nil && status == 200 && d.Status == "succeeded"
	})
	a.mustDo(t, "DELETE", "/v1/tenants/acme/endpoints/"+gone.ID, nil, 204, nil)
	srv.stop()

	l, err := wal.Open(filepath.Join(data, "wal"), nil)
	require_NoError(t, err)
	records := map[string]string{}
	require_NoError(t, l.Endpoints(func(_ wal.ID, val []byte) error {
		for _, id := range []string{gone.ID, live.ID} {
			if strings.Contains(string(val), id) {
				records[id] = string(val)
			}
		}
		return nil
	}))
	require_NoError(t, l.Close())
	require_True(t, len(records) == 2, "endpoint records: %v", records)
	rec := records[gone.ID]
	require_True(t, strings.Contains(rec, `"deleted_at"`), "the deleted endpoint's record: %s", rec)
	for _, s := range []string{seal.Prefix, authToken, gone.Secret, strings.TrimPrefix(gone.Secret, "whsec_")} {
		require_True(t, !strings.Contains(rec, s), "the deleted endpoint's record holds %q: %s", s, rec)
	}
	require_True(t, strings.Contains(records[live.ID], seal.Prefix), "the live endpoint's record holds no sealed secret: %s", records[live.ID])

	srv = startServer(t, data, "--admin-token", token, "--config", cfg)
	a = newAPI(srv.addr, token)
	var ep map[string]any
	a.mustDo(t, "GET", "/v1/tenants/acme/endpoints/"+gone.ID, nil, 200, &ep)
	require_True(t, ep["deleted_at"] != nil, "deleted endpoint after restart: %v", ep)
	var d struct {
		Status     string `json:"status"`
		AttemptLog []any  `json:"attempt_log"`
	}
	a.mustDo(t, "GET", dpath, nil, 200, &d)
	require_True(t, d.Status == "succeeded" && len(d.AttemptLog) == 1, "delivery after restart: %+v", d)
	a.mustDo(t, "PATCH", "/v1/tenants/acme/endpoints/"+gone.ID, map[string]any{"description": "x"}, 409, nil)
	var page struct {
		Data []map[string]any `json:"data"`
	}
	a.mustDo(t, "GET", "/v1/tenants/acme/endpoints", nil, 200, &page)
	require_Equal(t, len(page.Data), 1)
	a.mustDo(t, "GET", "/v1/tenants/acme/endpoints?include_deleted=true", nil, 200, &page)
	require_Equal(t, len(page.Data), 2)

	var tenant map[string]any
	a.mustDo(t, "GET", "/v1/tenants/acme", nil, 200, &tenant)
	require_True(t, tenant["max_endpoints"] == float64(3) && tenant["require_https"] == nil, "tenant after restart: %v", tenant)
	a.mustDo(t, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": "http://8.8.8.8/hook"}, 400, nil)
	a.createEndpoint(t, "acme", recv.srv.URL+"/2", []string{"none.*"})
	a.createEndpoint(t, "acme", recv.srv.URL+"/3", []string{"none.*"})
	a.mustDo(t, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": recv.srv.URL + "/4"}, 409, nil)
	a.createEndpoint(t, "other", recv.srv.URL+"/1", []string{"none.*"})
	a.createEndpoint(t, "other", recv.srv.URL+"/2", []string{"none.*"})
	a.mustDo(t, "POST", "/v1/tenants/other/endpoints", map[string]any{"url": recv.srv.URL + "/3"}, 409, nil)
	srv.stop()
}
