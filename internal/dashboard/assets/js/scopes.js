// The API's scopes and the checkbox group that picks some of them, shared
// by the API key and portal session forms (both send a scopes list).

import { html } from './ui.js';

// allScopes are the API's scopes in the order its documentation lists
// them (read before write, per resource).
export const allScopes = [
  'events:publish', 'endpoints:read', 'endpoints:write', 'deliveries:read', 'deliveries:replay',
  'sources:read', 'sources:write', 'event-types:read', 'event-types:write', 'audit:read', 'portal:create',
];

// ScopeChecks is a fieldset of one checkbox per scope; value is the
// chosen list, kept in allScopes' order so the request reads the same way
// as the form.
export function ScopeChecks({ idPrefix, legend, scopes, value, onChange, hint, error }) {
  const toggle = (s) => (e) => {
    const on = e.target.checked;
    onChange(scopes.filter((x) => (x === s ? on : value.includes(x))));
  };
  return html`<fieldset class=${'field scopes-field' + (error ? ' invalid' : '')} id=${idPrefix}
      aria-describedby=${[hint ? idPrefix + '-hint' : '', error ? idPrefix + '-error' : ''].join(' ').trim() || undefined}>
    <legend>${legend}</legend>
    <div class="scope-checks">
      ${scopes.map((s) => html`<label class="check"><input type="checkbox" id=${idPrefix + '-' + s.replace(':', '-')} value=${s}
        checked=${value.includes(s)} onChange=${toggle(s)} /> <code>${s}</code></label>`)}
    </div>
    ${hint ? html`<p class="hint" id=${idPrefix + '-hint'}>${hint}</p>` : null}
    ${error ? html`<p class="field-error" role="alert" id=${idPrefix + '-error'}>${error}</p>` : null}
  </fieldset>`;
}

// ScopeBadges lists a key's or session's scopes in a table cell.
export function ScopeBadges({ scopes }) {
  return html`${(scopes || []).map((s) => html`<span class="badge muted">${s}</span> `)}`;
}
