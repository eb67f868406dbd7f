// API keys of a tenant (operator only: the API lets only the admin token
// manage keys). The key itself exists in the page only between its
// creation and the operator's "Done": the API never returns it again.

import { api, tenantPath } from '../api.js';
import { html, useState, usePager, Pager, ErrorBox, Loading, Field, Dialog, Confirm, CopyOnce, fmtTime, useSubmit } from '../ui.js';
import { allScopes, ScopeChecks, ScopeBadges } from '../scopes.js';

// defaultKeyScopes is what the API gives a key created without scopes;
// the form starts from it so that "create" without a change makes that key.
const defaultKeyScopes = ['events:publish', 'endpoints:read', 'deliveries:read', 'sources:read', 'event-types:read'];

function KeyForm({ tenant, onCreated, onCancel }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState(defaultKeyScopes);
  const { busy, error, submit } = useSubmit(async () => {
    onCreated(await api('POST', tenantPath(tenant, '/api-keys'), { name: name.trim(), scopes }));
  });
  const fieldErr = (codes) => (error && codes.includes(error.code) ? error.message + ' (' + error.code + ')' : null);
  return html`<form onSubmit=${submit}>
    <${Field} label="Name" id="key-name" hint="What uses the key, e.g. billing-service." error=${fieldErr(['invalid_name'])}>
      <input id="key-name" value=${name} onInput=${(e) => setName(e.target.value)} autocomplete="off" />
    <//>
    <${ScopeChecks} idPrefix="key-scope" legend="Scopes" scopes=${allScopes} value=${scopes} onChange=${setScopes}
      error=${fieldErr(['invalid_scopes'])}
      hint=${'The default key holds ' + defaultKeyScopes.join(', ') + ': publish events and read everything but the audit log. Add write scopes only where needed.'} />
    <${ErrorBox} error=${error && !fieldErr(['invalid_name', 'invalid_scopes']) ? error : null} />
    <div class="actions">
      <button type="button" onClick=${onCancel}>Cancel</button>
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Creating…' : 'Create key'}</button>
    </div>
  </form>`;
}

export default function Keys({ tenant }) {
  const p = usePager(tenantPath(tenant, '/api-keys'), {});
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState(null); // the new key, until Done
  const [revoking, setRevoking] = useState(null);
  return html`<section>
    <div class="page-head"><h1>API keys</h1><span class="spacer"></span>
      <button type="button" class="primary" onClick=${() => setCreating(true)}>New API key</button></div>
    <p class="muted">Keys let the tenant's services call the API with the scopes given here. A key is shown once, when it is created.</p>
    ${created ? html`<${CopyOnce} label=${'API key ' + (created.name || created.prefix)} value=${created.key} onDone=${() => setCreated(null)} />` : null}
    <${ErrorBox} error=${p.error} />
    ${p.loading && !p.rows.length ? html`<${Loading} what="API keys" />` : html`<div class="table-wrap"><table id="keys-table">
      <thead><tr><th>Name</th><th>Prefix</th><th>Scopes</th><th>Created</th><th><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${p.rows.length === 0 && !p.error ? html`<tr><td colspan="5" class="empty">No API keys yet.</td></tr>` : null}
        ${p.rows.map((k) => html`<tr>
          <td>${k.name || html`<span class="muted">(no name)</span>`}</td>
          <td><code>${k.prefix}…</code></td>
          <td class="scopes"><${ScopeBadges} scopes=${k.scopes} /></td>
          <td>${fmtTime(k.created_at)}</td>
          <td><button type="button" class="small" onClick=${() => setRevoking(k)}>Revoke</button></td>
        </tr>`)}
      </tbody></table></div>`}
    <${Pager} p=${p} label="API key pages" />
    <${Dialog} title="New API key" open=${creating} onClose=${() => setCreating(false)}>
      ${creating ? html`<${KeyForm} tenant=${tenant} onCancel=${() => setCreating(false)}
        onCreated=${(k) => { setCreating(false); setCreated(k); p.reload(); }} />` : null}
    <//>
    <${Confirm} title="Revoke API key" open=${!!revoking} danger confirmLabel="Revoke key"
      onClose=${() => setRevoking(null)}
      onConfirm=${async () => {
        await api('DELETE', tenantPath(tenant, '/api-keys/' + encodeURIComponent(revoking.id)));
        p.reload();
      }}>
      ${revoking ? html`<p>Revoke <strong>${revoking.name || revoking.prefix}</strong> (<code>${revoking.prefix}…</code>)? Every request with it is refused from now on. It cannot be undone.</p>` : null}
    <//>
  </section>`;
}
