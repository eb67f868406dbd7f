// Deliveries: the tenant-wide delivery log, where a customer finds out
// why their receiver did not get something and sends it again. Filters
// live in the hash query (#/t/acme/deliveries?endpoint=ep_..&status=dead)
// so a link from another page, or a colleague, opens the same view.

import { useMemo } from '../../vendor/preact-htm.mjs';
import { api, qs, tenantPath } from '../api.js';
import { html, useState, useEffect, useApp, useAsync, usePager, Pager, ErrorBox, Loading, Field, Badge } from '../ui.js';
import { ranges, statuses, filterKeys, apiParams, eventTime, fmtWhen } from './deliverylog.js';
import { DeliveryDetail, selectKeys } from './deliverydetail.js';
import { Export, BulkReplay, jobStatus } from './deliverybulk.js';

const pageSize = 100;

function useRenderTiming(answered, rows) {
  useEffect(() => {
    if (!answered) return;
    requestAnimationFrame(() => {
      const ms = performance.now() - answered;
      const t = (window.__hooklineTimings = window.__hooklineTimings || {});
      (t.deliveriesRender = t.deliveriesRender || []).push({ rows, ms });
    });
  }, [answered]);
}

// filterField names the filter an API error is about, so the error shows
// under that control rather than above the table.
function filterField(err, q) {
  if (!err) return '';
  switch (err.code) {
    case 'invalid_status': return 'status';
    case 'invalid_type': return 'type';
    case 'invalid_endpoint': case 'endpoint_not_found': return 'endpoint';
    case 'invalid_time': return q.range !== 'custom' ? 'range' : /^until/.test(err.message) ? 'until' : 'since';
    default: return '';
  }
}

// backwardsRange reports a custom range that ends before it starts: the
// page says so under Until and asks the API nothing.
function backwardsRange(q) {
  return q.range === 'custom' && !!q.since && !!q.until && new Date(q.until) <= new Date(q.since);
}

function Filters({ query, setQuery, endpoints, error }) {
  const set = (k) => (e) => setQuery({ ...query, [k]: e.target.value });
  const at = filterField(error, query);
  const errOf = (k) => (at === k ? error.message + ' (' + error.code + ')' : null);
  const backwards = backwardsRange(query);
  return html`<form class="toolbar filters" aria-label="Filters" onSubmit=${(e) => e.preventDefault()}>
    <${Field} label="Status" id="f-status" error=${errOf('status')}>
      <select id="f-status" value=${query.status || ''} onChange=${set('status')}>
        <option value="">Any</option>
        ${statuses.map((s) => html`<option value=${s}>${s}</option>`)}
      </select>
    <//>
    <${Field} label="Event type" id="f-type" error=${errOf('type')}>
      <input id="f-type" type="search" placeholder="invoice.*" value=${query.type || ''} onChange=${set('type')} />
    <//>
    <${Field} label="Endpoint" id="f-endpoint" error=${errOf('endpoint')}>
      ${endpoints
        ? html`<select id="f-endpoint" value=${query.endpoint || ''} onChange=${set('endpoint')}>
            <option value="">All endpoints</option>
            ${query.endpoint && !endpoints.some((e) => e.id === query.endpoint) ? html`<option value=${query.endpoint}>${query.endpoint}</option>` : null}
            ${endpoints.map((e) => html`<option value=${e.id}>${e.description ? e.description + ' · ' : ''}${e.url}</option>`)}
          </select>`
        : html`<input id="f-endpoint" placeholder="ep_…" value=${query.endpoint || ''} onChange=${set('endpoint')} />`}
    <//>
    <${Field} label="Time" id="f-range" error=${errOf('range')}>
      <select id="f-range" value=${query.range || ''} onChange=${set('range')}>
        ${ranges.map((r) => html`<option value=${r.id}>${r.label}</option>`)}
      </select>
    <//>
    ${query.range === 'custom' ? html`
      <${Field} label="Since" id="f-since" error=${errOf('since')}><input id="f-since" type="datetime-local" step="1" value=${query.since || ''} onChange=${set('since')} /><//>
      <${Field} label="Until" id="f-until" error=${errOf('until') || (backwards ? 'until is not after since' : null)}><input id="f-until" type="datetime-local" step="1" value=${query.until || ''} onChange=${set('until')} /><//>` : null}
    ${filterKeys.some((k) => query[k]) ? html`<button type="button" class="link" onClick=${() => setQuery({})}>Clear filters</button>` : null}
  </form>`;
}

function Row({ d, selected, onSelect, endpointURL, showEndpoint }) {
  const la = d.last_attempt;
  let when = '';
  if (d.next_attempt_at) when = html`<span title="next retry">↻ ${fmtWhen(d.next_attempt_at)}</span>`;
  else if (la) when = fmtWhen(la.at);
  else when = fmtWhen(eventTime(d.event_id));
  return html`<tr class="selectable" tabindex="0" aria-selected=${selected ? 'true' : 'false'} data-event=${d.event_id} data-endpoint=${d.endpoint_id}
      onClick=${() => onSelect(d)} onKeyDown=${selectKeys(() => onSelect(d))}>
    <td><div class="ev-type">${d.event_type}</div><div class="mono small muted">${d.event_id}</div></td>
    ${showEndpoint ? html`<td class="url col-endpoint"><div class="mono small">${d.endpoint_id}</div>${endpointURL ? html`<div class="small muted ep-url">${endpointURL}</div>` : null}</td>` : null}
    <td><${Badge} status=${d.status} /></td>
    <td class="num">${d.attempts}</td>
    <td class="nowrap">${la && la.status ? html`<span class="mono">${la.status}</span>` : la && la.error_class ? html`<code>${la.error_class}</code>` : html`<span class="muted">–</span>`}
      ${la && la.status ? html` <span class="muted small">${Math.round(la.latency_ms)} ms</span>` : null}</td>
    <td class="small col-when">${when}</td>
  </tr>`;
}

export default function Deliveries({ tenant, query }) {
  const { can, navigate } = useApp();
  const filters = Object.fromEntries(filterKeys.filter((k) => query[k]).map((k) => [k, query[k]]));
  const setQuery = (q) => {
    const keep = Object.fromEntries(filterKeys.filter((k) => q[k]).map((k) => [k, q[k]]));
    if (keep.range !== 'custom') { delete keep.since; delete keep.until; }
    navigate('/t/' + encodeURIComponent(tenant) + '/deliveries' + qs(keep));
  };
  // A relative range is anchored when the filters change or Refresh is
  // pressed, not on every render, so the listing's key stays put.
  const [refreshed, setRefreshed] = useState(0);
  const fkey = qs(filters);
  const params = useMemo(() => apiParams(filters), [fkey, refreshed]);
  const backwards = backwardsRange(filters);
  const p = usePager(backwards ? '' : tenantPath(tenant, '/deliveries'), { ...params, limit: pageSize }, [refreshed]);
  useRenderTiming(p.answered, p.rows.length);

  const eps = useAsync(() => (can('endpoints:read') ? api('GET', tenantPath(tenant, '/endpoints') + qs({ limit: 1000 })) : Promise.resolve(null)), [tenant]);
  const endpoints = eps.data ? eps.data.data || [] : null;
  const urlOf = Object.fromEntries((endpoints || []).map((e) => [e.id, e.url]));

  const [selected, setSelected] = useState(null);
  const [bulk, setBulk] = useState(false);
  const bulkStatus = jobStatus(filters.status);
  const canBulk = can('deliveries:replay');
  // One endpoint picked: its column would say the same on every row.
  const showEndpoint = !filters.endpoint;

  return html`<section class="deliveries">
    <div class="page-head"><h1>Deliveries</h1><span class="spacer"></span>
      <${Export} tenant=${tenant} params=${params} />
      <button type="button" onClick=${() => setRefreshed((n) => n + 1)} disabled=${p.loading}>Refresh</button>
      ${canBulk ? html`<button type="button" id="bulk-replay" disabled=${!filters.endpoint || !bulkStatus}
        title=${!filters.endpoint ? 'pick one endpoint to replay its deliveries' : !bulkStatus ? 'bulk replay takes finished deliveries: dead, succeeded or cancelled' : ''}
        onClick=${() => setBulk(true)}>Replay matching…</button>` : null}
    </div>
    <${Filters} query=${filters} setQuery=${setQuery} endpoints=${endpoints} error=${p.error} />
    ${canBulk && !filters.endpoint ? html`<p class="hint">Pick one endpoint to replay what the filters select in bulk.</p>` : null}
    <${ErrorBox} error=${filterField(p.error, filters) ? null : p.error} id="deliveries-error" />
    <div class=${selected ? 'split log-split' : ''}>
      <div>
        ${p.loading && !p.rows.length ? html`<${Loading} what="deliveries" />` : html`<div class="table-wrap"><table class="log" aria-busy=${p.loading ? 'true' : 'false'}>
          <caption class="sr-only">Deliveries, newest event first. Press Enter on a row for its detail.</caption>
          <thead><tr><th>Event</th>${showEndpoint ? html`<th class="col-endpoint">Endpoint</th>` : null}<th>Status</th><th class="num">Attempts</th><th>Last response</th><th class="col-when">Next retry / last try</th></tr></thead>
          <tbody>
            ${p.rows.length === 0 && !p.error && !backwards ? html`<tr><td colspan=${showEndpoint ? 6 : 5} class="empty">${fkey ? 'No delivery matches these filters.' : 'No deliveries yet: publish an event to an endpoint.'}</td></tr>` : null}
            ${p.rows.map((d) => html`<${Row} key=${d.event_id + '/' + d.endpoint_id} d=${d} endpointURL=${urlOf[d.endpoint_id]} showEndpoint=${showEndpoint}
              selected=${selected && selected.event_id === d.event_id && selected.endpoint_id === d.endpoint_id} onSelect=${setSelected} />`)}
          </tbody></table></div>`}
        <${Pager} p=${p} label="delivery pages" />
      </div>
      ${selected ? html`<${DeliveryDetail} key=${selected.event_id + '/' + selected.endpoint_id} tenant=${tenant} delivery=${selected}
        onClose=${() => setSelected(null)} onChanged=${p.reload} />` : null}
    </div>
    ${canBulk && filters.endpoint && bulkStatus ? html`<${BulkReplay} tenant=${tenant} params=${params} open=${bulk}
      onClose=${() => { setBulk(false); p.reload(); }} />` : null}
  </section>`;
}
