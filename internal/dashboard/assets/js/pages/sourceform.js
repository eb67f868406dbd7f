// The forms that change a source: create (provider from the presets,
// secret, mapping), edit (name, tolerance, verification settings; the
// provider and secret never change by edit) and rotate secret. The secret
// the API echoes on create and rotate is shown once, then dropped.

import { api, tenantPath } from '../api.js';
import { html, useState, ErrorBox, Field, CopyOnce } from '../ui.js';
import { providers, providerOf } from './providers.js';
import { MappingError } from './mappingeditor.js';

// The API codes each field answers for.
const fieldCodes = {
  name: ['invalid_name'],
  provider: ['missing_provider', 'invalid_provider', 'provider_not_patchable'],
  secret: ['missing_secret', 'invalid_secret', 'weak_secret', 'secret_unchanged'],
  tolerance: ['invalid_tolerance'],
  config: ['invalid_verification'],
  mapping: ['missing_mapping', 'invalid_mapping', 'reserved_event_type'],
  overlap: ['invalid_overlap'],
};

// fieldError is the error's message and code under field f when the API's
// code names that field (and the client-side error f has, if any).
export function fieldError(error, f, local) {
  if (local && local[f]) return local[f];
  if (!error || !fieldCodes[f].includes(error.code)) return null;
  if (f === 'mapping') return html`<${MappingError} error=${error} />`;
  return html`${error.message} <code>${error.code}</code>`;
}

export function otherError(error) {
  return error && !Object.values(fieldCodes).some((c) => c.includes(error.code)) ? error : null;
}

// parseJSON parses text as JSON for field f, recording a parse error in
// local; empty text is undefined (the field is left out).
function parseJSON(text, f, local) {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    local[f] = 'not JSON: ' + e.message;
    return undefined;
  }
}

const configHints = {
  hmac: 'The signature\'s header, algorithm, encoding, prefix… e.g. {"header": "X-Signature", "prefix": "sha256="}',
  api_key: 'Where the key comes: {"header": "X-Api-Key"} or {"query": "key"}',
  github: '{"allow_sha1": true} accepts the older X-Hub-Signature too.',
};

// SourceForm creates a source, or edits one (src given).
export function SourceForm({ tenant, src, onSaved, onCancel }) {
  const editing = !!src;
  const [name, setName] = useState(src ? src.name : '');
  const [provider, setProvider] = useState(src ? src.provider : '');
  const [secret, setSecret] = useState('');
  const [tolerance, setTolerance] = useState(src ? src.tolerance || '' : '');
  const pv = providerOf(provider);
  const initialConfig = src && pv && pv.config && src[pv.config] ? JSON.stringify(src[pv.config], null, 2) : '';
  const [config, setConfig] = useState(initialConfig);
  const [mapping, setMapping] = useState('');
  const [local, setLocal] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState(null); // the answer with the secret, until Done

  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const l = {};
    const body = { name };
    if (!editing) {
      if (!provider) l.provider = 'pick a provider';
      body.provider = provider;
      if (provider !== 'none') body.secret = secret;
      const m = parseJSON(mapping, 'mapping', l);
      if (m !== undefined) body.mapping = m;
      else if (!l.mapping && pv && pv.own) l.mapping = 'provider ' + provider + ' has no default mapping: give one, at least {"type": "…"}';
    }
    if (tolerance.trim() || (editing && src.tolerance)) body.tolerance = tolerance.trim();
    if (pv && pv.config) {
      const c = parseJSON(config, 'config', l);
      if (c !== undefined) body[pv.config] = c;
    }
    setLocal(l);
    if (Object.keys(l).length) return;
    setBusy(true);
    try {
      const saved = editing
        ? await api('PATCH', tenantPath(tenant, '/sources/' + encodeURIComponent(src.id)), body)
        : await api('POST', tenantPath(tenant, '/sources'), body);
      if (saved.secret) setCreated(saved);
      else onSaved(saved);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  // whatsapp and meta answer with a verify token too, for Meta's dashboard:
  // shown once, after the secret. The keys make the two prompts two
  // components, so "I have copied it" is asked again.
  if (created && created.secret) {
    return html`<${CopyOnce} key="secret" label="Signing secret" value=${created.secret}
      onDone=${() => { const s = { ...created }; delete s.secret; if (s.verify_token) { setCreated(s); return; } setCreated(null); onSaved(s); }} />`;
  }
  if (created) {
    return html`<${CopyOnce} key="verify-token" label="Verify token (Meta's dashboard asks for it with the URL)" value=${created.verify_token}
      onDone=${() => { const s = { ...created }; delete s.verify_token; setCreated(null); onSaved(s); }} />`;
  }
  // A field of the wrong type can only be in the settings object (every
  // other field is text from an input, the mapping any JSON): shown under it.
  const cfgErr = pv && pv.config && error && error.code === 'invalid_field' ? html`${error.message} <code>${error.code}</code>` : null;
  const fe = (f) => fieldError(error, f, local) || (f === 'config' ? cfgErr : null);
  return html`<form onSubmit=${submit} novalidate>
    <${Field} label="Name" id="source-name" error=${fe('name')}>
      <input id="source-name" value=${name} onInput=${(e) => setName(e.target.value)} autocomplete="off" />
    <//>
    ${editing ? html`<p><strong>Provider:</strong> ${pv ? pv.label : src.provider} <span class="muted">(cannot change; create another source)</span></p>` : html`
      <${Field} label="Provider" id="source-provider" hint="How requests are verified, and the mapping a source starts with." error=${fe('provider')}>
        <select id="source-provider" value=${provider} onChange=${(e) => { setProvider(e.target.value); setConfig(''); setLocal({}); }}>
          <option value="">Pick a provider…</option>
          ${providers.map((p) => html`<option value=${p.name}>${p.label}</option>`)}
        </select>
      <//>
      ${provider && provider !== 'none' ? html`<${Field} label="Secret" id="source-secret" error=${fe('secret')}
          hint=${provider === 'basic' ? 'user:password' : provider === 'sendgrid' ? 'The verification public key SendGrid shows.' : 'The signing secret the provider shows (or one you choose and give it).'}>
        <input id="source-secret" type="password" autocomplete="new-password" value=${secret} onInput=${(e) => setSecret(e.target.value)} />
      <//>` : null}`}
    ${pv && pv.config ? html`<${Field} label="Verification settings (JSON)" id="source-config" hint=${configHints[pv.config]} error=${fe('config')}>
      <textarea id="source-config" class="short" spellcheck=${false} value=${config} onInput=${(e) => setConfig(e.target.value)}></textarea>
    <//>` : null}
    ${provider === 'none' ? null : html`<${Field} label="Timestamp tolerance" id="source-tolerance" hint=${'E.g. "5m". Empty: the provider\'s default.'} error=${fe('tolerance')}>
      <input id="source-tolerance" value=${tolerance} onInput=${(e) => setTolerance(e.target.value)} autocomplete="off" />
    <//>`}
    ${editing ? null : html`<${Field} label="Mapping (JSON)" id="source-mapping" error=${fe('mapping')}
        hint=${pv && !pv.own ? 'Empty: the provider\'s default. Edit it later in the mapping editor, with a dry run.' : 'E.g. {"type": "billing.{$.event}", "id": "$.id"}; see docs/mapping.md.'}>
      <textarea id="source-mapping" spellcheck=${false} value=${mapping} onInput=${(e) => setMapping(e.target.value)}></textarea>
    <//>`}
    <${ErrorBox} error=${cfgErr ? null : otherError(error)} />
    <div class="actions">
      <button type="button" onClick=${onCancel}>Cancel</button>
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Saving…' : editing ? 'Save' : 'Create source'}</button>
    </div>
  </form>`;
}

// RotateForm replaces the source's secret; the old one stays valid for
// the overlap, as providers roll theirs over on their own schedule.
export function RotateForm({ tenant, src, onDone, onCancel }) {
  const [secret, setSecret] = useState('');
  const [overlap, setOverlap] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [rotated, setRotated] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { secret };
      if (overlap.trim()) body.overlap = overlap.trim();
      setRotated(await api('POST', tenantPath(tenant, '/sources/' + encodeURIComponent(src.id) + '/rotate-secret'), body));
      setSecret('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (rotated) {
    return html`<${CopyOnce} label="New signing secret" value=${rotated.secret}
      onDone=${() => { const s = { ...rotated }; delete s.secret; setRotated(null); onDone(s); }} />`;
  }
  return html`<form onSubmit=${submit} novalidate>
    <${Field} label="New secret" id="rotate-secret" hint="The new secret the provider shows." error=${fieldError(error, 'secret')}>
      <input id="rotate-secret" type="password" autocomplete="new-password" value=${secret} onInput=${(e) => setSecret(e.target.value)} />
    <//>
    <${Field} label="Overlap" id="rotate-overlap" hint=${'How long the old secret is still accepted, e.g. "24h". Empty: the server\'s default.'} error=${fieldError(error, 'overlap')}>
      <input id="rotate-overlap" value=${overlap} onInput=${(e) => setOverlap(e.target.value)} autocomplete="off" />
    <//>
    <${ErrorBox} error=${otherError(error)} />
    <div class="actions">
      <button type="button" onClick=${onCancel}>Cancel</button>
      <button type="submit" class="primary" disabled=${busy || !secret}>${busy ? 'Rotating…' : 'Rotate secret'}</button>
    </div>
  </form>`;
}
