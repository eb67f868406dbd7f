// The API client: every page's data comes through here. The token lives
// in sessionStorage (this tab only, gone when it closes), is sent as a
// bearer header (never a cookie, so no request can be forged from another
// site) and never appears in a URL.

const tokenKey = 'hookline.token';

export function token() {
  return sessionStorage.getItem(tokenKey) || '';
}

export function setToken(t) {
  if (t) sessionStorage.setItem(tokenKey, t);
  else sessionStorage.removeItem(tokenKey);
}

// ApiError is an answer outside 2xx: the API's stable code and message,
// shown next to what caused it.
export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

// Listeners for a 401: the app goes back to sign-in (or, in the portal,
// says the session ended).
const unauthorized = new Set();
export function onUnauthorized(fn) {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
}

// api sends one request and returns the decoded JSON answer (null for an
// empty one). body, when given, is sent as JSON unless it is a string.
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const t = opts.token ?? token();
  if (t) headers.Authorization = 'Bearer ' + t;
  if (opts.reason) headers['X-Hookline-Reason'] = opts.reason;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = opts.contentType || 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, cache: 'no-store', credentials: 'omit', signal: opts.signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network_error', 'cannot reach the server: ' + e.message);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: 'http_' + res.status, message: typeof data === 'string' && data ? data : res.statusText };
    const e = new ApiError(res.status, err.code, err.message, res.headers.get('Retry-After'));
    if (res.status === 401 && !opts.token) unauthorized.forEach((fn) => fn(e));
    throw e;
  }
  return data;
}

// qs builds a query string from params, leaving out empty values; arrays
// repeat the key.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => u.append(k, x));
    else u.append(k, String(v));
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

// tenantPath is the API path of tenant's resource rest.
export function tenantPath(tenant, rest = '') {
  return '/v1/tenants/' + encodeURIComponent(tenant) + rest;
}
