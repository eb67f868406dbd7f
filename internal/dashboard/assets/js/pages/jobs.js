// Jobs: a tenant's bulk replays, backfills and cancels, newest first, with
// their progress. While one runs the list refreshes itself, so progress
// moves without a click; a running job can be stopped (after a
// confirmation: what it has re-sent stays sent).

import { api, tenantPath } from '../api.js';
import { html, useState, useEffect, useApp, usePager, Pager, ErrorBox, Loading, Confirm, Badge, fmtTime, fmtNum } from '../ui.js';

const refreshEvery = 2000; // ms between refreshes while a job runs

function Progress({ j }) {
  const p = j.progress || {};
  const total = p.matched || 0;
  return html`<div class="job-progress">
    ${j.state === 'running'
      ? html`<progress max=${Math.max(total, 1)} value=${Math.min(p.done || 0, Math.max(total, 1))} aria-label=${'progress of ' + j.id}></progress>`
      : null}
    <div class="small">${fmtNum(p.done)} done of ${fmtNum(p.matched)} matched · ${fmtNum(p.scanned)} scanned${p.skipped ? ' · ' + fmtNum(p.skipped) + ' skipped' : ''}</div>
    ${p.position ? html`<div class="small muted">reached ${fmtTime(p.position)}</div>` : null}
  </div>`;
}

// What the job works on: its filter, as the API took it.
function Scope({ j }) {
  const parts = [];
  if (j.status) parts.push('status ' + j.status);
  if (j.type) parts.push('type ' + j.type);
  if (j.since) parts.push('since ' + fmtTime(j.since));
  if (j.until) parts.push('until ' + fmtTime(j.until));
  if (j.rate_per_second) parts.push(j.rate_per_second + '/s');
  return html`<span class="small">${parts.join(' · ')}</span>`;
}

export default function Jobs({ tenant }) {
  const { can } = useApp();
  const p = usePager(tenantPath(tenant, '/jobs'), {});
  const [stopping, setStopping] = useState(null);
  const running = p.rows.some((j) => j.state === 'running');
  useEffect(() => {
    if (!running) return;
    const iv = setInterval(p.reload, refreshEvery);
    return () => clearInterval(iv);
  }, [running, p.page]);
  const base = '#/t/' + encodeURIComponent(tenant);
  return html`<section>
    <div class="page-head"><h1>Jobs</h1><span class="spacer"></span>
      ${running ? html`<span class="muted small" role="status"><span class="spinner" aria-hidden="true"></span> refreshing while jobs run</span>` : null}
      <button type="button" onClick=${p.reload} disabled=${p.loading}>Refresh</button></div>
    <p class="muted">Bulk replays, backfills and cancels, started from the deliveries page or the API.</p>
    <${ErrorBox} error=${p.error} />
    ${p.loading && !p.rows.length ? html`<${Loading} what="jobs" />` : html`<div class="table-wrap"><table id="jobs-table">
      <thead><tr><th>Job</th><th>Endpoint</th><th>State</th><th>Progress</th><th>Started · finished</th><th><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${p.rows.length === 0 && !p.error ? html`<tr><td colspan="6" class="empty">No jobs yet.</td></tr>` : null}
        ${p.rows.map((j) => html`<tr id=${'job-' + j.id}>
          <td><strong>${j.kind}</strong> <code class="small">${j.id}</code><div><${Scope} j=${j} /></div></td>
          <td>${!j.endpoint_id ? html`<span class="muted">–</span>`
            : can('endpoints:read') ? html`<a href=${base + '/endpoints/' + encodeURIComponent(j.endpoint_id)}>${j.endpoint_id}</a>`
            : html`<code class="small">${j.endpoint_id}</code>`}</td>
          <td><${Badge} status=${j.state} />
            ${j.error ? html`<div class="field-error">${j.error.message} <code>${j.error.code}</code></div>` : null}</td>
          <td class="progress-cell"><${Progress} j=${j} /></td>
          <td class="small">${fmtTime(j.created_at)}<div class="muted">${j.finished_at ? fmtTime(j.finished_at) : 'not finished'}</div></td>
          <td>${j.state === 'running' && can('deliveries:replay')
            ? html`<button type="button" class="small danger" onClick=${() => setStopping(j)}>Stop</button>` : null}</td>
        </tr>`)}
      </tbody></table></div>`}
    <${Pager} p=${p} label="job pages" />
    <${Confirm} title="Stop job" open=${!!stopping} danger confirmLabel="Stop job"
      onClose=${() => setStopping(null)}
      onConfirm=${async () => {
        await api('POST', tenantPath(tenant, '/jobs/' + encodeURIComponent(stopping.id) + '/stop'));
        p.reload();
      }}>
      ${stopping ? html`<p>Stop ${stopping.kind} job <code>${stopping.id}</code>? What it has done so far stays done
        (${fmtNum(stopping.progress.done)} of ${fmtNum(stopping.progress.matched)}); it cannot be resumed.</p>` : null}
    <//>
  </section>`;
}
