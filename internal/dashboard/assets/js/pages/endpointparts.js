// What the endpoint pages share: API paths, the state an endpoint is in,
// its subscriptions as text, and which form field an API error is about.

import { tenantPath } from '../api.js';
import { html, Badge, fmtTime } from '../ui.js';

// endpointPath is the API path of one endpoint (or its sub-resource rest).
export function endpointPath(tenant, id, rest = '') {
  return tenantPath(tenant, '/endpoints/' + encodeURIComponent(id) + rest);
}

// endpointStates says what an endpoint is doing, worst first: a deleted
// one does nothing, a disabled one gets no events, a paused one queues
// them, an open circuit holds its deliveries back until a probe passes.
export function endpointStates(ep) {
  if (ep.deleted_at) return [{ status: 'deleted', label: 'deleted' }];
  const out = [];
  if (ep.disabled) out.push({ status: 'disabled', label: ep.disabled_reason ? 'disabled (' + ep.disabled_reason + ')' : 'disabled' });
  if (ep.paused) out.push({ status: 'paused', label: 'paused' });
  const c = ep.circuit && ep.circuit.state;
  if (c === 'open') out.push({ status: 'open', label: 'circuit open' });
  if (c === 'half_open') out.push({ status: 'half_open', label: 'circuit half-open' });
  // failing_since: its circuit opened and no attempt has succeeded since
  // (hookline disables it once that lasts delivery.disable_after).
  if (ep.failing_since && !ep.disabled) out.push({ status: 'failed', label: 'failing since ' + fmtTime(ep.failing_since) });
  if (!out.length) out.push({ status: 'active', label: 'active' });
  return out;
}

export function States({ ep }) {
  return html`<span class="states">${endpointStates(ep).map((s) => html`<${Badge} status=${s.status} label=${s.label} /> `)}</span>`;
}

export function TypesList({ types }) {
  const t = types || [];
  if (t.length === 1 && t[0] === '*') return html`<span class="muted">all events</span>`;
  return html`<span class="types">${t.map((x) => html`<code>${x}</code> `)}</span>`;
}


// The API's codes for one form field. invalid_template and render_failed
// name their rule in the message ("invalid_template: body.text: ..."), so
// their field is read from there.
const fieldCodes = {
  missing_url: 'url', invalid_url: 'url', url_not_allowed: 'url', https_required: 'url',
  invalid_description: 'description', invalid_event_types: 'event_types',
  invalid_max_in_flight: 'max_in_flight', invalid_rate_limit: 'rate_limit',
  invalid_ordering: 'ordering', invalid_retry_schedule: 'retry_schedule',
  invalid_method: 'method', invalid_headers: 'headers', invalid_auth: 'auth',
  invalid_signature: 'signature', invalid_secret: 'secret',
};

export function errorField(err) {
  if (!err || !err.code) return '';
  if (fieldCodes[err.code]) return fieldCodes[err.code];
  if (err.code === 'invalid_template' || err.code === 'render_failed') {
    const m = /^(?:invalid_template|render_failed): ([a-z_]+)/.exec(err.message || '');
    if (m && ['url', 'body', 'filter'].includes(m[1])) return m[1];
  }
  return '';
}
