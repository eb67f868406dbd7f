// Overview: a tenant's events and delivery numbers over the last hour, day
// or week. Everything comes from GET …/stats, which sums endpoint health
// and the tenant's published counts and so costs the same whatever the
// event and delivery logs' size: the totals for the
// cards, its series (10-minute buckets for an hour, hours for a day or a
// week) for the charts over time, its endpoints for the charts and table
// that compare them. Queue depth is read from /metrics for the operator
// only: it is the server's, and a customer's credential has no business
// reading it.

import { api, tenantPath, qs } from '../api.js';
import { html, useState, useEffect, useApp, useAsync, ErrorBox, Loading, Link, fmtNum, fmtPct, fmtTime } from '../ui.js';
import { BarChart, TimeChart } from '../chart.js';
import { parseMetrics } from '../metrics.js';

const windows = [
  { id: '1h', label: 'Last hour' },
  { id: '24h', label: 'Last day' },
  { id: '7d', label: 'Last week' },
];

// short drops a URL's scheme for a chart's label; the full URL is in the
// bar's title and the chart's table.
const short = (u) => u.replace(/^https?:\/\//, '');

const fmtMs = (n) => (n === null || n === undefined ? '–' : fmtNum(n, n < 10 ? 1 : 0) + ' ms');

// queueDepth sums the per-endpoint depth gauge over the tenant's endpoints.
// The server writes only its 20 deepest queues, so a tenant outside them
// has less than 20 queues' worth waiting, which the card says.
async function queueDepth(endpointIDs) {
  let text;
  try {
    text = await api('GET', '/metrics');
  } catch (e) {
    if (e.status === 404) return { unavailable: 'this listener does not serve /metrics' };
    throw e;
  }
  const m = parseMetrics(text);
  const ids = new Set(endpointIDs);
  let depth = 0;
  for (const s of m.hookline_queue_endpoint_depth_deliveries || []) {
    if (ids.has(s.labels.endpoint)) depth += s.value;
  }
  return { depth };
}

// Over time: the series as five charts. The bucket's length comes from
// the answer's own window, so a chart never mixes one window's buckets
// with another's length while a new window loads.
const bucketMs = { '1h': 600e3, '24h': 3600e3, '7d': 3600e3 };

function OverTime({ s, wl }) {
  const ms = bucketMs[s.window];
  const per = ms < 3600e3 ? 'per 10 minutes' : 'per hour';
  const pts = (value) => s.series.map((b) => ({ start: b.start, value: value(b) }));
  const t = s.total;
  return html`<div class="split start charts">
    <div class="panel"><${TimeChart} id="chart-published" title=${'Events published ' + per + ', ' + wl} valueName="Published"
      points=${pts((b) => b.published)} bucketMs=${ms} fmt=${fmtNum} total=${t.published} /></div>
    <div class="panel"><${TimeChart} id="chart-sent" title=${'Deliveries sent ' + per + ', ' + wl} valueName="Sent"
      points=${pts((b) => b.sent)} bucketMs=${ms} fmt=${fmtNum} total=${t.sent} /></div>
    <div class="panel"><${TimeChart} id="chart-rate" title=${'First-attempt success ' + per + ', ' + wl} valueName="First-attempt success"
      points=${pts((b) => (b.sent ? b.first_attempt_succeeded / b.sent : null))} bucketMs=${ms} fmt=${fmtPct} max=${1} low
      cls=${(v) => (v !== null && v < 0.9 ? 'warn' : 'ok')} /></div>
    <div class="panel"><${TimeChart} id="chart-dead-time" title=${'Dead letters ' + per + ', ' + wl} valueName="Dead letters"
      points=${pts((b) => b.dead)} bucketMs=${ms} fmt=${fmtNum} cls="bad" total=${t.dead} /></div>
    <div class="panel"><${TimeChart} id="chart-p95-time" title=${'Latency p95 ' + per + ', ' + wl} valueName="p95"
      points=${pts((b) => b.latency_ms.p95)} bucketMs=${ms} fmt=${fmtMs} cls="warn" /></div>
  </div>`;
}

function Card({ label, value, hint, id, tone }) {
  return html`<div class=${'card' + (tone ? ' ' + tone : '')} id=${id}>
    <div class="label">${label}</div>
    <div class="value">${value}</div>
    ${hint ? html`<div class="hint">${hint}</div>` : null}
  </div>`;
}

function WindowSwitch({ value, onChange }) {
  return html`<div class="segmented" role="group" aria-label="Time window">
    ${windows.map((w) => html`<button type="button" id=${'window-' + w.id} aria-pressed=${value === w.id ? 'true' : 'false'}
      title=${w.label} onClick=${() => onChange(w.id)}>${w.id}</button>`)}
  </div>`;
}

// queueCard is the queue depth card's value and hint as it loads, fails
// or answers.
function queueCard(q) {
  if (q.error) return { value: '–', hint: q.error.message };
  if (q.loading || !q.data) return { value: '…', hint: 'waiting now, from /metrics' };
  if (q.data.unavailable) return { value: '–', hint: q.data.unavailable };
  return { value: fmtNum(q.data.depth), hint: 'waiting now, from /metrics' };
}

function Cards({ t, queue, admin }) {
  return html`<div class="cards">
    <${Card} id="card-published" label="Events published" value=${fmtNum(t.published)} hint="accepted, duplicates not counted" />
    <${Card} id="card-sent" label="Deliveries sent" value=${fmtNum(t.sent)} hint="first attempts" />
    <${Card} id="card-rate" label="First-attempt success" value=${fmtPct(t.first_attempt_success_rate)}
      hint=${fmtNum(t.first_attempt_succeeded) + ' of ' + fmtNum(t.sent)} tone=${t.first_attempt_success_rate !== null && t.first_attempt_success_rate < 0.9 ? 'warn' : ''} />
    <${Card} id="card-attempts" label="Attempts" value=${fmtNum(t.attempts)} hint=${fmtNum(t.failed_attempts) + ' failed, ' + fmtNum(t.retried) + ' retried'} />
    <${Card} id="card-dead" label="Dead letters" value=${fmtNum(t.dead)} tone=${t.dead > 0 ? 'bad' : ''} />
    <${Card} id="card-p50" label="Latency p50" value=${fmtMs(t.latency_ms.p50)} />
    <${Card} id="card-p95" label="Latency p95" value=${fmtMs(t.latency_ms.p95)} />
    ${admin ? html`<${Card} id="card-queue" label="Queue depth" ...${queueCard(queue)} />` : null}
  </div>`;
}

// EndpointTable lists a few endpoints with the numbers that put them there.
// lastSuccess is an endpoint's last success from its health, when the
// credential may read it.
function lastSuccess(h) {
  if (!h) return html`<span class="muted">…</span>`;
  if (h.error) return html`<span class="muted" title=${h.error.message}>–</span>`;
  return h.last_success_at ? fmtTime(h.last_success_at) : html`<span class="muted">never</span>`;
}

function EndpointTable({ id, tenant, rows, caption, empty, health }) {
  const base = '/t/' + encodeURIComponent(tenant);
  return html`<div class="table-wrap"><table id=${id}>
    <caption class="sr-only">${caption}</caption>
    <thead><tr><th>Endpoint</th><th class="num">Sent</th><th class="num">First-attempt success</th><th class="num">p95</th><th class="num">Dead</th><th>Top failure</th>${health ? html`<th>Last success</th>` : null}</tr></thead>
    <tbody>
      ${rows.length === 0 ? html`<tr><td colspan=${health ? 7 : 6} class="empty">${empty}</td></tr>` : null}
      ${rows.map((e) => html`<tr>
        <td class="url"><${Link} to=${base + '/endpoints/' + encodeURIComponent(e.endpoint_id)}>${e.url}<//>
          <div class="muted small">${e.endpoint_id}</div></td>
        <td class="num">${fmtNum(e.sent)}</td>
        <td class="num">${fmtPct(e.first_attempt_success_rate)}</td>
        <td class="num">${fmtMs(e.latency_ms.p95)}</td>
        <td class="num">${e.dead ? html`<${Link} to=${base + '/deliveries?endpoint=' + encodeURIComponent(e.endpoint_id) + '&status=dead'}>${fmtNum(e.dead)}<//>` : '0'}</td>
        <td>${e.top_failures.length ? html`<span class="badge bad">${e.top_failures[0].reason}</span> ×${fmtNum(e.top_failures[0].count)}` : html`<span class="muted">none</span>`}</td>
        ${health ? html`<td class="time">${lastSuccess(health[e.endpoint_id])}</td>` : null}
      </tr>`)}
    </tbody></table></div>`;
}

export default function Overview({ tenant, query }) {
  const { admin, can } = useApp();
  const [win, setWin] = useState(windows.some((w) => w.id === query.window) ? query.window : '24h');
  const path = tenantPath(tenant, '/stats');
  const st = useAsync(() => api('GET', path + qs({ window: win })), [tenant, win]);
  const ids = st.data ? st.data.endpoints.map((e) => e.endpoint_id) : null;
  // Keyed on the endpoint list ('-' before the stats answer, so a tenant
  // without endpoints still asks once they have).
  const queue = useAsync(() => (admin && ids ? queueDepth(ids) : Promise.resolve(null)), [admin, ids ? '+' + ids.join() : '-']);
  const choose = (w) => {
    setWin(w);
    // Keep the window in the address so a reload or a shared link shows it.
    history.replaceState(null, '', '#/t/' + encodeURIComponent(tenant) + '/overview?window=' + w);
  };
  const refresh = () => { st.reload(); queue.reload(); };
  useEffect(() => {
    // Numbers move while deliveries run: refresh each half minute.
    const iv = setInterval(refresh, 30000);
    return () => clearInterval(iv);
  }, [tenant, win]);

  const s = st.data;
  const eps = s ? s.endpoints : [];
  const sentOnes = eps.filter((e) => e.sent > 0 || e.attempts > 0);
  const worst = sentOnes.filter((e) => e.first_attempt_success_rate !== null && e.first_attempt_success_rate < 1)
    .sort((a, b) => a.first_attempt_success_rate - b.first_attempt_success_rate || b.sent - a.sent).slice(0, 5);
  const slowest = eps.filter((e) => e.latency_ms.p95 !== null)
    .sort((a, b) => b.latency_ms.p95 - a.latency_ms.p95).slice(0, 5);
  const busiest = [...sentOnes].sort((a, b) => b.sent - a.sent).slice(0, 10);
  // The worst endpoints' health says when each last succeeded: a few
  // requests, for the rows shown only.
  const worstIds = worst.map((e) => e.endpoint_id).join();
  const health = useAsync(() => (can('endpoints:read') && worstIds
    ? Promise.all(worst.map((e) => api('GET', tenantPath(tenant, '/endpoints/' + encodeURIComponent(e.endpoint_id) + '/health'))
      .then((h) => [e.endpoint_id, h], (error) => [e.endpoint_id, { error }]))).then(Object.fromEntries)
    : Promise.resolve(null)), [tenant, worstIds]);
  // The answer's window, which lags the chosen one while it loads.
  const wl = s ? windows.find((w) => w.id === s.window).label.toLowerCase() : '';

  return html`<section>
    <div class="page-head"><h1>Overview</h1><span class="spacer"></span>
      <${WindowSwitch} value=${win} onChange=${choose} />
      <button type="button" onClick=${refresh} disabled=${st.loading}>Refresh</button>
    </div>
    <${ErrorBox} error=${st.error} />
    ${!s && st.loading ? html`<${Loading} what="numbers" />` : null}
    ${s ? html`
      <p class="muted" id="overview-since">${windows.find((w) => w.id === s.window).label}: since ${fmtTime(s.since)}, ${fmtNum(eps.length)} endpoint${eps.length === 1 ? '' : 's'}.</p>
      <${Cards} t=${s.total} queue=${queue} admin=${admin} />
      <h2>Over time</h2>
      <${OverTime} s=${s} wl=${wl} />
      <h2>Per endpoint</h2>
      <div class="split start charts">
        <div class="panel"><${BarChart} id="chart-endpoints" title=${'First attempts per endpoint, ' + wl}
          series=${[{ name: 'succeeded', cls: 'ok' }, { name: 'failed', cls: 'bad' }]}
          rows=${busiest.map((e) => ({ label: short(e.url), title: e.url + ' (' + e.endpoint_id + ')', values: [e.first_attempt_succeeded, e.sent - e.first_attempt_succeeded] }))}
          fmt=${fmtNum} empty=${'Nothing sent in the ' + wl + '.'} /></div>
        <div class="panel"><${BarChart} id="chart-p95" title=${'Slowest p95 latency per endpoint, ' + wl} series=${[{ name: 'p95', cls: 'warn' }]}
          rows=${slowest.map((e) => ({ label: short(e.url), title: e.url + ' (' + e.endpoint_id + ')', values: [e.latency_ms.p95] }))}
          fmt=${fmtMs} empty="No responses in this window." /></div>
      </div>
      <h2>Worst first-attempt success rate</h2>
      <${EndpointTable} id="worst-endpoints" tenant=${tenant} rows=${worst} caption="Endpoints with the worst first-attempt success rate"
        health=${can('endpoints:read') ? health.data || {} : null}
        empty=${s.total.sent ? 'Every first attempt succeeded in the ' + wl + '.' : 'Nothing sent in the ' + wl + '.'} />
      <h2>Most common failure reasons</h2>
      <div class="panel"><${BarChart} id="chart-failures" title=${'Failed attempts by reason, ' + wl} series=${[{ name: 'attempts', cls: 'bad' }]}
        rows=${s.total.top_failures.map((f) => ({ label: f.reason, values: [f.count] }))}
        fmt=${fmtNum} empty="No failed attempts in this window." /></div>` : null}
  </section>`;
}
