// The request preview: what an endpoint would send for a sample event or
// a past one, rendered by the server (POST …/preview) from the endpoint's
// saved settings, so what is shown is exactly what goes out (credentials
// and signatures masked). It re-renders, debounced, as the sample changes
// and whenever the endpoint is saved.

import { api } from '../api.js';
import { html, useState, useEffect, useApp, ErrorBox, Field, Json } from '../ui.js';
import { endpointPath } from './endpointparts.js';

// The samples typed in this tab, per endpoint, so the edit form and the
// endpoint's page show the same one; memory only, gone with the tab.
const samples = new Map();

function defaultType(ep) {
  const t = (ep.event_types || []).find((x) => x !== '*') || '';
  if (!t) return 'test.event';
  return t.endsWith('.*') ? t.slice(0, -1) + 'example' : t;
}

// useDebounced is value once it has stopped changing for ms.
function useDebounced(value, ms) {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

function RecentEvents({ tenant, ep, value, onPick }) {
  const [rows, setRows] = useState([]);
  useEffect(() => {
    let live = true;
    api('GET', endpointPath(tenant, ep.id, '/deliveries?limit=20')).then((p) => live && setRows(p.data || []), () => {});
    return () => { live = false; };
  }, [tenant, ep.id]);
  if (!rows.length) return null;
  return html`<${Field} label="Recent events" id="preview-recent">
    <select id="preview-recent" value=${rows.some((r) => r.event_id === value) ? value : ''} onChange=${(e) => e.target.value && onPick(e.target.value)}>
      <option value="">Pick one…</option>
      ${rows.map((r) => html`<option value=${r.event_id}>${r.event_type} · ${r.event_id}</option>`)}
    </select>
  <//>`;
}

export default function EndpointPreview({ tenant, ep, note, dirty }) {
  const { can } = useApp();
  const saved = samples.get(ep.id) || { source: 'sample', type: defaultType(ep), payload: '{\n  \n}', eventId: '' };
  const [s, setS] = useState(saved);
  useEffect(() => { samples.set(ep.id, s); }, [s, ep.id]);
  const set = (k) => (e) => setS((x) => ({ ...x, [k]: e.target.value }));
  const canEvents = can('deliveries:read');
  const source = canEvents ? s.source : 'sample';

  // The request body for the preview, or the sample's own mistake.
  let input = null;
  let payloadError = '';
  if (source === 'event') {
    if (s.eventId.trim()) input = { event_id: s.eventId.trim() };
  } else {
    let payload;
    try {
      payload = s.payload.trim() ? JSON.parse(s.payload) : null;
      input = { event: { type: s.type.trim(), payload } };
    } catch (e) {
      payloadError = 'not JSON: ' + e.message;
    }
  }
  const key = JSON.stringify(input) + '|' + ep.updated_at;
  const debounced = useDebounced(key, 300);
  const [res, setRes] = useState({ busy: false, data: null, error: null });
  useEffect(() => {
    if (!input || ep.deleted_at) {
      // Nothing to render from: an old answer would pass for this one.
      setRes({ busy: false, data: null, error: null });
      return undefined;
    }
    const ctl = new AbortController();
    setRes((r) => ({ ...r, busy: true }));
    api('POST', endpointPath(tenant, ep.id, '/preview'), input, { signal: ctl.signal }).then(
      (data) => setRes({ busy: false, data, error: null }),
      (error) => { if (error.name !== 'AbortError') setRes({ busy: false, data: null, error }); },
    );
    return () => ctl.abort();
  }, [debounced]);

  const req = res.data;
  return html`<section class="panel preview" aria-labelledby="preview-title" aria-busy=${res.busy ? 'true' : 'false'}>
    <h2 id="preview-title">Request preview ${res.busy ? html`<span class="spinner" aria-label="rendering"></span>` : null}</h2>
    ${note ? html`<p class="hint">${note}</p>` : null}
    ${dirty ? html`<p class="notice" id="preview-unsaved" role="status">The form has unsaved changes: save to see them here.</p>` : null}
    ${canEvents ? html`<div class="row preview-source" role="radiogroup" aria-label="Render from">
      <label class="check"><input type="radio" name="preview-source" value="sample" checked=${source === 'sample'} onChange=${set('source')} /> A sample event</label>
      <label class="check"><input type="radio" name="preview-source" value="event" checked=${source === 'event'} onChange=${set('source')} /> A past event</label>
    </div>` : null}
    ${source === 'sample'
      ? html`<${Field} label="Event type" id="preview-type"><input id="preview-type" value=${s.type} onInput=${set('type')} /><//>
        <${Field} label="Payload (JSON, the event's data)" id="preview-payload" error=${payloadError}>
          <textarea id="preview-payload" rows="6" spellcheck="false" value=${s.payload} onInput=${set('payload')}></textarea>
        <//>`
      : html`<${RecentEvents} tenant=${tenant} ep=${ep} value=${s.eventId} onPick=${(id) => setS((x) => ({ ...x, eventId: id }))} />
        <${Field} label="Event ID" id="preview-event" hint="An event this tenant published (evt_…)."><input id="preview-event" value=${s.eventId} onInput=${set('eventId')} /><//>`}
    <div id="preview-out" aria-live="polite">
      <${ErrorBox} error=${res.error} id="preview-error" />
      ${req && !res.error ? html`
        ${req.filtered_out ? html`<p class="notice" id="preview-filtered">The endpoint's filter refuses this event: it would not be sent.</p>` : null}
        <pre class="json request" id="preview-request">${[req.method + ' ' + req.url, ...Object.keys(req.headers).sort().map((k) => k + ': ' + req.headers[k])].join('\n')}</pre>
        ${req.body ? html`<h3>Body</h3><div id="preview-body"><${Json} value=${req.body} /></div>` : html`<p class="muted">No body.</p>`}` : null}
    </div>
  </section>`;
}
