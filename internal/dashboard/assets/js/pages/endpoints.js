// Endpoints: the page's router (list, new, one endpoint, its edit form)
// and the list itself. The form lives in endpointform.js, one endpoint's
// page in endpointdetail.js, the request preview in endpointpreview.js,
// what they share in endpointparts.js.

import { api, tenantPath } from '../api.js';
import { html, useState, useEffect, useApp, usePager, Pager, ErrorBox, Loading, Link, fmtTime, fmtPct } from '../ui.js';
import { endpointPath, States, TypesList } from './endpointparts.js';
import EndpointForm from './endpointform.js';
import EndpointDetail from './endpointdetail.js';

// useRowHealth reads each listed endpoint's health, a few at a time: the
// list has no health of its own, and a page of 25 is 25 small reads, not
// worth a server-side join but not worth firing all at once either.
function useRowHealth(tenant, rows) {
  const [health, setHealth] = useState({});
  const ids = rows.filter((r) => !r.deleted_at).map((r) => r.id);
  const key = ids.join(',');
  useEffect(() => {
    let live = true;
    const queue = ids.slice();
    const worker = async () => {
      while (live && queue.length) {
        const id = queue.shift();
        let v;
        try {
          v = { data: await api('GET', endpointPath(tenant, id, '/health')) };
        } catch (e) {
          v = { error: e };
        }
        if (live) setHealth((h) => ({ ...h, [id]: v }));
      }
    };
    for (let i = 0; i < 4; i++) worker();
    return () => { live = false; };
  }, [tenant, key]);
  return health;
}

function HealthCells({ h, deleted }) {
  if (deleted) return html`<td class="muted">–</td><td class="num muted">–</td>`;
  if (!h) return html`<td class="muted">…</td><td class="num muted">…</td>`;
  if (h.error) return html`<td colspan="2" class="muted" title=${h.error.message}>health unavailable (${h.error.code})</td>`;
  const w = h.data.windows['24h'];
  return html`<td>${h.data.last_success_at ? fmtTime(h.data.last_success_at) : html`<span class="muted">never</span>`}</td>
    <td class="num">${w.attempts ? html`<span class=${w.success_rate < 0.5 ? 'rate-bad' : ''}>${fmtPct(w.success_rate)}</span> <span class="muted">of ${w.attempts}</span>` : html`<span class="muted">no attempts</span>`}</td>`;
}

function List({ tenant, query }) {
  const { can, navigate } = useApp();
  const includeDeleted = query.include_deleted === 'true';
  const p = usePager(tenantPath(tenant, '/endpoints'), { limit: 25, include_deleted: includeDeleted ? 'true' : '' });
  const health = useRowHealth(tenant, p.rows);
  const base = '/t/' + encodeURIComponent(tenant) + '/endpoints';
  return html`<section>
    <div class="page-head"><h1>Endpoints</h1><span class="spacer"></span>
      <label class="check"><input type="checkbox" id="ep-include-deleted" checked=${includeDeleted}
        onChange=${(e) => navigate(base + (e.target.checked ? '?include_deleted=true' : ''))} /> Show deleted</label>
      ${can('endpoints:write') ? html`<button type="button" class="primary" onClick=${() => navigate(base + '/new')}>New endpoint</button>` : null}
    </div>
    <${ErrorBox} error=${p.error} />
    ${p.loading && !p.rows.length ? html`<${Loading} what="endpoints" />` : html`<div class="table-wrap"><table id="endpoints-table">
      <thead><tr><th>URL</th><th>Event types</th><th>State</th><th>Last success</th><th class="num">Success (24 h)</th><th><span class="sr-only">Links</span></th></tr></thead>
      <tbody>
        ${p.rows.length === 0 && !p.error ? html`<tr><td colspan="6" class="empty">No endpoints yet.${can('endpoints:write') ? ' Create one to start delivering events.' : ''}</td></tr>` : null}
        ${p.rows.map((ep) => html`<tr>
          <td class="url"><${Link} to=${base + '/' + encodeURIComponent(ep.id)}>${ep.url}<//>
            ${ep.description ? html`<div class="muted small-text">${ep.description}</div>` : null}</td>
          <td><${TypesList} types=${ep.event_types} /></td>
          <td><${States} ep=${ep} /></td>
          <${HealthCells} h=${health[ep.id]} deleted=${!!ep.deleted_at} />
          <td>${can('deliveries:read') ? html`<${Link} to=${'/t/' + encodeURIComponent(tenant) + '/deliveries?endpoint=' + encodeURIComponent(ep.id)}>Deliveries<//>` : null}</td>
        </tr>`)}
      </tbody></table></div>`}
    <${Pager} p=${p} label="endpoint pages" />
  </section>`;
}

export default function Endpoints({ tenant, id, query }) {
  const parts = (id || '').split('/');
  if (!id) return html`<${List} tenant=${tenant} query=${query || {}} />`;
  if (id === 'new') return html`<${EndpointForm} tenant=${tenant} key="new" />`;
  if (parts[1] === 'edit') return html`<${EndpointForm} tenant=${tenant} id=${parts[0]} key=${parts[0]} />`;
  return html`<${EndpointDetail} tenant=${tenant} id=${parts[0]} key=${parts[0]} />`;
}
