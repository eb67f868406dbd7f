// Shared pieces of every page: the app context (who is signed in, what
// they may do), data loading with cursor paging, and the small components
// (errors, fields, dialogs, status badges, the copy-once secret). Preact
// sets all text and attributes through the DOM, so everything shown is
// escaped; nothing here uses innerHTML.

import { html, createContext, useContext, useState, useEffect, useRef, useCallback } from '../vendor/preact-htm.mjs';
import { api, qs } from './api.js';

export { html, useState, useEffect, useRef, useCallback, useContext };

// AppContext carries { me, portal, can(scope), admin, navigate(hash),
// route, tenant }: see app.js.
export const AppContext = createContext(null);
export const useApp = () => useContext(AppContext);

// useAsync runs load() now and whenever deps change, and keeps its result.
export function useAsync(load, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }),
    );
    return () => { live = false; };
  }, [...deps, n]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

// usePager pages a list path with the API's cursors: next follows
// next_cursor, prev goes back through the cursors seen. answered is when
// the page's answer was decoded (performance.now()), for the pages that
// time their rendering.
export function usePager(path, params, deps) {
  const [cursors, setCursors] = useState(['']);
  const key = path + qs(params);
  useEffect(() => setCursors(['']), [key]);
  const cursor = cursors[cursors.length - 1];
  const st = useAsync(async () => {
    const page = path ? await api('GET', path + qs({ ...params, cursor })) : { data: [] };
    return { page, answered: performance.now() };
  }, [key, cursor, ...(deps || [])]);
  const page = (st.data && st.data.page) || {};
  return {
    answered: st.data && st.data.answered,
    rows: page.data || [],
    loading: st.loading,
    error: st.error,
    reload: st.reload,
    page: cursors.length,
    hasNext: !!page.next_cursor,
    hasPrev: cursors.length > 1,
    next: () => page.next_cursor && setCursors((c) => [...c, page.next_cursor]),
    prev: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
  };
}

export function Pager({ p, label }) {
  if (!p.hasNext && !p.hasPrev) return null;
  return html`<nav class="pager" aria-label=${label || 'pages'}>
    <button type="button" disabled=${!p.hasPrev || p.loading} onClick=${p.prev}>← Newer</button>
    <span>Page ${p.page}</span>
    <button type="button" disabled=${!p.hasNext || p.loading} onClick=${p.next}>Older →</button>
  </nav>`;
}

// ErrorBox shows an API error with its code, next to what caused it.
export function ErrorBox({ error, id }) {
  if (!error) return null;
  return html`<div class="error" role="alert" id=${id}>
    <strong>${error.message || String(error)}</strong>
    ${error.code ? html` <code class="code">${error.code}</code>` : null}
  </div>`;
}

export function Loading({ what }) {
  return html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span> Loading${what ? ' ' + what : ''}…</p>`;
}

// Field is a labelled form control; the error, when the API named this
// field's problem, is announced with it.
export function Field({ label, id, hint, error, children }) {
  return html`<div class=${'field' + (error ? ' invalid' : '')}>
    <label for=${id}>${label}</label>
    ${children}
    ${hint ? html`<p class="hint" id=${id + '-hint'}>${hint}</p>` : null}
    ${error ? html`<p class="field-error" role="alert" id=${id + '-error'}>${error}</p>` : null}
  </div>`;
}

// Dialog is a modal <dialog>: Escape and the Cancel button close it;
// focus moves into it and back.
export function Dialog({ title, open, onClose, children, wide }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return html`<dialog ref=${ref} class=${wide ? 'wide' : ''} aria-label=${title} onClose=${onClose} onCancel=${(e) => { e.preventDefault(); onClose(); }}>
    ${open ? html`<h2>${title}</h2>${children}` : null}
  </dialog>`;
}

// Confirm asks before something that cannot be undone; busy while the
// action runs, and its error is shown inside the dialog.
export function Confirm({ title, open, onClose, onConfirm, confirmLabel, danger, children }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => { if (open) { setError(null); setBusy(false); } }, [open]);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<${Dialog} title=${title} open=${open} onClose=${onClose}>
    ${children}
    <${ErrorBox} error=${error} />
    <div class="actions">
      <button type="button" onClick=${onClose}>Cancel</button>
      <button type="button" class=${danger ? 'danger' : 'primary'} disabled=${busy} onClick=${go}>${busy ? 'Working…' : confirmLabel || 'Confirm'}</button>
    </div>
  <//>`;
}

// CopyOnce shows a secret the API returns once (an endpoint's signing
// secret, an API key, a portal session's token): copy it, confirm it was
// copied, and it is gone from the page for good.
export function CopyOnce({ label, value, onDone }) {
  const [copied, setCopied] = useState(false);
  const [ack, setAck] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      // Without clipboard access the text is selected for the user to copy.
      const el = document.getElementById('copy-once-value');
      if (el) { el.focus(); el.select(); }
    }
  };
  return html`<div class="copy-once" role="region" aria-label=${label}>
    <p><strong>${label}</strong>: shown this once. Store it now; it cannot be shown again.</p>
    <div class="row">
      <input id="copy-once-value" class="secret" readonly value=${value} aria-label=${label} onFocus=${(e) => e.target.select()} />
      <button type="button" onClick=${copy}>${copied ? 'Copied' : 'Copy'}</button>
    </div>
    <label class="check"><input type="checkbox" checked=${ack} onChange=${(e) => setAck(e.target.checked)} /> I have copied it</label>
    <button type="button" class="primary" disabled=${!ack} onClick=${onDone}>Done</button>
  </div>`;
}

// Status colours: green delivered, red final failure, amber retrying.
const statusClass = {
  succeeded: 'ok', delivered: 'ok', active: 'ok', closed: 'ok', accepted: 'ok', completed: 'ok',
  dead: 'bad', failed: 'bad', disabled: 'bad', open: 'bad', rejected: 'bad', deleted: 'muted',
  retrying: 'warn', half_open: 'warn', paused: 'warn', running: 'info',
  pending: 'info', in_flight: 'info', cancelled: 'muted', duplicate: 'muted', stopped: 'muted',
};
export function Badge({ status, label }) {
  return html`<span class=${'badge ' + (statusClass[status] || 'muted')}>${label || String(status).replace('_', ' ')}</span>`;
}

// One formatter for every time shown: toLocaleString would build a new
// Intl.DateTimeFormat per call, which a 100-row page pays a hundred times.
const timeFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function fmtTime(t) {
  if (!t) return '';
  const d = t instanceof Date ? t : new Date(t);
  return isNaN(d) ? String(t) : timeFormat.format(d);
}

export function fmtNum(n, digits = 0) {
  if (n === null || n === undefined) return '–';
  return Number(n).toLocaleString(undefined, { maximumFractionDigits: digits });
}

export function fmtPct(r) {
  if (r === null || r === undefined) return '–';
  return (r * 100).toLocaleString(undefined, { maximumFractionDigits: 1 }) + '%';
}

// Link is an in-app link: the hash router follows it.
export function Link({ to, children, ...rest }) {
  return html`<a href=${'#' + to} ...${rest}>${children}</a>`;
}

// Json shows a value as indented JSON text (escaped like any text).
export function Json({ value }) {
  let text;
  if (typeof value === 'string') {
    try {
      text = JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      text = value;
    }
  } else {
    text = JSON.stringify(value, null, 2);
  }
  return html`<pre class="json">${text}</pre>`;
}

// useSubmit runs a form's action with the busy state and the error every
// form here shows: submit(e) stops the browser's own submit, clears the
// last error and keeps the new one, if any.
export function useSubmit(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    if (e && e.preventDefault) e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action(e);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, submit };
}

// useForm keeps a form's values and the error of its last submit.
export function useForm(initial) {
  const [values, setValues] = useState(initial);
  const set = useCallback((k) => (e) => {
    const t = e.target;
    const v = t.type === 'checkbox' ? t.checked : t.value;
    setValues((s) => ({ ...s, [k]: v }));
  }, []);
  return [values, set, setValues];
}
