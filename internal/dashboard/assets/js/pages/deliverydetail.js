// One delivery in full, beside the log it was picked from: the event's
// payload, every attempt with its request and the receiver's answer, and
// what can be done about it (replay, cancel the pending retry). Shared by
// the Deliveries and Events pages.

import { api, tenantPath } from '../api.js';
import { html, useState, useEffect, useApp, useAsync, ErrorBox, Loading, Badge, Json, Link, fmtTime, fmtNum } from '../ui.js';

// The response body is kept by the server as the receiver sent it (it
// caps it); the panel shows the first 4 KiB, as the issue asks.
const bodyShown = 4096;

function deliveryPath(tenant, d) {
  return tenantPath(tenant, '/endpoints/' + encodeURIComponent(d.endpoint_id) + '/deliveries/' + encodeURIComponent(d.event_id));
}

function Attempt({ a }) {
  const body = a.response_body || '';
  const headers = Object.entries(a.response_headers || {});
  return html`<li class="attempt">
    <div class="row attempt-head">
      <strong>Attempt ${a.attempt}</strong>
      <${Badge} status=${a.outcome === 'retry' ? 'retrying' : a.outcome} label=${a.outcome} />
      <span class="muted">${fmtTime(a.at)} · ${fmtNum(a.latency_ms, 1)} ms</span>
    </div>
    <dl class="props">
      <dt>Request</dt><dd class="mono">${a.method || 'POST'} ${a.url || ''}</dd>
      <dt>Response</dt><dd>${a.status ? html`<span class="mono">${a.status}</span>` : html`<span class="muted">none</span>`}
        ${a.error_class ? html` <code>${a.error_class}</code>` : null}${a.error ? html` <span>${a.error}</span>` : null}</dd>
      ${a.next_attempt_at ? html`<dt>Next retry</dt><dd>${fmtTime(a.next_attempt_at)}</dd>` : null}
    </dl>
    ${headers.length ? html`<details><summary>Response headers (${headers.length})</summary>
      <dl class="props headers">${headers.map(([k, v]) => html`<dt class="mono">${k}</dt><dd class="mono">${v}</dd>`)}</dl></details>` : null}
    ${body ? html`<div class="resp-body"><span class="muted">Response body${body.length > bodyShown ? ' (first 4 KiB of ' + fmtNum(body.length) + ' bytes)' : ''}</span>
      <pre class="json">${body.slice(0, bodyShown)}</pre></div>` : null}
  </li>`;
}

// selectKeys makes a table row that opens a detail work from the
// keyboard: Enter or Space opens it, the arrows move between rows.
export function selectKeys(open) {
  return (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      open();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const to = e.key === 'ArrowDown' ? e.currentTarget.nextElementSibling : e.currentTarget.previousElementSibling;
      if (to) to.focus();
    }
  };
}

// Retry-After is seconds (the API's form); a date form is shown as given.
function retryAfterText(v) {
  if (!v) return '';
  return /^\d+$/.test(v) ? 'Try again in ' + v + ' s.' : 'Try again after ' + v + '.';
}

export function DeliveryDetail({ tenant, delivery, onClose, onChanged }) {
  const { can } = useApp();
  const d = useAsync(() => api('GET', deliveryPath(tenant, delivery)), [tenant, delivery.event_id, delivery.endpoint_id]);
  const ev = useAsync(() => api('GET', tenantPath(tenant, '/events/' + encodeURIComponent(delivery.event_id))), [tenant, delivery.event_id]);
  const [busy, setBusy] = useState('');
  const [actionError, setActionError] = useState(null);
  const [done, setDone] = useState('');
  useEffect(() => { setActionError(null); setDone(''); }, [delivery.event_id, delivery.endpoint_id]);

  // While the delivery still waits (a retry, a replay just queued), its
  // record changes under the panel: look again every two seconds.
  const cur = d.data || delivery;
  const waiting = ['pending', 'in_flight', 'retrying'].includes(cur.status);
  useEffect(() => {
    if (!waiting) return undefined;
    const t = setInterval(d.reload, 2000);
    return () => clearInterval(t);
  }, [waiting, cur.attempts]);

  const act = async (what, path) => {
    setBusy(what);
    setActionError(null);
    setDone('');
    try {
      await api('POST', deliveryPath(tenant, delivery) + path, path === '/replay' ? {} : undefined);
      setDone(what === 'replay' ? 'Replay queued: it goes out as the next attempt.' : 'The pending retry is cancelled.');
      d.reload();
      if (onChanged) onChanged();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy('');
    }
  };
  const canAct = can('deliveries:replay');
  // The ids lead on: to the event with its other deliveries, to the endpoint.
  const tenantBase = '/t/' + encodeURIComponent(tenant) + '/';
  const replayable = ['succeeded', 'dead', 'cancelled'].includes(cur.status);
  const cancellable = ['pending', 'retrying'].includes(cur.status);

  return html`<aside class="panel delivery-detail" id="delivery-detail" aria-label="Delivery detail" tabindex="-1">
    <div class="row"><h2>Delivery</h2><span class="spacer"></span>
      ${onClose ? html`<button type="button" class="small" onClick=${onClose}>Close</button>` : null}</div>
    <dl class="props">
      <dt>Event</dt><dd class="mono"><${Link} to=${tenantBase + 'events/' + encodeURIComponent(delivery.event_id)} id="delivery-event-link">${delivery.event_id}<//></dd>
      <dt>Type</dt><dd>${delivery.event_type}</dd>
      <dt>Endpoint</dt><dd class="mono">${can('endpoints:read')
        ? html`<${Link} to=${tenantBase + 'endpoints/' + encodeURIComponent(delivery.endpoint_id)} id="delivery-endpoint-link">${delivery.endpoint_id}<//>`
        : delivery.endpoint_id}</dd>
      <dt>Status</dt><dd><${Badge} status=${cur.status} /> after ${cur.attempts} attempt${cur.attempts === 1 ? '' : 's'}</dd>
      ${cur.next_attempt_at ? html`<dt>Next retry</dt><dd>${fmtTime(cur.next_attempt_at)}</dd>` : null}
    </dl>
    ${canAct ? html`<div class="actions detail-actions">
      ${cancellable ? html`<button type="button" disabled=${!!busy} onClick=${() => act('cancel', '/cancel')}>${busy === 'cancel' ? 'Cancelling…' : 'Cancel retries'}</button>` : null}
      <button type="button" class="primary" disabled=${!!busy || !replayable} title=${replayable ? '' : 'a delivery is replayed once it has finished'}
        onClick=${() => act('replay', '/replay')}>${busy === 'replay' ? 'Replaying…' : 'Replay'}</button>
    </div>` : null}
    ${actionError ? html`<${ErrorBox} error=${actionError} id="delivery-action-error" />
      ${actionError.retryAfter ? html`<p class="hint retry-after" role="status">${retryAfterText(actionError.retryAfter)}</p>` : null}` : null}
    ${done ? html`<p class="success" role="status">${done}</p>` : null}

    <h3>Payload</h3>
    <${ErrorBox} error=${ev.error} />
    ${ev.loading && !ev.data ? html`<${Loading} what="the event" />` : ev.data ? html`<p class="muted">Published ${fmtTime(ev.data.created_at)}</p><${Json} value=${ev.data.payload} />` : null}

    <h3>Attempts</h3>
    <${ErrorBox} error=${d.error} />
    ${d.loading && !d.data ? html`<${Loading} what="attempts" />` : null}
    ${d.data ? (d.data.attempt_log || []).length === 0
      ? html`<p class="empty">No attempt yet.</p>`
      : html`<ol class="attempts">${[...d.data.attempt_log].reverse().map((a) => html`<${Attempt} a=${a} key=${a.attempt + a.at} />`)}</ol>` : null}
  </aside>`;
}
