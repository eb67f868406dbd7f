// Event types (issue 15, page 6): the tenant's catalogue with each type's
// description and JSON Schema; add, edit and delete for a credential with
// event-types:write. A schema that is not JSON is caught here before
// sending; one the API refuses shows its message under the schema field.

import { api, tenantPath } from '../api.js';
import { html, useState, useApp, usePager, Pager, ErrorBox, Loading, Field, Dialog, Confirm, Json, fmtTime } from '../ui.js';

// The API codes a field of the form answers for; any other error shows
// below the form.
const fieldCodes = {
  type: ['invalid_type', 'reserved_event_type', 'event_type_exists', 'type_mismatch'],
  description: ['invalid_description'],
  schema: ['invalid_schema', 'invalid_json'],
};

function EventTypeForm({ tenant, et, onSaved, onCancel }) {
  const editing = !!et;
  const [type, setType] = useState(et ? et.type : '');
  const [description, setDescription] = useState(et ? et.description : '');
  const [schema, setSchema] = useState(et && et.schema != null ? JSON.stringify(et.schema, null, 2) : '');
  const [parseError, setParseError] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setParseError(null);
    let parsed = null;
    if (schema.trim()) {
      try {
        parsed = JSON.parse(schema);
      } catch (err) {
        setParseError('not JSON: ' + err.message);
        return;
      }
    }
    setBusy(true);
    try {
      const body = { description, schema: parsed };
      const saved = editing
        ? await api('PUT', tenantPath(tenant, '/event-types/' + encodeURIComponent(et.type)), body)
        : await api('POST', tenantPath(tenant, '/event-types'), { type: type.trim(), ...body });
      onSaved(saved);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fieldErr = (f) => (error && fieldCodes[f].includes(error.code) ? html`${error.message} <code>${error.code}</code>` : null);
  const other = error && !Object.values(fieldCodes).some((c) => c.includes(error.code)) ? error : null;
  return html`<form onSubmit=${submit} novalidate>
    <${Field} label="Type" id="et-type" hint=${editing ? 'A type cannot be renamed.' : 'Letters, digits and . _ : - (e.g. invoice.paid).'} error=${fieldErr('type')}>
      <input id="et-type" value=${type} onInput=${(e) => setType(e.target.value)} disabled=${editing} required autocomplete="off" />
    <//>
    <${Field} label="Description" id="et-description" error=${fieldErr('description')}>
      <textarea id="et-description" class="short" value=${description} onInput=${(e) => setDescription(e.target.value)}></textarea>
    <//>
    <${Field} label="JSON Schema" id="et-schema" hint="Payloads of this type must pass it. Empty: no schema." error=${parseError || fieldErr('schema')}>
      <textarea id="et-schema" class="tall" spellcheck=${false} value=${schema} onInput=${(e) => { setSchema(e.target.value); setParseError(null); }}
        aria-invalid=${parseError || fieldErr('schema') ? 'true' : undefined}></textarea>
    <//>
    <${ErrorBox} error=${other} />
    <div class="actions">
      <button type="button" onClick=${onCancel}>Cancel</button>
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Saving…' : editing ? 'Save' : 'New event type'}</button>
    </div>
  </form>`;
}

export default function EventTypes({ tenant }) {
  const { can } = useApp();
  const write = can('event-types:write');
  const p = usePager(tenantPath(tenant, '/event-types'), { limit: 50 });
  const [editing, setEditing] = useState(null); // null, 'new' or an event type
  const [deleting, setDeleting] = useState(null);
  const [open, setOpen] = useState(''); // the type whose schema is shown
  return html`<section>
    <div class="page-head"><h1>Event types</h1><span class="spacer"></span>
      ${write ? html`<button type="button" class="primary" onClick=${() => setEditing('new')}>New event type</button>` : null}</div>
    <p class="muted">The catalogue endpoints subscribe from. A type with a schema refuses payloads that do not pass it.</p>
    <${ErrorBox} error=${p.error} />
    ${p.loading && !p.rows.length ? html`<${Loading} what="event types" />` : html`<div class="table-wrap"><table class="event-types">
      <thead><tr><th>Type</th><th>Description</th><th>Schema</th><th>Updated</th>${write ? html`<th><span class="sr-only">Actions</span></th>` : null}</tr></thead>
      <tbody>
        ${p.rows.length === 0 && !p.error ? html`<tr><td colspan=${write ? 5 : 4} class="empty">No event types yet.${write ? ' Add one to describe what endpoints can subscribe to.' : ''}</td></tr>` : null}
        ${p.rows.map((t) => html`<tr>
          <td><code>${t.type}</code></td>
          <td class="desc">${t.description || html`<span class="muted">–</span>`}</td>
          <td class="schema">${t.schema == null ? html`<span class="muted">none</span>` : html`
            <button type="button" class="link" aria-expanded=${open === t.type} onClick=${() => setOpen(open === t.type ? '' : t.type)}>${open === t.type ? 'Hide schema' : 'Show schema'}</button>
            ${open === t.type ? html`<${Json} value=${t.schema} />` : null}`}</td>
          <td>${fmtTime(t.updated_at)}</td>
          ${write ? html`<td class="row"><button type="button" class="small" onClick=${() => setEditing(t)}>Edit</button>
            <button type="button" class="small" onClick=${() => setDeleting(t)}>Delete</button></td>` : null}
        </tr>`)}
      </tbody></table></div>`}
    <${Pager} p=${p} label="event type pages" />
    <${Dialog} title=${editing === 'new' ? 'New event type' : 'Edit event type'} open=${!!editing} onClose=${() => setEditing(null)} wide>
      ${editing ? html`<${EventTypeForm} tenant=${tenant} et=${editing === 'new' ? null : editing} onCancel=${() => setEditing(null)}
        onSaved=${() => { setEditing(null); p.reload(); }} />` : null}
    <//>
    <${Confirm} title="Delete event type" open=${!!deleting} danger confirmLabel="Delete event type"
      onClose=${() => setDeleting(null)}
      onConfirm=${async () => {
        await api('DELETE', tenantPath(tenant, '/event-types/' + encodeURIComponent(deleting.type)));
        p.reload();
      }}>
      ${deleting ? html`<p>Delete <code>${deleting.type}</code> from the catalogue? Endpoints subscribed to it keep their subscription; payloads of the type are no longer checked against its schema.</p>` : null}
    <//>
  </section>`;
}
