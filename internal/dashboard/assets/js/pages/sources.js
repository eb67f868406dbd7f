// Inbound sources (issue 15, page 5): the tenant's sources with the URL
// to give each provider, and one source's page: its settings, mapping
// editor with dry run, and request log. The route's id is a source id, or
// {source}/requests/{request} for one logged request. Write actions show
// only with sources:write.

import { api, tenantPath } from '../api.js';
import { html, useState, useApp, useAsync, usePager, Pager, ErrorBox, Loading, Dialog, Confirm, Link, fmtTime } from '../ui.js';
import { providerOf } from './providers.js';
import { SourceForm, RotateForm } from './sourceform.js';
import { MappingEditor } from './mappingeditor.js';
import { RequestLog, RequestDetail } from './requestlog.js';

const fullURL = (src) => location.origin + src.url;
const providerLabel = (name) => (providerOf(name) || { label: name }).label;

// CopyURL shows the URL a provider posts to, with a Copy button (no
// secret: the URL is unguessable but is shown whenever asked).
function CopyURL({ src, id, text }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(fullURL(src));
      setCopied(true);
    } catch {
      // Without clipboard access the text is selected for the user to copy.
      const el = document.getElementById(id);
      if (el && el.select) { el.focus(); el.select(); } else if (el) getSelection().selectAllChildren(el);
    }
  };
  // In a table the URL is text that wraps, so all of it shows.
  if (text) {
    return html`<div class="row copy-url"><code id=${id}>${fullURL(src)}</code>
      <button type="button" class="small" onClick=${copy} aria-label=${'Copy the URL of ' + (src.name || src.id)}>${copied ? 'Copied' : 'Copy'}</button></div>`;
  }
  return html`<div class="row copy-url">
    <input id=${id} class="mono" readonly value=${fullURL(src)} aria-label=${'URL to give ' + providerLabel(src.provider)} onFocus=${(e) => e.target.select()} />
    <button type="button" class="small" onClick=${copy}>${copied ? 'Copied' : 'Copy'}</button>
  </div>`;
}

// State: a source receives; during a secret rotation's overlap the old
// secret is accepted too, until the time shown.
function State({ src }) {
  const until = src.previous_secret_expires_at && new Date(src.previous_secret_expires_at) > new Date() ? src.previous_secret_expires_at : '';
  return until
    ? html`<span class="badge warn">rotating</span> <span class="muted">old secret until ${fmtTime(until)}</span>`
    : html`<span class="badge ok">receiving</span>`;
}

function SourceList({ tenant, write }) {
  const { navigate } = useApp();
  const p = usePager(tenantPath(tenant, '/sources'), {});
  const [creating, setCreating] = useState(false);
  const to = (s) => '/t/' + encodeURIComponent(tenant) + '/sources/' + encodeURIComponent(s.id);
  return html`<section>
    <div class="page-head"><h1>Inbound sources</h1><span class="spacer"></span>
      ${write ? html`<button type="button" class="primary" onClick=${() => setCreating(true)}>New source</button>` : null}</div>
    <p class="muted">Providers (Stripe, GitHub, …) post to a source's URL; hookline checks the request and its mapping makes an event.</p>
    <${ErrorBox} error=${p.error} />
    ${p.loading && !p.rows.length ? html`<${Loading} what="sources" />` : html`<div class="table-wrap"><table class="sources">
      <thead><tr><th>Name</th><th>Provider</th><th>URL to give the provider</th><th>Mapping</th><th>State</th><th>Created</th></tr></thead>
      <tbody>
        ${p.rows.length === 0 && !p.error ? html`<tr><td colspan="6" class="empty">No sources yet.${write ? ' Create one to receive webhooks from a provider.' : ''}</td></tr>` : null}
        ${p.rows.map((s, i) => html`<tr>
          <td><${Link} to=${to(s)}>${s.name || s.id}<//></td>
          <td>${providerLabel(s.provider)}</td>
          <td class="url"><${CopyURL} src=${s} id=${'source-url-' + i} text /></td>
          <td>${s.mapping == null ? html`<span class="muted">provider's default</span>` : 'custom'}</td>
          <td><${State} src=${s} /></td>
          <td>${fmtTime(s.created_at)}</td>
        </tr>`)}
      </tbody></table></div>`}
    <${Pager} p=${p} label="source pages" />
    <${Dialog} title="New source" open=${creating} onClose=${() => setCreating(false)} wide>
      ${creating ? html`<${SourceForm} tenant=${tenant} onCancel=${() => setCreating(false)}
        onSaved=${(s) => { setCreating(false); navigate(to(s)); }} />` : null}
    <//>
  </section>`;
}

function SourceView({ tenant, id, reqId, query, write }) {
  const { navigate } = useApp();
  const path = tenantPath(tenant, '/sources/' + encodeURIComponent(id));
  const st = useAsync(() => api('GET', path), [path]);
  const [src, setSrc] = useState(null);
  const [dialog, setDialog] = useState(''); // '', 'edit', 'rotate', 'delete'
  const cur = src && src.id === id ? src : st.data;
  const list = '/t/' + encodeURIComponent(tenant) + '/sources';
  const here = list + '/' + encodeURIComponent(id);
  if (st.error) return html`<section><p><${Link} to=${list}>← Inbound sources<//></p><${ErrorBox} error=${st.error} /></section>`;
  if (!cur) return html`<${Loading} what="the source" />`;
  const tab = reqId ? 'requests' : query.tab === 'requests' ? 'requests' : 'mapping';
  const close = () => setDialog('');
  const saved = (s) => { setSrc(s); close(); };
  return html`<section>
    <p class="crumbs"><${Link} to=${list}>← Inbound sources<//></p>
    <div class="page-head"><h1>${cur.name || cur.id}</h1><span class="spacer"></span>
      ${write ? html`<button type="button" onClick=${() => setDialog('edit')}>Edit</button>
        ${cur.provider !== 'none' ? html`<button type="button" onClick=${() => setDialog('rotate')}>Rotate secret</button>` : null}
        <button type="button" onClick=${() => setDialog('delete')}>Delete</button>` : null}</div>
    <dl class="props source-props">
      <dt>Provider</dt><dd>${providerLabel(cur.provider)}</dd>
      <dt>URL to give the provider</dt><dd><${CopyURL} src=${cur} id="source-url" /></dd>
      <dt>State</dt><dd><${State} src=${cur} /></dd>
      ${cur.tolerance ? html`<dt>Timestamp tolerance</dt><dd>${cur.tolerance}</dd>` : null}
      ${cur.secret_rotated_at ? html`<dt>Secret rotated</dt><dd>${fmtTime(cur.secret_rotated_at)}</dd>` : null}
      <dt>ID</dt><dd><code>${cur.id}</code></dd>
    </dl>
    <nav class="tabs" aria-label="Source sections">
      <${Link} to=${here} aria-current=${tab === 'mapping' ? 'page' : undefined}>Mapping and dry run<//>
      <${Link} to=${here + '?tab=requests'} aria-current=${tab === 'requests' ? 'page' : undefined}>Request log<//>
    </nav>
    ${tab === 'mapping'
      ? html`<${MappingEditor} tenant=${tenant} src=${cur} write=${write} from=${query.from} onSaved=${setSrc} key=${cur.id + '/' + (query.from || '')} />`
      : reqId
        ? html`<p><${Link} to=${here + '?tab=requests'}>← Request log<//></p><${RequestDetail} tenant=${tenant} src=${cur} reqId=${reqId} write=${write} key=${reqId} />`
        : html`<${RequestLog} tenant=${tenant} src=${cur} />`}
    <${Dialog} title="Edit source" open=${dialog === 'edit'} onClose=${close} wide>
      ${dialog === 'edit' ? html`<${SourceForm} tenant=${tenant} src=${cur} onCancel=${close} onSaved=${saved} />` : null}
    <//>
    <${Dialog} title="Rotate secret" open=${dialog === 'rotate'} onClose=${close}>
      ${dialog === 'rotate' ? html`<${RotateForm} tenant=${tenant} src=${cur} onCancel=${close} onDone=${saved} />` : null}
    <//>
    <${Confirm} title="Delete source" open=${dialog === 'delete'} danger confirmLabel="Delete source" onClose=${close}
      onConfirm=${async () => { await api('DELETE', path); navigate(list); }}>
      <p>Delete <strong>${cur.name || cur.id}</strong> and its request log? Its URL answers 404 from then on.</p>
    <//>
  </section>`;
}

export default function Sources({ tenant, id, query }) {
  const { can } = useApp();
  const write = can('sources:write');
  if (!id) return html`<${SourceList} tenant=${tenant} write=${write} />`;
  const [src, , reqId] = id.split('/');
  return html`<${SourceView} tenant=${tenant} id=${src} reqId=${reqId || ''} query=${query || {}} write=${write} key=${src} />`;
}
