// Tenants (operator only): list, create, rename, delete with confirmation.

import { api, tenantPath } from '../api.js';
import { html, useState, usePager, Pager, ErrorBox, Loading, Field, Dialog, Confirm, Link, fmtTime, useForm, useSubmit } from '../ui.js';

function TenantForm({ tenant, onSaved, onCancel }) {
  const editing = !!tenant;
  const [v, set] = useForm({
    id: tenant ? tenant.id : '',
    name: tenant ? tenant.name : '',
    max_endpoints: tenant && tenant.max_endpoints != null ? String(tenant.max_endpoints) : '',
    require_https: tenant && tenant.require_https != null ? String(tenant.require_https) : '',
  });
  const { busy, error, submit } = useSubmit(async () => {
    const body = {
      name: v.name,
      max_endpoints: v.max_endpoints === '' ? null : Number(v.max_endpoints),
      require_https: v.require_https === '' ? null : v.require_https === 'true',
    };
    onSaved(editing ? await api('PATCH', tenantPath(tenant.id), body) : await api('POST', '/v1/tenants', { id: v.id, ...body }));
  });
  const fieldErr = (codes) => (error && codes.includes(error.code) ? error.message : null);
  return html`<form onSubmit=${submit}>
    ${editing ? null : html`<${Field} label="ID" id="tenant-id" hint="Letters, digits, - and _; used in URLs, cannot change." error=${fieldErr(['invalid_tenant_id', 'tenant_exists'])}>
      <input id="tenant-id" value=${v.id} onInput=${set('id')} required />
    <//>`}
    <${Field} label="Name" id="tenant-name" error=${fieldErr(['invalid_name'])}>
      <input id="tenant-name" value=${v.name} onInput=${set('name')} />
    <//>
    <${Field} label="Endpoint limit" id="tenant-max" hint="Empty: the server's limit." error=${fieldErr(['invalid_max_endpoints'])}>
      <input id="tenant-max" type="number" value=${v.max_endpoints} onInput=${set('max_endpoints')} />
    <//>
    <${Field} label="Require HTTPS endpoint URLs" id="tenant-https" error=${fieldErr(['invalid_require_https'])}>
      <select id="tenant-https" value=${v.require_https} onChange=${set('require_https')}>
        <option value="">As the server says</option><option value="true">Yes</option><option value="false">No</option>
      </select>
    <//>
    <${ErrorBox} error=${error && !fieldErr([error.code]) ? error : null} />
    <div class="actions">
      <button type="button" onClick=${onCancel}>Cancel</button>
      <button type="submit" class="primary" disabled=${busy}>${editing ? 'Save' : 'Create tenant'}</button>
    </div>
  </form>`;
}

export default function Tenants() {
  const p = usePager('/v1/tenants', { limit: 50 });
  const [editing, setEditing] = useState(null); // null, 'new' or a tenant
  const [deleting, setDeleting] = useState(null);
  const [confirmText, setConfirmText] = useState('');
  return html`<section>
    <div class="page-head"><h1>Tenants</h1><span class="spacer"></span>
      <button type="button" class="primary" onClick=${() => setEditing('new')}>New tenant</button></div>
    <${ErrorBox} error=${p.error} />
    ${p.loading && !p.rows.length ? html`<${Loading} what="tenants" />` : html`<div class="table-wrap"><table>
      <thead><tr><th>ID</th><th>Name</th><th>Endpoint limit</th><th>HTTPS</th><th>Created</th><th><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${p.rows.length === 0 && !p.error ? html`<tr><td colspan="6" class="empty">No tenants yet.</td></tr>` : null}
        ${p.rows.map((t) => html`<tr>
          <td><${Link} to=${'/t/' + encodeURIComponent(t.id) + '/overview'}>${t.id}<//></td>
          <td>${t.name}</td>
          <td>${t.max_endpoints ?? html`<span class="muted">server</span>`}</td>
          <td>${t.require_https == null ? html`<span class="muted">server</span>` : t.require_https ? 'required' : 'not required'}</td>
          <td>${fmtTime(t.created_at)}</td>
          <td class="row"><button type="button" class="small" onClick=${() => setEditing(t)}>Edit</button>
            <button type="button" class="small" onClick=${() => { setConfirmText(''); setDeleting(t); }}>Delete</button></td>
        </tr>`)}
      </tbody></table></div>`}
    <${Pager} p=${p} label="tenant pages" />
    <${Dialog} title=${editing === 'new' ? 'New tenant' : 'Edit tenant'} open=${!!editing} onClose=${() => setEditing(null)}>
      ${editing ? html`<${TenantForm} tenant=${editing === 'new' ? null : editing} onCancel=${() => setEditing(null)}
        onSaved=${() => { setEditing(null); p.reload(); }} />` : null}
    <//>
    <${Confirm} title="Delete tenant" open=${!!deleting} danger confirmLabel="Delete tenant for good"
      onClose=${() => setDeleting(null)}
      onConfirm=${async () => {
        if (confirmText !== deleting.id) throw { code: 'confirmation', message: 'type the tenant ID to confirm' };
        await api('DELETE', tenantPath(deleting.id));
        p.reload();
      }}>
      ${deleting ? html`<p>This deletes <strong>${deleting.id}</strong> with its endpoints, events, delivery logs, sources and keys. It cannot be undone.</p>
        <${Field} label=${'Type ' + deleting.id + ' to confirm'} id="confirm-tenant"><input id="confirm-tenant" value=${confirmText} onInput=${(e) => setConfirmText(e.target.value)} autocomplete="off" /><//>` : null}
    <//>
  </section>`;
}
