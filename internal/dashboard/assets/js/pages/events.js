// Events: find one event by its id (the id a customer quotes in a support
// ticket) and see where it went: its payload and its delivery to each
// endpoint. Browsing by type reads the tenant's delivery log filtered by
// type (the event feed has no type filter), one line per event.

import { api, qs, tenantPath } from '../api.js';
import { html, useState, useApp, useAsync, usePager, Pager, ErrorBox, Loading, Field, Badge, Json, Link, fmtTime, fmtNum } from '../ui.js';
import { eventTime, fmtWhen } from './deliverylog.js';
import { DeliveryDetail, selectKeys } from './deliverydetail.js';

function Search({ tenant, id, type }) {
  const { navigate } = useApp();
  const [value, setValue] = useState(id || '');
  const [typeValue, setTypeValue] = useState(type || '');
  const base = '/t/' + encodeURIComponent(tenant) + '/events';
  return html`<div class="toolbar">
    <form class="row search" role="search" onSubmit=${(e) => { e.preventDefault(); if (value.trim()) navigate(base + '/' + encodeURIComponent(value.trim())); }}>
      <${Field} label="Event ID" id="event-search">
        <input id="event-search" type="search" placeholder="evt_…" value=${value} onInput=${(e) => setValue(e.target.value)} />
      <//>
      <button type="submit" class="primary" disabled=${!value.trim()}>Find</button>
    </form>
    <form class="row search" onSubmit=${(e) => { e.preventDefault(); navigate(base + qs({ type: typeValue.trim() })); }}>
      <${Field} label="Browse by type" id="event-type">
        <input id="event-type" type="search" placeholder="invoice.* (empty: all)" value=${typeValue} onInput=${(e) => setTypeValue(e.target.value)} />
      <//>
      <button type="submit">Browse</button>
    </form>
  </div>`;
}

function EventView({ tenant, id }) {
  const ev = useAsync(() => api('GET', tenantPath(tenant, '/events/' + encodeURIComponent(id))), [tenant, id]);
  const [selected, setSelected] = useState(null);
  if (ev.loading && !ev.data) return html`<${Loading} what="the event" />`;
  if (ev.error) return html`<${ErrorBox} error=${ev.error} id="event-error" />`;
  const e = ev.data;
  const open = (d) => setSelected(d);
  return html`<div class=${selected ? 'split events-split' : ''}>
    <div class="panel event-view">
      <h2>${e.type}</h2>
      <dl class="props">
        <dt>ID</dt><dd class="mono">${e.id}</dd>
        <dt>Published</dt><dd>${fmtTime(e.created_at)}</dd>
      </dl>
      <h3>Payload</h3>
      <${Json} value=${e.payload} />
      <h3>Deliveries (${e.deliveries.length})</h3>
      ${e.deliveries.length === 0 ? html`<p class="empty">No endpoint took this event (none subscribed to its type when it was published, or their filters refused it).</p>`
        : html`<div class="table-wrap"><table class="event-deliveries">
        <caption class="sr-only">Deliveries of this event. Press Enter on a row for its attempts.</caption>
        <thead><tr><th>Endpoint</th><th>Status</th><th class="num">Attempts</th><th>Last response</th></tr></thead>
        <tbody>${e.deliveries.map((d) => html`<tr class="selectable" tabindex="0" data-endpoint=${d.endpoint_id}
            aria-selected=${selected && selected.endpoint_id === d.endpoint_id ? 'true' : 'false'} onClick=${() => open(d)} onKeyDown=${selectKeys(() => open(d))}>
          <td class="mono small url">${d.endpoint_id}</td>
          <td><${Badge} status=${d.status} /></td>
          <td class="num">${d.attempts}</td>
          <td class="nowrap">${d.last_attempt ? html`<span class="mono">${d.last_attempt.status || d.last_attempt.error_class || '–'}</span> <span class="muted small">${fmtNum(d.last_attempt.latency_ms, 0)} ms</span>` : html`<span class="muted">–</span>`}</td>
        </tr>`)}</tbody></table></div>`}
    </div>
    ${selected ? html`<${DeliveryDetail} key=${selected.endpoint_id} tenant=${tenant} delivery=${selected} onClose=${() => setSelected(null)} onChanged=${ev.reload} />` : null}
  </div>`;
}

// groupEvents folds the log's rows (newest event first, one row per
// endpoint) into one line per event. An event cut by a page boundary
// shows on both pages, with the deliveries each holds.
function groupEvents(rows) {
  const out = [];
  for (const d of rows) {
    const last = out[out.length - 1];
    if (last && last.id === d.event_id) last.deliveries.push(d);
    else out.push({ id: d.event_id, type: d.event_type, deliveries: [d] });
  }
  return out;
}

function Browse({ tenant, type }) {
  const p = usePager(tenantPath(tenant, '/deliveries'), { type, limit: 100 });
  const events = groupEvents(p.rows);
  return html`<div>
    <h2>${type ? 'Events of type ' + type : 'Recent events'}</h2>
    <p class="hint">Events delivered to at least one endpoint, newest first. Find any other by its ID.</p>
    <${ErrorBox} error=${p.error} />
    ${p.loading && !p.rows.length ? html`<${Loading} what="events" />` : html`<div class="table-wrap"><table class="events">
      <thead><tr><th>Event</th><th>Type</th><th>Published</th><th>Deliveries</th></tr></thead>
      <tbody>
        ${events.length === 0 ? html`<tr><td colspan="4" class="empty">No events${type ? ' of this type' : ''} yet.</td></tr>` : null}
        ${events.map((e) => html`<tr>
          <td class="mono small"><${Link} to=${'/t/' + encodeURIComponent(tenant) + '/events/' + encodeURIComponent(e.id)}>${e.id}<//></td>
          <td class="ev-type">${e.type}</td>
          <td class="small">${fmtWhen(eventTime(e.id))}</td>
          <td><span class="row wrap">${e.deliveries.map((d) => html`<${Badge} status=${d.status} label=${d.status + (d.attempts > 1 ? ' ×' + fmtNum(d.attempts) : '')} />`)}</span></td>
        </tr>`)}
      </tbody></table></div>`}
    <${Pager} p=${p} label="event pages" />
  </div>`;
}

export default function Events({ tenant, id, query }) {
  return html`<section class="events-page">
    <div class="page-head"><h1>Events</h1></div>
    <${Search} key=${id + '|' + (query.type || '')} tenant=${tenant} id=${id} type=${query.type} />
    ${id ? html`<p><${Link} to=${'/t/' + encodeURIComponent(tenant) + '/events'}>← All events<//></p><${EventView} key=${id} tenant=${tenant} id=${id} />`
      : html`<${Browse} tenant=${tenant} type=${query.type || ''} />`}
  </section>`;
}
