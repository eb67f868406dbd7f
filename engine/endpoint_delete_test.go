package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/engine"
	"hookline/wal"
)

// TestDeleteEndpointKeepsHistory: a deleted endpoint stays readable with
// its deliveries and attempts, before and after a restart; it receives
// nothing more, its retry in progress never arrives, every call that would
// change or send to it answers 409 endpoint_deleted, and its secret,
// credentials and headers are gone from the store.
func TestDeleteEndpointKeepsHistory(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	ok := newReceiver(t, recvConfig{})
	failing := newReceiver(t, recvConfig{replies: []reply{{status: 503}}})
	const token, header = "crm-token-Zq4Xw8Lp2Vn6Ty1R", "header-key-Hd7Jm3Qs9Fb2Wc5K"
	ep := h.endpoint("acme", engine.EndpointInput{
		URL:     ptr(ok.URL()),
		Auth:    json.RawMessage(`{"type":"bearer","token":"` + token + `"}`),
		Headers: json.RawMessage(`{"X-Api-Key":"` + header + `"}`),
	})
	// The retry is due 2 s after the first attempt: well after the
	// deletion, which the test makes as soon as the attempt is recorded.
	epRetry := h.endpoint("acme", engine.EndpointInput{URL: ptr(failing.URL()), RetrySchedule: &[]string{"2s"}})
	res := h.publish("acme", engine.PublishEvent{Type: "a.b", Payload: []byte(`{"n":1}`)}, engine.PublishEvent{Type: "a.b", Payload: []byte(`{"n":2}`)})
	for _, r := range res {
		waitFor(t, 10*time.Second, "the attempt to the live endpoint", func() bool { return len(h.attempts(ep, r.ID)) == 1 })
	}
	for _, r := range res {
		waitFor(t, 10*time.Second, "the failed first attempt", func() bool { return outcomes(h.attempts(epRetry, r.ID)) == "r" })
	}
	retryDue := time.Now().Add(2 * time.Second)

	// The records with their secrets go to an sstable first, which the
	// deletion must then rewrite.
	require_NoError(t, h.log.CompactConfig())
	require_True(t, fileWithSecret(t, h.dir, []string{ep.Secret}) != "", "the secret is in no sstable before the deletion")
	ctx := context.Background()
	require_NoError(t, h.e.DeleteEndpoint(ctx, "acme", ep.ID))
	require_NoError(t, h.e.DeleteEndpoint(ctx, "acme", epRetry.ID))
	delivered := ok.count()

	check := func(when string) {
		t.Helper()
		got, err := h.e.GetEndpoint("acme", ep.ID)
		require_NoError(t, err)
		require_True(t, got.DeletedAt != nil, "%s: deleted endpoint without deleted_at: %+v", when, got)
		require_True(t, got.Secret == "" && got.Headers == nil && got.Circuit == nil, "%s: deleted endpoint shows %+v", when, got)
		require_True(t, got.Auth != nil && got.Auth.Type == "bearer" && got.Auth.Token == "", "%s: deleted endpoint's auth is %+v", when, got.Auth)
		require_Equal(t, got.URL, ok.URL())

		list, err := h.e.ListEndpoints("acme", "", 10, false)
		require_NoError(t, err)
		require_Equal(t, len(list), 0)
		list, err = h.e.ListEndpoints("acme", "", 10, true)
		require_NoError(t, err)
		require_Equal(t, len(list), 2)
		require_True(t, list[0].ID < list[1].ID && list[0].DeletedAt != nil && list[1].DeletedAt != nil, "%s: list with deleted: %+v", when, list)
		list, err = h.e.ListEndpoints("acme", list[0].ID, 10, true)
		require_NoError(t, err)
		require_Equal(t, len(list), 1)

		ds, _, err := h.e.ListDeliveries("acme", ep.ID, engine.DeliveryFilter{Limit: 10})
		require_NoError(t, err)
		require_Equal(t, len(ds), 2)
		for _, d := range ds {
			require_Equal(t, d.Status, "succeeded")
		}
		d, err := h.e.GetDelivery("acme", ep.ID, engine.FormatEventID(res[0].ID))
		require_NoError(t, err)
		require_True(t, len(d.AttemptLog) == 1 && d.AttemptLog[0].Status == 200 && d.AttemptLog[0].URL == ok.URL(), "%s: delivery %+v", when, d)

		// The retry in progress will never be made: it shows cancelled.
		d, err = h.e.GetDelivery("acme", epRetry.ID, engine.FormatEventID(res[1].ID))
		require_NoError(t, err)
		require_True(t, d.Status == "cancelled" && d.Attempts == 1 && d.NextAttemptAt == nil, "%s: retrying delivery of a deleted endpoint: %+v", when, d)
		for status, want := range map[string]int{"": 2, "cancelled": 2, "retrying": 0, "pending": 0, "succeeded": 0} {
			ds, _, err := h.e.ListDeliveries("acme", epRetry.ID, engine.DeliveryFilter{Status: status, Limit: 10})
			require_NoError(t, err)
			require_True(t, len(ds) == want, "%s: status %q lists %d deliveries; want %d", when, status, len(ds), want)
		}

		deleted := func(what string, err error) {
			t.Helper()
			require_True(t, err != nil, "%s: %s of a deleted endpoint succeeded", when, what)
			require_ErrorCode(t, err, engine.KindConflict, "endpoint_deleted")
		}
		_, err = h.e.UpdateEndpoint(ctx, "acme", ep.ID, engine.EndpointInput{Description: ptr("x")})
		deleted("update", err)
		_, err = h.e.SetPaused(ctx, "acme", ep.ID, true)
		deleted("pause", err)
		_, err = h.e.SetPaused(ctx, "acme", ep.ID, false)
		deleted("resume", err)
		_, err = h.e.RotateSecret(ctx, "acme", ep.ID, engine.SecretRotation{})
		deleted("rotate", err)
		_, err = h.e.TestEndpoint(ctx, "acme", ep.ID, nil)
		deleted("test", err)
		_, err = h.e.ReplayDelivery(ctx, "acme", ep.ID, engine.FormatEventID(res[0].ID), nil)
		deleted("replay", err)
		_, err = h.e.CancelDelivery(ctx, "acme", epRetry.ID, engine.FormatEventID(res[1].ID))
		deleted("cancel", err)
		_, err = h.e.CreateJob(ctx, "acme", ep.ID, engine.JobInput{Kind: engine.JobReplay, Status: "all"})
		deleted("job", err)
		_, err = h.e.PreviewEndpoint("acme", ep.ID, engine.PreviewInput{Type: "a.b", Payload: []byte(`{}`)})
		deleted("preview", err)
		_, err = h.e.EndpointHealth("acme", ep.ID)
		deleted("health", err)
		deleted("second delete", h.e.DeleteEndpoint(ctx, "acme", ep.ID))

		// Another tenant does not see it at all.
		_, err = h.e.GetEndpoint("other", ep.ID)
		require_ErrorCode(t, err, engine.KindNotFound, "endpoint_not_found")
		_, _, err = h.e.ListDeliveries("other", ep.ID, engine.DeliveryFilter{Limit: 10})
		require_ErrorCode(t, err, engine.KindNotFound, "endpoint_not_found")
		_, err = h.e.UpdateEndpoint(ctx, "other", ep.ID, engine.EndpointInput{Description: ptr("x")})
		require_ErrorCode(t, err, engine.KindNotFound, "endpoint_not_found")
	}
	h.tenant("other")
	check("after delete")

	// New events fan out to neither; the retry's due time passes unsent.
	h.publish("acme", engine.PublishEvent{Type: "a.b", Payload: []byte(`{"n":3}`)})
	require_Equal(t, h.queued(ep), 0)
	require_Equal(t, h.queued(epRetry), 0)
	time.Sleep(time.Until(retryDue) + quiet)
	require_Equal(t, ok.count(), delivered)
	require_Equal(t, failing.count(), 2)
	waitFor(t, 10*time.Second, "the dropped retry entry", func() bool { return h.counts().Retries == 0 })

	// The secret, the credentials and the header value are erased from the
	// records, and from the store's sstables once the record is compacted
	// (the harness stores secrets unsealed, so they would show as is).
	// Pebble keeps obsolete WAL files to recycle, with their old bytes
	// until reused: there only the sealed form ever lands in production
	// (cmd/hookline's TestSecretsAtRest), so they are not scanned here.
	secrets := []string{ep.Secret, strings.TrimPrefix(ep.Secret, "whsec_"), token, header, epRetry.Secret}
	requireNoSecretRecords(t, h.log, secrets)
	waitFor(t, 10*time.Second, "the secrets to leave the store's sstables", func() bool { return fileWithSecret(t, h.dir, secrets) == "" })

	h.stop(5 * time.Second)
	h.start()
	check("after restart")
	requireNoSecretRecords(t, h.log, secrets)
	h.publish("acme", engine.PublishEvent{Type: "a.b", Payload: []byte(`{"n":4}`)})
	time.Sleep(quiet)
	require_Equal(t, ok.count(), delivered)
	require_Equal(t, failing.count(), 2)
}

// requireNoSecretRecords fails when a stored endpoint record holds one of
// secrets.
func requireNoSecretRecords(t *testing.T, l *wal.Log, secrets []string) {
	t.Helper()
	n := 0
	require_NoError(t, l.Endpoints(func(_ wal.ID, val []byte) error {
		n++
		for _, s := range secrets {
			require_True(t, !bytes.Contains(val, []byte(s)), "a stored endpoint record holds %q: %s", s, val)
		}
		return nil
	}))
	require_True(t, n > 0, "no endpoint records")
}

// fileWithSecret returns the first file under dir but Pebble's WAL files
// (*.log) holding one of secrets.
func fileWithSecret(t *testing.T, dir string, secrets []string) string {
	t.Helper()
	found := ""
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" || strings.HasSuffix(path, ".log") {
			return err
		}
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil // removed by a compaction meanwhile
		}
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				found = path
			}
		}
		return nil
	})
	require_NoError(t, err)
	return found
}

// TestDeletedEndpointPurgedByRetention: once retention has removed every
// delivery of a deleted endpoint, its record goes too; a live endpoint of
// the same age stays.
func TestDeletedEndpointPurgedByRetention(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.Retention = 2 * time.Second
	opts.RetentionInterval = 50 * time.Millisecond
	h := newHarness(t, opts)
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	gone := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	kept := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	res := h.publish("acme", engine.PublishEvent{Type: "a.b"})
	waitFor(t, 10*time.Second, "the attempts", func() bool {
		return len(h.attempts(gone, res[0].ID)) == 1 && len(h.attempts(kept, res[0].ID)) == 1
	})
	require_NoError(t, h.e.DeleteEndpoint(context.Background(), "acme", gone.ID))
	records := func() int {
		n := 0
		require_NoError(t, h.log.Endpoints(func(wal.ID, []byte) error { n++; return nil }))
		return n
	}
	waitFor(t, 20*time.Second, "the deleted endpoint's record to go", func() bool { return records() == 1 })
	_, err := h.e.GetEndpoint("acme", gone.ID)
	require_ErrorCode(t, err, engine.KindNotFound, "endpoint_not_found")
	_, _, err = h.e.ListDeliveries("acme", gone.ID, engine.DeliveryFilter{Limit: 10})
	require_ErrorCode(t, err, engine.KindNotFound, "endpoint_not_found")
	require_Equal(t, len(h.attempts(gone, res[0].ID)), 0)
	list, err := h.e.ListEndpoints("acme", "", 10, true)
	require_NoError(t, err)
	require_True(t, len(list) == 1 && list[0].ID == kept.ID, "endpoints after the purge: %+v", list)

	h.stop(5 * time.Second)
	h.start()
	_, err = h.e.GetEndpoint("acme", gone.ID)
	require_ErrorCode(t, err, engine.KindNotFound, "endpoint_not_found")
	_, err = h.e.GetEndpoint("acme", kept.ID)
	require_NoError(t, err)
}

// TestDeleteTenantRemovesDeletedEndpoints: a tenant's deletion removes the
// records of its deleted endpoints with the live ones.
func TestDeleteTenantRemovesDeletedEndpoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	h.tenant("other")
	rc := newReceiver(t, recvConfig{})
	ep := h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL())})
	otherDeleted := h.endpoint("other", engine.EndpointInput{URL: ptr(rc.URL())})
	// The records with their secrets go to an sstable first, which the
	// deletion must then rewrite.
	require_NoError(t, h.log.CompactConfig())
	require_True(t, fileWithSecret(t, h.dir, []string{ep.Secret}) != "", "the secret is in no sstable before the deletion")
	ctx := context.Background()
	require_NoError(t, h.e.DeleteEndpoint(ctx, "acme", ep.ID))
	require_NoError(t, h.e.DeleteEndpoint(ctx, "other", otherDeleted.ID))
	require_NoError(t, h.e.DeleteTenant(ctx, "acme"))
	var ids []wal.ID
	require_NoError(t, h.log.Endpoints(func(id wal.ID, _ []byte) error { ids = append(ids, id); return nil }))
	require_True(t, len(ids) == 1 && ids[0] == walID(t, otherDeleted), "endpoint records left: %v", ids)

	h.tenant("acme")
	_, err := h.e.GetEndpoint("acme", ep.ID)
	require_ErrorCode(t, err, engine.KindNotFound, "endpoint_not_found")
	got, err := h.e.GetEndpoint("other", otherDeleted.ID)
	require_NoError(t, err)
	require_True(t, got.DeletedAt != nil, "the other tenant's deleted endpoint: %+v", got)
}

// TestTenantEndpointPolicy: a tenant's max_endpoints and require_https
// override the server's, survive a restart, and null gives the server's
// back; deleted endpoints do not count.
func TestTenantEndpointPolicy(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.EndpointsPerTenant = 1
	h := newHarness(t, opts)
	ctx := context.Background()
	_, err := h.e.CreateTenant(ctx, engine.TenantInput{ID: ptr("acme"), MaxEndpoints: json.RawMessage(`2`), RequireHTTPS: json.RawMessage(`true`)})
	require_NoError(t, err)
	h.tenant("other")
	const plain, loopback = "http://8.8.8.8/hook", "http://127.0.0.1:1/hook"

	h.stop(5 * time.Second)
	h.start()
	got, err := h.e.GetTenant("acme")
	require_NoError(t, err)
	require_True(t, got.MaxEndpoints != nil && *got.MaxEndpoints == 2 && got.RequireHTTPS != nil && *got.RequireHTTPS, "tenant after restart: %+v", got)
	_, err = h.e.CreateEndpoint(ctx, "acme", engine.EndpointInput{URL: ptr(plain)})
	require_ErrorCode(t, err, engine.KindInvalid, "https_required")
	first := h.endpoint("acme", engine.EndpointInput{URL: ptr(loopback)})
	h.endpoint("acme", engine.EndpointInput{URL: ptr("https://8.8.8.8/hook")})
	_, err = h.e.CreateEndpoint(ctx, "acme", engine.EndpointInput{URL: ptr(loopback)})
	require_ErrorCode(t, err, engine.KindConflict, "endpoint_limit")
	require_NoError(t, h.e.DeleteEndpoint(ctx, "acme", first.ID))
	h.endpoint("acme", engine.EndpointInput{URL: ptr(loopback)})

	// The other tenant has the server's policy: one endpoint, http allowed.
	h.endpoint("other", engine.EndpointInput{URL: ptr(plain)})
	_, err = h.e.CreateEndpoint(ctx, "other", engine.EndpointInput{URL: ptr(plain)})
	require_ErrorCode(t, err, engine.KindConflict, "endpoint_limit")

	_, err = h.e.UpdateTenant(ctx, "acme", engine.TenantInput{MaxEndpoints: json.RawMessage(`null`), RequireHTTPS: json.RawMessage(` null `)})
	require_NoError(t, err)
	h.stop(5 * time.Second)
	h.start()
	got, err = h.e.GetTenant("acme")
	require_NoError(t, err)
	require_True(t, got.MaxEndpoints == nil && got.RequireHTTPS == nil, "tenant after null and restart: %+v", got)
	_, err = h.e.CreateEndpoint(ctx, "acme", engine.EndpointInput{URL: ptr(plain)})
	require_ErrorCode(t, err, engine.KindConflict, "endpoint_limit")

	for _, in := range []engine.TenantInput{
		{MaxEndpoints: json.RawMessage(`0`)}, {MaxEndpoints: json.RawMessage(`100001`)}, {MaxEndpoints: json.RawMessage(`"2"`)},
		{RequireHTTPS: json.RawMessage(`"true"`)}, {RequireHTTPS: json.RawMessage(`0`)},
	} {
		_, err := h.e.UpdateTenant(ctx, "acme", in)
		require_True(t, err != nil, "tenant input %s %s accepted", in.MaxEndpoints, in.RequireHTTPS)
	}
	got2, err := h.e.GetTenant("acme")
	require_NoError(t, err)
	require_DeepEqual(t, got2, got)
}
