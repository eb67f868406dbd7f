// Work on a whole filtered log rather than one row: export it (every page
// walked, with a count and a way out) and replay it in bulk (counted
// first, confirmed twice, then followed as a job until it ends).

import { api, tenantPath } from '../api.js';
import { html, useState, useEffect, useRef, Dialog, ErrorBox, Badge, fmtNum } from '../ui.js';
import { walkDeliveries, toCSV, download } from './deliverylog.js';

// Export walks the filtered log and saves it as JSON or CSV.
export function Export({ tenant, params }) {
  const [state, setState] = useState(null); // {format, count} while running
  const [error, setError] = useState(null);
  const [done, setDone] = useState('');
  const abort = useRef(null);
  useEffect(() => () => abort.current && abort.current.abort(), []);
  const run = async (format) => {
    const ac = new AbortController();
    abort.current = ac;
    setError(null);
    setDone('');
    setState({ format, count: 0 });
    try {
      const { rows } = await walkDeliveries(tenant, params, { signal: ac.signal, onPage: (count) => setState({ format, count }) });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const name = 'deliveries-' + tenant + '-' + stamp + '.' + format;
      if (format === 'csv') download(name, toCSV(rows), 'text/csv');
      else download(name, JSON.stringify(rows, null, 2) + '\n', 'application/json');
      setDone('Exported ' + fmtNum(rows.length) + ' deliveries to ' + name + '.');
    } catch (e) {
      if (e.name === 'AbortError') setDone('Export cancelled.');
      else setError(e);
    } finally {
      abort.current = null;
      setState(null);
    }
  };
  return html`<div class="export">
    <div class="row">
      <span class="muted">Export</span>
      <button type="button" class="small" id="export-json" disabled=${!!state} onClick=${() => run('json')}>JSON</button>
      <button type="button" class="small" id="export-csv" disabled=${!!state} onClick=${() => run('csv')}>CSV</button>
      ${state ? html`<span role="status" class="export-progress"><span class="spinner" aria-hidden="true"></span> ${fmtNum(state.count)} rows read…</span>
        <button type="button" class="small" onClick=${() => abort.current && abort.current.abort()}>Cancel export</button>` : null}
    </div>
    ${done ? html`<p class="hint export-done" role="status">${done}</p>` : null}
    <${ErrorBox} error=${error} />
  </div>`;
}

// jobStatus is the replay job's status filter for the page's status
// filter: a job replays finished deliveries only.
export function jobStatus(status) {
  if (!status) return 'all';
  return ['dead', 'succeeded', 'cancelled'].includes(status) ? status : null;
}

const finished = ['dead', 'succeeded', 'cancelled'];

// BulkReplay replays what the filters select on one endpoint: it counts
// the matching deliveries by walking the listing (the job API has no dry
// run), asks, asks again, starts the job and shows its progress.
export function BulkReplay({ tenant, params, open, onClose }) {
  const [step, setStep] = useState('count'); // count, confirm, again, job
  const [count, setCount] = useState(0);
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const status = jobStatus(params.status);

  useEffect(() => {
    if (!open) return undefined;
    setStep('count');
    setJob(null);
    setError(null);
    setCount(0);
    const ac = new AbortController();
    // Without a status filter the listing holds waiting deliveries too;
    // the job (status all) takes only finished ones, so only those count.
    let n = 0;
    walkDeliveries(tenant, params, {
      signal: ac.signal,
      keep: false,
      onPage: (_, rows) => { n += rows.filter((d) => finished.includes(d.status)).length; setCount(n); },
    }).then(() => setStep('confirm'), (e) => e.name !== 'AbortError' && setError(e));
    return () => ac.abort();
  }, [open]);

  // The job runs on the server; follow it until it ends.
  useEffect(() => {
    if (!job || job.state !== 'running') return undefined;
    const t = setTimeout(() => {
      api('GET', tenantPath(tenant, '/jobs/' + encodeURIComponent(job.id))).then(setJob, setError);
    }, 1000);
    return () => clearTimeout(t);
  }, [job]);

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const body = { status, type: params.type || undefined, since: params.since, until: params.until };
      const j = await api('POST', tenantPath(tenant, '/endpoints/' + encodeURIComponent(params.endpoint) + '/replay'), body);
      setJob(j);
      setStep('job');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const filterText = [
    params.status ? 'status ' + params.status : 'every finished status',
    params.type ? 'type ' + params.type : null,
    params.since ? 'since ' + new Date(params.since).toLocaleString() : null,
    params.until ? 'until ' + new Date(params.until).toLocaleString() : null,
  ].filter(Boolean).join(', ');

  return html`<${Dialog} title="Replay deliveries in bulk" open=${open} onClose=${onClose}>
    <p>Endpoint <code>${params.endpoint}</code>, ${filterText}.</p>
    ${step === 'count' && !error ? html`<p role="status" class="bulk-count"><span class="spinner" aria-hidden="true"></span> Counting… ${fmtNum(count)} so far</p>` : null}
    ${step === 'confirm' ? html`<p class="bulk-count" role="status"><strong id="bulk-count">${fmtNum(count)}</strong> deliver${count === 1 ? 'y' : 'ies'} would be replayed.</p>` : null}
    ${step === 'again' ? html`<p class="notice" role="alert">Send <strong>${fmtNum(count)}</strong> deliveries to the endpoint again, now? The receiver gets each one once more; this cannot be taken back (the job can be stopped on the Jobs page).</p>` : null}
    ${step === 'job' && job ? html`<div class="bulk-job" role="status">
      <p>Job <code>${job.id}</code> <${Badge} status=${job.state} /></p>
      <progress max=${Math.max(job.progress.matched, count, 1)} value=${job.progress.done} aria-label="replayed"></progress>
      <p><span id="bulk-done">${fmtNum(job.progress.done)}</span> replayed of ${fmtNum(job.progress.matched)} matched (${fmtNum(job.progress.scanned)} scanned, ${fmtNum(job.progress.skipped)} skipped).</p>
      ${job.error ? html`<${ErrorBox} error=${job.error} />` : null}
    </div>` : null}
    <${ErrorBox} error=${error} />
    <div class="actions">
      <button type="button" onClick=${onClose}>${step === 'job' ? 'Close' : 'Cancel'}</button>
      ${step === 'confirm' ? html`<button type="button" class="primary" disabled=${count === 0} onClick=${() => setStep('again')}>Replay ${fmtNum(count)}…</button>` : null}
      ${step === 'again' ? html`<button type="button" class="danger" disabled=${busy} onClick=${start}>${busy ? 'Starting…' : 'Yes, replay ' + fmtNum(count) + ' now'}</button>` : null}
    </div>
  <//>`;
}
