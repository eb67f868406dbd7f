// The app: how it starts (sign-in for the operator, the token from the
// portal session's url for a customer), the hash router, the layout and
// the page registry. Pages load on first visit (import()), so the first
// paint needs only this file, ui.js, api.js and Preact.

import { render } from '../vendor/preact-htm.mjs';
import { api, setToken, token, onUnauthorized } from './api.js';
import { html, useState, useEffect, useRef, useSubmit, AppContext, ErrorBox, Loading, Link } from './ui.js';

const portal = location.pathname === '/portal';

// A portal session's url carries its token in the fragment (never sent to
// a server, never in a log): take it, then drop it from the address bar
// and the history.
if (portal) {
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (m) {
    setToken(decodeURIComponent(m[1]));
    history.replaceState(null, '', '/portal#/');
  }
}

// The pages of a tenant, in the order the navigation shows them. scope is
// what the credential needs to see the page (the API enforces it; the
// page is hidden without it); admin pages are the operator's.
export const tenantPages = [
  { id: 'overview', title: 'Overview', scope: 'deliveries:read', load: () => import('./pages/overview.js') },
  { id: 'endpoints', title: 'Endpoints', scope: 'endpoints:read', load: () => import('./pages/endpoints.js') },
  { id: 'deliveries', title: 'Deliveries', scope: 'deliveries:read', load: () => import('./pages/deliveries.js') },
  { id: 'events', title: 'Events', scope: 'deliveries:read', load: () => import('./pages/events.js') },
  { id: 'sources', title: 'Inbound sources', scope: 'sources:read', load: () => import('./pages/sources.js') },
  { id: 'event-types', title: 'Event types', scope: 'event-types:read', load: () => import('./pages/eventtypes.js') },
  { id: 'event-reference', title: 'Event reference', scope: 'event-types:read', load: () => import('./pages/eventref.js') },
  { id: 'jobs', title: 'Jobs', scope: 'deliveries:read', load: () => import('./pages/jobs.js') },
  { id: 'audit', title: 'Audit log', scope: 'audit:read', load: () => import('./pages/audit.js') },
  { id: 'keys', title: 'API keys', admin: true, load: () => import('./pages/keys.js') },
  { id: 'portal-sessions', title: 'Portal sessions', scope: 'portal:create', load: () => import('./pages/portalsessions.js') },
];

// Operator pages outside any tenant.
const serverPages = [
  { id: 'tenants', title: 'Tenants', load: () => import('./pages/tenants.js') },
  { id: 'health', title: 'Server health', load: () => import('./pages/health.js') },
];

// parseHash reads #/t/{tenant}/{page}/{id...}?query or #/{page}.
export function parseHash(hash) {
  const h = hash.replace(/^#/, '') || '/';
  const [p, q] = h.split('?');
  const parts = p.split('/').filter(Boolean).map(decodeURIComponent);
  const query = Object.fromEntries(new URLSearchParams(q || ''));
  if (parts[0] === 't' && parts[1]) {
    return { tenant: parts[1], page: parts[2] || 'overview', id: parts.slice(3).join('/'), query };
  }
  return { tenant: '', page: parts[0] || '', id: parts.slice(1).join('/'), query };
}

export function navigate(to) {
  location.hash = to;
}

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function SignIn({ onSignedIn, expired }) {
  const [value, setValue] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const me = await api('GET', '/v1/me', undefined, { token: value.trim() });
    setToken(value.trim());
    onSignedIn(me);
  });
  return html`<main class="signin">
    <h1>hookline</h1>
    ${expired ? html`<p class="notice" role="status">Your session ended. Sign in again.</p>` : null}
    <form onSubmit=${submit} aria-describedby=${error ? 'signin-error' : undefined}>
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus
        value=${value} onInput=${(e) => setValue(e.target.value)} />
      <p class="hint">Kept in this browser tab only, until you sign out or close it.</p>
      <${ErrorBox} error=${error} id="signin-error" />
      <button type="submit" class="primary" disabled=${busy || !value.trim()}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`;
}

function PortalEnded({ error }) {
  return html`<main class="signin">
    <h1>Session ended</h1>
    <p role="alert">${error && error.code === 'session_revoked' ? 'This link has been revoked.' : error && error.code === 'session_expired' ? 'This link has expired.' : 'This link is not valid.'}${' '}Open the page again from the product that sent you here.</p>
  </main>`;
}

// Page loads a page module and renders it; a module that fails to load
// says so instead of leaving the screen blank.
function Page({ def, route }) {
  const [mod, setMod] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let live = true;
    setMod(null);
    setError(null);
    def.load().then((m) => live && setMod(m), (e) => live && setError(e));
    return () => { live = false; };
  }, [def.id]);
  if (error) return html`<${ErrorBox} error=${{ message: 'cannot load this page: ' + error.message }} />`;
  if (!mod) return html`<${Loading} />`;
  const C = mod.default;
  return html`<${C} tenant=${route.tenant} id=${route.id} query=${route.query} />`;
}

function TenantPicker({ tenant }) {
  const [tenants, setTenants] = useState([]);
  useEffect(() => {
    api('GET', '/v1/tenants?limit=1000').then((p) => setTenants(p.data || []), () => {});
  }, [tenant]);
  return html`<label class="picker"><span class="sr-only">Tenant</span>
    <select aria-label="Tenant" value=${tenant} onChange=${(e) => navigate(e.target.value ? '/t/' + encodeURIComponent(e.target.value) + '/overview' : '/tenants')}>
      <option value="">All tenants</option>
      ${tenant && !tenants.some((t) => t.id === tenant) ? html`<option value=${tenant}>${tenant}</option>` : null}
      ${tenants.map((t) => html`<option value=${t.id}>${t.name && t.name !== t.id ? `${t.name} (${t.id})` : t.id}</option>`)}
    </select></label>`;
}

function Layout({ me, route, children, onSignOut }) {
  const admin = me.actor_type === 'admin';
  const can = (s) => admin || (me.scopes || []).includes(s);
  const visible = tenantPages.filter((p) => (p.admin ? admin : can(p.scope)));
  // A new page takes the focus, so keyboard and screen-reader users start
  // there instead of on the link they left (not on the first page: its
  // own autofocus, if any, stands).
  const first = useRef(true);
  const where = route.tenant + '/' + route.page + '/' + route.id;
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const m = document.getElementById('main');
    if (m) m.focus({ preventScroll: true });
  }, [where]);
  const skip = (e) => {
    e.preventDefault();
    document.getElementById('main').focus();
  };
  return html`<div class="layout">
    <a class="skip" href="#" onClick=${skip}>Skip to content</a>
    <header class="top">
      <a class="brand" href=${portal ? '#/' : '#/tenants'}>hookline</a>
      ${portal
        ? html`<div class="banner" role="banner"><span class="tenant-name">${me.tenant_name || me.tenant}</span>
            <span class="muted"> · webhooks</span></div>`
        : html`<${TenantPicker} tenant=${route.tenant} />`}
      <span class="spacer"></span>
      ${portal ? null : html`<button type="button" class="link" onClick=${onSignOut}>Sign out</button>`}
    </header>
    <div class="body">
      <nav class="side" aria-label="Pages">
        <ul>
          ${admin ? serverPages.map((p) => html`<li><${Link} to=${'/' + p.id} aria-current=${!route.tenant && route.page === p.id ? 'page' : undefined}>${p.title}<//></li>`) : null}
          ${route.tenant
            ? html`${admin ? html`<li class="group">${route.tenant}</li>` : null}
              ${visible.map((p) => html`<li><${Link} to=${'/t/' + encodeURIComponent(route.tenant) + '/' + p.id}
                aria-current=${route.page === p.id ? 'page' : undefined}>${p.title}<//></li>`)}`
            : null}
        </ul>
      </nav>
      <main class="content" id="main" tabindex="-1">${children}</main>
    </div>
  </div>`;
}

function App() {
  const hash = useHash();
  const [me, setMe] = useState(undefined); // undefined: asking; null: signed out
  const [meError, setMeError] = useState(null);
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    if (!token()) {
      setMe(null);
      return;
    }
    api('GET', '/v1/me').then(setMe, (e) => {
      setMeError(e);
      setMe(null);
    });
  }, []);
  useEffect(() => onUnauthorized((e) => {
    setMeError(e);
    if (!portal) setToken('');
    setExpired(true);
    setMe(null);
  }), []);

  // A portal session ends at expires_at even if the customer just looks:
  // ask again then, so the page says it ended (the 401 does) instead of
  // showing data it can no longer refresh. This clock may differ from the
  // server's: while the server still says live, ask again every 30s.
  const [recheck, setRecheck] = useState(0);
  useEffect(() => {
    if (!portal || !me || !me.expires_at) return undefined;
    const ms = recheck ? 30000 : Math.min(Date.parse(me.expires_at) - Date.now() + 1000, 2 ** 31 - 1);
    const id = setTimeout(() => api('GET', '/v1/me').then(() => setRecheck((n) => n + 1), () => {}), Math.max(ms, 1000));
    return () => clearTimeout(id);
  }, [me && me.expires_at, recheck]);

  if (me === undefined) return html`<${Loading} />`;
  if (me === null) {
    if (portal) return html`<${PortalEnded} error=${meError} />`;
    return html`<${SignIn} expired=${expired} onSignedIn=${(m) => { setExpired(false); setMe(m); if (!location.hash || location.hash === '#/') navigate('/tenants'); }} />`;
  }

  // The customer view is for portal sessions only: another credential
  // left in this tab's storage (the operator's, say) must not open it.
  if (portal && me.actor_type !== 'portal_session') return html`<${PortalEnded} error=${null} />`;

  const admin = me.actor_type === 'admin';
  // The address bar, not the hash state: a hash set just now, whose
  // hashchange has not come yet, must not be overwritten by the redirect
  // below from the one before it. (The state makes a change re-render.)
  let route = parseHash(location.hash || hash);
  // A key or session has one tenant: every other is out of reach (the
  // API refuses it too), so the page never even asks.
  if (!admin && route.tenant !== me.tenant) {
    route = { tenant: me.tenant, page: 'overview', id: '', query: {} };
    if (location.hash !== '#/t/' + encodeURIComponent(me.tenant) + '/overview') {
      history.replaceState(null, '', location.pathname + '#/t/' + encodeURIComponent(me.tenant) + '/overview');
    }
  }
  if (admin && !route.tenant && !serverPages.some((p) => p.id === route.page)) route = { ...route, page: 'tenants' };
  const can = (s) => admin || (me.scopes || []).includes(s);
  const ctx = { me, portal, admin, can, navigate, route };
  const signOut = () => {
    setToken('');
    setMe(null);
    history.replaceState(null, '', '/');
  };
  let def = route.tenant ? tenantPages.find((p) => p.id === route.page) : serverPages.find((p) => p.id === route.page);
  let body;
  if (!def) body = html`<${ErrorBox} error=${{ code: 'not_found', message: 'no such page: ' + route.page }} />`;
  else if (route.tenant && (def.admin ? !admin : !can(def.scope))) {
    const first = tenantPages.find((p) => !p.admin && can(p.scope));
    if (first && first.id !== def.id && route.page === 'overview') def = first;
    else def = null;
    body = def ? null : html`<${ErrorBox} error=${{ code: 'forbidden', message: 'this page is outside what you may see' }} />`;
  }
  if (def && !body) body = html`<${Page} def=${def} route=${route} key=${def.id + '/' + route.tenant} />`;
  return html`<${AppContext.Provider} value=${ctx}>
    <${Layout} me=${me} route=${route} onSignOut=${signOut}>${body}<//>
  <//>`;
}

render(html`<${App} />`, document.getElementById('app'));
