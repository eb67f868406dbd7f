// A source's mapping editor and its dry run. The dry run
// (POST …/sources/{id}/test) maps a pasted body and headers, or a logged
// request's, with the mapping in the editor, saved or not (an unsaved one
// goes as the request's draft "mapping", which the API never saves), and
// writes nothing; it shows the event the request would make, or the rule
// at fault. A mapping the API refuses, on save or as a draft, names its
// rule in the message; both are shown under the mapping, where it is
// fixed. Saving stays its own button.

import { api, tenantPath } from '../api.js';
import { html, useState, useEffect, ErrorBox, Field, Json, Badge } from '../ui.js';
import { providerOf } from './providers.js';

// The mapping's top-level rules (docs/mapping.md); a rule path starts
// with one of them.
const ruleRe = /^(?:type|id|payload|routes|unmatched)(?:[.[][^\s:]*)?$/;

// ruleAtFault is the mapping rule an API error names, as mapping.<rule>,
// or "". Saving answers "mapping.<rule>: …"; a dry run's message is the
// mapping's own error text, "<code>: <rule>: …".
export function ruleAtFault(e) {
  return splitRule(e).rule;
}

// splitRule parts an API error's message into the rule it names and the
// rest, which is shown after "Rule at fault".
function splitRule(e) {
  if (!e || !e.message) return { rule: '', rest: '' };
  const m = /^mapping\.([^\s:]+): /.exec(e.message);
  if (m) return { rule: 'mapping.' + m[1], rest: e.message.slice(m[0].length) };
  const parts = e.message.split(': ');
  if (parts.length >= 3 && parts[0] === e.code && ruleRe.test(parts[1])) return { rule: 'mapping.' + parts[1], rest: parts.slice(2).join(': ') };
  return { rule: '', rest: e.message };
}

// ruleValue is the mapping text's value at rule (mapping.routes[0].type),
// to show the rule next to its error; undefined when it cannot be found.
function ruleValue(text, rule) {
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  for (const k of rule.replace(/^mapping\.?/, '').split(/[.[\]]+/).filter(Boolean)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[/^\d+$/.test(k) ? Number(k) : k];
  }
  return v;
}

// parseHeaders reads "Name: value" lines; a line that is not one is an
// error naming it.
export function parseHeaders(text) {
  const out = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const c = line.indexOf(':');
    if (c <= 0) throw new Error('line ' + (i + 1) + ' is not "Name: value"');
    out[line.slice(0, c).trim()] = line.slice(c + 1).trim();
  }
  return out;
}

// loggedHeaders keeps the header lines of a logged request's header block
// (its first line is the request line).
function loggedHeaders(block) {
  return (block || '').split(/\r?\n/).filter((l) => /^[!#-'*+.0-9A-Z^_`a-z|~-]+:/.test(l)).join('\n');
}

function loggedBody(r) {
  if (!r.body_base64) return r.body || '';
  const bin = atob(r.body || '');
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

const mappingText = (m) => (m == null ? '' : JSON.stringify(m, null, 2));

// Codes of a mapping the API refuses, on save or as a dry run's draft:
// shown under the mapping, not with the request.
const mappingCodes = ['invalid_mapping', 'missing_mapping', 'reserved_event_type'];

// MappingError is a save or dry-run error with the rule at fault and, when
// found in the editor's text, that rule's value.
export function MappingError({ error, text }) {
  const { rule, rest } = splitRule(error);
  const v = rule && text !== undefined ? ruleValue(text, rule) : undefined;
  return html`${rule ? html`<span class="rule-at-fault">Rule at fault: <code class="rule">${rule}</code>${v !== undefined ? html` = <code>${JSON.stringify(v)}</code>` : null}: </span>` : null}${rest} <code>${error.code}</code>`;
}

export function MappingEditor({ tenant, src, write, from, onSaved }) {
  const own = (providerOf(src.provider) || {}).own;
  const [text, setText] = useState(mappingText(src.mapping));
  const [saved, setSaved] = useState(mappingText(src.mapping));
  const [local, setLocal] = useState(null);
  const [error, setError] = useState(null);
  const [draftError, setDraftError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');
  const dirty = text.trim() !== saved.trim();
  const path = tenantPath(tenant, '/sources/' + encodeURIComponent(src.id));

  const save = async (mapping) => {
    setBusy(true);
    setError(null);
    setDraftError(null);
    setDone('');
    try {
      const s = await api('PATCH', path, { mapping });
      setText(mappingText(s.mapping));
      setSaved(mappingText(s.mapping));
      setDone(mapping === null ? 'Back to the provider\'s default mapping.' : 'Mapping saved.');
      onSaved(s);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  // readText is the editor's mapping as the API takes it (null: the
  // provider's default), or undefined after saying under the mapping why
  // the text is not one.
  const readText = () => {
    setLocal(null);
    if (!text.trim()) {
      if (!own) return null;
      setLocal('provider ' + src.provider + ' has no default mapping: give one, at least {"type": "…"}');
      return undefined;
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      setLocal('not JSON: ' + err.message);
      return undefined;
    }
  };
  const submit = (e) => {
    e.preventDefault();
    const m = readText();
    if (m !== undefined) save(m);
  };
  // draft gives the dry run the editor's mapping: {} when it is the saved
  // one (the API uses that), {mapping} for an unsaved one, null when the
  // text is not a mapping (said under it).
  const draft = () => {
    setDraftError(null);
    if (!dirty) return {};
    const m = readText();
    return m === undefined ? null : { mapping: m };
  };
  const refused = draftError || (error && mappingCodes.includes(error.code) ? error : null);
  const fieldErr = local || (refused ? html`<${MappingError} error=${refused} text=${text} />` : null);

  return html`<div class="split mapping">
    <section class="panel" aria-labelledby="mapping-h">
      <h2 id="mapping-h">Mapping</h2>
      <form onSubmit=${submit} novalidate>
        <${Field} label="Mapping rules (JSON)" id="mapping-editor" error=${fieldErr}
          hint=${own ? 'type, id and payload take JSONPath ($.a.b), header:Name and {…} templates; routes pick a type or drop by a condition. See docs/mapping.md.'
            : 'Empty: the provider\'s default. type, id and payload take JSONPath ($.a.b), header:Name and {…} templates; see docs/mapping.md.'}>
          <textarea id="mapping-editor" class="tall" spellcheck=${false} readonly=${!write} value=${text}
            onInput=${(e) => { setText(e.target.value); setLocal(null); setDraftError(null); setDone(''); }} aria-invalid=${fieldErr ? 'true' : undefined}></textarea>
        <//>
        ${!text.trim() && !saved.trim() && !own ? html`<p class="muted">This source uses the ${src.provider} default mapping.</p>` : null}
        <${ErrorBox} error=${error && !fieldErr ? error : null} />
        ${done ? html`<p class="success" role="status">${done}</p>` : null}
        ${write ? html`<div class="actions">
          ${own || !saved.trim() ? null : html`<button type="button" disabled=${busy} onClick=${() => save(null)}>Use the provider's default</button>`}
          <button type="button" disabled=${busy || !dirty} onClick=${() => { setText(saved); setLocal(null); setError(null); setDraftError(null); }}>Discard changes</button>
          <button type="submit" id="mapping-save" class="primary" disabled=${busy || !dirty}>${busy ? 'Saving…' : 'Save mapping'}</button>
        </div>` : null}
      </form>
    </section>
    ${write ? html`<${DryRun} tenant=${tenant} src=${src} from=${from} dirty=${dirty} text=${text} draft=${draft} onRefused=${setDraftError} />` : null}
  </div>`;
}

function DryRun({ tenant, src, from, dirty, text, draft, onRefused }) {
  const [body, setBody] = useState('');
  const [headers, setHeaders] = useState('');
  const [url, setUrl] = useState('');
  const [check, setCheck] = useState(false);
  const [reqID, setReqID] = useState(from || '');
  const [local, setLocal] = useState({});
  const [error, setError] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [refused, setRefused] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  const path = tenantPath(tenant, '/sources/' + encodeURIComponent(src.id));

  const load = async (id) => {
    setLoadError(null);
    try {
      const r = await api('GET', path + '/requests/' + encodeURIComponent(id.trim()));
      setBody(loggedBody(r));
      setHeaders(loggedHeaders(r.headers));
      setUrl(r.url || '');
      setResult(null);
      setLocal(r.truncated ? { body: 'the log kept only the start of this body' } : {});
    } catch (err) {
      setLoadError(err);
    }
  };
  useEffect(() => { if (from) load(from); }, [from]);
  // An edit may fix the refused draft: the note goes until the next run.
  useEffect(() => setRefused(false), [text]);

  const run = async (e) => {
    e.preventDefault();
    setError(null);
    setRefused(false);
    setResult(null);
    const m = draft();
    const l = {};
    let h;
    try {
      h = parseHeaders(headers);
    } catch (err) {
      l.headers = err.message;
    }
    if (!body) l.body = 'paste a request body';
    setLocal(l);
    if (m === null) setRefused(true);
    if (Object.keys(l).length || m === null) return;
    setBusy(true);
    try {
      const req = { raw_body: body, headers: h, verify: check, ...m };
      if (url.trim()) req.url = url.trim();
      // The result keeps the text it ran with, to show a failing rule's
      // value even after further edits, and says if that was a draft.
      setResult({ ...(await api('POST', path + '/test', req)), ranWith: text, ranDraft: 'mapping' in m });
    } catch (err) {
      if (mappingCodes.includes(err.code)) {
        setRefused(true);
        onRefused(err);
      } else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return html`<section class="panel" aria-labelledby="dryrun-h">
    <h2 id="dryrun-h">Dry run</h2>
    <p class="hint">Maps a request with the mapping in the editor${dirty ? ' (unsaved: saving is still up to you)' : ''} and shows what it would make. Nothing is stored or sent.</p>
    <div class="toolbar">
      <${Field} label="Load a logged request" id="dryrun-request" error=${loadError ? html`${loadError.message} <code>${loadError.code}</code>` : null}>
        <input id="dryrun-request" value=${reqID} placeholder="req_…" onInput=${(e) => setReqID(e.target.value)} autocomplete="off" />
      <//>
      <button type="button" disabled=${!reqID.trim()} onClick=${() => load(reqID)}>Load</button>
    </div>
    <form onSubmit=${run} novalidate>
      <${Field} label="Body" id="dryrun-body" error=${local.body}>
        <textarea id="dryrun-body" spellcheck=${false} value=${body} onInput=${(e) => setBody(e.target.value)}></textarea>
      <//>
      <${Field} label="Headers" id="dryrun-headers" hint="One per line: Name: value" error=${local.headers}>
        <textarea id="dryrun-headers" class="short" spellcheck=${false} value=${headers} onInput=${(e) => setHeaders(e.target.value)}></textarea>
      <//>
      <label class="check"><input type="checkbox" id="dryrun-verify" checked=${check} onChange=${(e) => setCheck(e.target.checked)} /> Check the signature too</label>
      ${check ? html`<${Field} label="URL the provider calls" id="dryrun-url" hint="For providers that sign the URL (hubspot, twilio).">
        <input id="dryrun-url" value=${url} onInput=${(e) => setUrl(e.target.value)} autocomplete="off" />
      <//>` : null}
      <${ErrorBox} error=${error} />
      ${refused ? html`<p id="dryrun-refused" class="error" role="alert">The mapping in the editor cannot be used: see the error under it.</p>` : null}
      <div class="actions"><button type="submit" id="dryrun-run" class="primary" disabled=${busy}>${busy ? 'Running…' : 'Dry run'}</button></div>
    </form>
    ${result ? html`<${DryRunResult} r=${result} text=${result.ranWith} />` : null}
  </section>`;
}

function DryRunResult({ r, text }) {
  const badge = r.verified === undefined ? null : html` <${Badge} status=${r.verified ? 'accepted' : 'rejected'} label=${r.verified ? 'signature ok' : 'signature refused'} />`;
  const verified = html`${r.ranDraft ? html` <span class="muted">(unsaved mapping)</span>` : null}${badge}`;
  if (r.outcome === 'event') {
    return html`<div id="dryrun-result" class="dryrun-result ok" role="status">
      <h3>Would make this event${verified}</h3>
      <dl class="props"><dt>Type</dt><dd><code>${r.event.type}</code></dd>
        ${r.event.dedupe_id ? html`<dt>Dedupe id</dt><dd><code>${r.event.dedupe_id}</code></dd>` : null}</dl>
      <h3>Payload</h3>
      <${Json} value=${r.event.payload} />
    </div>`;
  }
  if (r.outcome === 'rejected') {
    return html`<div id="dryrun-result" class="dryrun-result error" role="alert">
      <h3>Would be refused${verified}</h3>
      <p><${MappingError} error=${r} text=${text} /></p>
    </div>`;
  }
  return html`<div id="dryrun-result" class="dryrun-result notice" role="status">
    <h3>${r.outcome === 'dropped' ? 'Would be dropped' : 'A handshake: answered, no event'}${verified}</h3>
    ${r.message ? html`<p>${r.message}</p>` : null}
  </div>`;
}
