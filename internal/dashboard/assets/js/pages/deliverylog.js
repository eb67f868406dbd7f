// What the Deliveries and Events pages share about the delivery log: the
// filters kept in the hash query (so a link opens the same view), their
// translation into the API's parameters, walking every page of a filtered
// log (export, bulk replay's count), and the export file itself.

import { api, qs, tenantPath } from '../api.js';
import { fmtTime } from '../ui.js';

// The time ranges the filter offers; custom takes since/until from the
// query as typed.
export const ranges = [
  { id: '', label: 'Any time' },
  { id: '1h', label: 'Last hour', ms: 3600e3 },
  { id: '24h', label: 'Last 24 hours', ms: 24 * 3600e3 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 24 * 3600e3 },
  { id: '30d', label: 'Last 30 days', ms: 30 * 24 * 3600e3 },
  { id: 'custom', label: 'Custom' },
];

export const statuses = ['pending', 'retrying', 'succeeded', 'dead', 'cancelled'];

// filterKeys are the hash query's filter parameters, in the order a link
// shows them.
export const filterKeys = ['status', 'type', 'endpoint', 'range', 'since', 'until'];

// apiParams turns the hash query's filters into the listing's parameters.
// A relative range is anchored at now, the moment the filter was read:
// the caller keeps the result until the filters change or it refreshes,
// so paging does not shift under the user.
export function apiParams(q, now = Date.now()) {
  const p = { status: q.status, type: q.type, endpoint: q.endpoint };
  const r = ranges.find((x) => x.id === q.range);
  if (r && r.ms) p.since = new Date(now - r.ms).toISOString();
  if (q.range === 'custom') {
    p.since = localToISO(q.since);
    p.until = localToISO(q.until);
  }
  return p;
}

// localToISO reads a datetime-local value (the user's time zone) as
// RFC 3339; an unreadable one is passed through for the API to refuse
// with its own message.
function localToISO(v) {
  if (!v) return undefined;
  const d = new Date(v);
  return isNaN(d) ? v : d.toISOString();
}

// walkDeliveries reads every page of the tenant's log matching params,
// 1,000 rows a request, calling onPage(rowsSoFar) after each; signal stops
// it (an AbortError).
export async function walkDeliveries(tenant, params, { signal, onPage, keep = true } = {}) {
  const rows = [];
  let count = 0;
  let cursor = '';
  for (;;) {
    const page = await api('GET', tenantPath(tenant, '/deliveries') + qs({ ...params, limit: 1000, cursor }), undefined, { signal });
    const data = page.data || [];
    count += data.length;
    if (keep) rows.push(...data);
    if (onPage) onPage(count, data);
    if (!page.next_cursor || data.length === 0) return { rows, count };
    cursor = page.next_cursor;
  }
}

// eventTime reads the time an event was published from its id: event ids
// are ULIDs (evt_ and 26 Crockford base32 characters, the first ten the
// milliseconds since 1970), and a log row carries no other time of its own.
export function eventTime(id) {
  const m = /^evt_([0-9A-HJKMNP-TV-Z]{10})/i.exec(id || '');
  if (!m) return null;
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let ms = 0;
  for (const c of m[1].toUpperCase()) ms = ms * 32 + alphabet.indexOf(c);
  return new Date(ms);
}

// fmtWhen is ui.js's fmtTime, under the name this page's modules use.
export const fmtWhen = fmtTime;

const csvColumns = [
  ['event_id', (d) => d.event_id],
  ['event_type', (d) => d.event_type],
  ['event_time', (d) => { const t = eventTime(d.event_id); return t ? t.toISOString() : ''; }],
  ['endpoint_id', (d) => d.endpoint_id],
  ['status', (d) => d.status],
  ['attempts', (d) => d.attempts],
  ['last_attempt_at', (d) => d.last_attempt && d.last_attempt.at],
  ['last_outcome', (d) => d.last_attempt && d.last_attempt.outcome],
  ['last_status', (d) => d.last_attempt && d.last_attempt.status],
  ['last_latency_ms', (d) => d.last_attempt && d.last_attempt.latency_ms],
  ['last_error', (d) => d.last_attempt && (d.last_attempt.error || d.last_attempt.error_class)],
  ['next_attempt_at', (d) => d.next_attempt_at],
];

// csvCell quotes a value for RFC 4180 and defuses a leading = + - @ (a
// spreadsheet would run it as a formula: event types and errors come
// from whoever publishes or answers).
function csvCell(v) {
  let s = v === undefined || v === null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

export function toCSV(rows) {
  const lines = [csvColumns.map((c) => c[0]).join(',')];
  for (const d of rows) lines.push(csvColumns.map((c) => csvCell(c[1](d))).join(','));
  return lines.join('\r\n') + '\r\n';
}

// download saves text as a file through a blob: URL and a temporary
// <a download>. The page's CSP (default-src 'none') governs fetches and
// embedded content, not a download the user starts, so this is allowed;
// the browser tests check the file reaches the disk. The last export's
// text is kept on window for those tests to compare with the API.
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  window.__hooklineLastExport = { name, type, text };
}
