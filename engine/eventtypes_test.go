package engine_test

import (
	"context"
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
	_, created, err := h.e.PutEventType(context.Background(), "acme", engine.EventTypeInput{Type: ptr("a.b"), Schema: json.RawMessage(`{"type":"object","required":["id"]}`)})
	require_NoError(t, err)
	require_True(t, created, "a new type not reported as created")
	h.stop(5 * time.Second)
	h.start()
	res := make([]wal.AppendResult, 1)
	err = h.e.Publish("acme", []engine.PublishEvent{{Type: "a.b", Payload: []byte(`{}`)}}, res)
	require_ErrorCode(t, err, engine.KindInvalid, "schema_violation")
	require_NoError(t, h.e.Publish("acme", []engine.PublishEvent{{Type: "a.b", Payload: []byte(`{"id":1}`)}}, res))

	require_NoError(t, h.e.DeleteTenant(context.Background(), "acme"))
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

// TestCreateEventTypeExisting: CreateEventType refuses a type already in
// the catalogue (409 event_type_exists) and keeps its schema; PutEventType
// replaces it.
func TestCreateEventTypeExisting(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions())
	h.tenant("acme")
	ctx := context.Background()
	_, err := h.e.CreateEventType(ctx, "acme", engine.EventTypeInput{Type: ptr("a.b"), Schema: json.RawMessage(`{"type":"object","required":["id"]}`)})
	require_NoError(t, err)
	_, err = h.e.CreateEventType(ctx, "acme", engine.EventTypeInput{Type: ptr("a.b")})
	require_ErrorCode(t, err, engine.KindConflict, "event_type_exists")
	res := make([]wal.AppendResult, 1)
	err = h.e.Publish("acme", []engine.PublishEvent{{Type: "a.b", Payload: []byte(`{}`)}}, res)
	require_ErrorCode(t, err, engine.KindInvalid, "schema_violation")

	_, created, err := h.e.PutEventType(ctx, "acme", engine.EventTypeInput{Type: ptr("a.b")})
	require_NoError(t, err)
	require_True(t, !created, "a replaced type reported as created")
	require_NoError(t, h.e.Publish("acme", []engine.PublishEvent{{Type: "a.b", Payload: []byte(`{}`)}}, res))
	_, err = h.e.CreateEventType(ctx, "nope", engine.EventTypeInput{Type: ptr("a.b")})
	require_ErrorCode(t, err, engine.KindNotFound, "tenant_not_found")
}

// TestReservedEventTypes: every type hookline makes is under "hookline.";
// neither the ingest API nor an inbound source may publish one, nor put one
// in the catalogue, but hookline's own events go out to the endpoints that
// subscribe to them.
func TestReservedEventTypes(t *testing.T) {
	t.Parallel()
	require_Equal(t, engine.EventTest, "hookline.test")
	require_Equal(t, engine.EventEndpointDisabled, "hookline.endpoint.disabled")
	h := newHarness(t, testOptions())
	h.tenant("acme")
	rc := newReceiver(t, recvConfig{})
	h.endpoint("acme", engine.EndpointInput{URL: ptr(rc.URL()), EventTypes: ptr([]string{"hookline.*"})})
	ctx := context.Background()
	res := make([]wal.AppendResult, 2)
	for _, typ := range []string{engine.EventTest, engine.EventEndpointDisabled, "hookline.x", "HookLine.x"} {
		evs := []engine.PublishEvent{{Type: "a.b", Payload: []byte(`1`)}, {Type: typ, Payload: []byte(`{}`)}}
		require_ErrorCode(t, h.e.Publish("acme", evs, res), engine.KindInvalid, "reserved_event_type")
		require_ErrorCode(t, h.e.PublishFrom(engine.OriginInbound, "acme", evs, res), engine.KindInvalid, "reserved_event_type")
		_, err := h.e.CreateEventType(ctx, "acme", engine.EventTypeInput{Type: ptr(typ)})
		require_ErrorCode(t, err, engine.KindInvalid, "reserved_event_type")
		_, _, err = h.e.PutEventType(ctx, "acme", engine.EventTypeInput{Type: ptr(typ)})
		require_ErrorCode(t, err, engine.KindInvalid, "reserved_event_type")
	}
	require_Equal(t, h.counts().Events, 0)

	require_NoError(t, h.e.PublishFrom(engine.OriginSystem, "acme", []engine.PublishEvent{{Type: "hookline.x", Payload: []byte(`{}`)}}, res[:1]))
	waitFor(t, 5*time.Second, "the system event", func() bool { return rc.count() == 1 })
}
