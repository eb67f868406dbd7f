// Portal sessions of a tenant: the short-lived links that open the
// customer view (/portal) for one tenant with chosen scopes. Whoever holds
// portal:create (the operator, or a tenant's key) hands one to a customer;
// its token and url are in the page only until "Done", since the API
// never returns them again.

import { api, tenantPath } from '../api.js';
import { html, useState, useApp, usePager, Pager, ErrorBox, Loading, Field, Dialog, Confirm, CopyOnce, fmtTime, useSubmit } from '../ui.js';
import { allScopes, ScopeChecks, ScopeBadges } from '../scopes.js';

// What the API gives a session created without scopes (of those the
// creating key holds): the form starts from it.
const defaultSessionScopes = ['endpoints:read', 'endpoints:write', 'deliveries:read', 'deliveries:replay', 'event-types:read'];

// httpURL returns url when it is an http(s) URL, else '': only those
// become a link, so an API answer can never make the page run a
// javascript: or data: URL.
function httpURL(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : '';
  } catch {
    return '';
  }
}

function SessionForm({ tenant, onCreated, onCancel }) {
  const { can } = useApp();
  // A session never holds portal:create, nor a scope its creator lacks.
  const offered = allScopes.filter((s) => s !== 'portal:create' && can(s));
  const [scopes, setScopes] = useState(defaultSessionScopes.filter((s) => offered.includes(s)));
  const [expiresIn, setExpiresIn] = useState('1h');
  const { busy, error, submit } = useSubmit(async () => {
    const body = { scopes };
    if (expiresIn.trim()) body.expires_in = expiresIn.trim();
    onCreated(await api('POST', tenantPath(tenant, '/portal-sessions'), body));
  });
  const fieldErr = (codes) => (error && codes.includes(error.code) ? error.message + ' (' + error.code + ')' : null);
  return html`<form onSubmit=${submit}>
    <${ScopeChecks} idPrefix="session-scope" legend="What the customer may do" scopes=${offered} value=${scopes} onChange=${setScopes}
      error=${fieldErr(['invalid_scopes', 'scope_not_held'])}
      hint="The portal shows only the pages these scopes allow, for this tenant only." />
    <${Field} label="Expires in" id="session-expires" hint="From 1s to 24h, like 15m, 2h or 1h30m. Empty: 1h."
      error=${fieldErr(['invalid_expires_in'])}>
      <input id="session-expires" value=${expiresIn} onInput=${(e) => setExpiresIn(e.target.value)} autocomplete="off"
        aria-describedby=${'session-expires-hint' + (fieldErr(['invalid_expires_in']) ? ' session-expires-error' : '')} />
    <//>
    <${ErrorBox} error=${error && !fieldErr(['invalid_scopes', 'scope_not_held', 'invalid_expires_in']) ? error : null} />
    <div class="actions">
      <button type="button" onClick=${onCancel}>Cancel</button>
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Creating…' : 'Create session'}</button>
    </div>
  </form>`;
}

// Created shows a new session's url (to send to the customer) and token
// (for a page that builds its own url or iframe) this once.
function Created({ s, onDone }) {
  const href = httpURL(s.url);
  return html`<div class="session-created panel" role="region" aria-label="New portal session">
    <h2>Portal session ${s.id}</h2>
    <dl class="props">
      <dt>Expires</dt><dd>${fmtTime(s.expires_at)}</dd>
      <dt>Scopes</dt><dd>${(s.scopes || []).join(', ')}</dd>
      <dt><label for="session-token">Token</label></dt>
      <dd><input id="session-token" class="secret" readonly value=${s.token} onFocus=${(e) => e.target.select()} /></dd>
    </dl>
    ${href ? html`<p><a id="session-open" class="button" href=${href} target="_blank" rel="noopener noreferrer">Open the customer view</a>
      <span class="muted"> in a new tab, as the customer will see it.</span></p>` : null}
    <${CopyOnce} label="Portal link" value=${s.url} onDone=${onDone} />
  </div>`;
}

export default function PortalSessions({ tenant }) {
  const p = usePager(tenantPath(tenant, '/portal-sessions'), {});
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState(null);
  const [revoking, setRevoking] = useState(null);
  return html`<section>
    <div class="page-head"><h1>Portal sessions</h1><span class="spacer"></span>
      <button type="button" class="primary" onClick=${() => setCreating(true)}>New portal session</button></div>
    <p class="muted">A portal session is a link that shows a customer this tenant's webhooks, and nothing else, until it expires or is revoked.
      Its link is shown once, when it is created.</p>
    ${created ? html`<${Created} s=${created} onDone=${() => setCreated(null)} />` : null}
    <${ErrorBox} error=${p.error} />
    ${p.loading && !p.rows.length ? html`<${Loading} what="portal sessions" />` : html`<div class="table-wrap"><table id="sessions-table">
      <thead><tr><th>ID</th><th>Scopes</th><th>Created</th><th>Expires</th><th>Created by</th><th><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${p.rows.length === 0 && !p.error ? html`<tr><td colspan="6" class="empty">No live portal sessions.</td></tr>` : null}
        ${p.rows.map((s) => html`<tr>
          <td><code>${s.id}</code></td>
          <td class="scopes"><${ScopeBadges} scopes=${s.scopes} /></td>
          <td>${fmtTime(s.created_at)}</td>
          <td>${fmtTime(s.expires_at)}</td>
          <td>${s.created_by}</td>
          <td><button type="button" class="small" onClick=${() => setRevoking(s)}>Revoke</button></td>
        </tr>`)}
      </tbody></table></div>`}
    <${Pager} p=${p} label="portal session pages" />
    <${Dialog} title="New portal session" open=${creating} onClose=${() => setCreating(false)}>
      ${creating ? html`<${SessionForm} tenant=${tenant} onCancel=${() => setCreating(false)}
        onCreated=${(s) => { setCreating(false); setCreated(s); p.reload(); }} />` : null}
    <//>
    <${Confirm} title="Revoke portal session" open=${!!revoking} danger confirmLabel="Revoke session"
      onClose=${() => setRevoking(null)}
      onConfirm=${async () => {
        await api('DELETE', tenantPath(tenant, '/portal-sessions/' + encodeURIComponent(revoking.id)));
        if (created && created.id === revoking.id) setCreated(null);
        p.reload();
      }}>
      ${revoking ? html`<p>Revoke <code>${revoking.id}</code>? The customer's page stops working at its next request. It cannot be undone.</p>` : null}
    <//>
  </section>`;
}
