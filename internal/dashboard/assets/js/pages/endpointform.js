// The endpoint form, for a new endpoint and for changing one: where it
// sends, what it subscribes to, how fast and in what order, and the
// outbound request's shape. Beside it, the request preview of the form as
// it is, saved or not. Only the fields that differ from what is stored (or
// from the defaults, for a new one) are sent, to the preview as to the
// save, so write-only credentials shown masked are never sent back as if
// they were the real ones.

import { api, tenantPath } from '../api.js';
import { html, useState, useEffect, useApp, useAsync, ErrorBox, Loading, Field, CopyOnce, Link } from '../ui.js';
import { endpointPath, errorField } from './endpointparts.js';
import EndpointPreview from './endpointpreview.js';

const methods = ['POST', 'PUT', 'PATCH', 'DELETE'];
const schemes = [
  ['standard-webhooks', 'Standard Webhooks (default)'],
  ['hmac-sha256', 'HMAC-SHA256 of the body (GitHub style)'],
  ['stripe', 'Stripe style (t=…,v1=…)'],
  ['ed25519', 'Ed25519 (Standard Webhooks v1a)'],
  ['none', 'None'],
];

const pretty = (v) => (v === undefined || v === null ? '' : JSON.stringify(v, null, 2));

// valuesOf is the form's state for an endpoint (or a new one).
function valuesOf(ep) {
  const sig = (ep && ep.signature) || {};
  const types = ep ? ep.event_types : ['*'];
  const all = types.length === 1 && types[0] === '*';
  return {
    url: ep ? ep.url : '',
    description: ep ? ep.description : '',
    allTypes: all,
    types: all ? [] : types,
    max_in_flight: ep ? String(ep.max_in_flight) : '',
    rate_limit: ep && ep.rate_limit ? String(ep.rate_limit) : '',
    ordering: (ep && ep.ordering) || '',
    retry: ep && ep.retry_schedule ? ep.retry_schedule.join(', ') : '',
    method: (ep && ep.method) || 'POST',
    headers: ep && ep.headers ? Object.entries(ep.headers).map(([name, value]) => ({ name, value })) : [],
    authMode: ep && ep.auth ? 'keep' : 'none',
    auth: { token: '', username: '', password: '', name: '', value: '' },
    body: pretty(ep && ep.body),
    filter: pretty(ep && ep.filter),
    scheme: sig.scheme || 'standard-webhooks',
    sigHeader: sig.header || '',
    sigPrefix: sig.prefix || '',
    sigEncoding: sig.encoding || '',
    secret: '',
  };
}

// requestOf turns form values into the API's fields, and the mistakes the
// page can see without asking (JSON that does not parse, a number that is
// not one) into field errors.
function requestOf(v) {
  const out = {};
  const errs = {};
  out.url = v.url.trim();
  out.description = v.description;
  out.event_types = v.allTypes ? ['*'] : v.types;
  if (!v.allTypes && !v.types.length) errs.event_types = 'Pick at least one event type or pattern, or all events.';
  const int = (k, s) => {
    if (s.trim() === '') return;
    if (!/^\d+$/.test(s.trim())) errs[k] = 'A whole number.';
    else out[k] = Number(s);
  };
  int('max_in_flight', v.max_in_flight);
  out.rate_limit = 0;
  int('rate_limit', v.rate_limit);
  out.ordering = v.ordering;
  out.retry_schedule = v.retry.split(/[\s,]+/).filter(Boolean);
  out.method = v.method;
  const hs = v.headers.filter((h) => h.name.trim() || h.value);
  out.headers = hs.length ? Object.fromEntries(hs.map((h) => [h.name.trim(), h.value])) : null;
  const a = v.auth;
  switch (v.authMode) {
    case 'bearer': out.auth = { type: 'bearer', token: a.token }; break;
    case 'basic': out.auth = { type: 'basic', username: a.username, password: a.password }; break;
    case 'header': out.auth = { type: 'header', name: a.name, value: a.value }; break;
    case 'none': out.auth = null; break;
    default: break; // keep: the stored credentials stay as they are
  }
  for (const k of ['body', 'filter']) {
    if (!v[k].trim()) {
      out[k] = null;
      continue;
    }
    try {
      out[k] = JSON.parse(v[k]);
    } catch (e) {
      errs[k] = 'Not JSON (' + e.message + '). A string template is written in quotes: "New lead {$.data.email}".';
    }
  }
  const sig = { scheme: v.scheme };
  if (v.scheme === 'hmac-sha256' || v.scheme === 'stripe') {
    if (v.sigHeader.trim()) sig.header = v.sigHeader.trim();
  }
  if (v.scheme === 'hmac-sha256') {
    if (v.sigPrefix) sig.prefix = v.sigPrefix;
    if (v.sigEncoding) sig.encoding = v.sigEncoding;
  }
  out.signature = sig;
  if (v.secret.trim()) out.secret = v.secret.trim();
  return { out, errs };
}

// The fields' labels, for the note that points at the field the server
// refused.
const fieldLabels = {
  url: 'URL', description: 'Description', event_types: 'Event types', max_in_flight: 'Concurrency',
  rate_limit: 'Rate limit', ordering: 'Ordering', retry_schedule: 'Retry schedule', method: 'Method',
  headers: 'Headers', auth: 'Authentication', body: 'Body template', filter: 'Filter', signature: 'Signature', secret: 'Secret',
};

// changes keeps the fields of next that differ from base; url and
// event_types always go on a create.
function changes(next, base, creating) {
  const out = {};
  for (const [k, val] of Object.entries(next)) {
    if (creating && (k === 'url' || k === 'event_types')) out[k] = val;
    else if (JSON.stringify(val) !== JSON.stringify(base[k])) out[k] = val;
  }
  return out;
}

function EventTypesPicker({ tenant, v, setV, error }) {
  const { can } = useApp();
  const cat = useAsync(() => (can('event-types:read') ? api('GET', tenantPath(tenant, '/event-types?limit=1000')) : Promise.resolve({ data: [] })), [tenant]);
  const known = ((cat.data && cat.data.data) || []).map((t) => t.type);
  const patterns = v.types.filter((t) => !known.includes(t));
  const [text, setText] = useState(null); // the patterns as typed, until blur
  const toggle = (t) => (e) => setV((s) => ({ ...s, types: e.target.checked ? [...s.types, t] : s.types.filter((x) => x !== t) }));
  const setPatterns = (str) => {
    setText(str);
    const typed = str.split(/[\s,]+/).filter(Boolean);
    setV((s) => ({ ...s, types: [...s.types.filter((t) => known.includes(t)), ...typed] }));
  };
  return html`<fieldset class=${'field' + (error ? ' invalid' : '')} aria-describedby=${error ? 'ep-types-error' : undefined}>
    <legend>Event types</legend>
    <label class="check"><input type="checkbox" id="ep-all-types" checked=${v.allTypes} onChange=${(e) => setV((s) => ({ ...s, allTypes: e.target.checked }))} /> All events (<code>*</code>)</label>
    ${v.allTypes ? null : html`
      ${cat.loading ? html`<${Loading} what="the event-type catalogue" />` : null}
      ${cat.error ? html`<${ErrorBox} error=${cat.error} />` : null}
      ${known.length ? html`<div class="type-picks" role="group" aria-label="The tenant's event types">
        ${known.map((t) => html`<label class="check"><input type="checkbox" value=${t} checked=${v.types.includes(t)} onChange=${toggle(t)} /> <code>${t}</code></label>`)}
      </div>` : null}
      <label for="ep-patterns">${known.length ? 'Other types or patterns' : 'Types or patterns'}</label>
      <input id="ep-patterns" placeholder="invoice.*, customer.created" value=${text ?? patterns.join(', ')}
        onInput=${(e) => setPatterns(e.target.value)} onBlur=${() => setText(null)} />
      <p class="hint">Exact types, <code>prefix.*</code>, comma or space separated.</p>`}
    ${error ? html`<p class="field-error" role="alert" id="ep-types-error">${error}</p>` : null}
  </fieldset>`;
}

function HeadersEditor({ v, setV, error }) {
  const setRow = (i, k) => (e) => setV((s) => ({ ...s, headers: s.headers.map((h, j) => (j === i ? { ...h, [k]: e.target.value } : h)) }));
  return html`<fieldset class=${'field' + (error ? ' invalid' : '')}>
    <legend>Headers</legend>
    ${v.headers.map((h, i) => html`<div class="row header-row">
      <input aria-label=${'Header ' + (i + 1) + ' name'} class="header-name" placeholder="X-Team" value=${h.name} onInput=${setRow(i, 'name')} />
      <input aria-label=${'Header ' + (i + 1) + ' value'} placeholder="growth" value=${h.value} onInput=${setRow(i, 'value')} />
      <button type="button" class="small" aria-label=${'Remove header ' + (i + 1)} onClick=${() => setV((s) => ({ ...s, headers: s.headers.filter((_, j) => j !== i) }))}>Remove</button>
    </div>`)}
    <button type="button" class="small" onClick=${() => setV((s) => ({ ...s, headers: [...s.headers, { name: '', value: '' }] }))}>Add header</button>
    ${error ? html`<p class="field-error" role="alert">${error}</p>` : null}
  </fieldset>`;
}

function AuthEditor({ ep, v, setV, error }) {
  const setA = (k) => (e) => setV((s) => ({ ...s, auth: { ...s.auth, [k]: e.target.value } }));
  const stored = ep && ep.auth;
  const desc = stored ? stored.type + (stored.name ? ' ' + stored.name : '') + (stored.token || stored.value || stored.username ? ' ' + (stored.token || stored.value || stored.username) : '') : '';
  return html`<${Field} label="Authentication" id="ep-auth" error=${error}
      hint=${stored ? 'Credentials are write-only: the stored ones are shown masked; pick a type to replace them.' : 'Sent with every request; stored encrypted, shown masked.'}>
    <select id="ep-auth" value=${v.authMode} onChange=${(e) => setV((s) => ({ ...s, authMode: e.target.value }))}>
      ${stored ? html`<option value="keep">Keep the stored ${desc}</option>` : null}
      <option value="none">${stored ? 'Remove it' : 'None'}</option>
      <option value="bearer">Bearer token</option>
      <option value="basic">Basic (user name and password)</option>
      <option value="header">A header of your choice</option>
    </select>
  <//>
  ${v.authMode === 'bearer' ? html`<${Field} label="Token" id="ep-auth-token"><input id="ep-auth-token" type="password" autocomplete="off" value=${v.auth.token} onInput=${setA('token')} /><//>` : null}
  ${v.authMode === 'basic' ? html`<div class="grid2">
    <${Field} label="User name" id="ep-auth-user"><input id="ep-auth-user" autocomplete="off" value=${v.auth.username} onInput=${setA('username')} /><//>
    <${Field} label="Password" id="ep-auth-pass"><input id="ep-auth-pass" type="password" autocomplete="off" value=${v.auth.password} onInput=${setA('password')} /><//></div>` : null}
  ${v.authMode === 'header' ? html`<div class="grid2">
    <${Field} label="Header name" id="ep-auth-name"><input id="ep-auth-name" placeholder="X-Api-Key" value=${v.auth.name} onInput=${setA('name')} /><//>
    <${Field} label="Header value" id="ep-auth-value"><input id="ep-auth-value" type="password" autocomplete="off" value=${v.auth.value} onInput=${setA('value')} /><//></div>` : null}`;
}

function Form({ tenant, ep, onSaved, onDirty, onDraft, previewError }) {
  const creating = !ep;
  const [base] = useState(() => requestOf(valuesOf(ep)).out);
  const [v, setV] = useState(() => valuesOf(ep));
  const [errs, setErrs] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setV((s) => ({ ...s, [k]: e.target.value }));
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const { out, errs: local } = requestOf(v);
    setErrs(local);
    if (Object.keys(local).length) return;
    const body = changes(out, base, creating);
    setBusy(true);
    try {
      const res = creating ? await api('POST', tenantPath(tenant, '/endpoints'), body) : await api('PATCH', endpointPath(tenant, ep.id), body);
      onSaved(res);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  // What the preview beside the form renders: the fields a save would
  // send now, and the mistakes the page sees itself (not sent).
  const now = requestOf(v);
  const draftKey = JSON.stringify([changes(now.out, base, creating), now.errs]);
  useEffect(() => { if (onDraft) onDraft({ draft: changes(now.out, base, creating), errs: now.errs }); }, [draftKey]);
  // Whether the form differs from what is stored: a "Saved" note would
  // not be true of it.
  const dirty = Object.keys(changes(now.out, base, false)).length > 0;
  useEffect(() => { if (onDirty) onDirty(dirty); }, [dirty]);
  // A field's error: the page's own, the save's, or the preview's (the
  // server checks a draft as it checks a save); render_failed is about the
  // sample event, so it stays in the preview.
  const placed = (err, k) => err && err.code !== 'render_failed' && errorField(err) === k;
  const fe = (k) => errs[k] || now.errs[k] || (placed(error, k) ? html`${error.message} <code>${error.code}</code>` : null) ||
    (placed(previewError, k) ? html`<span class="preview-field-error">${previewError.message} <code>${previewError.code}</code></span>` : null);
  const unplaced = error && !errorField(error) ? error : null;
  return html`<form onSubmit=${submit} class="endpoint-form" novalidate>
    <fieldset><legend>Destination</legend>
      <${Field} label="URL" id="ep-url" error=${fe('url')}
        hint=${html`http(s). <code>{$.data.id}</code> placeholders may stand in the path and query.`}>
        <input id="ep-url" type="url" required placeholder="https://example.com/webhooks" value=${v.url} onInput=${set('url')} />
      <//>
      <${Field} label="Description" id="ep-description" error=${fe('description')}>
        <input id="ep-description" value=${v.description} onInput=${set('description')} />
      <//>
    </fieldset>
    <${EventTypesPicker} tenant=${tenant} v=${v} setV=${setV} error=${fe('event_types')} />
    <fieldset><legend>Delivery</legend>
      <div class="grid2">
        <${Field} label="Rate limit (requests a second)" id="ep-rate" error=${fe('rate_limit')} hint="Empty or 0: no limit.">
          <input id="ep-rate" type="number" min="0" value=${v.rate_limit} onInput=${set('rate_limit')} />
        <//>
        <${Field} label="Concurrency (requests in flight)" id="ep-inflight" error=${fe('max_in_flight')} hint=${creating ? "Empty: the server's default." : '1 to 1000.'}>
          <input id="ep-inflight" type="number" min="1" value=${v.max_in_flight} onInput=${set('max_in_flight')} />
        <//>
      </div>
      <${Field} label="Retry schedule" id="ep-retry" error=${fe('retry_schedule')} hint="Delays before each retry, e.g. 5s, 5m, 30m, 2h. Empty: the server's schedule.">
        <input id="ep-retry" placeholder="5s, 5m, 30m, 2h, 5h, 10h, 10h" value=${v.retry} onInput=${set('retry')} />
      <//>
      <${Field} label="Ordering" id="ep-ordering" error=${fe('ordering')}>
        <select id="ep-ordering" value=${v.ordering} onChange=${set('ordering')}>
          <option value="">Concurrent (fastest)</option>
          <option value="fifo">In publish order, one at a time (a failing event holds the rest)</option>
        </select>
      <//>
    </fieldset>
    <fieldset><legend>Outbound request</legend>
      <${Field} label="Method" id="ep-method" error=${fe('method')}>
        <select id="ep-method" value=${v.method} onChange=${set('method')}>${methods.map((m) => html`<option value=${m}>${m}</option>`)}</select>
      <//>
      <${HeadersEditor} v=${v} setV=${setV} error=${fe('headers')} />
      <${AuthEditor} ep=${ep} v=${v} setV=${setV} error=${fe('auth')} />
      <${Field} label="Body template (JSON)" id="ep-body" error=${fe('body')}
        hint=${html`Empty: the standard envelope. <code>"$.data.x"</code> takes a value whole; <code>"New lead {$.data.email}"</code> is a string template.`}>
        <textarea id="ep-body" rows="6" spellcheck=${false} placeholder='{"text": "New lead {$.data.email}"}' value=${v.body} onInput=${set('body')}></textarea>
      <//>
      <${Field} label="Filter (JSON condition)" id="ep-filter" error=${fe('filter')} hint="Empty: every subscribed event. An event the filter refuses is not queued for this endpoint.">
        <textarea id="ep-filter" rows="3" spellcheck=${false} placeholder='{"path": "$.data.score", "gte": 80}' value=${v.filter} onInput=${set('filter')}></textarea>
      <//>
      <${Field} label="Signature" id="ep-scheme" error=${fe('signature')} hint=${creating ? null : 'Changing to a scheme the secret cannot serve makes a new secret, shown once after saving.'}>
        <select id="ep-scheme" value=${v.scheme} onChange=${set('scheme')}>${schemes.map(([k, l]) => html`<option value=${k}>${l}</option>`)}</select>
      <//>
      ${v.scheme === 'hmac-sha256' || v.scheme === 'stripe' ? html`<div class="grid2">
        <${Field} label="Signature header" id="ep-sig-header"><input id="ep-sig-header" placeholder=${v.scheme === 'stripe' ? 'Stripe-Signature' : 'X-Signature'} value=${v.sigHeader} onInput=${set('sigHeader')} /><//>
        ${v.scheme === 'hmac-sha256' ? html`<${Field} label="Prefix" id="ep-sig-prefix"><input id="ep-sig-prefix" placeholder="sha256=" value=${v.sigPrefix} onInput=${set('sigPrefix')} /><//>
        <${Field} label="Encoding" id="ep-sig-encoding"><select id="ep-sig-encoding" value=${v.sigEncoding} onChange=${set('sigEncoding')}>
          <option value="">hex (default)</option><option value="hex">hex</option><option value="base64">base64</option></select><//>` : null}
      </div>` : null}
      ${creating ? html`<${Field} label="Secret (optional)" id="ep-secret" error=${fe('secret')} hint="Empty: a random one, shown once after creating. Give one only to keep an existing integration's.">
        <input id="ep-secret" type="password" autocomplete="off" value=${v.secret} onInput=${set('secret')} />
      <//>` : null}
    </fieldset>
    <${ErrorBox} error=${unplaced} id="ep-form-error" />
    ${error && !unplaced ? html`<p class="field-error" role="status">Not saved: <code>${error.code}</code> on ${fieldLabels[errorField(error)]}, shown at the field.</p>` : null}
    <div class="actions">
      <${Link} to=${'/t/' + encodeURIComponent(tenant) + '/endpoints' + (ep ? '/' + encodeURIComponent(ep.id) : '')} class="button">Cancel<//>
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Saving…' : creating ? 'Create endpoint' : 'Save'}</button>
    </div>
  </form>`;
}

export default function EndpointForm({ tenant, id }) {
  const { can, navigate } = useApp();
  const st = useAsync(() => (id ? api('GET', endpointPath(tenant, id)) : Promise.resolve(null)), [tenant, id]);
  const [answered, setEp] = useState(null); // the endpoint as the last save answered
  const ep = answered || st.data;
  const [secret, setSecret] = useState(null); // { id, value }: shown once
  const [saved, setSaved] = useState(false);
  const [formKey, setFormKey] = useState(0);
  const [dirty, setDirty] = useState(false);
  const [draft, setDraft] = useState({ draft: {}, errs: {} });
  const [previewError, setPreviewError] = useState(null);
  const base = '/t/' + encodeURIComponent(tenant) + '/endpoints';
  if (!can('endpoints:write')) return html`<${ErrorBox} error=${{ code: 'forbidden', message: 'changing endpoints needs the endpoints:write scope' }} />`;
  if (id && st.loading && !ep) return html`<${Loading} what="the endpoint" />`;
  if (id && st.error) return html`<${ErrorBox} error=${st.error} />`;
  if (ep && ep.deleted_at) return html`<${ErrorBox} error=${{ code: 'endpoint_deleted', message: 'this endpoint is deleted; its settings can no longer change' }} />`;

  const onSaved = (res) => {
    const { secret: s, ...view } = res;
    if (s) setSecret({ id: res.id, value: s });
    if (!id) {
      setEp(view);
      return;
    }
    setEp(view);
    setSaved(true);
    setFormKey((k) => k + 1); // the form starts again from what is stored now
  };
  if (!id && ep) {
    // Created: the secret first, then the endpoint's page.
    return html`<section>
      <div class="page-head"><h1>Endpoint created</h1></div>
      <p class="success" role="status">Created <code>${ep.id}</code> for <span class="mono">${ep.url}</span>.</p>
      ${secret ? html`<${CopyOnce} label="Signing secret" value=${secret.value}
        onDone=${() => { setSecret(null); navigate(base + '/' + encodeURIComponent(ep.id)); }} />` : null}
    </section>`;
  }
  return html`<section>
    <div class="page-head"><h1>${id ? 'Edit endpoint' : 'New endpoint'}</h1><span class="spacer"></span>
      ${id ? html`<${Link} to=${base + '/' + encodeURIComponent(id)}>Back to the endpoint<//>` : null}</div>
    ${secret ? html`<${CopyOnce} label="New signing secret" value=${secret.value} onDone=${() => setSecret(null)} />` : null}
    ${saved && !dirty ? html`<p class="success" role="status" id="ep-saved">Saved. The preview shows the request as it is sent now.</p>` : null}
    <div class="split form-split">
      <${Form} tenant=${tenant} ep=${ep} key=${formKey} onSaved=${onSaved} onDirty=${setDirty} onDraft=${setDraft} previewError=${previewError} />
      <div>
        <${EndpointPreview} tenant=${tenant} ep=${ep} draft=${draft.draft} draftErrors=${draft.errs} types=${draft.draft.event_types}
          onError=${setPreviewError} note=${ep ? 'Rendered by the server from the form as it is now, saved or not, exactly as it would be sent.'
            : 'Rendered by the server from the form, exactly as the endpoint would send it once created. Nothing is saved until you create it.'} />
      </div>
    </div>
  </section>`;
}
