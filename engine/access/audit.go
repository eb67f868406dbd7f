package access

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/bytedance/sonic"

	"hookline/engine"
	"hookline/wal"
)

const auditPrefix = "aud_"

// AuditEntry is one management action: who did what to which resource,
// when, and the resource before and after (secrets are never in views).
type AuditEntry struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
	// Actor is the actor's id: "admin", an API key's id, a portal
	// session's id or "system"; ActorType says which, and ActorName is
	// an API key's name.
	Actor     string `json:"actor"`
	ActorType string `json:"actor_type,omitempty"`
	ActorName string `json:"actor_name,omitempty"`
	// Reason is the X-Hookline-Reason header of the request, if any.
	Reason   string          `json:"reason,omitempty"`
	Action   string          `json:"action"`
	Tenant   string          `json:"tenant,omitempty"`
	Resource string          `json:"resource,omitempty"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
}

// Record writes c to the audit log under the actor ctx carries: the
// engine calls it after each mutating call (see engine.Auditor). A failure
// to record it is logged, not returned: the action itself is done and
// must be answered.
func (a *Access) Record(ctx context.Context, c engine.Change) {
	who := actingOf(ctx)
	entry := AuditEntry{At: time.Now().UTC(), Actor: who.actor.ID, ActorType: who.actor.Type, ActorName: who.actor.Name,
		Reason: who.reason, Action: c.Action, Tenant: c.Tenant, Resource: c.Resource}
	var err error
	for _, v := range []struct {
		dst *json.RawMessage
		val any
	}{{&entry.Before, c.Before}, {&entry.After, c.After}} {
		if v.val == nil || err != nil {
			continue
		}
		*v.dst, err = sonic.Marshal(v.val)
	}
	var rec []byte
	if err == nil {
		rec, err = sonic.Marshal(entry)
	}
	if err == nil {
		_, err = a.log.AppendAudit(rec)
	}
	if err != nil && !errors.Is(err, wal.ErrClosed) {
		a.logger.Error("cannot record audit entry", "action", c.Action, "tenant", c.Tenant, "resource", c.Resource, "err", err)
	}
}

var _ engine.Auditor = (*Access)(nil)

// maxAuditScan bounds the entries a tenant filter passes over per page.
const maxAuditScan = 100_000

// ListAudit returns audit entries newest first, of one tenant or of all
// (tenant ""), and the cursor of the next page.
func (a *Access) ListAudit(tenant, cursor string, limit int) ([]AuditEntry, string, error) {
	var before wal.ID
	if cursor != "" {
		id, err := wal.ParseID(cursor[min(len(auditPrefix), len(cursor)):])
		if len(cursor) <= len(auditPrefix) || cursor[:len(auditPrefix)] != auditPrefix || err != nil {
			return nil, "", engine.Invalid("invalid_cursor", "cursor %q is not one this API returned", cursor)
		}
		before = id
	}
	if err := engine.CheckPageLimit(limit); err != nil {
		return nil, "", err
	}
	// A tenant deleted and created again under its name is a new tenant:
	// the earlier one's entries (its endpoints' URLs among them) are not
	// its own, so a listing of an existing tenant ends at its name's
	// newest tenant.delete entry. They stay in the log of all tenants.
	recreated := tenant != "" && a.e.TenantExists(tenant)
	ended := false
	var (
		out     []AuditEntry
		scanned int
		last    wal.ID
		derr    error
	)
	err := a.log.ScanAudit(before, func(id wal.ID, rec []byte) bool {
		scanned++
		last = id
		var a AuditEntry
		if derr = sonic.Unmarshal(rec, &a); derr != nil {
			return false
		}
		if recreated && a.Tenant == tenant && a.Action == "tenant.delete" {
			ended = true
			return false
		}
		if tenant == "" || a.Tenant == tenant {
			a.ID = auditPrefix + id.String()
			out = append(out, a)
		}
		return len(out) < limit && scanned < maxAuditScan
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return nil, "", err
	}
	next := ""
	if !ended && (len(out) == limit || scanned == maxAuditScan) {
		next = auditPrefix + last.String()
	}
	return out, next, nil
}
