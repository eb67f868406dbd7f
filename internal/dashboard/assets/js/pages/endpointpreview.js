// The request preview: what an endpoint would send for a sample event or
// a past one, rendered by the server so what is shown is exactly what goes
// out (credentials and signatures masked). Beside a form it renders the
// form's unsaved values (a draft: PATCH's fields on …/endpoints/{id}/preview,
// a create's on …/endpoint-preview, where nothing is saved); on the
// endpoint's page, its saved settings. It re-renders, debounced, as the
// sample or the draft changes and whenever the endpoint is saved.

import { api, tenantPath } from '../api.js';
import { html, useState, useEffect, useApp, ErrorBox, Field, Json } from '../ui.js';
import { endpointPath } from './endpointparts.js';

// The samples typed in this tab, per endpoint, so the edit form and the
// endpoint's page show the same one; memory only, gone with the tab.
const samples = new Map();

function defaultType(types) {
  const t = (types || []).find((x) => x !== '*') || '';
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

// RecentEvents offers the endpoint's recent events, or the tenant's for an
// endpoint not created yet (one event per row: it may have gone to many).
function RecentEvents({ tenant, ep, value, onPick }) {
  const [rows, setRows] = useState([]);
  const epID = ep ? ep.id : '';
  useEffect(() => {
    let live = true;
    const path = epID ? endpointPath(tenant, epID, '/deliveries?limit=20') : tenantPath(tenant, '/deliveries?limit=50');
    api('GET', path).then((p) => {
      if (!live) return;
      const seen = new Set();
      setRows((p.data || []).filter((r) => !seen.has(r.event_id) && seen.add(r.event_id)).slice(0, 20));
    }, () => {});
    return () => { live = false; };
  }, [tenant, epID]);
  if (!rows.length) return null;
  return html`<${Field} label="Recent events" id="preview-recent">
    <select id="preview-recent" value=${rows.some((r) => r.event_id === value) ? value : ''} onChange=${(e) => e.target.value && onPick(e.target.value)}>
      <option value="">Pick one…</option>
      ${rows.map((r) => html`<option value=${r.event_id}>${r.event_type} · ${r.event_id}</option>`)}
    </select>
  <//>`;
}

// EndpointPreview renders ep's request (ep null: a new endpoint's). With
// draft (the form's fields as the API takes them) it renders those over
// ep; draftErrors are the form's own mistakes, which the server is not
// asked about. onError hears the preview's error (null once it renders),
// so the form can put it under the field it names.
export default function EndpointPreview({ tenant, ep, draft, draftErrors, types, onError, note }) {
  const { can } = useApp();
  const sampleKey = ep ? ep.id : '';
  const saved = samples.get(sampleKey) || { source: 'sample', type: defaultType(ep ? ep.event_types : types), payload: '{\n  \n}', eventId: '' };
  const [s, setS] = useState(saved);
  useEffect(() => { samples.set(sampleKey, s); }, [s, sampleKey]);
  const set = (k) => (e) => setS((x) => ({ ...x, [k]: e.target.value, typed: x.typed || k === 'type' }));
  // A new endpoint's sample follows the types the form subscribes to
  // until its type is typed.
  const type = !ep && !s.typed ? defaultType(types) : s.type;
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
      input = { event: { type: type.trim(), payload } };
    } catch (e) {
      payloadError = 'not JSON: ' + e.message;
    }
  }
  // Why the draft cannot be rendered yet, said instead of a stale answer.
  let wait = '';
  if (draftErrors && Object.keys(draftErrors).length) wait = 'The form has a mistake (shown at its field): fix it to see the request.';
  else if (!ep && !(draft && draft.url)) wait = 'Type the URL to see the request.';
  if (input && draft && Object.keys(draft).length) input = { ...input, endpoint: draft };
  if (wait) input = null;
  const key = JSON.stringify(input) + '|' + (ep ? ep.updated_at : '');
  const debounced = useDebounced(key, 300);
  const [res, setRes] = useState({ busy: false, data: null, error: null });
  useEffect(() => {
    if (!input || (ep && ep.deleted_at)) {
      // Nothing to render from: an old answer would pass for this one.
      setRes({ busy: false, data: null, error: null });
      return undefined;
    }
    const ctl = new AbortController();
    setRes((r) => ({ ...r, busy: true }));
    const path = ep ? endpointPath(tenant, ep.id, '/preview') : tenantPath(tenant, '/endpoint-preview');
    api('POST', path, input, { signal: ctl.signal }).then(
      (data) => setRes({ busy: false, data, error: null }),
      (error) => { if (error.name !== 'AbortError') setRes({ busy: false, data: null, error }); },
    );
    return () => ctl.abort();
  }, [debounced]);
  useEffect(() => { if (onError) onError(res.error); }, [res.error]);

  const req = res.data;
  return html`<section class="panel preview" aria-labelledby="preview-title" aria-busy=${res.busy ? 'true' : 'false'}>
    <h2 id="preview-title">Request preview ${res.busy ? html`<span class="spinner" aria-label="rendering"></span>` : null}</h2>
    ${note ? html`<p class="hint">${note}</p>` : null}
    ${wait ? html`<p class="muted" id="preview-wait" role="status">${wait}</p>` : null}
    ${canEvents ? html`<div class="row preview-source" role="radiogroup" aria-label="Render from">
      <label class="check"><input type="radio" name="preview-source" value="sample" checked=${source === 'sample'} onChange=${set('source')} /> A sample event</label>
      <label class="check"><input type="radio" name="preview-source" value="event" checked=${source === 'event'} onChange=${set('source')} /> A past event</label>
    </div>` : null}
    ${source === 'sample'
      ? html`<${Field} label="Event type" id="preview-type"><input id="preview-type" value=${type} onInput=${set('type')} /><//>
        <${Field} label="Payload (JSON, the event's data)" id="preview-payload" error=${payloadError}>
          <textarea id="preview-payload" rows="6" spellcheck=${false} value=${s.payload} onInput=${set('payload')}></textarea>
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
