package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bytedance/sonic"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// EventType is one entry of a tenant's event-type catalogue: what the
// dashboard offers when subscribing, and, with a schema, what publishing
// that type must send.
type EventType struct {
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// EventTypeInput is a create or replace request.
type EventTypeInput struct {
	Type        *string         `json:"type"`
	Description *string         `json:"description"`
	Schema      json.RawMessage `json:"schema"`
}

const (
	maxSchemaBytes  = 64 << 10
	maxCatalogTypes = 10_000 // per tenant
)

// eventTypeEntry is a catalogue entry with its compiled schema (nil: none).
type eventTypeEntry struct {
	t      EventType
	schema *jsonschema.Schema
}

// noRemoteLoader refuses every $ref outside the schema itself: a schema
// must not make the server fetch URLs (SSRF) or read files.
type noRemoteLoader struct{}

func (noRemoteLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("references outside the schema are not allowed: %s", url)
}

func compileSchema(raw json.RawMessage) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema is not valid JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noRemoteLoader{})
	const loc = "urn:hookline:schema"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	return c.Compile(loc)
}

// CreateEventType adds in.Type to tenant's catalogue. A type already there
// is a conflict (event_type_exists) and is left as it is: replacing an
// entry, and so dropping or changing its schema, is PutEventType's.
func (e *Engine) CreateEventType(ctx context.Context, tenant string, in EventTypeInput) (EventType, error) {
	t, _, err := e.putEventType(tenant, in, false)
	if err == nil {
		e.Audit(ctx, Change{Action: "event_type.create", Tenant: tenant, Resource: t.Type, After: t})
	}
	return t, err
}

// PutEventType creates or replaces tenant's catalogue entry for in.Type.
// It reports whether the entry is new.
func (e *Engine) PutEventType(ctx context.Context, tenant string, in EventTypeInput) (EventType, bool, error) {
	var before any
	if in.Type != nil {
		if t, err := e.GetEventType(tenant, *in.Type); err == nil {
			before = t
		}
	}
	t, created, err := e.putEventType(tenant, in, true)
	if err == nil {
		action := "event_type.update"
		if created {
			action, before = "event_type.create", nil
		}
		e.Audit(ctx, Change{Action: action, Tenant: tenant, Resource: t.Type, Before: before, After: t})
	}
	return t, created, err
}

// putEventType stores in as tenant's entry for in.Type; an existing entry
// is replaced when replace is set and a conflict otherwise.
func (e *Engine) putEventType(tenant string, in EventTypeInput, replace bool) (EventType, bool, error) {
	if in.Type == nil || !ValidEventType(*in.Type) {
		return EventType{}, false, Invalid("invalid_type", "type must be an event type of 1-%d characters of A-Z a-z 0-9 . _ : -", maxTypeLen)
	}
	if ReservedEventType(*in.Type) {
		return EventType{}, false, ReservedType("type %q is reserved", *in.Type)
	}
	t := EventType{Type: *in.Type}
	if in.Description != nil {
		if len(*in.Description) > maxDescriptionLen {
			return EventType{}, false, Invalid("invalid_description", "description is %d bytes; at most %d allowed", len(*in.Description), maxDescriptionLen)
		}
		t.Description = *in.Description
	}
	var entry eventTypeEntry
	if raw := bytes.TrimSpace(in.Schema); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if len(raw) > maxSchemaBytes {
			return EventType{}, false, Invalid("invalid_schema", "schema is %d bytes; at most %d allowed", len(raw), maxSchemaBytes)
		}
		sch, err := compileSchema(raw)
		if err != nil {
			return EventType{}, false, Invalid("invalid_schema", "%s", strings.ReplaceAll(err.Error(), "urn:hookline:schema", "schema"))
		}
		t.Schema, entry.schema = bytes.Clone(raw), sch
	}

	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	ts := e.tenants[tenant]
	if ts == nil {
		return EventType{}, false, NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	now := time.Now().UTC()
	old, exists := ts.types[t.Type]
	t.CreatedAt, t.UpdatedAt = now, now
	switch {
	case exists && !replace:
		return EventType{}, false, Conflict("event_type_exists", "event type %q is already in tenant %q's catalogue; replace it with PUT …/event-types/%s", t.Type, tenant, t.Type)
	case exists:
		t.CreatedAt = old.t.CreatedAt
	case len(ts.types) >= maxCatalogTypes:
		return EventType{}, false, Conflict("too_many_event_types", "tenant %q has %d event types, the most allowed", tenant, maxCatalogTypes)
	}
	rec, err := sonic.Marshal(t)
	if err != nil {
		return EventType{}, false, err
	}
	if err := e.log.PutEventType(tenant, t.Type, rec); err != nil {
		return EventType{}, false, err
	}
	entry.t = t
	// Replaced, never mutated: Publish reads the map under cfgMu's read lock.
	types := maps.Clone(ts.types)
	if types == nil {
		types = map[string]*eventTypeEntry{}
	}
	types[t.Type] = &entry
	ts.types = types
	return t, !exists, nil
}

// GetEventType returns one catalogue entry.
func (e *Engine) GetEventType(tenant, typ string) (EventType, error) {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	ts := e.tenants[tenant]
	if ts == nil {
		return EventType{}, NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	if en := ts.types[typ]; en != nil {
		return en.t, nil
	}
	return EventType{}, NotFound("event_type_not_found", "event type %q is not in tenant %q's catalogue", typ, tenant)
}

// ListEventTypes returns tenant's catalogue in type order, after the given
// type, at most limit entries.
func (e *Engine) ListEventTypes(tenant, after string, limit int) ([]EventType, error) {
	e.cfgMu.RLock()
	ts := e.tenants[tenant]
	if ts == nil {
		e.cfgMu.RUnlock()
		return nil, NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	types := ts.types
	e.cfgMu.RUnlock()
	names := slices.Sorted(maps.Keys(types))
	out := []EventType{}
	for _, n := range names {
		if n > after && len(out) < limit {
			out = append(out, types[n].t)
		}
	}
	return out, nil
}

// DeleteEventType removes a catalogue entry; publishing the type is then
// no longer validated.
func (e *Engine) DeleteEventType(ctx context.Context, tenant, typ string) error {
	before, _ := e.GetEventType(tenant, typ)
	err := e.deleteEventType(tenant, typ)
	if err == nil {
		e.Audit(ctx, Change{Action: "event_type.delete", Tenant: tenant, Resource: typ, Before: before})
	}
	return err
}

func (e *Engine) deleteEventType(tenant, typ string) error {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	ts := e.tenants[tenant]
	if ts == nil {
		return NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	if ts.types[typ] == nil {
		return NotFound("event_type_not_found", "event type %q is not in tenant %q's catalogue", typ, tenant)
	}
	if err := e.log.DeleteEventType(tenant, typ); err != nil {
		return err
	}
	types := maps.Clone(ts.types)
	delete(types, typ)
	ts.types = types
	return nil
}

// loadEventTypes fills the tenants' catalogues at start-up.
func (e *Engine) loadEventTypes() error {
	return e.log.ScanEventTypes(func(tenant, typ string, val []byte) {
		ts := e.tenants[tenant]
		if ts == nil {
			return
		}
		en := e.decodeEventType(tenant, typ, val)
		if en == nil {
			return
		}
		if ts.types == nil {
			ts.types = map[string]*eventTypeEntry{}
		}
		ts.types[typ] = en
	})
}

// decodeEventType reads a stored catalogue entry; nil, logged, when it
// does not decode. A schema that no longer compiles is logged and not
// validated against.
func (e *Engine) decodeEventType(tenant, typ string, val []byte) *eventTypeEntry {
	var en eventTypeEntry
	if err := sonic.Unmarshal(val, &en.t); err != nil {
		e.logger.Error("skipping corrupt event type record", "tenant", tenant, "type", typ, "err", err)
		return nil
	}
	if len(en.t.Schema) > 0 {
		sch, err := compileSchema(en.t.Schema)
		if err != nil {
			e.logger.Error("event type schema no longer compiles; not validating it", "tenant", tenant, "type", typ, "err", err)
		}
		en.schema = sch
	}
	return &en
}

// validatePayloads checks each event whose type has a schema; the caller
// holds cfgMu for reading.
func validatePayloads(ts *tenantState, evs []PublishEvent) error {
	if len(ts.types) == 0 {
		return nil
	}
	for i := range evs {
		en := ts.types[evs[i].Type]
		if en == nil || en.schema == nil {
			continue
		}
		payload := evs[i].Payload
		if len(payload) == 0 {
			payload = []byte("null")
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
		if err == nil {
			err = en.schema.Validate(doc)
		}
		if err != nil {
			return Invalid("schema_violation", "event %d (%s): %s", i, evs[i].Type, schemaMessage(err))
		}
	}
	return nil
}

// schemaMessage names the failing path of a validation error: the
// innermost cause, as "at /items/0: ...".
func schemaMessage(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	path := "/" + strings.Join(ve.InstanceLocation, "/")
	return fmt.Sprintf("payload at %s: %s", path, ve.ErrorKind.LocalizedString(schemaPrinter))
}

var schemaPrinter = message.NewPrinter(language.English)
