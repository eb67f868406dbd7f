// Server health (operator, outside any tenant): is the server ready, the
// server-wide gauges from /metrics, and the endpoints that need a look in
// every tenant (disabled, circuit open, failing). There is no server-wide
// endpoint query, so the page walks tenants and their endpoints page by
// page, a few tenants at a time, within fixed bounds that it states.

import { api, tenantPath, qs } from '../api.js';
import { html, useState, useEffect, ErrorBox, Loading, Link, Badge, fmtNum, fmtPct, fmtTime } from '../ui.js';
import { parseMetrics, gauge } from '../metrics.js';

const maxTenants = 200; // tenants whose endpoints are walked
const maxEndpointPages = 10; // of 100 endpoints each, per tenant
const parallel = 4; // tenants walked at once

// pages follows a list's cursors, at most max pages.
async function pages(path, params, max, signal) {
  const rows = [];
  let cursor = '';
  for (let i = 0; i < max; i++) {
    const p = await api('GET', path + qs({ ...params, cursor }), undefined, { signal });
    rows.push(...(p.data || []));
    if (!p.next_cursor) return { rows, more: false };
    cursor = p.next_cursor;
  }
  return { rows, more: true };
}

// problem says what is wrong with an endpoint, worst first, or null. A
// failing share of its last hour's attempts counts when at least half
// failed: an occasional 503 is a receiver's bad minute, not a problem.
function problem(ep, st) {
  const circuit = ep.circuit ? ep.circuit.state : 'closed';
  if (ep.disabled) return { rank: 0, status: 'disabled', what: 'disabled' + (ep.disabled_reason ? ' (' + ep.disabled_reason + ')' : '') };
  if (circuit === 'open') return { rank: 1, status: 'open', what: 'circuit open' };
  if (circuit === 'half_open') return { rank: 2, status: 'half_open', what: 'circuit half open' };
  if (ep.failing_since) return { rank: 3, status: 'failed', what: 'failing since ' + fmtTime(ep.failing_since) };
  if (st && st.attempts > 0 && st.failed_attempts * 2 >= st.attempts) return { rank: 4, status: 'retrying', what: 'failing attempts' };
  return null;
}

async function walkTenant(t, signal) {
  const [eps, stats] = await Promise.all([
    pages(tenantPath(t.id, '/endpoints'), { limit: 100 }, maxEndpointPages, signal),
    api('GET', tenantPath(t.id, '/stats') + qs({ window: '1h' }), undefined, { signal }),
  ]);
  const byId = Object.fromEntries(stats.endpoints.map((e) => [e.endpoint_id, e]));
  const found = [];
  for (const ep of eps.rows) {
    const st = byId[ep.id];
    const pr = problem(ep, st);
    if (pr) found.push({ tenant: t.id, ep, st, ...pr });
  }
  return { found, endpoints: eps.rows.length, more: eps.more };
}

// useWalk walks the tenants once per run (n), reporting progress as it goes.
function useWalk(n) {
  const [state, setState] = useState({ running: true, done: 0, tenants: null, endpoints: 0, found: [], errors: [], capped: false });
  useEffect(() => {
    const ac = new AbortController();
    let live = true;
    const set = (f) => live && setState(f);
    set(() => ({ running: true, done: 0, tenants: null, endpoints: 0, found: [], errors: [], capped: false, moreTenants: false }));
    (async () => {
      let all;
      try {
        all = await pages('/v1/tenants', { limit: 100 }, 10, ac.signal);
      } catch (e) {
        if (e.name !== 'AbortError') set((s) => ({ ...s, running: false, errors: [{ tenant: '', error: e }] }));
        return;
      }
      const walk = all.rows.slice(0, maxTenants);
      set((s) => ({ ...s, tenants: all.rows.length, moreTenants: all.more, capped: all.rows.length > maxTenants }));
      let next = 0;
      const worker = async () => {
        while (next < walk.length && live) {
          const t = walk[next++];
          try {
            const r = await walkTenant(t, ac.signal);
            set((s) => ({ ...s, done: s.done + 1, endpoints: s.endpoints + r.endpoints, capped: s.capped || r.more, found: [...s.found, ...r.found] }));
          } catch (e) {
            if (e.name === 'AbortError') return;
            set((s) => ({ ...s, done: s.done + 1, errors: [...s.errors, { tenant: t.id, error: e }] }));
          }
        }
      };
      await Promise.all(Array.from({ length: parallel }, worker));
      set((s) => ({ ...s, running: false }));
    })();
    return () => { live = false; ac.abort(); };
  }, [n]);
  return state;
}

function Ready({ n }) {
  const [r, setR] = useState(null);
  useEffect(() => {
    fetch('/readyz', { cache: 'no-store', credentials: 'omit' }).then(
      async (res) => setR({ ok: res.ok, status: ((await res.json().catch(() => ({}))).status) || String(res.status) }),
      (e) => setR({ ok: false, status: 'unreachable: ' + e.message }),
    );
  }, [n]);
  return html`<div class="card" id="card-ready"><div class="label">Readiness (/readyz)</div>
    <div class="value">${r ? html`<${Badge} status=${r.ok ? 'active' : 'failed'} label=${r.status} />` : '…'}</div></div>`;
}

function Gauges({ n }) {
  const [m, setM] = useState({ loading: true });
  useEffect(() => {
    setM({ loading: true });
    api('GET', '/metrics').then((t) => setM({ data: parseMetrics(t) }), (e) => setM({ error: e }));
  }, [n]);
  if (m.loading) return html`<${Loading} what="metrics" />`;
  if (m.error && m.error.status === 404) {
    return html`<p class="notice" id="metrics-elsewhere">This listener does not serve <code>/metrics</code>: read the server's metrics where your configuration serves them.</p>`;
  }
  if (m.error) return html`<${ErrorBox} error=${m.error} />`;
  const g = (name) => gauge(m.data, name);
  const sum = (name) => (m.data[name] || []).reduce((a, s) => a + s.value, 0);
  const cards = [
    ['Endpoints', fmtNum(g('hookline_endpoints'))],
    ['Disabled', fmtNum(g('hookline_endpoints_disabled'))],
    ['Paused', fmtNum(g('hookline_endpoints_paused'))],
    ['Circuit open', fmtNum(g('hookline_circuit_open_endpoints'))],
    ['Queue depth', fmtNum(g('hookline_queue_depth_deliveries'))],
    ['Retry backlog', fmtNum(g('hookline_retry_backlog_deliveries'))],
    ['Events ingested', fmtNum(sum('hookline_ingest_events_total'))],
    ['Disk free (WAL)', g('hookline_wal_disk_free_bytes') === null ? '–' : fmtNum(g('hookline_wal_disk_free_bytes') / 2 ** 30, 1) + ' GiB'],
  ];
  const pressure = g('hookline_ingest_backpressure');
  return html`<div class="cards" id="metrics-cards">
    ${cards.map(([l, v]) => html`<div class="card"><div class="label">${l}</div><div class="value">${v}</div></div>`)}
    ${pressure ? html`<div class="card bad"><div class="label">Ingest back-pressure</div><div class="value">on</div></div>` : null}
  </div>`;
}

export default function Health() {
  const [n, setN] = useState(0);
  const w = useWalk(n);
  const found = [...w.found].sort((a, b) => a.rank - b.rank || a.tenant.localeCompare(b.tenant));
  return html`<section>
    <div class="page-head"><h1>Server health</h1><span class="spacer"></span>
      <button type="button" onClick=${() => setN((x) => x + 1)} disabled=${w.running}>Refresh</button></div>
    <div class="cards">
      <${Ready} n=${n} />
      <div class="card" id="card-tenants"><div class="label">Tenants</div>
        <div class="value">${w.tenants === null ? '…' : fmtNum(w.tenants) + (w.moreTenants ? '+' : '')}</div></div>
      <div class="card"><div class="label">Endpoints checked</div><div class="value">${fmtNum(w.endpoints)}</div></div>
    </div>
    <h2>Server metrics</h2>
    <${Gauges} n=${n} />
    <h2>Endpoints needing attention</h2>
    ${w.running ? html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>
      Checking tenants: ${fmtNum(w.done)} of ${w.tenants === null ? '…' : fmtNum(Math.min(w.tenants, maxTenants))}</p>` : null}
    ${w.capped ? html`<p class="notice">Checked the first ${fmtNum(maxTenants)} tenants and ${fmtNum(maxEndpointPages * 100)} endpoints of each; open a tenant's endpoints page for the rest.</p>` : null}
    ${w.errors.map((e) => html`<div><strong>${e.tenant}</strong><${ErrorBox} error=${e.error} /></div>`)}
    <div class="table-wrap"><table id="attention-table">
      <thead><tr><th>Tenant</th><th>Endpoint</th><th>State</th><th class="num">Attempts (1h)</th><th class="num">Failed (1h)</th><th>Top failure (1h)</th></tr></thead>
      <tbody>
        ${found.length === 0 && !w.running ? html`<tr><td colspan="6" class="empty">Every endpoint checked is healthy.</td></tr>` : null}
        ${found.map((f) => html`<tr>
          <td><${Link} to=${'/t/' + encodeURIComponent(f.tenant) + '/overview'}>${f.tenant}<//></td>
          <td class="url"><${Link} to=${'/t/' + encodeURIComponent(f.tenant) + '/endpoints/' + encodeURIComponent(f.ep.id)}>${f.ep.url}<//>
            <div class="muted small">${f.ep.id}</div></td>
          <td><${Badge} status=${f.status} label=${f.what} /></td>
          <td class="num">${f.st ? fmtNum(f.st.attempts) : '–'}</td>
          <td class="num">${f.st ? fmtNum(f.st.failed_attempts) + (f.st.attempts ? ' (' + fmtPct(f.st.failed_attempts / f.st.attempts) + ')' : '') : '–'}</td>
          <td>${f.st && f.st.top_failures.length ? html`<span class="badge bad">${f.st.top_failures[0].reason}</span> ×${fmtNum(f.st.top_failures[0].count)}` : html`<span class="muted">–</span>`}</td>
        </tr>`)}
      </tbody></table></div>
  </section>`;
}
