// Audit log: who changed what in a tenant, newest first. A row opens to
// the resource before and after the action, led by the keys that changed,
// since a whole endpoint record hides a one-field edit. The resource links
// to its page, so "who changed this endpoint" leads to the endpoint.

import { tenantPath } from '../api.js';
import { html, useState, usePager, Pager, ErrorBox, Loading, Json, Badge, Link, fmtTime, useApp } from '../ui.js';

// resourcePage is where an entry's resource is shown, by the action's
// kind: [route, scope that page needs ('' for the operator's)], or null.
// A deleted source, type, key or tenant has no page left to open.
function resourcePage(tenant, action, resource) {
  const t = '/t/' + encodeURIComponent(tenant) + '/';
  const [kind, verb] = action.split('.');
  const [first, second] = resource.split('/');
  if (!resource || (verb === 'delete' && kind !== 'endpoint')) return null;
  switch (kind) {
    case 'endpoint': return [t + 'endpoints/' + encodeURIComponent(first), 'endpoints:read'];
    case 'delivery': return second ? [t + 'events/' + encodeURIComponent(second), 'deliveries:read'] : null;
    case 'source': return [t + 'sources/' + encodeURIComponent(first) + (second ? '/requests/' + encodeURIComponent(second) : ''), 'sources:read'];
    case 'event_type': return [t + 'event-types', 'event-types:read'];
    case 'job': return [t + 'jobs', 'deliveries:read'];
    case 'api_key': return [t + 'keys', ''];
    case 'portal_session': return [t + 'portal-sessions', 'portal:create'];
    case 'tenant': return ['/tenants', ''];
    default: return null;
  }
}

function Resource({ tenant, e }) {
  const { can, admin } = useApp();
  const to = resourcePage(tenant, e.action || '', e.resource || '');
  const code = html`<code class="small">${e.resource || ''}</code>`;
  if (!to || !(to[1] ? can(to[1]) : admin)) return code;
  return html`<${Link} to=${to[0]}>${code}<//>`;
}

// flatten maps a JSON value to {path: JSON text of the leaf}; arrays are
// leaves (a list of event types reads better whole than by index).
function flatten(v, prefix, out) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (!keys.length && prefix) out[prefix] = '{}';
    for (const k of keys) flatten(v[k], prefix ? prefix + '.' + k : k, out);
  } else if (prefix || v !== undefined) {
    out[prefix || '(value)'] = JSON.stringify(v);
  }
  return out;
}

// diff lists the paths whose value differs between before and after.
export function diff(before, after) {
  const a = before === undefined || before === null ? {} : flatten(before, '', {});
  const b = after === undefined || after === null ? {} : flatten(after, '', {});
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => a[k] !== b[k]).map((k) => ({ key: k, before: a[k], after: b[k] }));
}

function Actor({ e }) {
  const who = e.actor_type === 'api_key' ? (e.actor_name ? e.actor_name + ' ' : '') : '';
  return html`<span class="actor"><${Badge} status=${e.actor_type || 'admin'} label=${(e.actor_type || 'admin').replace('_', ' ')} />
    ${who ? html` <strong>${who}</strong>` : null}
    ${e.actor !== e.actor_type ? html` <code class="small">${e.actor}</code>` : null}</span>`;
}

function Changes({ e }) {
  const none = (v) => v === undefined || v === null;
  // A creation or deletion changes every key: the record itself says it
  // better than a table of "absent".
  const d = none(e.before) || none(e.after) ? null : diff(e.before, e.after);
  return html`<div class="audit-changes">
    ${!d ? null : d.length ? html`<table class="diff" aria-label="changed keys">
      <thead><tr><th>Key</th><th>Before</th><th>After</th></tr></thead>
      <tbody>${d.map((c) => html`<tr>
        <td><code>${c.key}</code></td>
        <td class="del">${c.before === undefined ? html`<span class="muted">absent</span>` : html`<code>${c.before}</code>`}</td>
        <td class="add">${c.after === undefined ? html`<span class="muted">absent</span>` : html`<code>${c.after}</code>`}</td>
      </tr>`)}</tbody></table>` : html`<p class="muted">No change recorded.</p>`}
    <div class="split">
      <div><h3>Before</h3>${none(e.before) ? html`<p class="muted">Nothing (created).</p>` : html`<${Json} value=${e.before} />`}</div>
      <div><h3>After</h3>${none(e.after) ? html`<p class="muted">Nothing (deleted).</p>` : html`<${Json} value=${e.after} />`}</div>
    </div>
  </div>`;
}

export default function Audit({ tenant }) {
  const p = usePager(tenantPath(tenant, '/audit'), { limit: 50 });
  const [open, setOpen] = useState(null);
  return html`<section>
    <div class="page-head"><h1>Audit log</h1><span class="spacer"></span>
      <button type="button" onClick=${p.reload} disabled=${p.loading}>Refresh</button></div>
    <${ErrorBox} error=${p.error} />
    ${p.loading && !p.rows.length ? html`<${Loading} what="the audit log" />` : html`<div class="table-wrap"><table id="audit-table">
      <thead><tr><th>Time</th><th>Actor</th><th>Action</th><th>Resource</th><th>Reason</th><th><span class="sr-only">Changes</span></th></tr></thead>
      <tbody>
        ${p.rows.length === 0 && !p.error ? html`<tr><td colspan="6" class="empty">Nothing recorded yet.</td></tr>` : null}
        ${p.rows.map((e) => html`<tr id=${'audit-' + e.id} class=${open === e.id ? 'open' : ''}>
            <td>${fmtTime(e.at)}</td>
            <td><${Actor} e=${e} /></td>
            <td><code>${e.action}</code></td>
            <td><${Resource} tenant=${tenant} e=${e} /></td>
            <td>${e.reason || html`<span class="muted">–</span>`}</td>
            <td><button type="button" class="small nowrap" aria-expanded=${open === e.id ? 'true' : 'false'} aria-controls=${'audit-changes-' + e.id}
              onClick=${() => setOpen(open === e.id ? null : e.id)}>${open === e.id ? 'Hide changes' : 'Show changes'}</button></td>
          </tr>
          ${open === e.id ? html`<tr class="detail" id=${'audit-changes-' + e.id}><td colspan="6"><${Changes} e=${e} /></td></tr>` : null}`)}
      </tbody></table></div>`}
    <${Pager} p=${p} label="audit pages" />
  </section>`;
}
