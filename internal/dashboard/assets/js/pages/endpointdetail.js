// One endpoint's page: its settings and health, the request it sends
// (preview), and what can be done to it: pause and resume, rotate its
// secret with an overlap, send a test event and read the receiver's
// answer, delete it. Secrets from a rotation are shown once (CopyOnce)
// and dropped from the page's state when the user says they have them.

import { api } from '../api.js';
import { html, useState, useApp, useAsync, ErrorBox, Loading, Field, Dialog, Confirm, CopyOnce, Link, Badge, Json, fmtTime, fmtPct, fmtNum } from '../ui.js';
import { endpointPath, States, TypesList } from './endpointparts.js';
import EndpointPreview from './endpointpreview.js';

function Health({ tenant, ep }) {
  const st = useAsync(() => api('GET', endpointPath(tenant, ep.id, '/health')), [tenant, ep.id, ep.updated_at]);
  if (st.loading && !st.data) return html`<${Loading} what="health" />`;
  if (st.error) return html`<${ErrorBox} error=${st.error} />`;
  const h = st.data;
  const w = h.windows;
  const rate = (x) => (x.attempts ? fmtPct(x.success_rate) : '–');
  return html`<div class="cards" id="ep-health">
    <div class="card"><div class="label">Last success</div><div class="value small-value">${h.last_success_at ? fmtTime(h.last_success_at) : 'never'}</div></div>
    <div class="card"><div class="label">Last failure</div><div class="value small-value">${h.last_failure_at ? fmtTime(h.last_failure_at) : 'never'}</div></div>
    <div class="card"><div class="label">Success 1 h / 24 h / 7 d</div><div class="value small-value">${rate(w['1h'])} / ${rate(w['24h'])} / ${rate(w['7d'])}</div></div>
    <div class="card"><div class="label">Attempts (24 h)</div><div class="value">${fmtNum(w['24h'].attempts)}</div></div>
    <div class="card"><div class="label">Latency p50 / p95 (24 h)</div><div class="value small-value">${w['24h'].latency_ms.p50 == null ? '–' : fmtNum(w['24h'].latency_ms.p50) + ' ms'} / ${w['24h'].latency_ms.p95 == null ? '–' : fmtNum(w['24h'].latency_ms.p95) + ' ms'}</div></div>
  </div>`;
}

function Props({ ep }) {
  const sig = ep.signature || { scheme: 'standard-webhooks' };
  const c = ep.circuit;
  return html`<dl class="props" id="ep-props">
    <dt>ID</dt><dd><code>${ep.id}</code></dd>
    <dt>Event types</dt><dd><${TypesList} types=${ep.event_types} /></dd>
    ${ep.description ? html`<dt>Description</dt><dd>${ep.description}</dd>` : null}
    <dt>Method</dt><dd>${ep.method || 'POST'}</dd>
    <dt>Rate limit</dt><dd>${ep.rate_limit ? ep.rate_limit + ' a second' : 'none'}</dd>
    <dt>Concurrency</dt><dd>${ep.max_in_flight} in flight</dd>
    <dt>Ordering</dt><dd>${ep.ordering === 'fifo' ? 'in publish order, one at a time' : 'concurrent'}</dd>
    <dt>Retry schedule</dt><dd>${ep.retry_schedule && ep.retry_schedule.length ? ep.retry_schedule.join(', ') : html`<span class="muted">the server's</span>`}</dd>
    <dt>Signature</dt><dd>${sig.scheme || 'standard-webhooks'}${sig.header ? ' in ' + sig.header : ''}${sig.prefix ? ', prefix ' + sig.prefix : ''}${sig.encoding ? ', ' + sig.encoding : ''}</dd>
    ${ep.public_key ? html`<dt>Public key</dt><dd><code>${ep.public_key}</code></dd>` : null}
    ${ep.headers ? html`<dt>Headers</dt><dd>${Object.entries(ep.headers).map(([k, v]) => html`<div><code>${k}: ${v}</code></div>`)}</dd>` : null}
    ${ep.auth ? html`<dt>Authentication</dt><dd>${ep.auth.type} ${ep.auth.name || ''} <code>${ep.auth.token || ep.auth.value || ep.auth.username || ''}</code></dd>` : null}
    ${ep.body !== undefined ? html`<dt>Body template</dt><dd><${Json} value=${ep.body} /></dd>` : null}
    ${ep.filter !== undefined ? html`<dt>Filter</dt><dd><${Json} value=${ep.filter} /></dd>` : null}
    ${c ? html`<dt>Circuit</dt><dd><${Badge} status=${c.state} label=${c.state.replace('_', '-')} />
      ${c.consecutive_failures ? ' ' + c.consecutive_failures + ' failures in a row' : ''}${c.next_probe_at ? ', next probe ' + fmtTime(c.next_probe_at) : ''}</dd>` : null}
    ${ep.failing_since ? html`<dt>Failing since</dt><dd>${fmtTime(ep.failing_since)}</dd>` : null}
    ${ep.disabled_at ? html`<dt>Disabled</dt><dd>${fmtTime(ep.disabled_at)}${ep.disabled_reason ? ' (' + ep.disabled_reason + ')' : ''}</dd>` : null}
    ${ep.secret_rotated_at ? html`<dt>Secret rotated</dt><dd>${fmtTime(ep.secret_rotated_at)}</dd>` : null}
    ${ep.previous_secret_expires_at ? html`<dt>Old secret signs until</dt><dd>${fmtTime(ep.previous_secret_expires_at)}</dd>` : null}
    <dt>Created</dt><dd>${fmtTime(ep.created_at)}</dd>
    <dt>Updated</dt><dd>${fmtTime(ep.updated_at)}</dd>
    ${ep.deleted_at ? html`<dt>Deleted</dt><dd>${fmtTime(ep.deleted_at)}</dd>` : null}
  </dl>`;
}

// TestPanel sends one hookline.test event to this endpoint alone and
// shows what its receiver answered.
function TestPanel({ tenant, ep }) {
  const [payload, setPayload] = useState('');
  const [busy, setBusy] = useState(false);
  const [res, setRes] = useState(null);
  const [error, setError] = useState(null);
  const [payloadError, setPayloadError] = useState('');
  const send = async () => {
    setError(null);
    setPayloadError('');
    let body;
    if (payload.trim()) {
      try {
        body = { payload: JSON.parse(payload) };
      } catch (e) {
        setPayloadError('Not JSON: ' + e.message);
        return;
      }
    }
    setBusy(true);
    setRes(null);
    try {
      setRes(await api('POST', endpointPath(tenant, ep.id, '/test'), body));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="panel" aria-labelledby="test-title">
    <h2 id="test-title">Send a test event</h2>
    <p class="hint">One signed <code>hookline.test</code> event to this endpoint alone, whatever it subscribes to and even when paused; never retried.</p>
    <${Field} label="Payload (JSON, optional)" id="test-payload" error=${payloadError} hint="The event's data; empty: a default naming the endpoint.">
      <textarea id="test-payload" rows="4" spellcheck=${false} value=${payload} onInput=${(e) => setPayload(e.target.value)}></textarea>
    <//>
    <div class="row"><button type="button" id="test-send" disabled=${busy} onClick=${send}>${busy ? 'Sending…' : 'Send test event'}</button>
      ${busy ? html`<span class="loading" role="status"><span class="spinner" aria-hidden="true"></span> Waiting for the receiver…</span>` : null}</div>
    <${ErrorBox} error=${error} />
    ${res ? html`<div id="test-result" role="status">
      <p><${Badge} status=${res.success ? 'succeeded' : 'failed'} label=${res.success ? 'delivered' : 'failed'} />
        ${res.status ? html` <strong>HTTP ${res.status}</strong>` : null}
        ${res.error_class ? html` <code>${res.error_class}</code>` : null}
        <span class="muted"> in ${fmtNum(res.latency_ms, 1)} ms · event <code>${res.event_id}</code></span></p>
      ${res.response_body ? html`<h3>${res.status ? "The receiver's answer" : 'Why'}</h3><pre class="json">${res.response_body}</pre>` : html`<p class="muted">Empty answer.</p>`}
    </div>` : null}
  </section>`;
}

function RotateDialog({ tenant, ep, open, onClose, onRotated }) {
  const [overlap, setOverlap] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const go = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api('POST', endpointPath(tenant, ep.id, '/rotate-secret'), overlap.trim() ? { overlap: overlap.trim() } : {});
      setOverlap('');
      onRotated(res);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const overlapErr = error && error.code === 'invalid_overlap' ? error.message : null;
  return html`<${Dialog} title="Rotate the signing secret" open=${open} onClose=${onClose}>
    <form onSubmit=${go}>
      <p>A new secret signs every delivery from now on. During the overlap the old one signs too, so receivers can switch without losing a delivery.</p>
      <${Field} label="Overlap" id="rotate-overlap" error=${overlapErr} hint="How long the old secret keeps signing: 1h, 24h, 0s to drop it at once. Empty: the server's default (24h).">
        <input id="rotate-overlap" placeholder="24h" value=${overlap} onInput=${(e) => setOverlap(e.target.value)} />
      <//>
      <${ErrorBox} error=${overlapErr ? null : error} />
      <div class="actions">
        <button type="button" onClick=${onClose}>Cancel</button>
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Rotating…' : 'Rotate secret'}</button>
      </div>
    </form>
  <//>`;
}

export default function EndpointDetail({ tenant, id }) {
  const { can, navigate } = useApp();
  const st = useAsync(() => api('GET', endpointPath(tenant, id)), [tenant, id]);
  const [override, setOverride] = useState(null); // the endpoint as the last action answered
  const [secret, setSecret] = useState(null);
  const [busy, setBusy] = useState('');
  const [actionError, setActionError] = useState(null);
  const [rotating, setRotating] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const base = '/t/' + encodeURIComponent(tenant) + '/endpoints';
  const ep = override || st.data; // an action's answer is newer than the load
  if (st.loading && !ep) return html`<${Loading} what="the endpoint" />`;
  if (st.error) return html`<section><div class="page-head"><h1>Endpoint</h1></div><${ErrorBox} error=${st.error} />
    <p><${Link} to=${base}>All endpoints<//></p></section>`;

  const write = can('endpoints:write') && !ep.deleted_at;
  const act = async (what) => {
    setBusy(what);
    setActionError(null);
    try {
      setOverride(await api('POST', endpointPath(tenant, id, '/' + what)));
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy('');
    }
  };
  return html`<section>
    <div class="page-head">
      <h1>Endpoint</h1> <${States} ep=${ep} /><span class="spacer"></span>
      ${can('deliveries:read') ? html`<${Link} to=${'/t/' + encodeURIComponent(tenant) + '/deliveries?endpoint=' + encodeURIComponent(ep.id)}>Deliveries<//>` : null}
      ${write ? html`
        <${Link} to=${base + '/' + encodeURIComponent(ep.id) + '/edit'} class="button">Edit<//>
        ${ep.paused
          ? html`<button type="button" id="ep-resume" disabled=${!!busy} onClick=${() => act('resume')}>${busy === 'resume' ? 'Resuming…' : 'Resume'}</button>`
          : html`<button type="button" id="ep-pause" disabled=${!!busy} onClick=${() => act('pause')}>${busy === 'pause' ? 'Pausing…' : 'Pause'}</button>`}
        <button type="button" id="ep-rotate" onClick=${() => setRotating(true)}>Rotate secret</button>
        <button type="button" id="ep-delete" class="danger" onClick=${() => setDeleting(true)}>Delete</button>` : null}
    </div>
    <p class="ep-url mono" id="ep-url-text">${ep.url}</p>
    <${ErrorBox} error=${actionError} id="ep-action-error" />
    ${ep.deleted_at ? html`<p class="notice" role="status">Deleted ${fmtTime(ep.deleted_at)}. Its delivery history stays readable until retention removes it; it sends nothing more.</p>` : null}
    ${ep.paused ? html`<p class="notice" role="status">Paused: events keep queueing and are sent, in order, when it is resumed.</p>` : null}
    ${secret ? html`<${CopyOnce} label="New signing secret" value=${secret} onDone=${() => setSecret(null)} />` : null}
    ${ep.deleted_at ? null : html`<${Health} tenant=${tenant} ep=${ep} />`}
    <div class="split">
      <div>
        <section class="panel"><h2>Settings</h2><${Props} ep=${ep} /></section>
        ${write ? html`<${TestPanel} tenant=${tenant} ep=${ep} />` : null}
      </div>
      <div>${ep.deleted_at ? null : html`<${EndpointPreview} tenant=${tenant} ep=${ep} />`}</div>
    </div>
    ${write ? html`<${RotateDialog} tenant=${tenant} ep=${ep} open=${rotating} onClose=${() => setRotating(false)}
      onRotated=${(res) => { const { secret: s, ...view } = res; setOverride(view); setSecret(s); setRotating(false); }} />` : null}
    <${Confirm} title="Delete endpoint" open=${deleting} danger confirmLabel="Delete endpoint"
      onClose=${() => setDeleting(false)}
      onConfirm=${async () => {
        await api('DELETE', endpointPath(tenant, id));
        navigate(base);
      }}>
      <p>Delete <span class="mono">${ep.url}</span>? It stops sending at once: waiting deliveries are dropped, retries cancelled.
        Its delivery history stays readable (with <em>Show deleted</em> in the list) until retention removes it; its secret and credentials are erased now.</p>
    <//>
  </section>`;
}
