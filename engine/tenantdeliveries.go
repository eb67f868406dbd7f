package engine

import (
	"slices"
	"strings"

	"hookline/wal"
)

// ListTenantDeliveries returns a page of the deliveries of tenant's
// endpoints, all of them or those endpoints names, with f's filters:
// newest event first and, for one event, by endpoint ID, greatest first;
// and the cursor of the next page ("" at the end). Each delivery names
// its endpoint. The wal merges the endpoints' own logs
// (wal.Log.ListMergedDeliveries): no index is written for it on the
// delivery path.
func (e *Engine) ListTenantDeliveries(tenant string, endpoints []string, f DeliveryFilter) ([]Delivery, string, error) {
	lanes, err := e.tenantDeliveryLanes(tenant, endpoints)
	if err != nil {
		return nil, "", err
	}
	if err := f.check(); err != nil {
		return nil, "", err
	}
	q := wal.MergedQuery{Status: f.Status, MaxScan: maxDeliveryScan}
	var before wal.ID
	q.After, before = f.timeBounds()
	if !before.IsZero() {
		q.Before = wal.Position{Event: before}
	}
	if f.Cursor != "" {
		p, ok := parseDeliveryCursor(f.Cursor)
		if !ok {
			return nil, "", Invalid("invalid_cursor", "cursor %q is not one this API returned", f.Cursor)
		}
		if q.Before.IsZero() || p.Less(q.Before) {
			q.Before = p
		}
	}
	byID := make(map[wal.ID]*Lane, len(lanes))
	for _, ln := range lanes {
		byID[ln.id] = ln
		q.Endpoints = append(q.Endpoints, ln.id)
	}
	var res wal.MergedResult
	out, last, err := e.pageDeliveries(&f, func(fn func(*wal.Delivery) bool) (err error) {
		res, err = e.log.ListMergedDeliveries(q, fn)
		return err
	}, func(d *wal.Delivery, typ string) Delivery { return deliveryView(byID[d.Endpoint], d, typ) })
	if err != nil {
		return nil, "", err
	}
	return out, pageCursor(res.Resume, last, formatDeliveryCursor), nil
}

// tenantDeliveryLanes returns the lanes whose deliveries tenant's delivery
// log lists: every endpoint of the tenant's, or the named ones (each must
// be the tenant's; a name given twice counts once). It is the one place
// that says which endpoints a tenant-wide listing covers.
func (e *Engine) tenantDeliveryLanes(tenant string, names []string) ([]*Lane, error) {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	ts := e.tenants[tenant]
	if ts == nil {
		return nil, NotFound("tenant_not_found", "tenant %q does not exist", tenant)
	}
	if names == nil {
		// Deleted endpoints keep their history until retention: it is
		// listed with the rest (their waiting deliveries show cancelled).
		lanes := slices.Clone(ts.lanes)
		for _, ln := range e.deleted {
			if ln.config().ep.Tenant == tenant {
				lanes = append(lanes, ln)
			}
		}
		return lanes, nil
	}
	lanes := make([]*Lane, 0, len(names))
	for _, name := range names {
		if name == "" {
			return nil, Invalid("invalid_endpoint", "endpoint must name endpoint IDs (ep_...), comma-separated; an empty one is not")
		}
		ln, err := e.lookupEndpointLocked(tenant, name)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(lanes, ln) {
			lanes = append(lanes, ln)
		}
	}
	return lanes, nil
}

// A tenant-wide listing's cursor is the last position of the previous
// page: its event and endpoint IDs, as the API shows them, joined by '/'.
const deliveryCursorSep = "/"

func formatDeliveryCursor(p wal.Position) string {
	return FormatEventID(p.Event) + deliveryCursorSep + endpointPrefix + p.Endpoint.String()
}

func parseDeliveryCursor(s string) (wal.Position, bool) {
	ev, ep, ok := strings.Cut(s, deliveryCursorSep)
	if !ok {
		return wal.Position{}, false
	}
	var p wal.Position
	var evOK, epOK bool
	p.Event, evOK = ParseEventID(ev)
	p.Endpoint, epOK = ParseEndpointID(ep)
	return p, evOK && epOK
}
