package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"hookline/wal"
)

// Event is a published event as the API shows it, with what became of its
// delivery to each endpoint.
type Event struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	CreatedAt  time.Time       `json:"created_at"`
	Payload    json.RawMessage `json:"payload"`
	Deliveries []Delivery      `json:"deliveries"`
}

// GetEvent returns tenant's event with its payload and its delivery to each
// of the tenant's endpoints that has one. It looks at every endpoint of the
// tenant: O(endpoints), for the operator's "where is this event" question.
func (e *Engine) GetEvent(tenant, eventID string) (Event, error) {
	var (
		rec wal.EventRecord
		buf wal.EventBuf
	)
	lanes, err := e.readTenantEvent(tenant, eventID, &rec, &buf)
	if err != nil {
		return Event{}, err
	}
	ev := Event{
		ID:         eventID,
		Type:       string(rec.Type),
		CreatedAt:  time.UnixMilli(rec.TimeMs).UTC(),
		Payload:    json.RawMessage(bytes.Clone(bodyData(rec.Body))),
		Deliveries: []Delivery{},
	}
	for _, ln := range lanes {
		d, found, err := e.deliveryOf(ln, rec.ID)
		if err != nil {
			return Event{}, err
		}
		if found {
			ev.Deliveries = append(ev.Deliveries, deliveryView(ln, &d, ev.Type))
		}
	}
	return ev, nil
}

// deliveryOf finds the delivery of event ev to ln's endpoint.
func (e *Engine) deliveryOf(ln *Lane, ev wal.ID) (wal.Delivery, bool, error) {
	var found wal.Delivery
	ok := false
	// The listing's Before is exclusive: ev.Next() takes ev in.
	_, err := e.log.ListDeliveries(wal.DeliveryQuery{Endpoint: ln.id, Before: ev.Next()}, func(d *wal.Delivery) bool {
		if d.Event == ev {
			found, ok = *d, true
		}
		return false
	})
	return found, ok, err
}

// bodyData returns the "data" of a delivery body built by appendBody.
func bodyData(body []byte) []byte {
	const key = `,"data":`
	i := bytes.Index(body, []byte(key))
	if i < 0 || len(body) < i+len(key)+1 {
		return []byte("null")
	}
	return body[i+len(key) : len(body)-1]
}

// readTenantEvent reads tenant's event eventID into rec and returns the
// tenant's lanes; an event of another tenant, or of an earlier tenant of
// the same name, is not found.
func (e *Engine) readTenantEvent(tenant, eventID string, rec *wal.EventRecord, buf *wal.EventBuf) ([]*Lane, error) {
	notFound := NotFound("event_not_found", "event %q does not exist in tenant %q", eventID, tenant)
	id, ok := ParseEventID(eventID)
	if !ok {
		return nil, notFound
	}
	e.cfgMu.RLock()
	ts := e.tenants[tenant]
	var (
		lanes []*Lane
		inc   wal.ID
	)
	if ts != nil {
		lanes, inc = ts.lanes, ts.inc
	}
	e.cfgMu.RUnlock()
	if ts == nil {
		return nil, NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	if id.Less(inc) {
		return nil, notFound // an earlier tenant's of the same name (see incarnation.go)
	}
	if err := e.log.ReadEvent(id, rec, buf); err != nil {
		if errors.Is(err, wal.ErrNotFound) {
			return nil, notFound
		}
		return nil, err
	}
	if string(rec.Tenant) != tenant {
		return nil, notFound
	}
	return lanes, nil
}
