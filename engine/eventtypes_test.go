package engine_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"hookline/engine"
	"hookline/wal"
)

// TestEventTypesSurviveRestart: the catalogue and its schemas are loaded at
// start-up; deleting the tenant deletes its catalogue.
func TestEventTypesSurviveRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	_, created, err := h.e.PutEventType("acme", engine.EventTypeInput{Type: ptr("a.b"), Schema: json.RawMessage(`{"type":"object","required":["id"]}`)})
	require_NoError(t, err)
	require_True(t, created, "a new type not reported as created")
	h.stop(5 * time.Second)
	h.start()
	res := make([]wal.AppendResult, 1)
	err = h.e.Publish("acme", []engine.PublishEvent{{Type: "a.b", Payload: []byte(`{}`)}}, res)
	require_ErrorCode(t, err, engine.KindInvalid, "schema_violation")
	require_NoError(t, h.e.Publish("acme", []engine.PublishEvent{{Type: "a.b", Payload: []byte(`{"id":1}`)}}, res))

	require_NoError(t, h.e.DeleteTenant("acme"))
	h.tenant("acme")
	types, err := h.e.ListEventTypes("acme", "", 10)
	require_NoError(t, err)
	require_Equal(t, len(types), 0)
	h.stop(5 * time.Second)
	h.start()
	types, err = h.e.ListEventTypes("acme", "", 10)
	require_NoError(t, err)
	require_Equal(t, len(types), 0)
}

// TestAPIKeysSurviveRestartHashed: keys authenticate after a restart, and
// what is stored is not the key.
func TestAPIKeysSurviveRestartHashed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	k, err := h.e.CreateAPIKey("acme", "ci")
	require_NoError(t, err)
	h.stop(5 * time.Second)
	h.start()
	got, ok := h.e.AuthenticateKey([]byte(k.Key))
	require_True(t, ok, "the key no longer authenticates after a restart")
	require_Equal(t, got.Tenant, "acme")
	require_Equal(t, got.Key, "")
	_, ok = h.e.AuthenticateKey([]byte(k.Key + "x"))
	require_True(t, !ok, "a wrong key authenticates")
	require_NoError(t, h.log.ScanAPIKeys(func(_ [32]byte, val []byte) {
		require_True(t, !bytes.Contains(val, []byte(k.Key)) && !bytes.Contains(val, []byte(k.Key[10:])), "the stored record holds the key: %s", val)
	}))
}
