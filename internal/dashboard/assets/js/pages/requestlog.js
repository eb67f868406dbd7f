// A source's request log: what each request to its URL became (accepted,
// duplicate, dropped, rejected with the reason), newest first and cursor
// paged; one request with its headers and body, replayed through the
// source's current mapping, or loaded into the dry run.

import { api, tenantPath } from '../api.js';
import { html, useState, useApp, useAsync, usePager, Pager, ErrorBox, Loading, Badge, Link, fmtTime, fmtNum } from '../ui.js';

const base = (tenant, src) => '/t/' + encodeURIComponent(tenant) + '/sources/' + encodeURIComponent(src.id);

// reason is a refusal's message without the code it starts with (the
// code shows beside the outcome).
const reason = (r) => (r.message && r.code && r.message.startsWith(r.code + ': ') ? r.message.slice(r.code.length + 2) : r.message);

// Outcome is a request's outcome badge; a refusal says why next to it.
function Outcome({ r }) {
  return html`<${Badge} status=${r.outcome} />${r.outcome === 'rejected' && r.code ? html` <code class="reason">${r.code}</code>` : null}`;
}

function EventRef({ tenant, r }) {
  if (!r.event_id) return html`<span class="muted">–</span>`;
  return html`<${Link} to=${'/t/' + encodeURIComponent(tenant) + '/events/' + encodeURIComponent(r.event_id)}>${r.event_id}<//>
    ${r.event_type ? html`<br /><code class="muted">${r.event_type}</code>` : null}`;
}

export function RequestLog({ tenant, src }) {
  const { navigate } = useApp();
  const p = usePager(tenantPath(tenant, '/sources/' + encodeURIComponent(src.id) + '/requests'), { limit: 50 });
  const open = (r) => navigate(base(tenant, src) + '/requests/' + encodeURIComponent(r.id));
  return html`<section aria-labelledby="requests-h">
    <div class="page-head"><h2 id="requests-h">Request log</h2><span class="spacer"></span>
      <button type="button" class="small" disabled=${p.loading} onClick=${p.reload}>Refresh</button></div>
    <${ErrorBox} error=${p.error} />
    ${p.loading && !p.rows.length ? html`<${Loading} what="requests" />` : html`<div class="table-wrap"><table class="requests">
      <thead><tr><th>Received</th><th>Outcome</th><th class="num">Status</th><th>Event</th><th>Reason</th><th>Signature</th><th class="num">Bytes</th></tr></thead>
      <tbody>
        ${p.rows.length === 0 && !p.error ? html`<tr><td colspan="7" class="empty">No requests yet. Give the provider this source's URL.</td></tr>` : null}
        ${p.rows.map((r) => html`<tr class="selectable" tabindex="0" onClick=${() => open(r)} onKeyDown=${(e) => e.key === 'Enter' && open(r)}>
          <td><${Link} to=${base(tenant, src) + '/requests/' + encodeURIComponent(r.id)}>${fmtTime(r.at)}<//>
            ${r.replay_of ? html`<br /><span class="muted">replay</span>` : null}</td>
          <td><${Outcome} r=${r} /></td>
          <td class="num">${r.status}</td>
          <td><${EventRef} tenant=${tenant} r=${r} /></td>
          <td class="reason">${reason(r) || html`<span class="muted">–</span>`}</td>
          <td>${r.verified ? 'verified' : html`<span class="muted">not verified</span>`}</td>
          <td class="num">${fmtNum(r.body_bytes)}</td>
        </tr>`)}
      </tbody></table></div>`}
    <${Pager} p=${p} label="request pages" />
  </section>`;
}

export function RequestDetail({ tenant, src, reqId, write }) {
  const { navigate } = useApp();
  const path = tenantPath(tenant, '/sources/' + encodeURIComponent(src.id) + '/requests/' + encodeURIComponent(reqId));
  const st = useAsync(() => api('GET', path), [path]);
  const [busy, setBusy] = useState(false);
  const [replayed, setReplayed] = useState(null);
  const [error, setError] = useState(null);
  const replay = async () => {
    setBusy(true);
    setError(null);
    setReplayed(null);
    try {
      setReplayed(await api('POST', path + '/replay'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (st.error) return html`<${ErrorBox} error=${st.error} />`;
  if (!st.data) return html`<${Loading} what="the request" />`;
  const r = st.data;
  return html`<section aria-labelledby="request-h">
    <div class="page-head"><h2 id="request-h">Request <code>${r.id}</code></h2><span class="spacer"></span>
      ${write ? html`<button type="button" onClick=${() => navigate(base(tenant, src) + '?from=' + encodeURIComponent(r.id))}>Use in dry run</button>
        <button type="button" id="request-replay" class="primary" disabled=${busy} onClick=${replay}>${busy ? 'Replaying…' : 'Replay'}</button>` : null}</div>
    ${write ? html`<p class="hint">Replay runs the stored request through the source's current mapping, as if it came again; its dedupe id still holds.</p>` : null}
    <${ErrorBox} error=${error} />
    ${replayed ? html`<div id="replay-result" class=${replayed.outcome === 'rejected' ? 'error' : 'success'} role="status">
      Replayed: <${Badge} status=${replayed.outcome} />
      ${replayed.event_id ? html` event <code>${replayed.event_id}</code>` : null}
      ${replayed.code ? html` <code>${replayed.code}</code> ${replayed.message}` : null}
      — <${Link} to=${base(tenant, src) + '/requests/' + encodeURIComponent(replayed.request_id)}>the replay's log entry<//>
    </div>` : null}
    <dl class="props request-props">
      <dt>Received</dt><dd>${fmtTime(r.at)}</dd>
      <dt>Outcome</dt><dd><${Outcome} r=${r} /> ${r.message ? html`<span>${reason(r)}</span>` : null}</dd>
      <dt>Answer</dt><dd>${r.status}</dd>
      <dt>Signature</dt><dd>${r.verified ? 'verified' : 'not verified'}</dd>
      <dt>Event</dt><dd><${EventRef} tenant=${tenant} r=${r} /></dd>
      ${r.dedupe_id ? html`<dt>Dedupe id</dt><dd><code>${r.dedupe_id}</code></dd>` : null}
      ${r.replay_of ? html`<dt>Replay of</dt><dd><${Link} to=${base(tenant, src) + '/requests/' + encodeURIComponent(r.replay_of)}>${r.replay_of}<//></dd>` : null}
      ${r.url ? html`<dt>URL</dt><dd><code>${r.url}</code></dd>` : null}
      ${r.content_type ? html`<dt>Content type</dt><dd><code>${r.content_type}</code></dd>` : null}
      <dt>Body</dt><dd>${fmtNum(r.body_bytes)} bytes${r.truncated ? ' (the log keeps its start only)' : ''}${r.body_base64 ? ', not text (shown as base64)' : ''}</dd>
    </dl>
    <div class="split">
      <div><h3>Headers</h3><pre class="json" id="request-headers">${r.headers || ''}</pre></div>
      <div><h3>Body</h3><pre class="json" id="request-body">${prettyBody(r)}</pre></div>
    </div>
  </section>`;
}

// prettyBody indents a JSON body; any other body is shown as logged.
function prettyBody(r) {
  if (r.body_base64 || !r.body) return r.body || '';
  try {
    return JSON.stringify(JSON.parse(r.body), null, 2);
  } catch {
    return r.body;
  }
}
